"""Shared fixtures. Real-text corpora come from files every machine of this kind has (the Python
standard library's sources and CJK test texts, Debian's translated message catalogs, and the
Python docs when python3.11-doc is installed); see tests/corpus.py."""

from __future__ import annotations

import os

# Haystack sends usage reports unless told not to; tests never touch the network.
os.environ.setdefault("HAYSTACK_TELEMETRY_ENABLED", "False")

import pytest
from hypothesis import HealthCheck, settings

# "ci" (the default) draws the same examples on every run, so a green main stays green;
# "explore" draws new ones each run (HYPOTHESIS_PROFILE=explore): run it to hunt for bugs, and
# turn what it finds into explicit regression tests.
settings.register_profile(
    "ci",
    max_examples=100,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile(
    "explore", max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile("dev", max_examples=30, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    from ctxengine import cuda_available

    if cuda_available():
        return
    skip_gpu = pytest.mark.skip(reason="no usable CUDA GPU on this machine")
    for item in items:
        if "gpu" in item.keywords:
            item.add_marker(skip_gpu)
