"""Two or more processes saving to one path never leave it unreadable (store.py: unique
temporary names, commits under a lock), tested with real processes: writers save different
indexes to one folder over and over while a reader loads it; every load succeeds and gives one
writer's index whole, and so does the folder at the end."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import ctxengine

WRITER = textwrap.dedent(
    """
    import sys, ctxengine
    path, who, rounds = sys.argv[1], sys.argv[2], int(sys.argv[3])
    index = ctxengine.Index(max_tokens=16)
    index.add_many([f"writer {who} document {i} about zebras" for i in range(40)],
                   [f"{who}-{i}" for i in range(40)])
    for _ in range(rounds):
        index.save(path)
    """
)

READER = textwrap.dedent(
    """
    import json, os, sys, time, ctxengine
    path, stop = sys.argv[1], sys.argv[2]
    seen, loads = set(), 0
    while not os.path.exists(stop) or loads == 0:
        if not os.path.exists(os.path.join(path, "CURRENT")):
            time.sleep(0.01)
            continue
        index = ctxengine.Index.load(path)  # any error fails the test
        writers = {d.split("-")[0] for d in index.doc_ids()}
        assert len(writers) == 1 and len(index) == 40, writers
        seen |= writers
        loads += 1
    print(json.dumps({"loads": loads, "seen": sorted(seen)}))
    """
)


def test_concurrent_saves_never_leave_the_index_unreadable(tmp_path: Path) -> None:
    path, stop = tmp_path / "ix", tmp_path / "stop"
    env = {**os.environ, "PYTHONPATH": str(Path(ctxengine.__file__).parents[1])}
    procs: list[subprocess.Popen[str]] = []
    try:
        reader = subprocess.Popen(
            [sys.executable, "-c", READER, str(path), str(stop)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        procs.append(reader)
        writers = [
            subprocess.Popen(
                [sys.executable, "-c", WRITER, str(path), who, "6"],
                env=env,
                stderr=subprocess.PIPE,
                text=True,
            )
            for who in ("a", "b", "c")
        ]
        procs += writers
        for w in writers:
            _, err = w.communicate(timeout=300)
            assert w.returncode == 0, err
        stop.write_text("")
        out, err = reader.communicate(timeout=300)
        assert reader.returncode == 0, err
    finally:
        stop.write_text("")
        for p in procs:  # a failure above leaves no process or open pipe to the next test
            if p.poll() is None:
                p.kill()
            p.communicate()
    report = json.loads(out)
    assert report["loads"] >= 1 and set(report["seen"]) <= {"a", "b", "c"}
    final = ctxengine.Index.load(path)
    assert len({d.split("-")[0] for d in final.doc_ids()}) == 1 and len(final) == 40
    # Only the current version is left: no half-written or abandoned directories.
    assert [p.name for p in path.iterdir() if p.is_dir()] == [
        (path / "CURRENT").read_text().split()[0]
    ]


def test_a_first_save_under_way_is_not_a_foreign_directory(tmp_path: Path) -> None:
    """What another process's first save has written before its CURRENT exists (its version
    directory, its temporary pointer) does not make the folder "not an index"; a user's file
    does."""
    path = tmp_path / "ix"
    path.mkdir()
    (path / "v1733300000000000000-0123abcd").mkdir()
    (path / "CURRENT.0123456789abcdef.tmp").write_text("")
    (path / "LOCK").write_text("")
    index = ctxengine.Index(max_tokens=16)
    index.add_many(["a document about zebras"], ["d"])
    index.save(path)
    assert ctxengine.Index.load(path).doc_ids() == ["d"]
    other = tmp_path / "mine"
    other.mkdir()
    (other / "notes.txt").write_text("mine")
    with pytest.raises(ctxengine.errors.InvalidInputError, match="not a ctxengine index"):
        index.save(other)
    assert (other / "notes.txt").read_text() == "mine"
