"""`ctxengine pack` as a user runs it: files or an index folder in, the prompt (or JSON) out,
within the budget; one line and a non-zero exit on user errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

import ctxengine
from ctxengine.cli import main
from pack_support import encoding

DOCS = {
    "io.md": "Reading files\n\nUse open() to read a file. The with statement closes it.\n" * 20,
    "sort.md": "Sorting\n\nsorted() returns a new list; list.sort() sorts in place.\n" * 20,
    "misc.md": "Unrelated notes about the weather and gardening.\n" * 20,
}


@pytest.fixture()
def files(tmp_path: Path) -> list[str]:
    out = []
    for name, text in DOCS.items():
        (tmp_path / name).write_text(text)
        out.append(str(tmp_path / name))
    return out


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["pack", *args])
    return result.exit_code, result.stdout, result.stderr


def count(text: str) -> int:
    return len(encoding().encode_ordinary(text))


def test_pack_files_prints_the_prompt(files: list[str]) -> None:
    code, out, _ = run(*files, "how do I read a file", "--budget", "300")
    assert code == 0
    prompt = out.removesuffix("\n")
    assert count(prompt) <= 300
    assert (
        "[1] " in prompt
        and "open()" in prompt
        and prompt.endswith("Question: how do I read a file")
    )


def test_pack_json_manifest_and_message_bodies(files: list[str]) -> None:
    code, out, _ = run(
        *files,
        "sorting a list",
        "--budget",
        "400",
        "--format",
        "json",
        "--order",
        "edges",
        "--no-citations",
    )
    assert code == 0
    manifest = json.loads(out)
    assert manifest["tokens"] == count(manifest["text"]) <= 400
    assert manifest["sources"] and all(s["number"] is None for s in manifest["sources"])
    for s in manifest["sources"]:
        assert DOCS[Path(s["doc_id"]).name][s["start"] : s["end"]] == s["text"]
    code, out, _ = run(*files, "sorting a list", "--budget", "400", "--format", "openai")
    body = json.loads(out)
    assert [m["role"] for m in body["messages"]] == ["system", "user"]
    code, out, _ = run(
        *files, "sorting a list", "-b", "400", "--format", "anthropic", "--reserve-output", "100"
    )
    body = json.loads(out)
    assert body["max_tokens"] == 100 and "system" in body and len(body["messages"]) == 1


def test_pack_an_index_folder(files: list[str], tmp_path: Path) -> None:
    index = ctxengine.Index(max_tokens=64)
    index.add_files(files, progress=False)
    index.save(tmp_path / "idx")
    code, out, _ = run(str(tmp_path / "idx"), "with statement", "--budget", "250")
    assert code == 0 and count(out.removesuffix("\n")) <= 250 and "with statement" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["missing.txt", "q", "--budget", "100"], "missing.txt"),
        (["{file}", "q", "--budget", "10"], "needs"),
        (["{file}", "q", "--budget", "gpt-99"], "unknown model"),
        (["{file}", "q", "--budget", "100", "--reserve-output", "200"], "reserve_output"),
        (["{file}", "   ", "--budget", "100"], "query is empty"),
    ],
)
def test_user_errors_are_one_line(files: list[str], args: list[str], message: str) -> None:
    code, out, err = run(*[a.replace("{file}", files[0]) for a in args])
    assert code == 1 and out == ""
    last = err.splitlines()[-1]  # after the progress bars of reading the files, if any
    assert last.startswith("ctxengine: error:") and message in last
    assert "Traceback" not in err


def test_usage_errors(files: list[str]) -> None:
    code, _, err = run("just-a-query")
    assert code == 2 and "query" in err
    code, _, err = run(files[0], "q")
    assert code == 2 and "--budget" in err


def test_pack_an_index_in_another_tokenizer(files: list[str], tmp_path: Path) -> None:
    index = ctxengine.Index(max_tokens=64)  # cl100k_base
    index.add_files(files, progress=False)
    index.save(tmp_path / "idx")
    code, out, _ = run(
        str(tmp_path / "idx"),
        "with statement",
        "--model",
        "gpt-4o",
        "-b",
        "300",
        "--format",
        "json",
    )
    manifest = json.loads(out)
    o200k = ctxengine.get_tokenizer("o200k_base")
    assert code == 0 and manifest["tokenizer"] == "o200k_base" and manifest["model"] == "gpt-4o"
    assert manifest["tokens"] == o200k.count(manifest["text"]) <= 300
    for s in manifest["sources"]:
        assert s["tokens"] == o200k.count(s["text"])
