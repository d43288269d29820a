"""The ``ctxengine`` command line: click commands over the public API.

The group and the error policy live in :mod:`.app`; each command lives in its own module of
this package and registers itself on :func:`main` when imported. Nothing in the API imports
this package.
"""

from __future__ import annotations

from . import (  # noqa: F401
    attn,
    bench,
    chunk,
    count,
    eval,
    haystack,
    index,
    memory,
    pack,
    search,
    serve,
)
from .app import fail, main

__all__ = ["fail", "main"]
