"""The package as a user meets it: import, version, public names, errors, CLI basics."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from click.testing import CliRunner

import ctxengine
from ctxengine import errors
from ctxengine.cli import main

ROOT = Path(__file__).resolve().parent.parent


def test_version_matches_pyproject() -> None:
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert ctxengine.__version__ == meta["project"]["version"]


def test_public_names_exist() -> None:
    for name in ctxengine.__all__:
        assert hasattr(ctxengine, name), name


@pytest.mark.parametrize(
    ("cls", "builtin"),
    [
        (errors.InvalidInputError, ValueError),
        (errors.NotFoundError, FileNotFoundError),
        (errors.FormatError, ValueError),
        (errors.UnsupportedError, ValueError),
        (errors.BudgetError, ValueError),
        (errors.StorageError, OSError),
        (errors.InternalError, RuntimeError),
    ],
)
def test_error_classes_derive_from_builtins(cls: type, builtin: type) -> None:
    assert issubclass(cls, ctxengine.Error)
    assert issubclass(cls, builtin)


def test_core_errors_become_ctxengine_errors() -> None:
    from ctxengine import _core

    with pytest.raises(ctxengine.InvalidInputError, match="item 7 failed"):
        _core._testing.parallel_throw_at(100, 7, 2)


def test_import_does_not_load_heavy_modules() -> None:
    heavy = "('faiss', 'torch', 'cupy', 'tiktoken')"
    code = f"import sys, ctxengine; print(sorted(m for m in {heavy} if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_cli_version_and_help() -> None:
    runner = CliRunner()
    result = runner.invoke(main, ["--version"])
    assert result.exit_code == 0
    assert ctxengine.__version__ in result.output
    result = runner.invoke(main, ["--help"])
    assert result.exit_code == 0
    for command in (
        "count",
        "chunk",
        "index",
        "search",
        "pack",
        "haystack",
        "eval",
        "bench",
        "serve",
    ):
        assert command in result.output


def test_cli_console_script_runs() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "ctxengine.cli", "--version"], capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("ctxengine, version")
