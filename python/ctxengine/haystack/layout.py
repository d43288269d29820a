"""Exact-length assembly: filler units and inserted gold facts, to exactly N tokens.

The problem: BPE counts are not additive (``count(a + b)`` can differ from ``count(a) +
count(b)`` at the seam), so a haystack cannot be sized by adding up the counts of its parts.
The method here plans with estimates and then lands exactly, checking with whole counts:

1. Pull filler units in groups; count each group as one text (so most seams are counted as they
   really are) and spread a group's count over its units by length. These estimates place the
   inserts at their depths and decide how much filler to pull.
2. Place each insert (a needle, a record) at the unit boundary whose estimated token position
   is nearest to ``depth * tokens``; inserts never reorder.
3. Render and count the whole text. Too short: pull more filler and repeat.
4. Too long: cut the last filler unit. The cut is found by bisecting the cut point on a small
   window around the cut (the window's count moves with the whole text's count, because
   pre-tokenization does not look further than the neighbouring pre-tokens), then the whole text
   is counted again. If no cut lands exactly (a character that adds two tokens at once), the
   last unit is swapped for the next one from the stream and the search repeats; after four
   misses in a row the unit before it is swapped for a different one too (the text before the
   cut can make every cut jump over the target, e.g. when a cut needs a separator).

So the guarantee rests on the final whole count, never on additivity: ``count(head + context +
tail) == length`` exactly, or an error. Structured haystacks whose units cannot be cut (a JSON
object of pairs) use :func:`fit_units` instead: the largest number of whole units that fits, so
the count is at most the length and short of it by less than one unit.
"""

from __future__ import annotations

import bisect
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

from ..errors import BudgetError, InternalError
from ._tokens import TokenCounter, count_many, count_one
from .record import GoldSpan

__all__ = ["Insert", "Layout", "assemble", "fit_units"]

_GROUP = 32  # units counted together for the estimates
_WINDOW = 400  # characters of context left of the cut that the window count includes
_MAX_ATTEMPTS = 200


@dataclass(frozen=True)
class Insert:
    """A gold fact to place in the haystack at a depth (0 = start, 1 = end)."""

    text: str
    depth: float
    kind: str = "needle"
    answer: str | None = None


@dataclass
class Layout:
    """An assembled haystack: the context, where each insert landed, and the exact count."""

    context: str
    spans: list[GoldSpan]
    tokens: int  # exact count of head + context + tail
    units: int  # filler units used


class _Stream:
    """Filler units with token estimates, pulled on demand."""

    def __init__(self, units: Iterator[str], tokenizer: TokenCounter) -> None:
        self._it = units
        self._tok = tokenizer
        self._ready: deque[tuple[str, float]] = deque()
        self._per_char = 0.25  # tokens per character, refined as groups are counted
        self._calibrated = False

    def take(self, tokens: float) -> list[tuple[str, float]]:
        """Units whose estimated tokens add up to at least `tokens` (at least one unit)."""
        out: list[tuple[str, float]] = []
        need = max(tokens, 1e-9)
        while need > 0:
            if not self._ready:
                self._fill(need)
            unit = self._ready.popleft()
            out.append(unit)
            need -= unit[1]
        return out

    def next(self) -> tuple[str, float]:
        if not self._ready:
            self._fill(1)
        return self._ready.popleft()

    def next_other(self, text: str) -> tuple[str, float]:
        """The next unit whose text differs from `text` (a repeating filler cycles)."""
        unit = self.next()
        for _ in range(64):
            if unit[0] != text:
                break
            unit = self.next()
        return unit

    def _fill(self, tokens: float) -> None:
        # Pull enough units for `tokens` at the current rate (plus a little), in groups; the
        # first time, one group alone first, to learn the filler's tokens per character.
        if not self._calibrated:
            self._calibrated = True
            self._fill(0)
            if self._ready:
                tokens -= sum(est for _, est in self._ready)
                if tokens <= 0:
                    return
        groups: list[list[str]] = []
        want_chars = tokens / self._per_char * 1.05 + 1
        chars = 0.0
        while chars < want_chars or not groups:
            group: list[str] = []
            for unit in self._it:
                group.append(unit)
                chars += len(unit)
                if len(group) == _GROUP:
                    break
            if not group:
                raise InternalError("the filler stream ended; fillers must be endless")
            groups.append(group)
        texts = ["".join(g) for g in groups]
        counts = count_many(self._tok, texts)
        total_chars = sum(len(t) for t in texts)
        if total_chars:
            self._per_char = max(sum(counts) / total_chars, 1e-3)
        for group, text, n in zip(groups, texts, counts, strict=True):
            size = max(len(text), 1)
            for unit in group:
                self._ready.append((unit, n * len(unit) / size))


