"""Parsing helpers shared by the evaluation commands: lengths, depths, task options."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ..errors import InvalidInputError

__all__ = ["parse_depths", "parse_lengths", "parse_options"]


def _split(values: Iterable[str]) -> list[str]:
    return [part.strip() for v in values for part in v.split(",") if part.strip()]


def parse_lengths(values: Iterable[str]) -> list[int]:
    """``8000,32k,1M`` -> [8000, 32000, 1000000] (k and M are 1,000 and 1,000,000)."""
    out = []
    for item in _split(values):
        text = item.lower().replace("_", "")
        scale = 1
        if text.endswith("k"):
            text, scale = text[:-1], 1000
        elif text.endswith("m"):
            text, scale = text[:-1], 1_000_000
        try:
            n = round(float(text) * scale)
        except ValueError:
            raise InvalidInputError(f"{item!r} is not a length (e.g. 8000, 32k, 1M)") from None
        if n < 1:
            raise InvalidInputError(f"lengths must be positive, got {item!r}")
        out.append(n)
    return out


def parse_depths(values: Iterable[str]) -> list[float | None]:
    """``0,0.5,1`` or ``0%,50%,100%`` -> fractions; ``random`` -> None (seeded random depth)."""
    out: list[float | None] = []
    for item in _split(values):
        if item.lower() == "random":
            out.append(None)
            continue
        try:
            d = float(item[:-1]) / 100 if item.endswith("%") else float(item)
        except ValueError:
            raise InvalidInputError(
                f"{item!r} is not a depth (0..1, a percentage, or random)"
            ) from None
        if not 0.0 <= d <= 1.0:
            raise InvalidInputError(f"depths are between 0 and 1 (or 0% and 100%), got {item!r}")
        out.append(d)
    return out


def _value(text: str) -> Any:
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def parse_options(values: Iterable[str]) -> dict[str, Any]:
    """``hops=3`` ``question=max`` -> {"hops": 3, "question": "max"} (numbers become numbers)."""
    out: dict[str, Any] = {}
    for item in values:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise InvalidInputError(f"task options are KEY=VALUE, got {item!r}")
        out[key.strip().replace("-", "_")] = _value(value.strip())
    return out
