"""Runs a Python fuzz harness's ``check`` under atheris (scripts/fuzz.sh starts it so: with
libFuzzer and AddressSanitizer preloaded and an instrumented ctxengine._core)."""

from __future__ import annotations

import sys
from collections.abc import Callable


def run(check: Callable[[bytes], None]) -> None:
    import atheris

    # Coverage of the Python code loaded so far (ctxengine, the oracles); the C++ core reports
    # its own through the sanitizer-coverage instrumentation of the fuzz build.
    atheris.instrument_all()
    atheris.Setup(sys.argv, check)
    atheris.Fuzz()
