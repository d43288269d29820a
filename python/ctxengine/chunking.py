"""Chunking exact to the token: split text into pieces of at most ``max_tokens`` tokens.

Three forms share one C++ chunker (``csrc/chunking``): :func:`chunk` for one text in memory,
:func:`chunk_many` for many texts on all cores, and :func:`chunk_stream` for a file or stdin
read block by block in bounded memory. Every chunk's ``tokens`` is the tokenizer's own count of
the chunk's text, and never more than ``max_tokens``. See docs/chunking.md.
"""

from __future__ import annotations

import codecs
import os
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, BinaryIO, TextIO, overload

import numpy as np

from ._native import core
from .errors import InvalidInputError, UnsupportedError

__all__ = ["MODES", "Chunk", "Chunks", "chunk", "chunk_many", "chunk_stream"]

MODES = ("recursive", "tokens", "sentences", "markdown", "code")

CountFn = Callable[[str], int]
TokenizerLike = str | CountFn | Any  # a tokenizer name, a count callable, or a Tokenizer

_native = core.chunking


@dataclass(frozen=True, slots=True)
class Chunk:
    """One chunk: its text, its ``[start, end)`` str offsets in the source, its exact token
    count, and (by="markdown") the path of headings it sits under."""

    text: str
    start: int
    end: int
    tokens: int
    headings: tuple[str, ...] = field(default=())

    @property
    def metadata(self) -> dict[str, Any]:
        """Extra facts about the chunk: ``{"headings": [...]}`` for markdown chunks."""
        return {"headings": list(self.headings)} if self.headings else {}

    def to_dict(self) -> dict[str, Any]:
        """The chunk as JSON-ready data: text, start, end, tokens, metadata."""
        return {
            "text": self.text,
            "start": self.start,
            "end": self.end,
            "tokens": self.tokens,
            "metadata": self.metadata,
        }


class _Headings:
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
        headings: _Headings | None = None,
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
        return Chunk(
            self[i], int(self.starts[i]), int(self.ends[i]), int(self.tokens[i]), self.headings(i)
        )

    def records(self) -> list[dict[str, Any]]:
        """Every chunk as JSON-ready data (text, start, end, tokens, metadata)."""
        return [self.chunk(i).to_dict() for i in range(len(self))]

    def __repr__(self) -> str:
        total = int(self.tokens.sum()) if len(self) else 0
        return f"<Chunks: {len(self)} chunks, {total} tokens, {len(self.text)} characters>"


def chunk(
    text: str,
    max_tokens: int,
    *,
    tokenizer: TokenizerLike = "cl100k_base",
    overlap: int = 0,
    by: str = "recursive",
    language: str | None = None,
    trim: bool | None = None,
    threads: int | None = None,
) -> Chunks:
    """Split `text` into chunks of at most `max_tokens` tokens.

    `by` picks where chunks may end:

    - ``"recursive"`` (default): the largest unit that fits, merged greedily up to the budget:
      sections (headings, runs of blank lines), paragraphs, lines, sentences, words, then
      characters (never inside one);
    - ``"sentences"``: whole sentences packed to the budget (abbreviations, decimals, CJK and
      fullwidth punctuation, quotes and ellipses handled);
    - ``"markdown"``: headings, lists, tables, fenced code and paragraphs as levels; a fenced
      code block or table that fits is never split, and each chunk knows its heading path;
    - ``"code"``: blocks by nesting depth (indentation, braces) and blank lines, keeping
      functions whole where they fit; `language` (``"python"``, ``"c++"``, ``"rust"``, ...)
      says how the source nests;
    - ``"tokens"``: windows of exactly `max_tokens` tokens of the text's encoding (the last may
      be shorter; a window's own count can differ by a token from its slice of the whole and
      is reported exactly), cut on token boundaries that are character boundaries.

    `overlap` tokens (at most; counted exactly) of each chunk's end are repeated at the start
    of the next one, from a word boundary (a token boundary for ``"tokens"``). `trim` (default:
    on, off for ``"tokens"``) drops whitespace at chunk edges; without it chunks tile the text.

    `tokenizer` is a tokenizer name (``"cl100k_base"``, ``"o200k_base"``), a
    :class:`ctxengine.Tokenizer`, or any callable ``count(str) -> int`` (such as
    ``lambda s: len(hf_tokenizer.encode(s).ids)``), which must be deterministic. The
    tokenizer's pass over the text and the boundary scan run side by side on up to two of
    `threads` (None = all cores); the result does not depend on it.

    >>> words = lambda s: len(s.split())
    >>> list(chunk("Alpha beta.\\n\\nGamma delta epsilon.", 3, tokenizer=words))
    ['Alpha beta.', 'Gamma delta epsilon.']
    >>> list(chunk("a b c d e f", 4, tokenizer=words, overlap=2))
    ['a b c d', 'c d e f']
    """
    text = _check_text(text)
    native, offsets = _resolve_tokenizer(tokenizer)
    mode, language, trim = _check_options(max_tokens, overlap, by, language, trim)
    nthreads = _check_threads(threads)
    fixed = _Repaired(text)
    starts = None
    if mode == "tokens" and offsets is not None:
        starts = np.ascontiguousarray(offsets(fixed.text), dtype=np.int64)
    result = _native.chunk_text(
        fixed.text, native, max_tokens, overlap, mode, language, "", trim, nthreads, starts
    )
    return _wrap(text, result, fixed)


