"""An agent's messages and how each chat format receives them.

Messages are added OpenAI-style: ``system``, ``user``, ``assistant`` (optionally with
``tool_calls``: ``[{"id", "type": "function", "function": {"name", "arguments"}}]``), ``tool``
(a result, with the ``tool_call_id`` it answers) and ``thinking`` (an assistant's reasoning).
Each format gets them as its API expects:

- ``openai`` (Chat Completions): as added; thinking is not sent (the API takes no reasoning
  back).
- ``anthropic`` (Messages API): the system text apart; an assistant's tool calls become
  ``tool_use`` blocks (arguments parsed from JSON), results ``tool_result`` blocks in a user
  message, thinking a ``thinking`` block; consecutive messages of one role are merged into one.
- ``chatml``: ``<|im_start|>role\\ncontent<|im_end|>`` per message; tool calls as
  ``<tool_call>{json}</tool_call>`` lines in the assistant's content and results as ``tool``
  messages (the Hermes / Qwen convention); thinking as ``<think>...</think>`` in an assistant
  message.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ..errors import InvalidInputError

__all__ = ["AGENT_FORMATS", "ROLES", "Message", "ToolCall", "parse_tool_calls"]

ROLES = ("system", "user", "assistant", "tool", "thinking")
AGENT_FORMATS = ("openai", "anthropic", "chatml")


@dataclass(frozen=True)
class ToolCall:
    id: str
    name: str
    arguments: str  # JSON text, as OpenAI sends it

    def to_openai(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "type": "function",
            "function": {"name": self.name, "arguments": self.arguments},
        }

    def input(self) -> Any:
        """The arguments parsed (Anthropic's ``input``); text that is not JSON stays text."""
        try:
            return json.loads(self.arguments) if self.arguments.strip() else {}
        except json.JSONDecodeError:
            return {"arguments": self.arguments}


@dataclass(frozen=True)
class Message:
    """One message of the conversation as it was added (never changed afterwards)."""

    id: str  # "m<n>": its position in the history
    role: str
    content: str
    tool_calls: tuple[ToolCall, ...] = ()
    tool_call_id: str | None = None
    name: str | None = None
    pinned: bool = False

    def with_content(self, content: str, *, clear_inputs: bool = False) -> Message:
        calls = self.tool_calls
        if clear_inputs:
            calls = tuple(ToolCall(c.id, c.name, "{}") for c in calls)
        return Message(
            self.id, self.role, content, calls, self.tool_call_id, self.name, self.pinned
        )


def parse_tool_calls(tool_calls: Any) -> tuple[ToolCall, ...]:
    """OpenAI-style tool calls (dicts, or ToolCall objects) as ToolCalls."""
    if tool_calls is None:
        return ()
    if isinstance(tool_calls, (str, bytes, Mapping)) or not isinstance(tool_calls, Sequence):
        raise InvalidInputError("tool_calls must be a list of OpenAI-style tool call dicts")
    out = []
    for i, call in enumerate(tool_calls):
        if isinstance(call, ToolCall):
            out.append(call)
            continue
        if not isinstance(call, Mapping):
            raise InvalidInputError(f"tool call {i} must be a dict, got {type(call).__name__}")
        function = call.get("function", call)
        cid, name = call.get("id"), function.get("name") if isinstance(function, Mapping) else None
        if not isinstance(cid, str) or not cid:
            raise InvalidInputError(f"tool call {i} needs an 'id' (a non-empty str)")
        if not isinstance(name, str) or not name:
            raise InvalidInputError(f"tool call {i} needs a function 'name'")
        arguments = function.get("arguments", "")
        if not isinstance(arguments, str):
            try:
                arguments = json.dumps(arguments, ensure_ascii=False)
            except (TypeError, ValueError) as exc:
                raise InvalidInputError(f"tool call {i}: arguments must be JSON: {exc}") from exc
        out.append(ToolCall(cid, name, arguments))
    ids = [c.id for c in out]
    if len(set(ids)) != len(ids):
        raise InvalidInputError("tool call ids must be distinct within a message")
    return tuple(out)


# ---- one message in each format -------------------------------------------------------------


def openai_message(m: Message) -> dict[str, Any] | None:
    if m.role == "thinking":
        return None
    out: dict[str, Any] = {"role": m.role, "content": m.content}
    if m.name is not None:
        out["name"] = m.name
    if m.tool_calls:
        out["tool_calls"] = [c.to_openai() for c in m.tool_calls]
    if m.tool_call_id is not None:
        out["tool_call_id"] = m.tool_call_id
    return out


def anthropic_blocks(m: Message) -> tuple[str, list[dict[str, Any]]]:
    """The role of the Anthropic message `m` belongs to and its content blocks."""
    if m.role == "thinking":
        return "assistant", [{"type": "thinking", "thinking": m.content}]
    if m.role == "tool":
        return "user", [
            {"type": "tool_result", "tool_use_id": m.tool_call_id, "content": m.content}
        ]
    blocks: list[dict[str, Any]] = []
    if m.content:
        blocks.append({"type": "text", "text": m.content})
    for c in m.tool_calls:
        blocks.append({"type": "tool_use", "id": c.id, "name": c.name, "input": c.input()})
    return m.role, blocks


def chatml_segment(m: Message) -> str:
    if m.role == "thinking":
        role, content = "assistant", f"<think>\n{m.content}\n</think>"
    else:
        role, content = m.role, m.content
        for c in m.tool_calls:
            call = json.dumps({"name": c.name, "arguments": c.input()}, ensure_ascii=False)
            content += f"\n<tool_call>\n{call}\n</tool_call>"
    return f"<|im_start|>{role}\n{content}<|im_end|>\n"


CHATML_REPLY = "<|im_start|>assistant\n"
