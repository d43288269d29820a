"""The exact count of what a context manager sends, by the same rules as :func:`ctxengine.pack`
(``ctxengine/packing/formats.py``):

- ``openai``: the OpenAI Cookbook's formula: 3 tokens per message plus every string field's
  tokens (role, content, tool_call_id; ``name`` one more), 3 that prime the reply; tool calls,
  which the Cookbook does not cover, as the tokens of their JSON. For the system and user
  messages ``pack`` makes this is exactly ``pack``'s count.
- ``anthropic``: the tokens of the system text and of every block's text (a ``tool_use``
  block: its name and its input as JSON); Anthropic does not publish its overhead.
- ``chatml``: the rendered ChatML string counted with the tokenizer's special tokens
  recognised.

Costs are per message (what it adds to the total), cached per message and state; the
manager plans with them and counts the final rendering again in full for ``chatml``.
"""

from __future__ import annotations

import json
from typing import Any

from ..packing._tokenizer import count_with_specials
from ..packing.formats import OPENAI_REPLY_PRIMING, OPENAI_TOKENS_PER_MESSAGE
from .messages import CHATML_REPLY, Message, anthropic_blocks, chatml_segment, openai_message

__all__ = ["Counter"]


class Counter:
    """Token costs of messages in one format, with a cache of string counts."""

    def __init__(self, tokenizer: Any, fmt: str) -> None:
        self.tokenizer = tokenizer
        self.format = fmt
        self._counts: dict[str, int] = {}

    def text(self, s: str) -> int:
        if not s:
            return 0
        n = self._counts.get(s)
        if n is None:
            n = int(self.tokenizer.count(s))
            if len(self._counts) > 200_000:
                self._counts.clear()
            self._counts[s] = n
        return n

    def overhead(self) -> int:
        """What the request costs without any message."""
        if self.format == "openai":
            return OPENAI_REPLY_PRIMING
        if self.format == "chatml":
            return count_with_specials(self.tokenizer, CHATML_REPLY)
        return 0

    def cost(self, m: Message) -> int:
        """What message `m` adds to the request's count."""
        if self.format == "openai":
            out = openai_message(m)
            if out is None:
                return 0
            n = OPENAI_TOKENS_PER_MESSAGE
            for key, value in out.items():
                if key == "tool_calls":
                    n += self.text(json.dumps(value, ensure_ascii=False))
                else:
                    n += self.text(value) + (1 if key == "name" else 0)
            return n
        if self.format == "anthropic":
            n = 0
            for block in anthropic_blocks(m)[1]:
                kind = block["type"]
                if kind == "text":
                    n += self.text(block["text"])
                elif kind == "thinking":
                    n += self.text(block["thinking"])
                elif kind == "tool_use":
                    n += self.text(block["name"])
                    n += self.text(json.dumps(block["input"], ensure_ascii=False))
                else:
                    n += self.text(block["content"])
            return n
        return count_with_specials(self.tokenizer, chatml_segment(m))
