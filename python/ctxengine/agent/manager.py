"""``ctxengine.agent.ContextManager``: an agent's running conversation, sent within an exact
budget.

Messages are added as they happen and never change; each render builds what is sent from
them: past compactions' summaries in place, then the policies' edits (:mod:`.policies`), then,
while the request is still over ``budget - reserve``, the oldest groups dropped. System and
pinned messages and the latest user message always stay; a tool call and its results stay or
go together. ``tokens`` is the exact count of what is sent, by ``pack``'s rules
(:mod:`.accounting`), and never exceeds ``budget - reserve``; ``edits`` says what was cleared,
compacted or dropped and how many tokens each freed.

>>> cm = ContextManager(budget=200)
>>> _ = cm.add("system", "You are terse.")
>>> _ = cm.add("user", "What is 2 + 2?")
>>> cm.messages()
[{'role': 'system', 'content': 'You are terse.'}, {'role': 'user', 'content': 'What is 2 + 2?'}]
>>> cm.tokens <= 200
True
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ..errors import BudgetError, InvalidInputError
from .accounting import Counter
from .messages import (
    AGENT_FORMATS,
    CHATML_REPLY,
    ROLES,
    Message,
    anthropic_blocks,
    chatml_segment,
    openai_message,
    parse_tool_calls,
)
from .policies import ClearThinking, ClearToolResults, Compact, Offload, Policy
from .summarize import extractive_summary
from .view import Edit, Item, View

__all__ = ["ContextManager", "Rendering", "default_policies"]

SUMMARY_HEADER = "[Summary of the earlier conversation]\n"


def default_policies() -> list[Policy]:
    """Clear old thinking, then old tool results (keeping the last 3), then compact
    (extractively): each only when the request is over budget."""
    return [ClearThinking(), ClearToolResults(), Compact()]


@dataclass(frozen=True)
class Rendering:
    """What is sent in one format: `messages` (for ``anthropic`` without the system text,
    which is `system`), `text` (the ChatML string, for ``chatml``), the exact `tokens` and the
    `edits` that made it fit."""

    format: str
    messages: list[dict[str, Any]]
    system: Any
    text: str | None
    tokens: int
    full_tokens: int  # what the whole history would cost in this format
    edits: list[Edit]
    sent: tuple[str, ...]  # ids of the messages (and summaries) sent, in order


@dataclass(frozen=True)
class _Summary:
    id: str
    replaced: tuple[str, ...]  # history or summary ids
    text: str


class ContextManager:
    """An agent's conversation within `budget` tokens (`reserve` of them kept for the reply).

    `model` (a name from :func:`ctxengine.get_model`) or `tokenizer` (a name, path or
    tokenizer object; default ``cl100k_base``) says how tokens are counted; `format` is the
    default of :meth:`messages` and what :attr:`tokens` counts. `policies` are applied in order
    on every render (default: :func:`default_policies`; ``[]`` for none); an :class:`Offload`
    among them keeps what is cleared in a memory for :meth:`recall`.
    """

    def __init__(
        self,
        *,
        model: str | None = None,
        tokenizer: Any = None,
        budget: int,
        reserve: int = 0,
        policies: Sequence[Any] | None = None,
        format: str = "openai",
    ) -> None:
        from ..packing._resolve import choose_tokenizer
        from ..packing.models import get_model

        for name, value, least in (("budget", budget, 1), ("reserve", reserve, 0)):
            if isinstance(value, bool) or not isinstance(value, int) or value < least:
                raise InvalidInputError(f"{name} must be an integer >= {least}, got {value!r}")
        if reserve >= budget:
            raise BudgetError(f"reserve ({reserve}) leaves nothing of the budget ({budget})")
        if format not in AGENT_FORMATS:
            raise InvalidInputError(f"format must be one of {', '.join(AGENT_FORMATS)}")
        profile = get_model(model) if model is not None else None
        self.tokenizer = choose_tokenizer(tokenizer, profile=profile)
        self.model = None if profile is None else profile.name
        self.budget = budget
        self.reserve = reserve
        self.format = format
        chosen = default_policies() if policies is None else list(policies)
        for p in chosen:
            if not isinstance(p, (Policy, Offload)):
                raise InvalidInputError(
                    f"policies must be ClearToolResults, ClearThinking, Compact or Offload "
                    f"objects, got {type(p).__name__}"
                )
        self.policies = chosen
        self._offload = next((p for p in chosen if isinstance(p, Offload)), None)
        if self._offload is not None and self._offload.session is None:
            self._offload.session = "ctx-" + uuid.uuid4().hex[:12]
        self._history: list[Message] = []
        self._added: list[float] = []
        self._summaries: list[_Summary] = []
        self._pending: dict[str, str] = {}  # tool call id -> the assistant message's id
        self._counters: dict[str, Counter] = {}
        self._cache: dict[str, tuple[tuple[int, int], Rendering]] = {}

    # ---- adding ---------------------------------------------------------------------------

    @property
    def available(self) -> int:
        """What the request may use: ``budget - reserve``."""
        return self.budget - self.reserve

    @property
    def history(self) -> list[Message]:
        """Every message as it was added."""
        return list(self._history)

    def add(
        self,
        role: str,
        content: str = "",
        *,
        tool_calls: Sequence[Any] | None = None,
        tool_call_id: str | None = None,
        name: str | None = None,
        pinned: bool = False,
    ) -> str:
        """Adds a message; returns its id. Roles: ``system``, ``user``, ``assistant`` (with
        OpenAI-style `tool_calls`), ``tool`` (a result: `tool_call_id` names the call it
        answers; every call of an assistant message is answered before anything else is
        added) and ``thinking``. `pinned` messages are never cleared or dropped."""
        if role not in ROLES:
            raise InvalidInputError(f"role must be one of {', '.join(ROLES)}, got {role!r}")
        if not isinstance(content, str):
            raise InvalidInputError(f"content must be a str, got {type(content).__name__}")
        if name is not None and (not isinstance(name, str) or not name):
            raise InvalidInputError("name must be a non-empty str")
        calls = parse_tool_calls(tool_calls)
        if calls and role != "assistant":
            raise InvalidInputError("only assistant messages have tool_calls")
        if role == "tool":
            if not isinstance(tool_call_id, str) or tool_call_id not in self._pending:
                waiting = ", ".join(self._pending) or "none"
                raise InvalidInputError(
                    f"a tool result needs the tool_call_id of a call waiting for its result "
                    f"(waiting: {waiting}); got {tool_call_id!r}"
                )
        elif tool_call_id is not None:
            raise InvalidInputError("only tool results have a tool_call_id")
        elif self._pending:
            raise InvalidInputError(
                f"tool calls {', '.join(self._pending)} are waiting for their results; add "
                "them (role='tool') before another message"
            )
        if role == "assistant" and not content and not calls:
            raise InvalidInputError("an assistant message needs content or tool_calls")
        used = {c.id for m in self._history for c in m.tool_calls}
        if any(c.id in used for c in calls):
            raise InvalidInputError("tool call ids must be unique within the conversation")
        message = Message(
            f"m{len(self._history)}",
            role,
            content,
            calls,
            tool_call_id,
            name,
            bool(pinned),
        )
        if role == "tool":
            del self._pending[tool_call_id]  # type: ignore[arg-type]
        for c in calls:
            self._pending[c.id] = message.id
        self._history.append(message)
        self._added.append(time.time())
        return message.id

    # ---- rendering ------------------------------------------------------------------------

    @property
    def tokens(self) -> int:
        """The exact count of what :meth:`messages` sends in the default format."""
        return self.render().tokens

    @property
    def edits(self) -> list[Edit]:
        """What the latest render in the default format cleared, compacted or dropped."""
        return self.render().edits

    def messages(self, format: str | None = None) -> list[dict[str, Any]]:
        """What is sent, as the format's message list (``anthropic``: without the system
        text; see :meth:`render`)."""
        return self.render(format).messages

    def render(self, format: str | None = None) -> Rendering:
        """What is sent in `format` (default: the manager's), with its exact count and edits.
        Raises :class:`ctxengine.BudgetError` when the system and pinned messages and the
        latest user message alone do not fit."""
        fmt = self.format if format is None else format
        if fmt not in AGENT_FORMATS:
            raise InvalidInputError(f"format must be one of {', '.join(AGENT_FORMATS)}")
        version = (len(self._history), len(self._summaries))
        cached = self._cache.get(fmt)
        if cached is not None and cached[0] == version:
            return cached[1]
        out = self._render(fmt, allow_compaction=True)
        self._cache[fmt] = ((len(self._history), len(self._summaries)), out)
        if self._offload is not None:
            self._keep(out.edits)
        return out

    def _counter(self, fmt: str) -> Counter:
        if fmt not in self._counters:
            self._counters[fmt] = Counter(self.tokenizer, fmt)
        return self._counters[fmt]

    def _render(self, fmt: str, *, allow_compaction: bool) -> Rendering:
        counter = self._counter(fmt)
        items, compactions = self._base(counter)
        compacted: list[bool] = []

        def compact(span: list[Item], text: str) -> None:
            if not allow_compaction or compacted:
                return
            replaced = tuple(i.original.id for i in span)
            self._summaries.append(_Summary(f"s{len(self._summaries)}", replaced, text))
            compacted.append(True)

        view = View(items, counter, self.available, compact)
        for policy in self.policies:
            if isinstance(policy, Offload):
                continue
            if isinstance(policy, Compact) and not allow_compaction:
                continue
            policy.apply(view, self)
            if compacted:  # start again from the history with the summary in place
                return self._render(fmt, allow_compaction=False)
        while True:
            while view.total > self.available:
                self._drop_oldest(view, fmt, view.total)
            rendering = self._assemble(view, fmt, compactions + view.edits)
            if rendering.tokens <= self.available:
                return rendering
            # The exact count of the whole is above the sum of the parts (possible only for
            # chatml with a tokenizer whose pieces cross message boundaries): drop one more.
            self._drop_oldest(view, fmt, rendering.tokens)

    def _drop_oldest(self, view: View, fmt: str, tokens: int) -> None:
        """Drops the oldest group that holds no protected message."""
        protected = {i.group for i in view.items if i.protected}
        droppable = [g for g in view.groups() if g not in protected]
        if not droppable:
            raise BudgetError(
                f"the system and pinned messages and the latest user message need {tokens} "
                f"tokens in {fmt} format but the budget leaves {self.available} (budget "
                f"{self.budget} - reserve {self.reserve}); raise the budget or shorten them"
            )
        view.drop_group(droppable[0])

    def _base(self, counter: Counter) -> tuple[list[Item], list[Edit]]:
        """The history with past summaries in place; the compactions as edits."""
        entries: list[Message] = list(self._history)
        full: dict[str, int] = {}
        flat: dict[str, tuple[str, ...]] = {}
        for s in self._summaries:
            positions = [i for i, m in enumerate(entries) if m.id in set(s.replaced)]
            if not positions:
                continue
            summary = Message(s.id, "user", SUMMARY_HEADER + s.text)
            at = positions[0]
            entries = [m for m in entries if m.id not in set(s.replaced)]
            entries.insert(at, summary)
            flat[s.id] = tuple(x for r in s.replaced for x in flat.get(r, (r,)))
        latest = self.latest_user_id()
        items: list[Item] = []
        call_group: dict[str, int] = {}
        group = -1
        for m in entries:
            if m.role == "tool" and m.tool_call_id in call_group:
                g = call_group[m.tool_call_id]
            elif m.role == "assistant" and items and items[-1].original.role == "thinking":
                g = items[-1].group
            else:
                group += 1
                g = group
            for c in m.tool_calls:
                call_group[c.id] = g
            protected = m.role == "system" or m.pinned or m.id == latest
            items.append(Item(m, m, g, protected, counter.cost(m), summary_of=flat.get(m.id, ())))
        for i in items:  # a group with a protected member is protected whole
            i.protected = i.protected or any(j.protected for j in items if j.group == i.group)
        by_id = {m.id: m for m in self._history}
        edits = []
        for i in items:
            if i.summary_of:
                for x in i.summary_of:
                    full.setdefault(x, counter.cost(by_id[x]))
                freed = sum(full[x] for x in i.summary_of) - i.cost
                edits.append(Edit("compact", i.summary_of, freed))
        return items, edits

    def _assemble(self, view: View, fmt: str, edits: list[Edit]) -> Rendering:
        shown = [i.message for i in view.items if not i.hidden]
        sent = tuple(m.id for m in shown)
        counter = view.counter
        full_tokens = counter.overhead() + sum(counter.cost(m) for m in self._history)
        if fmt == "openai":
            messages = [x for x in (openai_message(m) for m in shown) if x is not None]
            return Rendering(fmt, messages, None, None, view.total, full_tokens, edits, sent)
        if fmt == "anthropic":
            system = [b for m in shown if m.role == "system" for b in anthropic_blocks(m)[1]]
            merged: list[dict[str, Any]] = []
            for m in shown:
                if m.role == "system":
                    continue
                role, blocks = anthropic_blocks(m)
                if merged and merged[-1]["role"] == role:
                    merged[-1]["content"].extend(blocks)
                else:
                    merged.append({"role": role, "content": list(blocks)})
            sys_out: Any = None
            if len(system) == 1:
                sys_out = system[0]["text"]
            elif system:
                sys_out = system
            return Rendering(fmt, merged, sys_out, None, view.total, full_tokens, edits, sent)
        from ..packing._tokenizer import count_with_specials

        segments = [chatml_segment(m) for m in shown]
        text = "".join(segments) + CHATML_REPLY
        messages = [
            {"role": s[len("<|im_start|>") :].split("\n", 1)[0], "content": _chatml_content(s)}
            for s in segments
        ]
        tokens = count_with_specials(self.tokenizer, text)
        return Rendering(fmt, messages, None, text, tokens, full_tokens, edits, sent)

    # ---- what policies ask of the manager ---------------------------------------------------

    def latest_user_id(self) -> str | None:
        for m in reversed(self._history):
            if m.role == "user":
                return m.id
        return None

    def placeholder(self, text: str, original: Message) -> str:
        if self._offload is None:
            return text
        return f"{text} [in memory as {self._offload.session}:{original.id}]"

    def summary_overhead(self) -> int:
        return self._counter(self.format).cost(Message("s", "user", SUMMARY_HEADER)) + 2

    def as_openai(self, m: Message) -> dict[str, Any] | None:
        return openai_message(m)

    def extractive(self, messages: list[dict[str, Any]], target_tokens: int) -> str:
        return extractive_summary(messages, target_tokens, self.tokenizer)

    def cut(self, text: str, limit: int) -> str:
        from ..packing._tokenizer import fit_prefix

        return text[: fit_prefix(self.tokenizer, text, max(0, limit))]

    # ---- offloading and recall --------------------------------------------------------------

    def _keep(self, edits: list[Edit]) -> None:
        offload = self._offload
        assert offload is not None
        by_id = {m.id: (m, t) for m, t in zip(self._history, self._added, strict=True)}
        records = []
        for e in edits:
            if e.kind == "clear_tool_input":
                continue
            for x in e.ids:
                if x in offload.seen or x not in by_id:
                    continue
                offload.seen.add(x)
                m, added = by_id[x]
                text = m.content or " ".join(f"{c.name}({c.arguments})" for c in m.tool_calls)
                if not text.strip():
                    continue
                records.append(
                    {
                        "id": f"{offload.session}:{m.id}",
                        "text": text,
                        "speaker": m.name or m.role,
                        "session": offload.session,
                        "time": _iso(added),
                        "metadata": {"message": m.id, "role": m.role},
                    }
                )
        if records:
            offload.memory.add_many(records)

    def recall(self, query: str, k: int = 5) -> list[Any]:
        """Searches what was offloaded (needs an :class:`Offload` policy)."""
        if self._offload is None:
            raise InvalidInputError("recall needs an Offload(memory) policy")
        self.render()
        return list(self._offload.memory.search(query, k, session=self._offload.session))


def _chatml_content(segment: str) -> str:
    body = segment.split("\n", 1)[1]
    return body[: -len("<|im_end|>\n")]


def _iso(seconds: float) -> str:
    from datetime import UTC, datetime

    return datetime.fromtimestamp(seconds, tz=UTC).isoformat()
