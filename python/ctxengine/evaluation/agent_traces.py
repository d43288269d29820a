"""Long tool-using agent traces for measuring context management: a system prompt, a task,
then rounds of thinking, tool calls and their results (file reads, searches, test runs: from a
few lines to thousands of tokens), the occasional reply and a new instruction now and then.

Text comes from the words given (real text, e.g. documentation), so token counts are those of
real prose and code; the same seed gives the same trace.

>>> events = generate_agent_trace(["alpha beta gamma delta"] * 10, steps=40, seed=3)
>>> len(events), events[0].role, {e.role for e in events} >= {"tool", "thinking", "user"}
(40, 'system', True)
"""

from __future__ import annotations

import json
import math
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from ..errors import InvalidInputError

__all__ = ["TraceEvent", "generate_agent_trace"]

TOOLS = ("read_file", "search_code", "run_tests", "list_dir", "web_search")


@dataclass(frozen=True)
class TraceEvent:
    """One message to add: ``ContextManager.add(role, content, **kwargs)``."""

    role: str
    content: str
    kwargs: dict[str, Any] = field(default_factory=dict)


def generate_agent_trace(
    texts: Sequence[str],
    *,
    steps: int = 500,
    seed: int = 0,
    result_tokens: tuple[int, int] = (40, 3000),
) -> list[TraceEvent]:
    """`steps` messages of an agent at work. Tool results are log-uniformly between
    `result_tokens` words long (roughly tokens), cut from `texts`."""
    words = " ".join(texts).split()
    if not words:
        raise InvalidInputError("generate_agent_trace needs some text to draw words from")
    if steps < 2:
        raise InvalidInputError("a trace needs at least 2 steps (system and task)")
    rng = random.Random(seed)

    def prose(n: int) -> str:
        start = rng.randrange(max(1, len(words) - n))
        return " ".join(words[start : start + n])

    events = [
        TraceEvent("system", "You are a careful software agent. " + prose(60)),
        TraceEvent("user", "Task: " + prose(40), {"pinned": True}),
    ]
    call = 0
    lo, hi = math.log(result_tokens[0]), math.log(result_tokens[1])
    while len(events) < steps:
        room = steps - len(events)
        roll = rng.random()
        if roll < 0.06 and room >= 1:
            events.append(TraceEvent("user", prose(rng.randint(8, 60))))
            continue
        if roll < 0.12 and room >= 1:
            events.append(TraceEvent("assistant", prose(rng.randint(20, 120))))
            continue
        if room >= 1 and rng.random() < 0.7:
            events.append(TraceEvent("thinking", prose(rng.randint(30, 300))))
            room -= 1
        n = min(rng.choice((1, 1, 1, 2, 3)), max(0, (room - 1)))
        if n == 0:
            continue
        calls = []
        for _ in range(n):
            tool = rng.choice(TOOLS)
            calls.append(
                {
                    "id": f"call_{call}",
                    "type": "function",
                    "function": {"name": tool, "arguments": json.dumps({"q": prose(4)})},
                }
            )
            call += 1
        events.append(TraceEvent("assistant", "", {"tool_calls": calls}))
        for c in calls:
            size = int(math.exp(rng.uniform(lo, hi)))
            events.append(TraceEvent("tool", prose(size), {"tool_call_id": c["id"]}))
    return events[:steps] if _complete(events[:steps]) else _trim(events, steps)


def _complete(events: list[TraceEvent]) -> bool:
    """Whether every tool call in `events` has its result."""
    waiting = {c["id"] for e in events for c in e.kwargs.get("tool_calls", [])}
    waiting -= {e.kwargs["tool_call_id"] for e in events if e.role == "tool"}
    return not waiting


def _trim(events: list[TraceEvent], steps: int) -> list[TraceEvent]:
    out = events[:steps]
    while out and not _complete(out):
        out.pop()
    while len(out) < steps:  # pad with short replies
        out.append(TraceEvent("assistant", "Done with this step."))
    return out
