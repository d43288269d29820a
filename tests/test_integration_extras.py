"""Each adapter (and the service) says which extra to install when its framework is missing,
and `import ctxengine` imports none of them."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import ctxengine

ROOT = str(Path(ctxengine.__file__).resolve().parent.parent)


@pytest.mark.parametrize(
    ("module", "framework", "extra"),
    [
        ("ctxengine.integrations.langchain", "langchain_core", "langchain"),
        ("ctxengine.integrations.llamaindex", "llama_index", "llamaindex"),
        ("ctxengine.integrations.haystack", "haystack", "haystack"),
        ("ctxengine.integrations.chonkie", "chonkie", "chonkie"),
        ("ctxengine.server", "fastapi", "server"),
    ],
)
def test_a_missing_framework_names_the_extra(module: str, framework: str, extra: str) -> None:
    prog = (
        f"import sys; sys.modules[{framework!r}] = None\n"
        "import ctxengine\n"
        f"try:\n    import {module}\nexcept ImportError as e:\n    print(e)\n"
        "else:\n    print('imported')\n"
    )
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([ROOT, os.environ.get("PYTHONPATH", "")]))
    out = subprocess.run(
        [sys.executable, "-c", prog], capture_output=True, text=True, check=True, env=env
    )
    assert f'pip install "ctxengine[{extra}]"' in out.stdout, out.stdout + out.stderr
