"""GPU support: detection and the device side of the kernels.

The CPU package never needs the CUDA runtime: ``ctxengine._cuda`` is built only where a CUDA
toolkit was found, links the runtime statically, and touches the driver only when called.
"""

from __future__ import annotations

import functools
from typing import Any

from ._native import cuda_module

__all__ = ["cuda_available", "cuda_device_name", "is_device_array"]


@functools.lru_cache(maxsize=1)
def cuda_available() -> bool:
    """True when this build has the CUDA module and a usable GPU with a driver is present.

    >>> isinstance(cuda_available(), bool)
    True
    """
    mod = cuda_module()
    return mod is not None and mod.device_count() > 0


def cuda_device_name(device: int = 0) -> str:
    """Name of CUDA device `device` (raises UnsupportedError without a GPU)."""
    from .errors import UnsupportedError

    mod = cuda_module()
    if mod is None or not cuda_available():
        raise UnsupportedError(
            "no usable CUDA GPU: this build has no CUDA module or no GPU is present"
        )
    return str(mod.device_name(device))


def is_device_array(x: Any) -> bool:
    """True for arrays that live on a CUDA device (CuPy, PyTorch CUDA tensors, Numba, ...)."""
    return hasattr(x, "__cuda_array_interface__")
