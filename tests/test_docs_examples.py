"""The Python examples of docs/integrations.md run as written (from the repository's root), so
the page stays true to the code."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from package_env import package_env

ROOT = Path(__file__).resolve().parent.parent
PAGE = ROOT / "docs" / "integrations.md"


@pytest.mark.slow  # imports every framework in a fresh interpreter
def test_integration_page_examples_run(tmp_path: Path) -> None:
    blocks = re.findall(r"```python\n(.*?)```", PAGE.read_text(encoding="utf-8"), re.S)
    assert len(blocks) >= 6
    # The page's index folder, moved into this test's own temporary folder.
    program = "\n\n".join(blocks).replace("/tmp/ctxengine-docs-index", str(tmp_path / "ix"))
    env = package_env()
    run = subprocess.run(
        [sys.executable, "-c", program], cwd=ROOT, capture_output=True, text=True, env=env
    )
    assert run.returncode == 0, run.stderr[-4000:]
    assert "[15339, 1917]" not in run.stdout  # gpt-4o is o200k_base: its ids for "hello world"
    assert "[24912, 2375] hello world" in run.stdout
