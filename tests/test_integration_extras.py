"""Each adapter (and the service) says which extra to install when its framework is missing,
and `import ctxengine` imports none of them."""

from __future__ import annotations

import subprocess
import sys

import pytest

from package_env import package_env


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
    env = package_env()
    out = subprocess.run(
        [sys.executable, "-c", prog], capture_output=True, text=True, check=True, env=env
    )
    assert f'pip install "ctxengine[{extra}]"' in out.stdout, out.stdout + out.stderr
