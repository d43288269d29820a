"""tiktoken's own public test suite passes against the drop-in, offline.

scripts/tiktoken_upstream_tests.py downloads tiktoken's sdist (the suite) and openai-whisper's
(r50k_base's rank file) from PyPI with pip, builds a temporary tiktoken cache, and runs the
suite with ``import tiktoken`` resolving to ``ctxengine.integrations.tiktoken`` and the network
refused. Needs PyPI (as CI has); ``CTXENGINE_TIKTOKEN_SDISTS=DIR`` points it at the two sdists
already downloaded instead.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "tiktoken_upstream_tests.py"


@pytest.mark.slow
def test_tiktoken_suite_passes_against_the_drop_in() -> None:
    cmd = [sys.executable, str(SCRIPT)]
    if os.environ.get("CTXENGINE_TIKTOKEN_SDISTS"):
        cmd += ["--sdists", os.environ["CTXENGINE_TIKTOKEN_SDISTS"]]
    run = subprocess.run(cmd, capture_output=True, text=True, timeout=900)
    out = run.stdout + run.stderr
    assert run.returncode == 0, out[-6000:]
    summary = re.search(r"tiktoken upstream suite: (\d+) passed, (\d+) failed", out)
    assert summary is not None, out[-3000:]
    passed, failed = map(int, summary.groups())
    assert failed == 0 and passed >= 30, out[-3000:]
    # Every encoding-parametrized test ran for r50k_base too (its file came from PyPI).
    assert "passed   tests.test_encoding::test_single_token_roundtrip[r50k_base]" in out
    assert "passed   tests.test_simple_public::test_simple" in out  # all seven encodings
