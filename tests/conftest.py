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


# In CI (CI=true) a test may skip only for these reasons, or for want of a GPU (CuPy, CUDA)
# where nvidia-smi lists none. Any other skip means the test setup lacks something it must
# have (an oracle package, the MiniLM files) and would hide the test behind a skip, so it
# fails the run instead. sentence-transformers needs torch, which the CI does not install
# (tests/test_minilm_reference.py checks the embedder without it).
CI_SKIP_REASONS = ("no NVIDIA GPU", "a real GPU is present", "sentence_transformers")


def _skip_reason(report: pytest.TestReport | pytest.CollectReport) -> str:
    longrepr = report.longrepr
    return str(longrepr[2]) if isinstance(longrepr, tuple) else str(longrepr)


def _fail_unexpected_skip(report: pytest.TestReport | pytest.CollectReport) -> None:
    if os.environ.get("CI") != "true" or not report.skipped or hasattr(report, "wasxfail"):
        return
    reason = _skip_reason(report)
    from gpu import nvidia_gpus

    gpu_only = not nvidia_gpus() and any(w in reason.lower() for w in ("cupy", "cuda", "gpu"))
    if not gpu_only and not any(allowed in reason for allowed in CI_SKIP_REASONS):
        report.outcome = "failed"
        report.longrepr = (
            f"skipped in CI: {reason}\nCI must run this test: install what it needs in "
            ".ci/run, or add the reason to CI_SKIP_REASONS in tests/conftest.py with why"
        )


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]):  # type: ignore[no-untyped-def]
    outcome = yield
    _fail_unexpected_skip(outcome.get_result())


@pytest.hookimpl(hookwrapper=True)
def pytest_make_collect_report(collector: pytest.Collector):  # type: ignore[no-untyped-def]
    outcome = yield
    _fail_unexpected_skip(outcome.get_result())
