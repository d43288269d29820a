"""The count of a rendered agent request, from scratch with tiktoken, by the rules
docs/memory.md states (shared by tests/test_agent.py and bench/bench_memory.py)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any


def request_tokens(
    count: Callable[[str], int], fmt: str, messages: Any, system: Any, text: Any
) -> int:
    """Tokens of a ContextManager rendering (`messages`, `system`, `text`) in format `fmt`,
    counting strings with `count` (special-token text as plain text, except chatml's
    `text`, which the caller counts with its specials)."""
    if fmt == "openai":
        n = 3
        for m in messages:
            n += 3
            for key, value in m.items():
                if key == "tool_calls":
                    n += count(json.dumps(value, ensure_ascii=False))
                else:
                    n += count(value) + (key == "name")
        return n
    if fmt == "anthropic":
        blocks = system if isinstance(system, list) else [{"text": system or ""}]
        n = sum(count(b["text"]) for b in blocks)
        for m in messages:
            for b in m["content"]:
                if b["type"] == "text":
                    n += count(b["text"])
                elif b["type"] == "thinking":
                    n += count(b["thinking"])
                elif b["type"] == "tool_use":
                    n += count(b["name"]) + count(json.dumps(b["input"], ensure_ascii=False))
                else:
                    n += count(b["content"])
        return n
    raise ValueError(f"count a {fmt} rendering's text with its special tokens instead")
