"""Chunking exact to the token: split text into pieces of at most ``max_tokens`` tokens.

Three forms share one C++ chunker (``csrc/chunking``): :func:`chunk` for one text in memory,
:func:`chunk_many` for many texts on all cores, and :func:`chunk_stream` for a file or stdin
read block by block in bounded memory. Every chunk's ``tokens`` is the tokenizer's own count of
the chunk's text, and never more than ``max_tokens``. See docs/chunking.md.
"""

from __future__ import annotations

import codecs
import os
from collections.abc import Callable, Iterable, Iterator
from typing import Any, BinaryIO, TextIO

import numpy as np

from .._native import core
from ..errors import InvalidInputError, UnsupportedError
from ..tokenizers import Tokenizer, resolve_tokenizer
from ..tokenizers.surrogates import Repaired
from .chunks import Chunk, Chunks, Headings

__all__ = ["MODES", "chunk", "chunk_many", "chunk_stream"]

MODES = ("recursive", "tokens", "sentences", "markdown", "code")

CountFn = Callable[[str], int]
TokenizerLike = str | CountFn | Any  # a tokenizer name, a count callable, or a Tokenizer

_native = core.chunking


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
    fixed = Repaired(text)
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
    fixed = [Repaired(t) for t in docs]
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
    headings = Headings(table) if table else None
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
    headings = Headings([])
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
        result, texts = stream.feed(Repaired(text).text, eof)
        starts, ends, tokens, heading, table = result
        headings.extend(table)
        has_headings = len(heading) > 0 and len(starts) > 0
        for i, chunk_text in enumerate(texts):
            path = headings.path(int(heading[i])) if has_headings else ()
            yield Chunk(
                chunk_text,
                int(starts[i]),
                int(ends[i]),
                int(tokens[i]),
                metadata={"headings": list(path)} if path else {},
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
    tok = resolve_tokenizer(tokenizer)
    if isinstance(tok, Tokenizer):
        if isinstance(tok._core, core.tokenizer.BpeTokenizer):
            return tok._core, None
        # A tokenizer.json: counted in C++ (prefix sums where exact), unless Python runs one of
        # its pre-tokenizer steps; then through Python.
        counting = getattr(tok._core, "span_counting", None)
        if counting is not None:
            return counting, None
        return tok.count, lambda text: tok.encode_with_offsets(text)[1]
    return tok.count, None  # the chunker checks that each count is a non-negative int


def _wrap(
    text: str, result: Any, fixed: Repaired | None = None, headings: Headings | None = None
) -> Chunks:
    starts, ends, tokens, heading, table = result
    if fixed is not None:
        starts, ends = fixed.to_original(starts), fixed.to_original(ends)
    if headings is None and table:
        headings = Headings(table)
    return Chunks(text, starts, ends, tokens, heading if headings else None, headings)
