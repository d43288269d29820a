"""``Memory.pack``: search hits rendered into an exact budget by :func:`ctxengine.pack`.

The hits go to ``pack`` as a list of candidates (pack takes any objects with ``text`` and
``score``), one per episode or fact: each source's ``doc_id`` is the episode or fact id, its
label says who spoke and when, and its ``chunk_id`` is its rank in time among the candidates,
so ``order="position"`` lists them in time order. Everything else (formats, citations, the exact
count, the budget) is ``pack``'s.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from .records import MemoryHit

__all__ = ["candidates", "hits_wanted"]

TYPICAL_TURN_TOKENS = 30  # sizing the search to the budget: a chat turn and its header


@dataclass
class Candidate:
    doc_id: str
    chunk_id: int
    text: str
    score: float
    metadata: dict[str, Any] = field(default_factory=dict)
    start: int | None = None
    end: int | None = None
    tokens: int | None = None


def hits_wanted(budget: Any) -> int:
    """How many hits fill `budget` about twice over (selection skips some)."""
    if isinstance(budget, int) and not isinstance(budget, bool) and budget > 0:
        return int(min(2000, max(20, math.ceil(2 * budget / TYPICAL_TURN_TOKENS))))
    return 2000


def label(hit: MemoryHit) -> str:
    when = hit.time.strftime("%Y-%m-%d") if hit.time is not None else None
    if hit.kind == "fact":
        until = hit.metadata.get("invalid_at")
        return f"fact since {when}" + (f" until {until[:10]}" if until else "")
    who = hit.speaker or "someone"
    return f"{who}, {when}" if when else who


def candidates(hits: list[MemoryHit]) -> list[Candidate]:
    stamps = [h.time.timestamp() if h.time is not None else None for h in hits]
    by_time = sorted(range(len(hits)), key=lambda i: (stamps[i] is None, stamps[i] or 0.0, i))
    rank = {i: r for r, i in enumerate(by_time)}
    return [
        Candidate(
            doc_id=h.id,
            chunk_id=rank[i],
            text=h.text,
            score=h.score,
            metadata={
                "title": label(h),
                "kind": h.kind,
                "time": None if h.time is None else h.time.isoformat(),
                "speaker": h.speaker,
                "session": h.session,
            },
        )
        for i, h in enumerate(hits)
    ]
