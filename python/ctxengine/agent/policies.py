"""Context-editing policies, as the hosted APIs offer them (Anthropic's context editing:
clear tool results beyond the last N with a trigger, exclusions and a minimum; clear thinking;
compaction), plus offloading what is cleared to a :class:`ctxengine.memory.Memory`.

A policy acts when the request's tokens exceed its `trigger` (None: the manager's available
budget, ``budget - reserve``; 0: always). Policies run in order on every render; what is still
over the budget after them is dropped, oldest group first.

>>> ClearToolResults(keep=2).keep, Compact().summarize is None
(2, True)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..errors import InvalidInputError
from .view import Item, View

__all__ = ["ClearThinking", "ClearToolResults", "Compact", "Offload", "Policy"]

Summarizer = Callable[[list[dict[str, Any]], int], str]


def _check_int(value: Any, name: str, least: int = 0, optional: bool = False) -> None:
    if optional and value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int) or value < least:
        raise InvalidInputError(f"{name} must be an integer >= {least}, got {value!r}")


@dataclass
class Policy:
    trigger: int | None = None

    def __post_init__(self) -> None:
        _check_int(self.trigger, "trigger", optional=True)

    def triggered(self, view: View) -> bool:
        limit = view.available if self.trigger is None else self.trigger
        return view.total > limit

    def apply(self, view: View, ctx: Any) -> None:  # pragma: no cover - abstract
        raise NotImplementedError


@dataclass
class ClearToolResults(Policy):
    """Replaces the results of all but the last `keep` tool calls with `placeholder` (the call
    stays). Results of `exclude_tools` are kept; `clear_inputs` also empties the calls'
    arguments; nothing is cleared unless it frees at least `clear_at_least` tokens."""

    keep: int = 3
    clear_at_least: int = 0
    exclude_tools: Sequence[str] = ()
    clear_inputs: bool = False
    placeholder: str = "[tool result cleared to save context]"

    def __post_init__(self) -> None:
        super().__post_init__()
        _check_int(self.keep, "keep")
        _check_int(self.clear_at_least, "clear_at_least")

    def apply(self, view: View, ctx: Any) -> None:
        if not self.triggered(view):
            return
        names = {c.id: c.name for i in view.items for c in i.original.tool_calls}
        results = [
            i
            for i in view.items
            if i.original.role == "tool"
            and not i.hidden
            and names.get(i.original.tool_call_id or "") not in set(self.exclude_tools)
        ]
        targets = [
            i
            for i in results[: max(0, len(results) - self.keep)]
            if not i.original.pinned and "clear_tool_result" not in i.cleared
        ]
        gain = sum(i.cost - view.counter.cost(self._cleared(i, ctx)) for i in targets)
        if not targets or gain < self.clear_at_least:
            return
        calls = {c.id: i for i in view.items for c in i.original.tool_calls}
        for item in targets:
            view.replace(item, self._cleared(item, ctx), "clear_tool_result")
            call = calls.get(item.original.tool_call_id or "")
            if self.clear_inputs and call is not None and "clear_tool_input" not in call.cleared:
                view.replace(
                    call,
                    call.message.with_content(call.message.content, clear_inputs=True),
                    "clear_tool_input",
                )

    def _cleared(self, item: Item, ctx: Any) -> Any:
        return item.original.with_content(ctx.placeholder(self.placeholder, item.original))


@dataclass
class ClearThinking(Policy):
    """Hides the thinking of all but the last `keep` thinking messages."""

    keep: int = 1

    def __post_init__(self) -> None:
        super().__post_init__()
        _check_int(self.keep, "keep")

    def apply(self, view: View, ctx: Any) -> None:
        if not self.triggered(view):
            return
        thinking = [i for i in view.items if i.original.role == "thinking" and not i.hidden]
        for item in thinking[: max(0, len(thinking) - self.keep)]:
            if not item.original.pinned:
                view.hide(item, "clear_thinking")


@dataclass
class Compact(Policy):
    """Replaces everything before the latest user message (but system and pinned messages)
    with a summary from `summarize(messages, target_tokens) -> str` (OpenAI-style messages;
    default: an extractive summary, no model). The summary stays for later renders. It gets at
    most `target_tokens` (default: a fifth of what it replaces, at most 2,048) and never more
    than leaves the request within budget; a longer answer is cut."""

    summarize: Summarizer | None = None
    target_tokens: int | None = None
    min_messages: int = 2

    def __post_init__(self) -> None:
        super().__post_init__()
        _check_int(self.target_tokens, "target_tokens", 1, optional=True)
        _check_int(self.min_messages, "min_messages", 1)
        if self.summarize is not None and not callable(self.summarize):
            raise InvalidInputError("summarize must be a callable (messages, target_tokens) -> str")

    def apply(self, view: View, ctx: Any) -> None:
        if not self.triggered(view):
            return
        latest = ctx.latest_user_id()
        span: list[Item] = []
        protected_groups = {i.group for i in view.items if i.protected}
        for item in view.items:
            if item.original.id == latest:
                break
            if item.group in protected_groups or item.original.role == "system":
                continue
            span.append(item)
        if len(span) < self.min_messages:
            return
        replaced = sum(i.cost for i in span if not i.hidden)
        target = self.target_tokens or max(64, min(2048, replaced // 5))
        room = view.available - (view.total - replaced) - ctx.summary_overhead()
        target = min(target, room)
        if target < 16:
            return  # no room for a useful summary: the budget drops instead
        messages = [ctx.as_openai(i.message) for i in span if not i.hidden]
        summarize = self.summarize or ctx.extractive
        text = summarize([m for m in messages if m is not None], target)
        if not isinstance(text, str):
            raise InvalidInputError(f"summarize must return a str, got {type(text).__name__}")
        view.compact(span, ctx.cut(text, target))


@dataclass
class Offload:
    """Keeps what is cleared, compacted or dropped in `memory` (a
    :class:`ctxengine.memory.Memory`), one episode per message (id ``<session>:<message id>``),
    so :meth:`ContextManager.recall` can search it; placeholders say so."""

    memory: Any
    session: str | None = None
    seen: set[str] = field(default_factory=set, repr=False)

    def __post_init__(self) -> None:
        if not hasattr(self.memory, "add_many") or not hasattr(self.memory, "search"):
            raise InvalidInputError("Offload needs a ctxengine.memory.Memory")
