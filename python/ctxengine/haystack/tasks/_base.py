"""What a task generator gets and returns.

A task turns a seeded random source, a filler and its options into a :class:`Plan`: the
question, the gold answers, the gold facts to insert at depths, and the filler units to put
around them. The haystack generator then lays the plan out at the exact token length.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from ...errors import InvalidInputError
from .._tokens import TokenCounter
from ..filler import Filler
from ..layout import Insert
from ..record import GoldSpan

__all__ = ["Plan", "TaskInput", "assign_depths", "chain_depths", "random_uuid"]

# RULER samples needle depths from 40 evenly spaced depths between 0% and 100%.
DEPTH_GRID: tuple[float, ...] = tuple(round(i / 39, 4) for i in range(40))


@dataclass
class TaskInput:
    """What every task generator receives."""

    rng: random.Random
    filler: Filler
    depth: float | Sequence[float] | None
    length: int  # the requested token length (for tasks that size their own text)
    tokenizer: TokenCounter


@dataclass
class Plan:
    """A task's output, before layout.

    Exactly one of `units` (endless, cuttable filler: the layout is exact) and `build`
    (whole units only: ``build(n)`` renders n units; the layout fits the largest n) is set.
    `finish`, when set, recomputes the answers and spans from the final context (for tasks
    whose gold answers depend on how much of the generated text was used).
    """

    question: str
    answers: list[str]
    template: str
    answer_prefix: str = ""
    inserts: list[Insert] = field(default_factory=list)
    units: Iterator[str] | None = None
    build: Callable[[int], tuple[str, list[GoldSpan]]] | None = None
    build_minimum: int = 1
    build_estimate: int = 64
    finish: Callable[[str, list[GoldSpan]], tuple[list[str], list[GoldSpan]]] | None = None
    filler_name: str = ""
    meta: dict[str, Any] = field(default_factory=dict)


def assign_depths(
    rng: random.Random, n: int, requested: float | Sequence[float] | None
) -> list[float]:
    """Depths for `n` inserts, the gold ones first.

    None: each drawn from RULER's 40 evenly spaced depths (distinct while there are enough);
    a number: the first insert at that depth, the others drawn; a sequence: one depth per
    insert (or a single depth, as for a number).
    """
    if requested is None:
        chosen: list[float] = []
    elif isinstance(requested, (int, float)):
        chosen = [float(requested)]
    else:
        chosen = [float(d) for d in requested]
        if len(chosen) not in (1, n):
            raise InvalidInputError(
                f"this haystack has {n} inserts; give one depth for each ({n}) or a single "
                f"depth, not {len(chosen)}"
            )
    for d in chosen:
        if not 0.0 <= d <= 1.0:
            raise InvalidInputError(f"depths are fractions between 0 and 1, got {d}")
    chosen = chosen[:n]
    pool = [d for d in DEPTH_GRID if d not in chosen]
    while len(chosen) < n:
        if not pool:
            pool = list(DEPTH_GRID)
        chosen.append(pool.pop(rng.randrange(len(pool))))
    return chosen


def chain_depths(
    rng: random.Random, n: int, requested: float | Sequence[float] | None
) -> list[float]:
    """Increasing depths for the `n` links of a chain.

    None: drawn from RULER's depth grid and sorted; a number: the first link there, the rest
    drawn between it and the end; a sequence: one depth per link, as given.
    """
    if requested is None:
        return sorted(assign_depths(rng, n, None))
    if isinstance(requested, (int, float)):
        first = assign_depths(rng, 1, float(requested))[0]
        return [first, *sorted(round(rng.uniform(first, 1.0), 4) for _ in range(n - 1))]
    return assign_depths(rng, n, requested)


def random_uuid(rng: random.Random) -> str:
    """A version-4 UUID drawn from `rng` (so it is reproducible)."""
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def random_number(rng: random.Random, digits: int = 7) -> str:
    return str(rng.randint(10 ** (digits - 1), 10**digits - 1))


def check_positive(name: str, value: int, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise InvalidInputError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return value


def check_choice(name: str, value: str, choices: Sequence[str]) -> str:
    if value not in choices:
        raise InvalidInputError(f"{name} must be one of {', '.join(choices)}; got {value!r}")
    return value