def assemble(
    length: int,
    tokenizer: TokenCounter,
    units: Iterator[str],
    inserts: Sequence[Insert],
    *,
    head: str = "",
    tail: str = "",
) -> Layout:
    """Filler from `units` with `inserts` at their depths, so that ``head + context + tail``
    has exactly `length` tokens.

    Raises :class:`~ctxengine.BudgetError` when the inserts (with `head` and `tail`) alone
    take more than `length` tokens.
    """
    if length < 1:
        raise BudgetError(f"length must be at least 1 token, got {length}")
    measure = _Measure(tokenizer, head, tail)
    order = sorted(range(len(inserts)), key=lambda i: (inserts[i].depth, i))
    insert_tokens = count_many(tokenizer, [inserts[i].text + " " for i in order])
    fixed = measure.count("") + sum(insert_tokens)
    if fixed > length:
        raise BudgetError(
            f"a haystack of {length} tokens cannot hold its {len(inserts)} gold facts and "
            f"template ({fixed} tokens); ask for at least {fixed + 16} tokens"
        )
    stream = _Stream(units, tokenizer)
    pool = stream.take(length - fixed) if length > fixed else [stream.next()]
    depths = [inserts[i].depth for i in order]
    slots = _place(pool, depths, insert_tokens)
    misses = 0
    for _attempt in range(_MAX_ATTEMPTS):
        full = _render(pool, slots, order, inserts, len(pool[-1][0]))
        total = measure.count(full.context)
        if total < length:
            pool += stream.take(length - total)
            slots = _place(pool, depths, insert_tokens)  # only growing the pool moves inserts
            continue
        if total == length:
            return Layout(full.context, full.spans, total, len(pool))
        cut = _cut(measure, pool, slots, order, inserts, full, total, length)
        if cut == _TOO_LONG:
            if len(pool) == 1:
                raise BudgetError(
                    f"a haystack of {length} tokens cannot hold its gold facts and template; "
                    "ask for a larger length"
                )
            pool.pop()  # the whole last unit is not enough: drop it and cut the one before
            slots = [min(b, len(pool)) for b in slots]
            continue
        if cut is not None:
            layout = _with_tail(full, _render_tail(pool, slots, order, inserts, cut))
            exact = measure.count(layout.context)
            if exact == length:
                return Layout(layout.context, layout.spans, exact, len(pool))
        # No cut of this unit lands exactly: try the next unit instead. When several in a row
        # fail, the text before the last unit is the trap (every cut adds a separator, and the
        # count jumps over the target), so swap the unit before it as well.
        misses += 1
        if misses % 4 == 0 and len(pool) > 1:
            pool.pop()
            slots = [min(b, len(pool)) for b in slots]
        pool[-1] = stream.next_other(pool[-1][0])
    raise InternalError(
        f"could not assemble exactly {length} tokens after {_MAX_ATTEMPTS} attempts "
        "(please report this with the tokenizer and filler used)"
    )


class _Measure:
    """Counts ``head + text + tail``: what the requested length refers to."""

    def __init__(self, tokenizer: TokenCounter, head: str, tail: str) -> None:
        self.tokenizer, self.head, self.tail = tokenizer, head, tail

    def count(self, context: str) -> int:
        return count_one(self.tokenizer, self.head + context + self.tail)


