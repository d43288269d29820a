"""Whether this machine has an NVIDIA GPU, asked of the driver's own tool rather than of
ctxengine: the GPU tests must run (and fail if they cannot) wherever a GPU is present, so the
question cannot be answered by the build under test (tests/conftest.py, tests/test_cuda.py)."""

from __future__ import annotations

import functools
import shutil
import subprocess


@functools.cache
def nvidia_gpus() -> tuple[str, ...]:
    """The GPUs ``nvidia-smi -L`` lists ("GPU 0: NVIDIA H200 (UUID: ...)"); empty without one."""
    exe = shutil.which("nvidia-smi")
    if exe is None:
        return ()
    try:
        out = subprocess.run([exe, "-L"], capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        return ()
    return tuple(line for line in out.stdout.splitlines() if line.startswith("GPU "))
