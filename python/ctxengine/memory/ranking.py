"""Time-aware ranking: what a question says about time and people, and how the relevance of
each candidate is adjusted for it. Deterministic and cheap: no model is called.

- Recency: among the candidates of one search, each gets its rank in time (0 the oldest, 1 the
  latest). Questions about the present ("now", "currently", "still", "latest", ...) weigh it
  strongly; questions about the past ("used to", "originally", "first", "before", ...) weigh
  the reverse; other questions weigh it a little, so that of two equally relevant statements
  the later one, which may have replaced the earlier, comes first.
- Dates: a month and year, a year, or an ISO date in the question ("in May 2023") is a window.
  The question is asked as of its end: what was said after it is demoted, and among the rest
  the latest statement, the one still in force then, comes first; inside the window counts
  a little more.
- Speakers: a question that names one of the memory's speakers prefers what that speaker said.
- Question words: the words that make a sentence a question about someone ("what", "did",
  "she", ...) are dropped from the BM25 query (:func:`lexical_query`); in a chat history they
  match every other turn. Dense search gets the question as asked.

With ``as_of``, "the present" is ``as_of`` (search has already dropped what came after).

>>> cues = read_cues("Where does Caroline live now?", {"caroline": "Caroline", "mel": "Mel"})
>>> cues.recency, sorted(cues.speakers)
(1, ['caroline'])
>>> read_cues("What did Mel do in May 2023?", {}).window is not None
True
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

import numpy as np

from .normalize import name_key

__all__ = ["Cues", "Weights", "adjust", "lexical_query", "read_cues"]

_PRESENT = re.compile(
    r"\b(now|nowadays|currently|current|still|latest|most recent(ly)?|these days|at the moment|"
    r"at present|today|anymore|any more|lately)\b",
    re.I,
)
_PAST = re.compile(
    r"\b(used to|originally|at first|first|initially|before|previously|formerly|earliest|"
    r"in the beginning|back then)\b",
    re.I,
)
_QUESTION_WORDS = frozenset(
    """what when where who whom whose which why how did does do done is are was were be been
    has have had will would could should can may might shall i me my mine you your yours he him
    his she her hers it its we us our they them their there this that these those any some
    ever kind sort tell know think about many much""".split()
)
_WORD = re.compile(r"\w+", re.UNICODE)
_MONTHS = {name.lower(): i for i, name in enumerate(calendar.month_name) if name}
_MONTHS.update({name.lower(): i for i, name in enumerate(calendar.month_abbr) if name})
_MONTH_YEAR = re.compile(r"\b([A-Za-z]{3,9})\.?,?\s+(\d{4})\b")
_YEAR = re.compile(r"\b(19\d\d|20\d\d)\b")
_ISO_DAY = re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b")


@dataclass(frozen=True)
class Weights:
    """How strongly each cue moves a score (a multiplier ``1 + weight * signal``)."""

    recency: float = 0.15  # any question: later statements first, a little
    present: float = 0.8  # a question about now
    past: float = 0.8  # a question about before
    window: float = 0.3  # inside the dates the question names
    after_window: float = 0.5  # said after them: divided by 1 + this
    speaker: float = 1.0  # said by the speaker the question names


@dataclass(frozen=True)
class Cues:
    recency: int = 0  # 1: about the present, -1: about the past, 0: neither
    window: tuple[float, float] | None = None  # UTC seconds [start, end)
    speakers: frozenset[str] = field(default_factory=frozenset)  # speaker keys named


def read_cues(query: str, speakers: Mapping[str, str]) -> Cues:
    """What `query` says about time and about which of `speakers` (key -> spelling) it means."""
    recency = 1 if _PRESENT.search(query) else (-1 if _PAST.search(query) else 0)
    window = _window(query)
    words = set(name_key(query).split())
    named = frozenset(k for k in speakers if k and set(k.split()) <= words)
    return Cues(recency, window, named)


def lexical_query(query: str) -> str:
    """`query` without question words (kept whole when nothing else is left).

    >>> lexical_query("What did Caroline research?")
    'Caroline research?'
    """
    kept = [m for m in _WORD.finditer(query) if m.group().casefold() not in _QUESTION_WORDS]
    if not kept:
        return query
    out = [m.group() for m in kept]
    tail = query.rstrip()[-1:] if query.rstrip()[-1:] in "?!." else ""
    return " ".join(out) + tail


def _window(query: str) -> tuple[float, float] | None:
    m = _ISO_DAY.search(query)
    if m:
        try:
            start = datetime(int(m[1]), int(m[2]), int(m[3]), tzinfo=UTC)
        except ValueError:
            start = None
        if start is not None:
            return start.timestamp(), start.timestamp() + 86400.0
    for m in _MONTH_YEAR.finditer(query):
        month = _MONTHS.get(m[1].lower())
        if month:
            year = int(m[2])
            start = datetime(year, month, 1, tzinfo=UTC)
            end = datetime(year + (month == 12), month % 12 + 1, 1, tzinfo=UTC)
            return start.timestamp(), end.timestamp()
    m = _YEAR.search(query)
    if m:
        year = int(m[1])
        return (
            datetime(year, 1, 1, tzinfo=UTC).timestamp(),
            datetime(year + 1, 1, 1, tzinfo=UTC).timestamp(),
        )
    return None


def adjust(
    scores: np.ndarray,
    times: Sequence[float | None],
    speakers: Sequence[str | None],
    cues: Cues,
    weights: Weights,
) -> np.ndarray:
    """`scores` multiplied by the cues' factors (all >= 0, so order within a factor is kept)."""
    n = len(scores)
    if n == 0:
        return scores
    factor = np.ones(n, dtype=np.float64)
    known = np.array([t is not None for t in times])
    if known.sum() > 1:
        when = np.array([t if t is not None else 0.0 for t in times], dtype=np.float64)
        order = np.argsort(when[known], kind="stable")
        rank = np.empty(int(known.sum()), dtype=np.float64)
        rank[order] = np.arange(len(order)) / max(1, len(order) - 1)
        signal = np.full(n, 0.5)
        signal[known] = rank
        if cues.window is not None:
            lo, hi = cues.window
            before = known & (when < hi)
            if before.sum() > 1:  # time rank among what was said by the window's end
                order = np.argsort(when[before], kind="stable")
                inner = np.empty(int(before.sum()), dtype=np.float64)
                inner[order] = np.arange(len(order)) / max(1, len(order) - 1)
                signal = np.zeros(n)
                signal[before] = inner
            factor *= np.where(known & (when >= hi), 1.0 / (1.0 + weights.after_window), 1.0)
            factor *= np.where(known & (when >= lo) & (when < hi), 1.0 + weights.window, 1.0)
            factor *= 1.0 + weights.present * signal
        elif cues.recency > 0:
            factor *= 1.0 + weights.present * signal
        elif cues.recency < 0:
            factor *= 1.0 + weights.past * (1.0 - signal)
        else:
            factor *= 1.0 + weights.recency * signal
    if cues.speakers:
        by = np.array([s in cues.speakers for s in speakers])
        factor *= np.where(by, 1.0 + weights.speaker, 1.0)
    return np.asarray(scores, dtype=np.float64) * factor
