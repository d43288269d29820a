"""House rules that tools check: ruff (lint and format), clang-format, mypy, and type stubs that
name exactly what the native modules export."""

from __future__ import annotations

import ast
import importlib
import shutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parent.parent
PY_DIRS = ["python", "tests", "bench", "scripts", "fuzz"]


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=ROOT, capture_output=True, text=True)


def test_ruff_lint() -> None:
    out = run(sys.executable, "-m", "ruff", "check", *PY_DIRS)
    assert out.returncode == 0, out.stdout + out.stderr


def test_ruff_format() -> None:
    out = run(sys.executable, "-m", "ruff", "format", "--check", *PY_DIRS)
    assert out.returncode == 0, out.stdout + out.stderr


def test_clang_format() -> None:
    exe = shutil.which("clang-format") or str(Path(sys.executable).parent / "clang-format")
    if not Path(exe).exists():
        pytest.skip("clang-format is not installed (pip install clang-format)")
    sources = [
        str(p.relative_to(ROOT))
        for p in (ROOT / "csrc").rglob("*")
        if p.suffix in {".cpp", ".hpp", ".cu", ".cuh"}
    ]
    out = run(exe, "--dry-run", "--Werror", *sources)
    assert out.returncode == 0, out.stderr[-3000:]


def test_mypy() -> None:
    out = run(sys.executable, "-m", "mypy", "--no-error-summary")
    assert out.returncode == 0, out.stdout[-3000:]


def _exported(module: ModuleType, prefix: str) -> set[str]:
    names: set[str] = set()
    for name in dir(module):
        if name.startswith("__"):
            continue
        value = getattr(module, name)
        if isinstance(value, ModuleType):
            names |= _exported(value, f"{prefix}{name}.")
        else:
            names.add(prefix + name)
    return names


def _stubbed(stub: Path, prefix: str) -> set[str]:
    names: set[str] = set()
    if stub.is_dir():
        for child in sorted(stub.glob("*.pyi")):
            sub = "" if child.stem == "__init__" else f"{child.stem}."
            names |= _stubbed(child, prefix + sub)
        return names
    for node in ast.parse(stub.read_text()).body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            names.add(prefix + node.name)
        elif (
            isinstance(node, ast.AnnAssign)
            and isinstance(node.target, ast.Name)
            and not node.target.id.startswith("__")
        ):
            names.add(prefix + node.target.id)
    return names


@pytest.mark.parametrize("name", ["_core", "_cuda"])
def test_stubs_match_native_module(name: str) -> None:
    try:
        module = importlib.import_module(f"ctxengine.{name}")
    except ImportError:
        pytest.skip(f"ctxengine.{name} is not part of this build")
    base = ROOT / "python" / "ctxengine"
    stub = base / name if (base / name).is_dir() else base / f"{name}.pyi"
    assert stub.exists(), f"no stub for ctxengine.{name}: run scripts/gen_stubs.sh"
    assert _exported(module, "") == _stubbed(stub, ""), "stale stubs: run scripts/gen_stubs.sh"
