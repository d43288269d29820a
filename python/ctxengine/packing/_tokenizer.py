"""The tokenizer as packing sees it, and exact prefix/suffix fitting on top of it.

Packing needs only a few things from a tokenizer (``ctxengine.get_tokenizer`` gives them all):
``name``, ``count(text)`` (special-token text counted as plain text), ``count_many(texts)``,
``encode(text, allowed_special=..., disallowed_special=...)`` and ``decode(ids)``. Anything with
that shape works, so a caller can bring their own.
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

from ..errors import InvalidInputError, UnsupportedError
from ..tokenizers import tokenizer_name

__all__ = [
    "DEFAULT_TOKENIZER",
    "TokenizerLike",
    "count_with_specials",
    "fit_prefix",
    "fit_suffix",
]

# The tokenizer used when neither a model, a tokenizer nor an index names one.
DEFAULT_TOKENIZER = "cl100k_base"


@runtime_checkable
class TokenizerLike(Protocol):
    """The part of :class:`ctxengine.Tokenizer` that packing uses."""

    def count(self, text: str) -> int: ...

    def encode(
        self, text: str, *, allowed_special: Any = ..., disallowed_special: Any = ...
    ) -> Any: ...

    def decode(self, ids: Any) -> str: ...


def count_with_specials(tok: Any, text: str) -> int:
    """Tokens of `text` with the tokenizer's special tokens recognised, as a chat server does
    after rendering a template (``<|im_start|>`` is one token, not seven)."""
    try:
        if hasattr(tok, "count_until"):  # a ctxengine Tokenizer counts without building ids
            return int(tok.count(text, allowed_special="all"))
        return len(tok.encode(text, allowed_special="all"))
    except TypeError as exc:  # a tokenizer without tiktoken's special-token options
        raise UnsupportedError(
            f"tokenizer {tokenizer_name(tok)} cannot recognise special tokens "
            "(encode(text, allowed_special='all')), which chat formats need; use format='text' "
            "or 'openai', or a ctxengine tokenizer"
        ) from exc


def _guess_prefix(tok: Any, text: str, limit: int, total: int) -> int:
    """Where the first `limit` tokens end, roughly: from the ids when the tokenizer can decode,
    else in proportion."""
    if limit <= 0:
        return 0
    if hasattr(tok, "decode"):
        try:
            ids = tok.encode(text, allowed_special=set(), disallowed_special=())
            return len(tok.decode(ids[:limit]))
        except TypeError:
            pass
    return len(text) * limit // max(1, total)


def fit_prefix(tok: Any, text: str, limit: int) -> int:
    """Count-until-limit from the start: an end ``e`` with ``count(text[:e]) <= limit`` such that
    ``e == len(text)`` or ``count(text[:e + 1]) > limit``.

    BPE counts of growing prefixes are almost but not always monotone, so this promises exactly
    what bisection can (as ``SpanCounter::fit`` in the core): the next character no longer fits.
    A guess from the token ids keeps the number of counts small.
    """
    if limit < 0:
        raise InvalidInputError(f"a token limit must be >= 0, got {limit}")
    n = len(text)
    if hasattr(tok, "count_until"):  # ctxengine's own count-until-limit
        return int(tok.count_until(text, limit).end)
    total = int(tok.count(text)) if n else 0
    if total <= limit:
        return n
    guess = min(n, _guess_prefix(tok, text, limit, total))
    return _bisect(lambda e: tok.count(text[:e]) <= limit, guess, n)


def fit_suffix(tok: Any, text: str, limit: int) -> int:
    """Count-until-limit from the end: a start ``s`` with ``count(text[s:]) <= limit`` such that
    ``s == 0`` or ``count(text[s - 1:]) > limit``."""
    if limit < 0:
        raise InvalidInputError(f"a token limit must be >= 0, got {limit}")
    n = len(text)
    if hasattr(tok, "spans"):  # ctxengine's span counter answers it directly
        return int(tok.spans(text).fit_start(0, n, limit))
    total = int(tok.count(text)) if n else 0
    if total <= limit:
        return 0
    guess = n - min(n, _guess_prefix(tok, text, total - limit, total))
    # Work on the suffix length m = n - s, which is the same search as fit_prefix's.
    m = _bisect(lambda m: tok.count(text[n - m :]) <= limit, guess, n)
    return n - m


def _bisect(ok: Any, guess: int, n: int) -> int:
    """The x in [0, n] with ok(x) and (x == n or not ok(x + 1)), found near `guess`, given
    ok(0) and not ok(n). Gallops out from the guess, then bisects."""
    guess = max(0, min(guess, n))
    if ok(guess):
        lo, step = guess, 1
        hi = n
        while lo + step < n:
            if not ok(lo + step):
                hi = lo + step
                break
            lo, step = lo + step, step * 2
    else:
        hi, step = guess, 1
        lo = 0
        while hi - step > 0:
            if ok(hi - step):
                lo = hi - step
                break
            hi, step = hi - step, step * 2
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if ok(mid):
            lo = mid
        else:
            hi = mid
    return lo
