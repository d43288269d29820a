"""The chunk, one concept for every area: a span of a source text with its exact token count.

:class:`Chunk` is what chunking yields and what an index stores and returns (a search hit,
:class:`~ctxengine.Hit`, is a chunk with a score). :class:`Chunks` is the array form of one
text's chunks that :func:`~ctxengine.chunk` returns.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, overload

import numpy as np

__all__ = ["Chunk", "Chunks", "Headings"]


# Slotted, not frozen: a search builds one per hit, and a frozen dataclass's __init__ costs five
# times as much (each field set through object.__setattr__).
@dataclass(slots=True)
class Chunk:
    """A chunk: ``text`` is ``source[start:end]`` (str offsets) and ``tokens`` its exact count.

    From an index (:meth:`~ctxengine.Index.chunk`, search hits) a chunk also carries its
    document's ``doc_id``, its ``chunk_id`` in the index and the document's ``metadata``; from
    ``by="markdown"`` chunking, ``metadata["headings"]`` is the path of headings it sits under.

    >>> Chunk("world", 6, 11, 1).to_dict()
    {'text': 'world', 'start': 6, 'end': 11, 'tokens': 1, 'metadata': {}}
    """

    text: str
    start: int
    end: int
    tokens: int
    doc_id: str | None = None
    chunk_id: int | None = None
    metadata: Mapping[str, Any] = field(default_factory=dict)

    @property
    def headings(self) -> tuple[str, ...]:
        """The heading path of a markdown chunk (empty otherwise)."""
        return tuple(self.metadata.get("headings", ()))

    def to_dict(self) -> dict[str, Any]:
        """The chunk as JSON-ready data: text, start, end, tokens, metadata (and doc_id,
        chunk_id when it comes from an index)."""
        out: dict[str, Any] = {"text": self.text, "start": self.start, "end": self.end}
        out["tokens"] = self.tokens
        if self.doc_id is not None:
            out["doc_id"] = self.doc_id
        if self.chunk_id is not None:
            out["chunk_id"] = self.chunk_id
        out["metadata"] = dict(self.metadata)
        return out


class Headings:
    """The heading table of a markdown text: each heading's path (its ancestors' titles and
    its own), built as headings arrive, since a heading's parent always comes before it."""

    def __init__(self, table: Iterable[tuple[str, int, int]]) -> None:
        self._parent: dict[int, int] = {}
        self._paths: dict[int, tuple[str, ...]] = {}
        self._next = 0
        self.extend(table)

    def extend(self, table: Iterable[tuple[str, int, int]]) -> None:
        for title, _level, parent in table:
            self._parent[self._next] = parent
            self._paths[self._next] = (*self._paths[parent], title) if parent >= 0 else (title,)
            self._next += 1

    def path(self, index: int) -> tuple[str, ...]:
        return self._paths[index] if index >= 0 else ()

    def prune(self, first_needed: int) -> None:
        """Forget the headings that nothing later can refer to: later chunks sit under heading
        `first_needed` or after it, and later headings' parents are the last heading's
        ancestors or later headings (a stream's memory stays bounded)."""
        keep: set[int] = set()
        for i in (first_needed, self._next - 1):
            while i >= 0 and i not in keep:
                keep.add(i)
                i = self._parent[i]
        for i in [k for k in self._paths if k < first_needed and k not in keep]:
            del self._paths[i], self._parent[i]

    def __len__(self) -> int:
        return len(self._paths)


class Chunks(Sequence[str]):
    """The chunks of one text: a sequence of strings with their offsets and token counts.

    ``starts`` and ``ends`` are NumPy arrays of str offsets (``text[starts[i]:ends[i]]`` is
    chunk ``i``), ``tokens`` the exact token count of each chunk. Indexing and iteration give
    the chunk strings; :meth:`chunk` gives a :class:`Chunk` with everything.

    >>> from ctxengine import chunk
    >>> chunks = chunk("One two three. Four five six.", 4, tokenizer=lambda s: len(s.split()))
    >>> list(chunks)
    ['One two three.', 'Four five six.']
    >>> chunks.starts.tolist(), chunks.tokens.tolist()
    ([0, 15], [3, 3])
    """

    __slots__ = ("_heading", "_headings", "ends", "starts", "text", "tokens")

    def __init__(
        self,
        text: str,
        starts: np.ndarray,
        ends: np.ndarray,
        tokens: np.ndarray,
        heading: np.ndarray | None = None,
        headings: Headings | None = None,
    ) -> None:
        self.text = text
        self.starts = starts
        self.ends = ends
        self.tokens = tokens
        self._heading = heading if heading is not None and len(heading) else None
        self._headings = headings

    def __len__(self) -> int:
        return len(self.starts)

    @overload
    def __getitem__(self, index: int) -> str: ...
    @overload
    def __getitem__(self, index: slice) -> list[str]: ...
    def __getitem__(self, index: int | slice) -> str | list[str]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        i = range(len(self))[index]  # IndexError and negative indices as for lists
        return self.text[int(self.starts[i]) : int(self.ends[i])]

    def __iter__(self) -> Iterator[str]:
        text = self.text
        for s, e in zip(self.starts.tolist(), self.ends.tolist(), strict=True):
            yield text[s:e]

    def headings(self, index: int) -> tuple[str, ...]:
        """The heading path of chunk `index` (by="markdown"; empty otherwise)."""
        if self._heading is None or self._headings is None:
            return ()
        return self._headings.path(int(self._heading[range(len(self))[index]]))

    def chunk(self, index: int) -> Chunk:
        """Chunk `index` with its offsets, token count and heading path."""
        i = range(len(self))[index]
        path = self.headings(i)
        return Chunk(
            self[i],
            int(self.starts[i]),
            int(self.ends[i]),
            int(self.tokens[i]),
            metadata={"headings": list(path)} if path else {},
        )

    def records(self) -> list[dict[str, Any]]:
        """Every chunk as JSON-ready data (text, start, end, tokens, metadata)."""
        return [self.chunk(i).to_dict() for i in range(len(self))]

    def __repr__(self) -> str:
        total = int(self.tokens.sum()) if len(self) else 0
        return f"<Chunks: {len(self)} chunks, {total} tokens, {len(self.text)} characters>"
