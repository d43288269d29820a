"""The `>>>` examples in the memory, agent and evaluation-generator modules run and stay true."""

from __future__ import annotations

import doctest
import importlib

import pytest


@pytest.mark.parametrize(
    "module",
    [
        "ctxengine.memory._time",
        "ctxengine.memory.normalize",
        "ctxengine.memory.ranking",
        "ctxengine.memory.extraction",
        "ctxengine.memory.memory",
        "ctxengine.agent.manager",
        "ctxengine.agent.policies",
        "ctxengine.agent.summarize",
        "ctxengine.evaluation.conversations",
        "ctxengine.evaluation.agent_traces",
    ],
)
def test_docstring_examples(module: str) -> None:
    result = doctest.testmod(importlib.import_module(module), optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0
