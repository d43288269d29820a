"""The default compaction: an extractive summary, no model. Each message gives one line (its
role and its first sentence, or the tool it called and with what); the lines are kept in order
until the target is reached, counted exactly, and the last one that does not fit is cut."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

__all__ = ["extractive_summary"]

_SENTENCE = re.compile(r"(.+?[.!?])(\s|$)", re.S)
_LINE_WORDS = 40  # a line gives at most this many words of its message


def _first_sentence(text: str) -> str:
    text = " ".join(text.split())
    m = _SENTENCE.match(text)
    first = m.group(1) if m else text
    words = first.split()
    return " ".join(words[:_LINE_WORDS]) + (" ..." if len(words) > _LINE_WORDS else "")


def extractive_summary(
    messages: Sequence[dict[str, Any]], target_tokens: int, tokenizer: Any
) -> str:
    """One line per message (OpenAI-style dicts), at most `target_tokens` tokens in all.

    >>> import ctxengine
    >>> tok = ctxengine.get_tokenizer("cl100k_base")
    >>> call = {"function": {"name": "read", "arguments": '{"path": "main.py"}'}}
    >>> extractive_summary([{"role": "user", "content": "Find the bug. It is in main.py."},
    ...                     {"role": "assistant", "content": "", "tool_calls": [call]}], 100, tok)
    'user: Find the bug.\\nassistant called read({"path": "main.py"})'
    """
    lines = []
    for m in messages:
        role = m.get("role", "?")
        content = m.get("content") or ""
        if isinstance(content, list):  # blocks
            content = " ".join(str(b.get("text", "")) for b in content if isinstance(b, dict))
        calls = m.get("tool_calls") or []
        if content.strip():
            lines.append(f"{role}: {_first_sentence(content)}")
        for c in calls:
            f = c.get("function", {})
            args = " ".join(str(f.get("arguments", "")).split())
            lines.append(f"{role} called {f.get('name', '?')}({args[:200]})")
    out: list[str] = []
    used = 0
    for line in lines:
        n = int(tokenizer.count(("\n" if out else "") + line))
        if used + n > target_tokens:
            room = target_tokens - used
            if room > 8:
                cut = (
                    tokenizer.truncate(line, room - 2, side="end")
                    if hasattr(tokenizer, "truncate")
                    else ""
                )
                if cut:
                    candidate = "\n".join([*out, cut])
                    if tokenizer.count(candidate) <= target_tokens:
                        out.append(cut)
            break
        out.append(line)
        used += n
    text = "\n".join(out)
    while out and tokenizer.count(text) > target_tokens:  # joined counts may differ by a token
        out.pop()
        text = "\n".join(out)
    return text
