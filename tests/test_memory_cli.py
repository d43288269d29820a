"""`ctxengine memory add|search|pack|facts|history` as a user runs them."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from ctxengine.cli import main
from ctxengine.memory import Memory


def test_memory_commands(tmp_path: Path) -> None:
    db = tmp_path / "chat.db"
    run = CliRunner().invoke
    r = run(
        main,
        [
            "memory",
            "add",
            str(db),
            "I moved to Denver!",
            "--speaker",
            "Caroline",
            "--time",
            "2023-05-08T10:00",
            "--session",
            "s2",
            "--id",
            "t1",
        ],
    )
    assert r.exit_code == 0, r.output
    assert r.stdout.strip() == "t1"
    lines = "\n".join(
        json.dumps({"text": t, "speaker": s, "time": w, "session": "s1"})
        for t, s, w in [
            ("Where do you live these days?", "Mel", "2022-01-01T09:00"),
            ("In Boston, near the river.", "Caroline", "2022-01-01T09:01"),
        ]
    )
    r = run(main, ["memory", "add", str(db), "--jsonl", "-", "--json"], input=lines + "\n")
    assert r.exit_code == 0, r.output
    assert len(json.loads(r.stdout)) == 2
    for obj, when in (("Boston", "2022-01-01"), ("Denver", "2023-05-08")):
        r = run(
            main,
            ["memory", "add", str(db), "--fact", "Caroline", "lives in", obj, "--valid-at", when],
        )
        assert r.exit_code == 0, r.output
    r = run(main, ["memory", "search", str(db), "Denver", "--json"])
    hits = json.loads(r.stdout)
    assert {h["id"] for h in hits} >= {"t1"} and any(h["kind"] == "fact" for h in hits)
    r = run(main, ["memory", "search", str(db), "river", "-k", "1", "--session", "s1"])
    assert r.exit_code == 0 and "In Boston, near the river." in r.stdout
    assert "Where do you live" in r.stdout  # the question a reply answers comes with it
    r = run(
        main, ["memory", "pack", str(db), "where does Caroline live?", "--budget", "300", "--json"]
    )
    packed = json.loads(r.stdout)
    assert packed["tokens"] <= 300 and packed["sources"]
    r = run(main, ["memory", "pack", str(db), "where does Caroline live?", "-b", "300"])
    assert r.exit_code == 0 and "Sources:" in r.stdout and "tokens" in r.stderr
    r = run(main, ["memory", "facts", str(db), "--subject", "caroline", "--as-of", "2022-06-01"])
    assert r.stdout.startswith("Caroline | lives in | Boston | 2022-01-01")
    r = run(main, ["memory", "history", str(db), "Caroline", "lives in", "--json"])
    assert [f["object"] for f in json.loads(r.stdout)] == ["Boston", "Denver"]
    with Memory(db) as memory:
        assert len(memory) == 3


def test_memory_command_errors(tmp_path: Path) -> None:
    run = CliRunner().invoke
    r = run(main, ["memory", "search", str(tmp_path / "none.db"), "x"])
    assert r.exit_code == 1 and "no memory file" in r.stderr and "Traceback" not in r.output
    db = tmp_path / "m.db"
    r = run(main, ["memory", "add", str(db), "x", "--time", "yesterday"])
    assert r.exit_code == 1 and "ISO 8601" in r.stderr
    r = run(main, ["memory", "add", str(db), "--fact", "a", "b", "c"])
    assert r.exit_code == 2 and "--valid-at" in r.stderr
    r = run(main, ["memory", "add", str(db), "--jsonl", "-"], input="{not json}\n")
    assert r.exit_code == 1 and "line 1 is not JSON" in r.stderr
    r = run(main, ["memory", "add", str(db)])
    assert r.exit_code == 2
