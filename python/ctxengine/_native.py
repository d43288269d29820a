"""Loads the native core with a message that says what to do when it is missing."""

from __future__ import annotations

from types import ModuleType

from .errors import InternalError


def _load_core() -> ModuleType:
    try:
        from . import _core
    except ImportError as exc:  # the package was imported from a source tree without a build
        raise ImportError(
            "ctxengine's native module ctxengine._core is not built. Install the package with "
            "`pip install .` from the source checkout (it compiles the C++ core), or for "
            f"development run `scripts/dev_build.sh`. ({exc})"
        ) from exc
    return _core


core = _load_core()


def cuda_module() -> ModuleType | None:
    """The optional CUDA module, or None when this build has none or it cannot load."""
    try:
        from . import _cuda
    except ImportError:
        return None
    return _cuda


def check_internal(condition: bool, message: str) -> None:
    """Raise InternalError when an invariant of the Python layer fails."""
    if not condition:
        raise InternalError(f"internal error (please report it): {message}")
