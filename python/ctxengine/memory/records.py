"""What memory hands back: episodes (the raw record), facts (the temporal layer) and search
hits. Times are aware UTC datetimes (see :mod:`ctxengine.memory._time`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

__all__ = ["Episode", "Fact", "MemoryHit"]


@dataclass(frozen=True)
class Episode:
    """One thing that was said or observed, as it was added."""

    id: str
    text: str
    speaker: str | None
    time: datetime | None
    session: str | None
    metadata: Mapping[str, Any]
    created_at: datetime

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "text": self.text,
            "speaker": self.speaker,
            "time": _iso(self.time),
            "session": self.session,
            "metadata": dict(self.metadata),
            "created_at": _iso(self.created_at),
        }


@dataclass(frozen=True)
class Fact:
    """A (subject, predicate, object) statement and when it held.

    `valid_at` / `invalid_at` are when it was true in the world (`invalid_at` None: still true);
    `created_at` / `expired_at` are when memory learnt it and when memory learnt it had ended
    (Graphiti's four timestamps). `episodes` are the ids of the episodes it came from.
    """

    id: str
    subject: str
    predicate: str
    object: str
    valid_at: datetime
    invalid_at: datetime | None
    created_at: datetime
    expired_at: datetime | None
    episodes: tuple[str, ...] = ()

    def holds_at(self, when: datetime) -> bool:
        """Whether the fact was true at `when` (``valid_at <= when < invalid_at``)."""
        return self.valid_at <= when and (self.invalid_at is None or when < self.invalid_at)

    @property
    def text(self) -> str:
        return f"{self.subject} {self.predicate} {self.object}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "subject": self.subject,
            "predicate": self.predicate,
            "object": self.object,
            "valid_at": _iso(self.valid_at),
            "invalid_at": _iso(self.invalid_at),
            "created_at": _iso(self.created_at),
            "expired_at": _iso(self.expired_at),
            "episodes": list(self.episodes),
        }


@dataclass(frozen=True)
class MemoryHit:
    """A search result: an episode or a fact, with its ranking score (higher is better).

    A hit with `neighbor_of` set is a turn next to hit `neighbor_of` in its session, returned
    because it completes it (the answer to a question, the question a short reply answers).
    """

    id: str
    text: str
    score: float
    time: datetime | None
    speaker: str | None
    session: str | None
    kind: Literal["episode", "fact"]
    neighbor_of: str | None = None
    metadata: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "score": self.score,
            "time": _iso(self.time),
            "speaker": self.speaker,
            "session": self.session,
            "neighbor_of": self.neighbor_of,
            "metadata": dict(self.metadata),
            "text": self.text,
        }


def _iso(when: datetime | None) -> str | None:
    return None if when is None else when.isoformat()
