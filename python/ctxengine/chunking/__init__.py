"""Chunking exact to the token: split text into pieces of at most ``max_tokens`` tokens.

:func:`chunk` (one text), :func:`chunk_many` (many texts, all cores) and :func:`chunk_stream`
(a file read block by block) share one C++ chunker (``csrc/chunking``); :class:`Chunk` is the
chunk every area passes around. See docs/chunking.md.
"""

from __future__ import annotations

from .chunks import Chunk, Chunks
from .split import MODES, chunk, chunk_many, chunk_stream

__all__ = ["MODES", "Chunk", "Chunks", "chunk", "chunk_many", "chunk_stream"]
