#!/usr/bin/env python3
"""Run tiktoken's own public test suite against ctxengine's drop-in, offline.

    python scripts/tiktoken_upstream_tests.py [--tiktoken 0.14.0] [--sdists DIR] [--keep DIR]

1. pip downloads two source distributions from PyPI (nothing of theirs is committed here):
   ``tiktoken`` (its ``tests/`` folder is the suite) and ``openai-whisper``, whose
   ``whisper/assets/gpt2.tiktoken`` is byte for byte r50k_base's rank file (checked against the
   sha256 that tiktoken publishes). ``--sdists DIR`` uses files already downloaded there.
2. Builds a temporary tiktoken cache (``TIKTOKEN_CACHE_DIR``, files named by the SHA-1 of their
   URL, as tiktoken names them) holding r50k_base and p50k_base; p50k_base is r50k_base's ranks
   plus the 24 runs of 2 to 25 spaces at ranks 50257-50280, and the result is checked against
   p50k_base's published sha256, so it is the published file. cl100k_base and o200k_base ship
   with ctxengine; gpt2 reads r50k_base's file (the same ranks).
3. Runs the suite with ``import tiktoken`` resolving to ``ctxengine.integrations.tiktoken`` (a
   one-line shim module first on PYTHONPATH) and every socket connection refused, then prints
   each test's outcome. The exit status is pytest's.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import os
import subprocess
import sys
import tarfile
import tempfile
import xml.etree.ElementTree as ET
from pathlib import Path

TIKTOKEN_VERSION = "0.14.0"
WHISPER_VERSION = "20250625"
_BASE = "https://openaipublic.blob.core.windows.net/encodings"
R50K_SHA = "306cd27f03c1a714eca7108e03d66b7dc042abe8c258b44c199a7ed9838dd930"
P50K_SHA = "94b5ca7dff4d00767bc256fdd1b27e5b17361d7b8a5f968547f9f23eb70d2069"

SHIM = """\
# tiktoken's tests import `tiktoken`: give them ctxengine's drop-in under that name.
import sys

import ctxengine.integrations.tiktoken as _dropin

sys.modules[__name__] = _dropin
"""

OFFLINE_CONFTEST = """\
# The suite runs offline: any attempt to open a network connection fails loudly.
import socket

import tiktoken

assert tiktoken.__name__ == "ctxengine.integrations.tiktoken", tiktoken.__name__


def _refuse(*args, **kwargs):
    raise OSError("network access is disabled in this offline run")


