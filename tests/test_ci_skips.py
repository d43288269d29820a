"""In CI a skip is allowed only for the reasons tests/conftest.py names (no GPU, no torch);
any other skip fails, so a broken test setup cannot hide tests behind skips."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def _run(folder: Path, test: str, ci: bool) -> str:
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    if ci:
        env["CI"] = "true"
    out = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-o", "markers=gpu", test],
        capture_output=True,
        text=True,
        env=env,
        cwd=folder,
        timeout=300,
    )
    return out.stdout.strip().splitlines()[-1]


def test_unexpected_skips_fail_in_ci(tmp_path: Path) -> None:
    for name in ("conftest.py", "gpu.py"):
        shutil.copy(HERE / name, tmp_path / name)
    (tmp_path / "test_a.py").write_text(
        "import pytest\n\n"
        "def test_missing_oracle():\n    pytest.skip('the bm25s package is not installed')\n\n"
        "@pytest.mark.gpu\ndef test_on_gpu():\n    pass\n\n"
        "def test_runs():\n    pass\n\n"
        "def test_needs_cupy():\n    pytest.importorskip('cupy_not_here', reason='needs CuPy')\n"
    )
    (tmp_path / "test_b.py").write_text(
        "import pytest\n\npytest.importorskip('no_such_module_ctxengine')\n\n"
        "def test_never():\n    pass\n"
    )
    outside = _run(tmp_path, "test_a.py", ci=False)
    assert outside.startswith("1 passed, 3 skipped"), outside
    inside = _run(tmp_path, "test_a.py", ci=True)
    # The oracle skip fails; the GPU and CuPy skips stay skips (no GPU here).
    assert inside.startswith("1 failed, 1 passed, 2 skipped"), inside
    assert _run(tmp_path, "test_b.py", ci=False).startswith("1 skipped"), "module-level skip"
    assert "1 error" in _run(tmp_path, "test_b.py", ci=True), "module-level skip in CI"