def chunk_many(
    texts: Iterable[str],
    max_tokens: int,
    *,
    tokenizer: TokenizerLike = "cl100k_base",
    overlap: int = 0,
    by: str = "recursive",
    language: str | None = None,
    trim: bool | None = None,
    threads: int | None = None,
) -> list[Chunks]:
    """:func:`chunk` over many texts, on all cores (`threads`; None = all). The result does not
    depend on the number of threads. With a Python callable as `tokenizer`, counting holds the
    GIL, so the texts are effectively chunked one at a time.

    >>> words = lambda s: len(s.split())
    >>> [list(c) for c in chunk_many(["a b c", "d e"], 2, tokenizer=words)]
    [['a b', 'c'], ['d e']]
    """
    docs = [_check_text(t) for t in texts]
    native, offsets = _resolve_tokenizer(tokenizer)
    mode, language, trim = _check_options(max_tokens, overlap, by, language, trim)
    nthreads = _check_threads(threads)
    if mode == "tokens" and offsets is not None:  # offsets come from Python, text by text
        return [
            chunk(t, max_tokens, tokenizer=tokenizer, overlap=overlap, by=by, threads=threads)
            for t in docs
        ]
    fixed = [_Repaired(t) for t in docs]
    result, offsets = _native.chunk_many(
        [f.text for f in fixed],
        native,
        max_tokens,
        overlap,
        mode,
        language,
        "",
        trim,
        nthreads,
    )
    starts, ends, tokens, heading, table = result
    headings = _Headings(table) if table else None
    out = []
    for d, text in enumerate(docs):
        a, b = int(offsets[d]), int(offsets[d + 1])
        part: tuple[Any, ...] = (starts[a:b], ends[a:b], tokens[a:b], heading[a:b], [])
        out.append(_wrap(text, part, fixed[d], headings))
    return out


