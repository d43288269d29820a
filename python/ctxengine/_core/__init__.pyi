"""
ctxengine native core (C++17)
"""

from __future__ import annotations

import typing

from . import attn, chunking, index, pack, score, text, tokenizer, tokenizer_json

__all__: list[str] = [
    "attn",
    "chunking",
    "index",
    "pack",
    "resolve_threads",
    "score",
    "text",
    "tokenizer",
    "tokenizer_json",
]

def resolve_threads(requested: typing.SupportsInt | typing.SupportsIndex = 0) -> int:
    """
    Threads a call with `threads=requested` uses (0 = all cores or CTXENGINE_NUM_THREADS).
    """

__version__: str = "0.1.0"