def _place(pool: list[tuple[str, float]], depths: list[float], tokens: list[int]) -> list[int]:
    """The boundary (0..len(pool)) each insert goes to, in depth order, never decreasing."""
    cum = [0.0]
    for _, est in pool:
        cum.append(cum[-1] + est)
    total = cum[-1] + sum(tokens)
    slots: list[int] = []
    before = 0.0  # tokens of the inserts already placed
    lo = 0
    for depth, n in zip(depths, tokens, strict=True):
        target = depth * total - before
        i = bisect.bisect_left(cum, target, lo=lo)
        candidates = [c for c in (i - 1, i) if lo <= c <= len(pool)]
        b = min(candidates, key=lambda c: abs(cum[c] - target))
        slots.append(b)
        lo = b
        before += n
    return slots


@dataclass
class _Rendered:
    context: str
    spans: list[GoldSpan]
    last_start: int  # offset of the (possibly cut) last filler unit


def _render(
    pool: list[tuple[str, float]],
    slots: list[int],
    order: list[int],
    inserts: Sequence[Insert],
    cut: int,
) -> _Rendered:
    """The context with the last unit cut to `cut` characters, and the inserts' spans.

    An insert is followed by a separator (a newline when the filler unit before it ends a
    line, else a space) unless it ends the context, and preceded by a space when the text
    before it does not end in whitespace (after a cut unit).
    """
    n = len(pool)
    at: dict[int, list[int]] = {}
    for k, b in enumerate(slots):
        at.setdefault(b, []).append(order[k])
    # Items in order: runs of whole units between inserts (one joined string each), the last
    # unit on its own (marked -2, kept even when cut to nothing), and the inserts.
    items: list[tuple[str, int, int]] = []  # (text, insert index or -1 / -2, boundary)
    lo = 0
    for b in sorted({*at, n}):
        if b == n:
            head = "".join(u for u, _ in pool[lo : n - 1])
            if head:
                items.append((head, -1, n - 2))
            items.append((pool[n - 1][0][:cut], -2, n - 1))
        elif b > lo:
            items.append(("".join(u for u, _ in pool[lo:b]), -1, b - 1))
        lo = max(lo, b)
        items.extend((inserts[i].text, i, b) for i in at.get(b, ()))
    # followed[j]: some non-empty text comes after item j (then an insert needs a separator).
    followed = [False] * len(items)
    for j in range(len(items) - 2, -1, -1):
        followed[j] = followed[j + 1] or bool(items[j + 1][0])
    parts: list[str] = []
    pos = 0
    last_start = 0
    spans: list[GoldSpan | None] = [None] * len(inserts)
    for j, (text, i, b) in enumerate(items):
        if i < 0:
            if i == -2:
                last_start = pos
            parts.append(text)
            pos += len(text)
            continue
        if parts and parts[-1] and not parts[-1][-1].isspace():
            parts.append(" ")
            pos += 1
        ins = inserts[i]
        spans[i] = GoldSpan(pos, pos + len(text), text, ins.kind, ins.answer, ins.depth)
        parts.append(text)
        pos += len(text)
        if followed[j]:
            sep = _separator(pool, b)
            parts.append(sep)
            pos += len(sep)
    return _Rendered("".join(parts), [s for s in spans if s is not None], last_start)


def _separator(pool: list[tuple[str, float]], boundary: int) -> str:
    """After an insert: the line or paragraph break that ends the unit before it, else a
    space (so a needle after a paragraph is a paragraph of its own)."""
    prev = pool[boundary - 1][0] if boundary > 0 else pool[0][0]
    trailing = prev[len(prev.rstrip()) :]
    breaks = min(trailing.count("\n"), 2)
    return "\n" * breaks if breaks else " "


def _render_tail(
    pool: list[tuple[str, float]],
    slots: list[int],
    order: list[int],
    inserts: Sequence[Insert],
    cut: int,
) -> _Rendered:
    """Only the last unit (cut) and the inserts after it: what follows ``last_start``."""
    after = [k for k, b in enumerate(slots) if b == len(pool)]
    return _render(pool[-1:], [1] * len(after), [order[k] for k in after], inserts, cut)