def chunk_stream(
    source: str | os.PathLike[str] | BinaryIO | TextIO,
    max_tokens: int,
    *,
    tokenizer: TokenizerLike = "cl100k_base",
    overlap: int = 0,
    by: str = "recursive",
    language: str | None = None,
    trim: bool | None = None,
    errors: str = "strict",
    block_size: int = 1 << 20,
) -> Iterator[Chunk]:
    """Chunk a file (a path, or an open file such as ``sys.stdin.buffer``) as it is read, in
    bounded memory, yielding each :class:`Chunk` as soon as it is final. The chunks are exactly
    those :func:`chunk` gives for the whole text; offsets are str offsets into the decoded text.

    Bytes that are not UTF-8 raise :class:`InvalidInputError` naming the byte offset, unless
    ``errors="replace"`` (each bad sequence becomes U+FFFD, as ``bytes.decode`` does). For
    ``by="code"`` without `language`, the language is guessed from the file name. Memory holds
    one block, the chunk being built, and the look-ahead (4 KiB); ``by="tokens"`` needs the whole
    text's encoding and is not available here.

    >>> import io
    >>> words = lambda s: len(s.split())
    >>> [c.text for c in chunk_stream(io.BytesIO(b"a b c d"), 2, tokenizer=words)]
    ['a b', 'c d']
    """
    if errors not in ("strict", "replace"):
        raise InvalidInputError(f"errors must be 'strict' or 'replace', got {errors!r}")
    if isinstance(block_size, bool) or not isinstance(block_size, int) or block_size < 1:
        raise InvalidInputError(f"block_size must be a positive integer, got {block_size!r}")
    native, _ = _resolve_tokenizer(tokenizer)
    mode, language, trim = _check_options(max_tokens, overlap, by, language, trim)
    if mode == "tokens":
        raise UnsupportedError(
            "by='tokens' needs the whole text's encoding and cannot stream; read the text and "
            "use ctxengine.chunk(text, ..., by='tokens')"
        )
    if isinstance(source, (str, os.PathLike)):
        path = os.fspath(source)
        with open(path, "rb") as f:
            yield from _stream(
                f, path, native, max_tokens, overlap, mode, language, trim, errors, block_size
            )
    else:
        name = str(getattr(source, "name", "<stream>"))
        yield from _stream(
            source, name, native, max_tokens, overlap, mode, language, trim, errors, block_size
        )


def _stream(
    f: BinaryIO | TextIO,
    name: str,
    native: Any,
    max_tokens: int,
    overlap: int,
    mode: str,
    language: str,
    trim: bool,
    errors: str,
    block_size: int,
) -> Iterator[Chunk]:
    stream = _native.ChunkStream(native, max_tokens, overlap, mode, language, name, trim)
    headings = _Headings([])
    decoder = codecs.getincrementaldecoder("utf-8")(errors=errors)
    consumed = 0  # bytes read so far
    while True:
        data = f.read(block_size)
        eof = not data
        if isinstance(data, str):  # a text-mode source decodes for itself
            text = data
        else:
            pending = len(decoder.getstate()[0])
            try:
                text = decoder.decode(data, final=eof)
            except UnicodeDecodeError as exc:
                offset = consumed - pending + exc.start
                raise InvalidInputError(
                    f"{name}: invalid UTF-8 at byte offset {offset} ({exc.reason}); fix the "
                    "file, or read bad bytes as U+FFFD with errors='replace' (CLI: --errors "
                    "replace)"
                ) from None
            consumed += len(data)
        # A text-mode source may hold surrogates (surrogateescape): they are repaired as
        # tiktoken repairs them, and offsets refer to the repaired text.
        result, texts = stream.feed(_Repaired(text).text, eof)
        starts, ends, tokens, heading, table = result
        headings.extend(table)
        has_headings = len(heading) > 0 and len(starts) > 0
        for i, chunk_text in enumerate(texts):
            yield Chunk(
                chunk_text,
                int(starts[i]),
                int(ends[i]),
                int(tokens[i]),
                headings.path(int(heading[i])) if has_headings else (),
            )
        if has_headings:
            headings.prune(int(heading[-1]))
        if eof:
            return


def _check_text(text: Any) -> str:
    if isinstance(text, str):
        return text
    if isinstance(text, (bytes, bytearray, memoryview)):
        raise InvalidInputError(
            "chunk() takes a str; decode the bytes first, or use chunk_stream() for files and "
            "byte streams (it names the offset of any invalid UTF-8)"
        )
    raise InvalidInputError(f"text must be a str, got {type(text).__name__}")


