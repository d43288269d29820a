"""A chonkie chunker on ctxengine (``pip install "ctxengine[chonkie]"``), registered as
``"ctxengine"`` in chonkie's component registry.

>>> from ctxengine.integrations.chonkie import CtxChunker
>>> chunks = CtxChunker(chunk_size=8).chunk("One two. " * 9)
>>> [(c.start_index, c.end_index, c.token_count) for c in chunks][:2]
[(0, 17, 6), (18, 35, 6)]

``CtxChunker(tokenizer=, chunk_size=, chunk_overlap=, by=)`` is a ``chonkie.BaseChunker``:
``chunk(text)`` returns chonkie ``Chunk``s whose ``token_count`` is exact (never above
`chunk_size`), whose ``text`` is ``text[start_index:end_index]``, and, for ``by="markdown"``,
whose ``metadata["headings"]`` is the heading path. Batches, ``chunk_document`` and chonkie's
pipelines work as for chonkie's own chunkers: after ``import ctxengine.integrations.chonkie``,
``Pipeline().chunk_with("ctxengine", chunk_size=512)``. Its ``tokenizer`` attribute is a chonkie
tokenizer over ctxengine's (``count_tokens`` without building ids), so chonkie's refineries
can count with it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ._common import check_split_options, require, split

require("chonkie", "chonkie")

from chonkie import BaseChunker  # noqa: E402
from chonkie import Chunk as ChonkieChunk  # noqa: E402
from chonkie.pipeline import chunker  # noqa: E402
from chonkie.tokenizer import AutoTokenizer  # noqa: E402

__all__ = ["CtxChunker"]


class _Tokens(AutoTokenizer):
    """A ctxengine tokenizer in chonkie's tokenizer interface."""

    _backend = "ctxengine"

    def encode(self, text: str) -> Sequence[int]:
        return [int(i) for i in self.tokenizer.encode(text)]

    def decode(self, tokens: Sequence[int]) -> str:
        return str(self.tokenizer.decode(list(tokens)))

    def tokenize(self, text: str) -> Sequence[str | int]:
        return list(self.encode(text))

    def count_tokens(self, text: str) -> int:
        return int(self.tokenizer.count(text))

    def encode_batch(self, texts: Sequence[str]) -> Sequence[Sequence[int]]:
        return [self.encode(t) for t in texts]

    def decode_batch(self, token_sequences: Sequence[Sequence[int]]) -> Sequence[str]:
        return [self.decode(t) for t in token_sequences]

    def count_tokens_batch(self, texts: Sequence[str]) -> Sequence[int]:
        from ..tokenizers import count_many

        return count_many(self.tokenizer, list(texts))


@chunker("ctxengine")
class CtxChunker(BaseChunker):
    """Chunks of at most `chunk_size` exact tokens of `tokenizer` (a name such as
    ``"cl100k_base"``, a ``*.tiktoken`` or ``tokenizer.json`` path), `chunk_overlap` tokens
    shared, cut where ctxengine's `by` allows (``"recursive"``, ``"sentences"``,
    ``"markdown"``, ``"code"``, ``"tokens"``)."""

    def __init__(
        self,
        tokenizer: str = "cl100k_base",
        chunk_size: int = 512,
        chunk_overlap: int = 0,
        by: str = "recursive",
    ) -> None:
        check_split_options(chunk_size, chunk_overlap, tokenizer, by)
        from ..tokenizers import resolve_tokenizer

        super().__init__(_Tokens(resolve_tokenizer(tokenizer)))
        self.chunk_size = chunk_size
        self.chunk_overlap = chunk_overlap
        self.by = by
        self._spec = tokenizer

    def __repr__(self) -> str:
        return (
            f"CtxChunker(tokenizer={self._spec!r}, chunk_size={self.chunk_size}, "
            f"chunk_overlap={self.chunk_overlap}, by={self.by!r})"
        )

    def chunk(self, text: str) -> list[ChonkieChunk]:
        """The chunks of `text`."""
        chunks = split(text, self.chunk_size, self.chunk_overlap, self._spec, self.by)
        out = []
        for i in range(len(chunks)):
            c = chunks.chunk(i)
            meta: dict[str, Any] = dict(c.metadata)
            out.append(
                ChonkieChunk(
                    text=c.text,
                    start_index=c.start,
                    end_index=c.end,
                    token_count=c.tokens,
                    metadata=meta,
                )
            )
        return out