def _with_tail(full: _Rendered, tail: _Rendered) -> _Rendered:
    """The full rendering with its tail (last unit onwards) replaced by `tail`."""
    start = full.last_start
    spans = [s for s in full.spans if s.start < start] + [
        GoldSpan(s.start + start, s.end + start, s.text, s.kind, s.answer, s.depth)
        for s in tail.spans
    ]
    return _Rendered(full.context[:start] + tail.context, spans, start)


_TOO_LONG = -1


def _cut(
    measure: _Measure,
    pool: list[tuple[str, float]],
    slots: list[int],
    order: list[int],
    inserts: Sequence[Insert],
    full: _Rendered,
    full_total: int,
    length: int,
) -> int | None:
    """A cut of the last unit that should give exactly `length` tokens (the caller checks
    with a whole count), ``_TOO_LONG`` when even dropping the whole unit is too long, or None
    when no cut of this unit lands exactly."""
    unit = pool[-1][0]
    left = full.context[max(0, full.last_start - _WINDOW) : full.last_start]
    cache: dict[int, int] = {}

    def window(c: int) -> int:
        # Count of: some context before the last unit, the cut unit, everything after it.
        if c not in cache:
            rest = _render_tail(pool, slots, order, inserts, c).context
            cache[c] = int(measure.tokenizer.count(left + rest + measure.tail))
        return cache[c]

    target = window(len(unit)) - (full_total - length)
    if window(0) > target:
        return _TOO_LONG
    # Prefer cutting at the end of a word; fall back to any character.
    words = [0] + [
        i for i in range(1, len(unit)) if unit[i].isspace() and not unit[i - 1].isspace()
    ]
    words.append(len(unit))
    for candidates, reach in ((words, 3), (range(len(unit) + 1), 24)):
        found = _search(window, candidates, target, reach)
        if found is not None:
            return found
    return None


def _search(
    window: Callable[[int], int], cuts: Sequence[int], target: int, reach: int
) -> int | None:
    """A cut in `cuts` (increasing) with ``window(cut) == target``: bisect for the first cut
    at or above the target, then look at `reach` neighbours on each side (counts are not quite
    monotone in the cut)."""
    lo, hi = 0, len(cuts) - 1
    while lo < hi:
        mid = (lo + hi) // 2
        if window(cuts[mid]) >= target:
            hi = mid
        else:
            lo = mid + 1
    for d in range(reach + 1):
        for k in (lo - d, lo + d) if d else (lo,):
            if 0 <= k < len(cuts) and window(cuts[k]) == target:
                return cuts[k]
    return None


def fit_units(
    length: int,
    tokenizer: TokenCounter,
    build: Callable[[int], tuple[str, list[GoldSpan]]],
    *,
    minimum: int,
    estimate: int,
    head: str = "",
    tail: str = "",
) -> tuple[str, list[GoldSpan], int, int]:
    """The largest ``n >= minimum`` whose ``build(n)`` fits in `length` tokens.

    For haystacks made of whole units that cannot be cut. Returns ``(context, spans, tokens,
    n)``; ``tokens <= length``, and ``build(n + 1)`` would not fit. `estimate` is a first guess
    of n. Raises BudgetError when even `minimum` units do not fit.
    """
    measure = _Measure(tokenizer, head, tail)
    memo: dict[int, tuple[str, list[GoldSpan], int]] = {}

    def size(n: int) -> int:
        if n not in memo:
            ctx, spans = build(n)
            memo[n] = (ctx, spans, measure.count(ctx))
        return memo[n][2]

    if size(minimum) > length:
        raise BudgetError(
            f"a haystack of {length} tokens cannot hold this task's gold facts "
            f"({memo[minimum][2]} tokens); ask for a larger length"
        )
    lo, hi = minimum, max(estimate, minimum + 1)
    while size(hi) <= length:  # grow until it does not fit
        lo, hi = hi, hi * 2
    while hi - lo > 1:  # size(lo) fits, size(hi) does not
        mid = (lo + hi) // 2
        if size(mid) <= length:
            lo = mid
        else:
            hi = mid
    ctx, spans, n_tokens = memo[lo]
    return ctx, spans, n_tokens, lo
