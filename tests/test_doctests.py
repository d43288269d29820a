"""The `>>>` examples in every module's docstrings run and stay true."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import ctxengine

MODULES = sorted(
    m.name
    for m in pkgutil.walk_packages(ctxengine.__path__, "ctxengine.")
    if not m.name.endswith(("._core", ".__main__")) and ".cli" not in m.name
)


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    module = importlib.import_module(name)
    result = doctest.testmod(
        module, extraglobs={"ctxengine": ctxengine}, optionflags=doctest.ELLIPSIS
    )
    assert result.failed == 0


def test_the_public_api_has_examples() -> None:
    # The modules users read first each show how they are used.
    for name in ["ctxengine.tokenizers.tokenizer", "ctxengine.chunking.split",
                 "ctxengine.chunking.chunks", "ctxengine.retrieval.index",
                 "ctxengine.retrieval.bm25", "ctxengine.tokenizers.tokenizer_json"]:  # fmt: skip
        module = importlib.import_module(name)
        assert doctest.DocTestFinder().find(module), name
        tests = doctest.DocTestFinder().find(module)
        assert sum(len(t.examples) for t in tests) >= 3, name