socket.socket.connect = _refuse
socket.socket.connect_ex = _refuse
socket.getaddrinfo = _refuse
"""


def _download(dest: Path, tiktoken_version: str) -> None:
    cmd = [
        sys.executable, "-m", "pip", "download", "--quiet", "--no-deps",
        "--no-binary", ":all:", "-d", str(dest),
        f"tiktoken=={tiktoken_version}", f"openai-whisper=={WHISPER_VERSION}",
    ]  # fmt: skip
    subprocess.run(cmd, check=True)


def _sdist(folder: Path, pattern: str) -> Path:
    found = sorted(folder.glob(pattern))
    if not found:
        raise SystemExit(f"no {pattern} in {folder}")
    return found[-1]


def _extract_tests(sdist: Path, dest: Path) -> Path:
    with tarfile.open(sdist) as tar:
        members = [m for m in tar.getmembers() if "/tests/" in m.name and m.isfile()]
        for m in members:
            rel = m.name.split("/tests/", 1)[1]
            out = dest / "tests" / rel
            out.parent.mkdir(parents=True, exist_ok=True)
            data = tar.extractfile(m)
            assert data is not None
            out.write_bytes(data.read())
    return dest / "tests"


def _r50k(whisper_sdist: Path) -> bytes:
    with tarfile.open(whisper_sdist) as tar:
        for m in tar.getmembers():
            if m.name.endswith("whisper/assets/gpt2.tiktoken"):
                data = tar.extractfile(m)
                assert data is not None
                content = data.read()
                break
        else:
            raise SystemExit(f"{whisper_sdist} has no whisper/assets/gpt2.tiktoken")
    if hashlib.sha256(content).hexdigest() != R50K_SHA:
        raise SystemExit("whisper's gpt2.tiktoken is not r50k_base's published file")
    return content


def _p50k(r50k: bytes) -> bytes:
    spaces = b"".join(
        base64.b64encode(b" " * n) + b" %d\n" % (50257 + i) for i, n in enumerate(range(2, 26))
    )
    content = r50k + spaces
    if hashlib.sha256(content).hexdigest() != P50K_SHA:
        raise SystemExit("the derived p50k_base does not match its published sha256")
    return content


def _cache(folder: Path, r50k: bytes) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name, content in (("r50k_base", r50k), ("p50k_base", _p50k(r50k))):
        key = hashlib.sha1(f"{_BASE}/{name}.tiktoken".encode()).hexdigest()
        (folder / key).write_bytes(content)


def _report(junit: Path) -> tuple[int, int]:
    """Print each test's outcome; (passed, not passed)."""
    passed = failed = 0
    for case in ET.parse(junit).getroot().iter("testcase"):
        name = f"{case.get('classname')}::{case.get('name')}"
        outcome = "passed"
        for tag in ("failure", "error", "skipped"):
            if case.find(tag) is not None:
                outcome = {"failure": "FAILED", "error": "ERROR", "skipped": "SKIPPED"}[tag]
        if outcome == "passed":
            passed += 1
        else:
            failed += 1
        print(f"{outcome:8} {name}")
    print(f"tiktoken upstream suite: {passed} passed, {failed} failed")
    return passed, failed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tiktoken", default=TIKTOKEN_VERSION, help="tiktoken sdist version")
    parser.add_argument("--sdists", type=Path, help="folder with the two sdists (no download)")
    parser.add_argument("--keep", type=Path, help="work in this folder and keep it")
    parser.add_argument("pytest_args", nargs="*", help="extra pytest arguments")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="tiktoken-upstream-") as tmp:
        work = args.keep or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        sdists = args.sdists
        if sdists is None:
            sdists = work / "sdists"
            _download(sdists, args.tiktoken)
        suite = work / "suite"
        tests = _extract_tests(_sdist(sdists, f"tiktoken-{args.tiktoken}.tar.gz"), suite)
        (suite / "conftest.py").write_text(OFFLINE_CONFTEST)
        (suite / "pytest.ini").write_text("[pytest]\n")
        shim = work / "shim"
        shim.mkdir(exist_ok=True)
        (shim / "tiktoken.py").write_text(SHIM)
        _cache(work / "cache", _r50k(_sdist(sdists, f"openai_whisper-{WHISPER_VERSION}.tar.gz")))

        import ctxengine  # the copy under test: the one this interpreter imports

        # The package seen through a folder named site-packages, as tiktoken is when its suite
        # runs: Hypothesis feeds the string literals of source-tree modules to st.text(), and
        # from a source tree ctxengine's special-token names ("<|fim_middle|>") became texts that
        # encode() refuses by design, as tiktoken's own encode does.
        package = Path(ctxengine.__file__).resolve().parent
        installed = work / "site-packages"
        installed.mkdir(exist_ok=True)
        if not (installed / package.name).exists():
            (installed / package.name).symlink_to(package, target_is_directory=True)
        env = {k: v for k, v in os.environ.items() if not k.startswith("CTXENGINE_TIKTOKEN")}
        env["PYTHONPATH"] = os.pathsep.join([str(shim), str(installed)])
        env["TIKTOKEN_CACHE_DIR"] = str(work / "cache")
        junit = work / "junit.xml"
        cmd = [
            sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
            "--rootdir", str(suite), "-c", str(suite / "pytest.ini"),
            f"--junitxml={junit}", str(tests), *args.pytest_args,
        ]  # fmt: skip
        status = subprocess.run(cmd, cwd=suite, env=env).returncode
        if junit.is_file():
            _report(junit)
        return status


if __name__ == "__main__":
    sys.exit(main())
