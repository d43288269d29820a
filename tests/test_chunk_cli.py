"""`ctxengine chunk`: JSON lines whose records are exact, from files and stdin, and one-line
errors (exit status 1) for every user mistake."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

import corpus
from ctxengine.cli import main
from tiktoken_oracle import counter

CL100K = counter("cl100k_base")


def run(args: list[str], stdin: bytes | None = None) -> tuple[int, list[dict], str]:
    result = CliRunner().invoke(main, ["chunk", *args], input=stdin)
    records = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    return result.exit_code, records, result.stderr


def check_records(text: str, records: list[dict], max_tokens: int) -> None:
    assert records
    for r in records:
        assert set(r) == {"text", "start", "end", "tokens", "metadata"}
        assert text[r["start"] : r["end"]] == r["text"]
        assert r["tokens"] == CL100K(r["text"]) <= max_tokens


@pytest.mark.parametrize("by", ["recursive", "sentences", "markdown", "code", "tokens"])
def test_chunks_a_file_as_json_lines(tmp_path: Path, by: str) -> None:
    text = "\n\n".join(t for _, t in corpus.english_prose(3) + corpus.cjk_texts()[:2])
    path = tmp_path / "doc.txt"
    path.write_text(text, encoding="utf-8")
    code, records, _ = run([str(path), "--max-tokens", "120", "--by", by, "--overlap", "10"])
    assert code == 0
    check_records(text, records, 120)


def test_reads_stdin_and_writes_a_file(tmp_path: Path) -> None:
    text = "# Guide\n\nFirst part. " + "More words. " * 50 + "\n\n## Details\n\n" + "End. " * 40
    out = tmp_path / "chunks.jsonl"
    code, _, _ = run(["-", "-n", "40", "--by", "markdown", "-o", str(out)], text.encode())
    assert code == 0
    records = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    check_records(text, records, 40)
    assert records[0]["metadata"] == {"headings": ["Guide"]}
    assert records[-1]["metadata"] == {"headings": ["Guide", "Details"]}


def test_guesses_the_language_from_the_file_name(tmp_path: Path) -> None:
    source = max((t for _, t in corpus.stdlib_sources(10)), key=len)
    for name in ("module.py", "module.txt"):
        (tmp_path / name).write_text(source, encoding="utf-8")
    _, as_python, _ = run([str(tmp_path / "module.py"), "-n", "200", "--by", "code"])
    _, as_text, _ = run([str(tmp_path / "module.txt"), "-n", "200", "--by", "code"])
    _, named, _ = run([str(tmp_path / "module.txt"), "-n", "200", "--by", "code", "--language",
                       "python"])  # fmt: skip
    check_records(source, as_python, 200)
    assert as_python == named != as_text


def test_no_trim_tiles_the_input(tmp_path: Path) -> None:
    text = "  Leading space.\n\n  Indented line. " * 30
    code, records, _ = run(["-", "-n", "25", "--no-trim"], text.encode())
    assert code == 0
    assert "".join(r["text"] for r in records) == text


def test_invalid_utf8_names_the_byte_offset_or_is_replaced() -> None:
    data = "héllo wörld ".encode() * 100 + b"\xff\xfe" + b" tail" * 10
    code, _, err = run(["-", "-n", "30"], data)
    assert code == 1
    offset = len("héllo wörld ".encode()) * 100
    assert err.strip().splitlines() == [
        f"ctxengine: error: <stdin>: invalid UTF-8 at byte offset {offset} (invalid start byte);"
        " fix the file, or read bad bytes as U+FFFD with errors='replace' (CLI: --errors replace)"
    ]
    code, records, _ = run(["-", "-n", "30", "--errors", "replace"], data)
    assert code == 0
    check_records(data.decode("utf-8", "replace"), records, 30)
    code, _, err = run(["-", "-n", "30", "--by", "tokens"], data)
    assert code == 1 and "invalid UTF-8 at byte offset 1400" in err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["-n", "0"], "max_tokens must be at least 1, got 0"),
        (["-n", "10", "--overlap", "10"], "overlap must be smaller than max_tokens"),
        (["-n", "10", "--by", "pages"], "unknown chunking mode 'pages'"),
        (["-n", "10", "--tokenizer", "nope"], "nope"),
        (["-n", "10", "--by", "code", "--language", "klingon"], "unknown code language"),
        (["-n", "10", "--errors", "ignore"], "errors must be 'strict' or 'replace'"),
    ],
)
def test_user_mistakes_are_one_line_errors(tmp_path: Path, args: list[str], message: str) -> None:
    path = tmp_path / "x.txt"
    path.write_text("some text", encoding="utf-8")
    code, records, err = run([str(path), *args])
    assert code == 1 and not records
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("ctxengine: error: ") and message in lines[0]


def test_missing_file_is_a_one_line_error() -> None:
    code, _, err = run(["/no/such/file.txt", "-n", "10"])
    assert code == 1
    assert err.strip() == "ctxengine: error: No such file or directory: /no/such/file.txt"


def test_progress_bar_goes_to_stderr(tmp_path: Path) -> None:
    path = tmp_path / "doc.txt"
    path.write_text("word " * 20_000, encoding="utf-8")
    code, records, err = run([str(path), "-n", "100", "--progress"])
    assert code == 0 and records
    assert "doc.txt" in err and ("B/s" in err or "B [" in err)
    code, _, err = run([str(path), "-n", "100", "--no-progress"])
    assert code == 0 and err == ""
