"""
Token-bounded chunking
"""

from __future__ import annotations

import typing

import numpy
import numpy.typing

__all__: list[str] = ["ChunkStream", "boundaries", "chunk_many", "chunk_text", "code_family"]

class ChunkStream:
    """
    Chunks text fed block by block.
    """
    def __init__(
        self,
        tokenizer: typing.Any,
        max_tokens: typing.SupportsInt | typing.SupportsIndex,
        overlap: typing.SupportsInt | typing.SupportsIndex,
        mode: str,
        language: str,
        path: str,
        trim: bool,
    ) -> None: ...
    def feed(self, data: str, eof: bool) -> tuple:
        """
        Appends text; returns the chunks now final: (arrays, new headings), texts.
        """
    @property
    def buffered_bytes(self) -> int: ...

def boundaries(
    text: str, mode: str, language: str = "", path: str = ""
) -> tuple[numpy.typing.NDArray[numpy.int64], numpy.typing.NDArray[numpy.int64]]:
    """
    The stored boundaries of a text (str offsets) and their levels, for tests.
    """

def chunk_many(
    texts: list,
    tokenizer: typing.Any,
    max_tokens: typing.SupportsInt | typing.SupportsIndex,
    overlap: typing.SupportsInt | typing.SupportsIndex,
    mode: str,
    language: str,
    path: str,
    trim: bool,
    threads: typing.SupportsInt | typing.SupportsIndex = 0,
) -> tuple[tuple, numpy.typing.NDArray[numpy.int64]]:
    """
    Chunks many texts on all cores. Returns (chunks as chunk_text, doc_offsets).
    """

def chunk_text(
    text: str,
    tokenizer: typing.Any,
    max_tokens: typing.SupportsInt | typing.SupportsIndex,
    overlap: typing.SupportsInt | typing.SupportsIndex,
    mode: str,
    language: str,
    path: str,
    trim: bool,
    threads: typing.SupportsInt | typing.SupportsIndex = 0,
    token_starts: typing.Annotated[numpy.typing.ArrayLike, numpy.int64] | None = None,
) -> tuple:
    """
    Chunks one text. Returns (starts, ends, tokens, heading, headings) in str offsets.
    token_starts (str offsets) serve by='tokens' for tokenizers without native offsets.
    """

def code_family(language: str, path: str = "") -> str:
    """
    How a language (or else a file name) nests: python, braces or indent.
    """
