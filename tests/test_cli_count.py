"""`ctxengine count`: per-file and total counts, stdin, JSON, and one-line errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

import tok_oracles
from ctxengine.cli import main


@pytest.fixture
def files(tmp_path: Path) -> list[Path]:
    texts = ["hello world\n", "Déjà vu — 中文 <|endoftext|>\n\n", ""]
    paths = []
    for i, text in enumerate(texts):
        p = tmp_path / f"f{i}.txt"
        p.write_text(text, encoding="utf-8")
        paths.append(p)
    return paths


def expected(name: str, path: Path) -> int:
    return len(tok_oracles.encoding(name).encode_ordinary(path.read_text(encoding="utf-8")))


def test_counts_per_file_and_total(files: list[Path]) -> None:
    result = CliRunner().invoke(main, ["count", *map(str, files)])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    counts = [expected("cl100k_base", p) for p in files]
    assert [int(line.split()[0]) for line in lines] == [*counts, sum(counts)]
    assert [line.split(maxsplit=1)[1] for line in lines] == [*map(str, files), "total"]


def test_json_and_tokenizer_option(files: list[Path]) -> None:
    result = CliRunner().invoke(main, ["count", "--json", "-t", "o200k_base", *map(str, files)])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output)
    assert doc["tokenizer"] == "o200k_base"
    assert [f["tokens"] for f in doc["files"]] == [expected("o200k_base", p) for p in files]
    assert doc["total"] == sum(f["tokens"] for f in doc["files"])


def test_stdin() -> None:
    result = CliRunner().invoke(main, ["count", "-"], input="hello world")
    assert result.exit_code == 0
    assert result.output == "2  -\n"


def test_many_files_in_batches(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from ctxengine.cli import count

    monkeypatch.setattr(count, "BATCH_BYTES", 100)
    paths = []
    for i in range(30):
        p = tmp_path / f"{i}.txt"
        p.write_text(" ".join(["word"] * (i * 10)), encoding="utf-8")
        paths.append(str(p))
    result = CliRunner().invoke(main, ["count", "--json", *paths])
    assert result.exit_code == 0
    doc = json.loads(result.output)
    assert [f["tokens"] for f in doc["files"]] == [i * 10 for i in range(30)]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["count", "/nonexistent/file.txt"], "No such file or directory: /nonexistent/file.txt"),
        (["count", "-t", "nope_base", "-"], "unknown tokenizer 'nope_base'"),
    ],
)
def test_one_line_errors(args: list[str], message: str) -> None:
    result = CliRunner().invoke(main, args, input="x")
    assert result.exit_code == 1
    assert result.output.count("\n") == 1
    assert message in result.output


def test_undecodable_file_and_directory(tmp_path: Path) -> None:
    bad = tmp_path / "bad.bin"
    bad.write_bytes(b"ok \xff\xfe")
    result = CliRunner().invoke(main, ["count", str(bad)])
    assert result.exit_code == 1
    assert "is not UTF-8 text (byte 0xff at offset 3)" in result.output
    result = CliRunner().invoke(main, ["count", str(tmp_path)])
    assert result.exit_code == 1
    assert "is a directory" in result.output


def test_console_entry_point(files: list[Path]) -> None:
    out = subprocess.run(
        [sys.executable, "-m", "ctxengine.cli", "count", str(files[0])],
        capture_output=True,
        text=True,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == [str(expected("cl100k_base", files[0])), str(files[0])]
