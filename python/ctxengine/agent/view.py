"""What a context manager is about to send, item by item, and the edits that made it so.

A :class:`View` starts as the whole history (with past compactions' summaries in place of what
they replaced) and is edited by the policies and the budget: an item's content is replaced by a
placeholder (cleared), hidden (cleared thinking), or its whole group is dropped. A group is an
assistant message with tool calls, the thinking just before it and the results that answer
it: it is dropped whole, so a tool call never loses its result or the reverse. Every edit
records how many tokens it freed, exactly, in the view's format.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .accounting import Counter
from .messages import Message

__all__ = ["Edit", "Item", "View"]


@dataclass(frozen=True)
class Edit:
    """One change between the history and what is sent: ``kind`` is ``"clear_tool_result"``,
    ``"clear_tool_input"``, ``"clear_thinking"``, ``"compact"`` or ``"drop"``; `tokens` is what
    it freed (for a compaction: the replaced messages' tokens minus the summary's)."""

    kind: str
    ids: tuple[str, ...]
    tokens: int

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "ids": list(self.ids), "tokens": self.tokens}


@dataclass
class Item:
    message: Message  # as it will be sent
    original: Message  # as it was added (for a summary: the summary message)
    group: int
    protected: bool
    cost: int
    hidden: bool = False
    summary_of: tuple[str, ...] = ()  # for a summary: the history ids it replaces
    cleared: set[str] = field(default_factory=set)  # edit kinds applied


class View:
    def __init__(
        self,
        items: list[Item],
        counter: Counter,
        available: int,
        compact: Callable[[list[Item], str], None],
    ) -> None:
        self.items = items
        self.counter = counter
        self.available = available
        self.edits: list[Edit] = []
        self._compact = compact

    @property
    def total(self) -> int:
        return self.counter.overhead() + sum(i.cost for i in self.items if not i.hidden)

    def replace(self, item: Item, message: Message, kind: str) -> int:
        """Sends `message` instead of the item's current one; records the edit."""
        before = 0 if item.hidden else item.cost
        item.message = message
        item.cost = self.counter.cost(message)
        item.cleared.add(kind)
        freed = before - item.cost
        self.edits.append(Edit(kind, (item.original.id,), freed))
        return freed

    def hide(self, item: Item, kind: str) -> int:
        freed = 0 if item.hidden else item.cost
        item.hidden = True
        item.cleared.add(kind)
        self.edits.append(Edit(kind, (item.original.id,), freed))
        return freed

    def drop_group(self, group: int) -> int:
        gone = [i for i in self.items if i.group == group]
        freed = sum(i.cost for i in gone if not i.hidden)
        self.items = [i for i in self.items if i.group != group]
        self.edits.append(Edit("drop", tuple(i.original.id for i in gone), freed))
        return freed

    def compact(self, span: list[Item], text: str) -> None:
        """Replaces `span` by a summary (kept by the manager for later renders too)."""
        self._compact(span, text)

    def groups(self) -> list[int]:
        return list(dict.fromkeys(i.group for i in self.items))
