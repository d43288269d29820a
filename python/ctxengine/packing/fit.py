"""Long context without retrieval: cut a text to a token budget, exact to the token.

``fit`` keeps the head, the tail, the middle, or the head and the tail of a text (LongBench
truncates over-long inputs in the middle, keeping both ends, because instructions tend to sit at
the start and questions at the end). Cuts fall on character boundaries, the kept text is
``text[start:end]`` for each kept span, and its count never exceeds the budget.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from ..errors import BudgetError, InvalidInputError
from ._resolve import choose_tokenizer, resolve_budget
from ._tokenizer import fit_prefix, fit_suffix

__all__ = ["STRATEGIES", "Fitted", "fit"]

STRATEGIES = ("head", "tail", "middle", "head_tail")


@dataclass(frozen=True)
class Fitted:
    """A text cut to a budget: the kept text, its exact count and where it came from."""

    text: str
    tokens: int
    spans: tuple[tuple[int, int], ...]  # kept [start, end) str offsets of the original, in order
    truncated: bool  # whether anything was cut

    def __str__(self) -> str:
        return self.text


def fit(
    text: str,
    budget: int | str,
    *,
    tokenizer: str | os.PathLike[str] | Any | None = None,
    model: str | None = None,
    strategy: str = "head",
    marker: str = "",
    reserve_output: int | None = None,
) -> Fitted:
    """Cut `text` to at most `budget` tokens.

    `strategy` keeps the ``"head"`` (cut the end), the ``"tail"`` (cut the start), the
    ``"middle"`` (cut both ends equally) or the ``"head_tail"`` (cut the middle, as LongBench
    does; `marker` is put where the cut was and is counted). `budget` may be a model name, in
    which case it is that model's window minus `reserve_output` (default: its output limit).
    When the text fits it comes back whole. Otherwise the result's count is at most the budget
    and one more character would not fit (for ``head_tail``, on each side once).

    >>> import ctxengine
    >>> fitted = ctxengine.fit("one two three four five six", 3, strategy="head")  # doctest: +SKIP
    >>> fitted.text, fitted.tokens  # doctest: +SKIP
    ('one two three', 3)
    """
    if not isinstance(text, str):
        raise InvalidInputError(f"fit needs a str, got {type(text).__name__}")
    if strategy not in STRATEGIES:
        raise InvalidInputError(
            f"unknown strategy {strategy!r}: use one of {', '.join(STRATEGIES)}"
        )
    plan = resolve_budget(budget, model=model, reserve_output=reserve_output)
    limit = plan.available
    tok = choose_tokenizer(tokenizer, profile=plan.profile)
    n = len(text)
    total = int(tok.count(text))
    if total <= limit:
        return Fitted(text, total, ((0, n),) if n else (), False)
    if strategy == "head":
        e = fit_prefix(tok, text, limit)
        return Fitted(text[:e], int(tok.count(text[:e])), ((0, e),), True)
    if strategy == "tail":
        s = fit_suffix(tok, text, limit)
        return Fitted(text[s:], int(tok.count(text[s:])), ((s, n),), True)
    if strategy == "middle":
        # Drop about the same number of tokens from each end, then keep what fits after that.
        s = fit_prefix(tok, text, (total - limit) // 2)
        e = s + fit_prefix(tok, text[s:], limit)
        return Fitted(text[s:e], int(tok.count(text[s:e])), ((s, e),), True)
    return _head_tail(tok, text, limit, marker)


def _head_tail(tok: Any, text: str, limit: int, marker: str) -> Fitted:
    n = len(text)
    marker_tokens = int(tok.count(marker)) if marker else 0
    if marker_tokens > limit:
        raise BudgetError(
            f"the head_tail marker alone needs {marker_tokens} tokens, more than the budget of "
            f"{limit}; pass a shorter marker"
        )
    room = limit - marker_tokens
    # Half the room for the head, the rest (and whatever the head did not use) for the tail.
    e = fit_prefix(tok, text, room // 2)
    tail_room = room - int(tok.count(text[:e]))
    while True:
        s = e + fit_suffix(tok, text[e:], tail_room)
        kept = text[:e] + marker + text[s:]
        tokens = int(tok.count(kept))
        if tokens <= limit:
            return Fitted(kept, tokens, ((0, e), (s, n)), True)
        # Tokens merged across a seam differently; give the tail back the difference.
        tail_room -= tokens - limit
        if tail_room < 0:
            e = fit_prefix(tok, text, max(0, int(tok.count(text[:e])) + tail_room))
            tail_room = 0
