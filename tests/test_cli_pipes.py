"""The command line in pipes and logs, in real subprocesses: a reader that goes away (``| head``)
ends a command quietly with status 0, and progress bars follow one rule (on a terminal only,
``CTXENGINE_PROGRESS`` overrides)."""

from __future__ import annotations

import fcntl
import os
import pty
import select
import struct
import subprocess
import sys
import termios
from pathlib import Path

import pytest

import ctxengine
from corpus import stdlib_sources
from ctxengine import _progress
from package_env import package_env


def _env(**extra: str) -> dict[str, str]:
    env = package_env(**extra)
    if "CTXENGINE_PROGRESS" not in extra:
        env.pop("CTXENGINE_PROGRESS", None)
    return env


def _cli(*args: str) -> str:
    return " ".join([sys.executable, "-m", "ctxengine", *args])


@pytest.fixture(scope="module")
def index_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("pipes") / "ix"
    index = ctxengine.Index(max_tokens=128)
    texts = [t for _, t in stdlib_sources(20)]
    index.add_many(texts, [f"doc{i}" for i in range(len(texts))])
    index.save(out)
    return out


@pytest.mark.parametrize("as_json", [False, True])
def test_search_into_head_ends_quietly(index_dir: Path, as_json: bool) -> None:
    # Far more output than a pipe buffers, so the writes after `head` exits must fail.
    args = ["search", str(index_dir), "'def return'", "-k", "2000"] + (
        ["--json"] if as_json else []
    )
    shell = f"set -o pipefail; {_cli(*args)} | head -3"
    run = subprocess.run(["bash", "-c", shell], capture_output=True, text=True, env=_env())
    assert run.returncode == 0, run.stderr
    assert run.stderr == ""
    assert len(run.stdout.splitlines()) == 3


def test_the_full_output_was_larger_than_a_pipe(index_dir: Path) -> None:
    """The test above means something only if the command writes more than a pipe holds."""
    run = subprocess.run(
        [sys.executable, "-m", "ctxengine", "search", str(index_dir), "def return", "-k", "2000"],
        capture_output=True,
        env=_env(),
    )
    assert run.returncode == 0
    assert len(run.stdout) > 2 * 65536


def test_count_and_chunk_into_head(index_dir: Path, tmp_path: Path) -> None:
    files = []
    for i, (_, text) in enumerate(stdlib_sources(30)):
        path = tmp_path / f"f{i}.py"
        path.write_text(text)
        files.append(str(path))
    big = tmp_path / "big.txt"
    big.write_text("\n\n".join(t for _, t in stdlib_sources(30)))
    for args in (["count", *files * 40], ["chunk", str(big), "--max-tokens", "16"]):
        shell = f"set -o pipefail; {_cli(*args)} | head -1"
        run = subprocess.run(["bash", "-c", shell], capture_output=True, text=True, env=_env())
        assert run.returncode == 0, (args[0], run.stderr)
        assert run.stderr == "", args[0]


def _stderr_on_a_terminal(args: list[str], **env: str) -> bytes:
    """Run the CLI with stderr on a pseudo-terminal (stdout to /dev/null); what it drew."""
    leader, follower = pty.openpty()
    # A terminal of 24 rows x 100 columns (a new pseudo-terminal has 0 x 0).
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))
    proc = subprocess.Popen(
        [sys.executable, "-m", "ctxengine", *args],
        stdout=subprocess.DEVNULL,
        stderr=follower,
        env=_env(**env),
    )
    os.close(follower)
    out = b""
    while True:
        ready, _, _ = select.select([leader], [], [], 60)
        if not ready:
            proc.kill()
            break
        try:
            data = os.read(leader, 65536)
        except OSError:  # the terminal closed: the process exited
            break
        if not data:
            break
        out += data
    proc.wait(timeout=60)
    os.close(leader)
    assert proc.returncode == 0, out[-2000:]
    return out


def test_progress_bar_on_a_terminal_only(index_dir: Path, tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    for i, (_, text) in enumerate(stdlib_sources(12)):
        (docs / f"m{i}.py").write_text(text)
    args = ["index", str(docs), "--out", str(tmp_path / "out")]
    drawn = _stderr_on_a_terminal(args)
    # tqdm redraws with a carriage return (the terminal itself turns each "\n" into "\r\n").
    assert b"\r" in drawn.replace(b"\r\n", b"") and b"reading" in drawn
    quiet = _stderr_on_a_terminal(args, CTXENGINE_PROGRESS="0")
    assert b"\r" not in quiet.replace(b"\r\n", b"") and b"reading" not in quiet
    # Not a terminal: a log gets no redraws.
    log = subprocess.run(
        [sys.executable, "-m", "ctxengine", *args], capture_output=True, env=_env()
    )
    assert log.returncode == 0, log.stderr
    assert b"\r" not in log.stderr and b"reading" not in log.stderr
    forced = subprocess.run(
        [sys.executable, "-m", "ctxengine", *args],
        capture_output=True,
        env=_env(CTXENGINE_PROGRESS="1"),
    )
    assert b"reading" in forced.stderr


def test_show_progress_rule(monkeypatch: pytest.MonkeyPatch) -> None:
    class Tty:
        def __init__(self, tty: bool) -> None:
            self.tty = tty

        def isatty(self) -> bool:
            return self.tty

    monkeypatch.delenv("CTXENGINE_PROGRESS", raising=False)
    for tty in (True, False):
        monkeypatch.setattr(sys, "stderr", Tty(tty))
        assert _progress.show_progress() is tty
        assert _progress.show_progress(False) is False
        for value, want in (("0", False), ("off", False), ("1", True), ("", tty)):
            monkeypatch.setenv("CTXENGINE_PROGRESS", value)
            assert _progress.show_progress() is want
            assert _progress.show_progress(False) is False
            assert _progress.show_progress(False, force=True) is True  # asked for by name
        monkeypatch.delenv("CTXENGINE_PROGRESS")
    monkeypatch.setattr(sys, "stderr", None)
    assert _progress.show_progress() is False
