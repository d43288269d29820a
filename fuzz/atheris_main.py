"""Runs a Python fuzz harness's ``check`` under atheris (scripts/fuzz.sh starts it so: with
libFuzzer and AddressSanitizer preloaded and an instrumented ctxengine._core)."""

from __future__ import annotations

import contextlib
import gc
import sys
import types
from collections.abc import Callable


def run(check: Callable[[bytes], None]) -> None:
    import atheris

    # Coverage of ctxengine's Python code and the harness; the C++ core reports its own through
    # the sanitizer-coverage instrumentation of the fuzz build. The oracles (tiktoken, HF,
    # NumPy) stay uninstrumented: their branches are not what is being explored, and
    # instrumenting everything loaded makes each input several times slower.
    for obj in gc.get_objects():
        if isinstance(obj, types.FunctionType) and str(obj.__module__).startswith(
            ("ctxengine", "fuzz_")
        ):
            # A function atheris cannot rewrite stays as it is.
            with contextlib.suppress(Exception):
                atheris.instrument_func(obj)
    atheris.Setup(sys.argv, check)
    atheris.Fuzz()
