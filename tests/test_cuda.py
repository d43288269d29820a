"""The CUDA kernels against their CPU twins. They run wherever `nvidia-smi -L` lists a GPU and
skip only where it lists none (tests/conftest.py); on a GPU machine a build without
ctxengine._cuda, or a missing CuPy, fails them rather than skipping them."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import ctxengine
from gpu import nvidia_gpus

ROOT = Path(__file__).resolve().parent.parent


def test_a_gpu_machine_runs_the_gpu_tests() -> None:
    """Where the driver sees a GPU, everything the GPU tests need is there."""
    if not nvidia_gpus():
        pytest.skip("no NVIDIA GPU on this machine (`nvidia-smi -L` lists none)")
    assert ctxengine.cuda_available(), (
        f"nvidia-smi lists {nvidia_gpus()} but ctxengine.cuda_available() is False: this build "
        "has no ctxengine._cuda (build with CTXENGINE_CUDA=ON and nvcc on PATH) or the driver "
        "refused it"
    )
    try:
        import cupy
    except ImportError as exc:
        raise AssertionError(
            "nvidia-smi lists a GPU but CuPy is not installed, so the GPU tests cannot run: "
            "pip install cupy-cuda13x (or the cupy wheel of this driver's CUDA version)"
        ) from exc
    assert int(cupy.arange(4).sum()) == 6


@pytest.mark.skipif(
    bool(nvidia_gpus()), reason="a real GPU is present: the GPU tests themselves run"
)
def test_gpu_tests_fail_not_skip_when_cuda_is_missing(tmp_path: Path) -> None:
    """With a driver that lists a GPU (a stand-in nvidia-smi) and no usable CUDA build, the GPU
    tests fail: they must never turn into skips on a GPU machine."""
    fake = tmp_path / "nvidia-smi"
    fake.write_text("#!/bin/sh\necho 'GPU 0: NVIDIA Stand-in (UUID: GPU-0)'\n")
    fake.chmod(0o755)
    env = {**os.environ, "PATH": f"{tmp_path}{os.pathsep}{os.environ['PATH']}"}
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "-rs",
            str(ROOT / "tests" / "test_cuda.py"),
            "-k",
            "not fail_not_skip",
        ],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=600,
    )
    summary = out.stdout.strip().splitlines()[-1]
    assert out.returncode == 1, out.stdout[-3000:]
    assert "skipped" not in summary and "failed" in summary, summary


@pytest.mark.gpu
def test_cuda_names_a_device() -> None:
    assert ctxengine.cuda_available()
    from ctxengine.cuda import cuda_device_name

    assert cuda_device_name(0)


@pytest.mark.parametrize(
    ("nq", "n", "dim", "k"),
    [(1, 10, 3, 10), (7, 5000, 64, 17), (300, 70_000, 128, 100), (2, 3000, 384, 2048)],
)
@pytest.mark.gpu
def test_gpu_topk_matches_cpu(nq: int, n: int, dim: int, k: int) -> None:
    import cupy

    rng = np.random.default_rng(nq * n)
    q = rng.standard_normal((nq, dim)).astype(np.float32)
    x = rng.standard_normal((n, dim)).astype(np.float32)
    cpu_scores, cpu_ids = ctxengine.inner_product_topk(q, x, k)
    gpu_scores, gpu_ids = ctxengine.inner_product_topk(cupy.asarray(q), cupy.asarray(x), k)
    gpu_scores, gpu_ids = cupy.asnumpy(gpu_scores), cupy.asnumpy(gpu_ids)
    np.testing.assert_allclose(gpu_scores, cpu_scores, rtol=1e-4, atol=1e-4)
    # Not equality: the GPU sums each dot product in another order, so scores differ in the last
    # bits (rtol 1e-4 covers float32 sums of 384 terms) and two candidates whose scores are
    # within that rounding may swap places. Ids must agree everywhere else.
    differ = gpu_ids != cpu_ids
    assert np.all(np.abs(gpu_scores[differ] - cpu_scores[differ]) < 1e-3)


@pytest.mark.gpu
def test_gpu_ties_go_to_the_lower_id() -> None:
    import cupy

    x = np.ones((5000, 8), dtype=np.float32)
    q = np.ones((3, 8), dtype=np.float32)
    scores, ids = ctxengine.inner_product_topk(cupy.asarray(q), cupy.asarray(x), 40)
    assert cupy.asnumpy(ids).tolist() == [list(range(40))] * 3
    assert np.all(cupy.asnumpy(scores) == 8.0)


@pytest.mark.gpu
def test_gpu_nan_ranks_last() -> None:
    import cupy

    x = np.array([[np.nan, 0], [1, 0], [0.5, 0]], dtype=np.float32)
    _, ids = ctxengine.inner_product_topk(
        cupy.asarray(np.array([1.0, 0.0], np.float32)), cupy.asarray(x), 3
    )
    assert cupy.asnumpy(ids).tolist() == [1, 2, 0]
