"""The environment for a subprocess that must import the very ctxengine under test.

The tests run against an installed package (CI) or the source tree with a built module
(development); a subprocess gets the folder that holds the imported package on PYTHONPATH, never
the source tree by guess (whose ``_core`` is only stubs until a developer build copies the
module in).
"""

from __future__ import annotations

import os
from pathlib import Path

import ctxengine

PACKAGE_PARENT = str(Path(ctxengine.__file__).resolve().parent.parent)


def package_env(**extra: str) -> dict[str, str]:
    """``os.environ`` plus `extra`, with the tested package first on PYTHONPATH."""
    env = {**os.environ, **extra}
    env["PYTHONPATH"] = os.pathsep.join(p for p in [PACKAGE_PARENT, env.get("PYTHONPATH")] if p)
    return env
