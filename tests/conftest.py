"""Shared fixtures. Real-text corpora come from files every machine of this kind has (the Python
standard library's sources and CJK test texts, Debian's translated message catalogs, and the
Python docs when python3.11-doc is installed); see tests/corpus.py."""

from __future__ import annotations

import os

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
    # GPU tests skip only where the driver sees no GPU. Where it sees one they run, so a build
    # without ctxengine._cuda or a machine without CuPy fails them instead of skipping
    # (tests/test_cuda.py::test_a_gpu_machine_runs_the_gpu_tests says which is missing).
    from gpu import nvidia_gpus

    if nvidia_gpus():
        return
    skip_gpu = pytest.mark.skip(reason="no NVIDIA GPU on this machine (`nvidia-smi -L` lists none)")
    for item in items:
        if "gpu" in item.keywords:
            item.add_marker(skip_gpu)
