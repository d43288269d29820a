"""Times in memory: what callers may pass (a datetime or an ISO 8601 string) and how they are
kept (UTC seconds since the epoch, a float, so SQLite compares and indexes them as numbers).

A naive datetime or an ISO string without an offset is taken as UTC; an aware one is converted
to UTC. Times come back as aware UTC datetimes.

>>> to_seconds("2023-05-08T13:56:00Z") == to_seconds(datetime(2023, 5, 8, 13, 56))
True
>>> to_datetime(to_seconds("2023-05-08")).isoformat()
'2023-05-08T00:00:00+00:00'
"""

from __future__ import annotations

import math
import time
from datetime import UTC, datetime

from ..errors import InvalidInputError

__all__ = ["day_key", "now", "to_datetime", "to_seconds"]


def to_seconds(value: datetime | str | None, name: str = "time") -> float | None:
    """`value` as UTC seconds since the epoch (None stays None)."""
    if value is None:
        return None
    if isinstance(value, str):
        text = value.strip()
        try:
            value = datetime.fromisoformat(text)
        except ValueError as exc:
            raise InvalidInputError(
                f"{name} must be a datetime or an ISO 8601 string such as '2023-05-08' or "
                f"'2023-05-08T13:56:00+02:00', got {text!r}"
            ) from exc
    if not isinstance(value, datetime):
        raise InvalidInputError(
            f"{name} must be a datetime or an ISO 8601 string, got {type(value).__name__}"
        )
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    seconds = value.timestamp()
    if not math.isfinite(seconds):  # pragma: no cover - datetime bounds it
        raise InvalidInputError(f"{name} is out of range: {value!r}")
    return seconds


def to_datetime(seconds: float | None) -> datetime | None:
    """UTC seconds back to an aware UTC datetime."""
    return None if seconds is None else datetime.fromtimestamp(seconds, tz=UTC)


def day_key(seconds: float | None) -> str | None:
    """The UTC day of a time (``"2023-05-08"``): the bucket that time filters search by."""
    return None if seconds is None else datetime.fromtimestamp(seconds, tz=UTC).strftime("%Y-%m-%d")


def now() -> float:
    return time.time()
