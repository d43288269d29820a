"""The task generators and their names.

Each name maps to a generator and preset options; RULER's task names (``niah_single_1`` ...
``fwe``) keep RULER's settings. Options given by the user override the presets.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ...errors import InvalidInputError
from ._base import Plan, TaskInput
from .aggregate import aggregation
from .bios import biographies
from .niah import niah
from .ruler import common_words, frequent_words, variable_tracking
from .thread import needle_threading

__all__ = ["TASKS", "Plan", "Task", "TaskInput", "get_task"]


@dataclass(frozen=True)
class Task:
    """A named generator with preset options."""

    name: str
    generate: Callable[..., Plan]
    preset: dict[str, Any] = field(default_factory=dict)
    summary: str = ""


def _tasks() -> dict[str, Task]:
    t = [
        Task("niah", niah, {}, "one needle in your filler (alias of niah_single_2)"),
        Task("niah_single", niah, {}, "one needle in your filler"),
        Task("niah_single_1", niah, {"haystack": "noise"}, "RULER: one needle in noise"),
        Task("niah_single_2", niah, {}, "RULER: one needle in the filler (essays)"),
        Task("niah_single_3", niah, {"value_type": "uuids"}, "RULER: one UUID-valued needle"),
        Task("niah_multikey", niah, {"keys": 4}, "one of 4 keys asked (3 distractors)"),
        Task("niah_multikey_1", niah, {"keys": 4}, "RULER: one of 4 keys asked"),
        Task(
            "niah_multikey_2",
            niah,
            {"haystack": "needles"},
            "RULER: the haystack is all distractor needles",
        ),
        Task(
            "niah_multikey_3",
            niah,
            {"haystack": "needles", "key_type": "uuids", "value_type": "uuids"},
            "RULER: distractor-needle haystack, UUID keys and values",
        ),
        Task("niah_multivalue", niah, {"values": 4}, "RULER: one key with 4 values"),
        Task("niah_multiquery", niah, {"queries": 4}, "RULER: 4 keys asked at once"),
        Task("vt", variable_tracking, {}, "RULER: variable tracking, 1 chain of 4 hops in noise"),
        Task("cwe", common_words, {}, "RULER: common words extraction (10 words x 30)"),
        Task("fwe", frequent_words, {}, "RULER: frequent (Zipf) coded words extraction"),
        Task("thread", needle_threading, {}, "needle threading: follow a chain of UUID keys"),
        Task(
            "multi_thread",
            needle_threading,
            {"threads": 4},
            "needle threading: follow 4 threads at once",
        ),
        Task(
            "thread_kv",
            needle_threading,
            {"haystack": "kv"},
            "needle threading in a JSON object of UUID pairs (at most one pair short)",
        ),
        Task("aggregation", aggregation, {}, "HoloBench-style count/max/min/filter over rows"),
        Task("bios", biographies, {}, "LongBioBench-style biographies with distractors"),
    ]
    return {task.name: task for task in t}


TASKS: dict[str, Task] = _tasks()


def get_task(name: str) -> Task:
    """The task called `name` (see :data:`TASKS`)."""
    try:
        return TASKS[name]
    except KeyError:
        raise InvalidInputError(
            f"unknown task {name!r}; choose one of: {', '.join(TASKS)}"
        ) from None