def _check_options(
    max_tokens: Any, overlap: Any, by: Any, language: Any, trim: Any
) -> tuple[str, str, bool]:
    if isinstance(max_tokens, bool) or not isinstance(max_tokens, (int, np.integer)):
        raise InvalidInputError(f"max_tokens must be an integer, got {max_tokens!r}")
    if max_tokens < 1:
        raise InvalidInputError(f"max_tokens must be at least 1, got {max_tokens}")
    if isinstance(overlap, bool) or not isinstance(overlap, (int, np.integer)) or overlap < 0:
        raise InvalidInputError(f"overlap must be a non-negative integer, got {overlap!r}")
    if overlap >= max_tokens:
        raise InvalidInputError(
            f"overlap must be smaller than max_tokens (got overlap={overlap}, "
            f"max_tokens={max_tokens})"
        )
    if by not in MODES:
        raise InvalidInputError(f"unknown chunking mode {by!r}; use one of: {', '.join(MODES)}")
    if language is not None:
        if by != "code":
            raise InvalidInputError(f"language= applies to by='code' only (got by={by!r})")
        if not isinstance(language, str) or not language:
            raise InvalidInputError(f"language must be a non-empty str, got {language!r}")
        _native.code_family(language, "")  # raises InvalidInputError naming the known ones
    if trim is None:
        trim = by != "tokens"
    elif by == "tokens" and trim:
        raise InvalidInputError(
            "by='tokens' keeps whitespace (its windows tile the text); leave trim unset"
        )
    return by, language or "", bool(trim)


def _check_threads(threads: Any) -> int:
    if threads is None:
        return 0
    if isinstance(threads, bool) or not isinstance(threads, (int, np.integer)) or threads < 1:
        raise InvalidInputError(f"threads must be a positive integer or None, got {threads!r}")
    return int(threads)


def _resolve_tokenizer(tokenizer: Any) -> tuple[Any, Callable[[str], np.ndarray] | None]:
    """What the native chunker takes (a native tokenizer, or a count callable), and for
    tokenizers without native offsets, how to get their tokens' str offsets (by="tokens")."""
    from ._native import core as _core
    from .tokenizer import Tokenizer, get_tokenizer

    if isinstance(tokenizer, str):
        tokenizer = get_tokenizer(tokenizer)
    if isinstance(tokenizer, Tokenizer):
        if isinstance(tokenizer._core, _core.tokenizer.BpeTokenizer):
            return tokenizer._core, None
        # A tokenizer.json: counted in C++ (prefix sums where exact), unless Python runs one of
        # its pre-tokenizer steps; then through Python.
        counting = getattr(tokenizer._core, "span_counting", None)
        if counting is not None:
            return counting, None
        return tokenizer.count, lambda text: tokenizer.encode_with_offsets(text)[1]
    if callable(tokenizer):
        return tokenizer, None
    raise InvalidInputError(
        "tokenizer must be a tokenizer name, a ctxengine Tokenizer or a callable "
        f"count(str) -> int; got {type(tokenizer).__name__}"
    )


class _Repaired:
    """A str as the tokenizers see it: tiktoken's repair of text that is not valid UTF-8
    (surrogate pairs joined into the character they encode, lone surrogates as U+FFFD), with
    the map of offsets back to the original."""

    __slots__ = ("_pairs", "text")

    def __init__(self, text: str) -> None:
        self.text = text
        self._pairs: np.ndarray | None = None
        if text.isascii():  # O(1) in CPython
            return
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            self.text = text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
            if len(self.text) != len(text):  # joined pairs: repaired offsets of each pair
                starts = [m.start() for m in _PAIR.finditer(text)]
                self._pairs = np.array(starts, dtype=np.int64) - np.arange(len(starts))

    def original(self, offsets: np.ndarray) -> np.ndarray:
        if self._pairs is None:
            return offsets
        return offsets + np.searchsorted(self._pairs, offsets, side="left")


_PAIR = re.compile("[\ud800-\udbff][\udc00-\udfff]")


def _wrap(
    text: str, result: Any, fixed: _Repaired | None = None, headings: _Headings | None = None
) -> Chunks:
    starts, ends, tokens, heading, table = result
    if fixed is not None:
        starts, ends = fixed.original(starts), fixed.original(ends)
    if headings is None and table:
        headings = _Headings(table)
    return Chunks(text, starts, ends, tokens, heading if headings else None, headings)
