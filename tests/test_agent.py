"""ctxengine.agent.ContextManager under generated agent traces: after every step the request
is counted again with tiktoken in each format and must equal ``.tokens`` and fit
``budget - reserve``; system, pinned and latest user messages stay; tool calls and results stay
or go together; ``.edits`` account for every token between the whole history and what is
sent, and the messages sent are the history with exactly those edits."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agent_oracle import request_tokens
from corpus import english_prose
from ctxengine.agent import (
    ClearThinking,
    ClearToolResults,
    Compact,
    ContextManager,
    Offload,
)
from ctxengine.agent.manager import SUMMARY_HEADER
from ctxengine.errors import BudgetError, InvalidInputError
from ctxengine.memory import Memory
from tiktoken_oracle import encoding

ENC = encoding("cl100k_base")
WORDS = " ".join(t for _, t in english_prose(max_files=6)).split()


def words(seed: int, n: int) -> str:
    start = (seed * 7919) % max(1, len(WORDS) - n - 1)
    return " ".join(WORDS[start : start + n]) or "ok"


def count(s: str) -> int:
    return len(ENC.encode(s, disallowed_special=()))


def oracle_tokens(r: Any) -> int:
    """The request counted from scratch with tiktoken, by the documented rules."""
    if r.format == "chatml":
        return len(ENC.encode(r.text, allowed_special="all"))
    return request_tokens(count, r.format, r.messages, r.system, r.text)


def full_history_tokens(cm: ContextManager, fmt: str) -> int:
    """What the whole history costs: a manager with room for everything, no policies."""
    big = ContextManager(budget=10**9, policies=[], format=fmt)
    for m in cm.history:
        big.add(
            m.role,
            m.content,
            tool_calls=[c.to_openai() for c in m.tool_calls] or None,
            tool_call_id=m.tool_call_id,
            name=m.name,
            pinned=m.pinned,
        )
    return oracle_tokens(big.render())


def check(cm: ContextManager, fmt: str) -> None:
    try:
        r = cm.render(fmt)
    except BudgetError:
        # only when what must stay cannot fit on its own
        keep = ContextManager(budget=10**9, policies=[], format=fmt)
        latest = cm.latest_user_id()
        groups = _groups(cm)
        must = {
            g
            for m in cm.history
            if m.role == "system" or m.pinned or m.id == latest
            for g in [groups[m.id]]
        }
        for m in cm.history:
            if groups[m.id] in must:
                calls = [c.to_openai() for c in m.tool_calls] or None
                keep.add(
                    m.role, m.content, tool_calls=calls, tool_call_id=m.tool_call_id, name=m.name
                )
        assert oracle_tokens(keep.render()) > cm.available
        return
    assert r.tokens == oracle_tokens(r) <= cm.available
    history = {m.id: m for m in cm.history}
    sent = set(r.sent)
    latest = cm.latest_user_id()
    for m in cm.history:
        if m.role == "system" or m.pinned or m.id == latest:
            assert m.id in sent, m
    # tool calls and results together: a result's call is sent, and a sent call's result
    calls = {c.id: m.id for m in cm.history for c in m.tool_calls}
    for m in cm.history:
        if m.role == "tool":
            assert (m.id in sent) == (calls[m.tool_call_id] in sent), m.id
    # edits: every token between the whole history and what is sent
    assert r.full_tokens == full_history_tokens(cm, fmt)
    assert r.full_tokens - sum(e.tokens for e in r.edits) == r.tokens
    compacted = {x for e in r.edits if e.kind == "compact" for x in e.ids}
    dropped = {x for e in r.edits if e.kind == "drop" for x in e.ids}
    hidden = {x for e in r.edits if e.kind == "clear_thinking" for x in e.ids}
    for m in cm.history:
        assert (m.id in sent) == (m.id not in compacted | dropped | hidden), m.id
    if fmt == "openai":  # the messages are the history with exactly these edits
        cleared = {x for e in r.edits if e.kind == "clear_tool_result" for x in e.ids}
        inputs = {x for e in r.edits if e.kind == "clear_tool_input" for x in e.ids}
        expected = []
        for x in r.sent:
            if x not in history:  # a summary
                assert x.startswith("s")
                expected.append(None)
                continue
            m = history[x]
            if m.role == "thinking":
                continue
            out: dict[str, Any] = {"role": m.role, "content": m.content}
            if x in cleared:
                assert m.role == "tool"
                out["content"] = next(
                    e for e in r.messages if e.get("tool_call_id") == m.tool_call_id
                )["content"]
                assert out["content"].startswith("[tool result cleared")
            if m.name:
                out["name"] = m.name
            if m.tool_calls:
                out["tool_calls"] = [c.to_openai() for c in m.tool_calls]
                if x in inputs:
                    for c in out["tool_calls"]:
                        c["function"]["arguments"] = "{}"
            if m.tool_call_id:
                out["tool_call_id"] = m.tool_call_id
            expected.append(out)
        assert len(expected) == len(r.messages)
        for want, got in zip(expected, r.messages, strict=True):
            if want is None:
                assert got["role"] == "user" and got["content"].startswith(SUMMARY_HEADER)
            else:
                assert got == want


def _groups(cm: ContextManager) -> dict[str, int]:
    out: dict[str, int] = {}
    call_group: dict[str, int] = {}
    g = -1
    prev = None
    for m in cm.history:
        if m.role == "tool":
            out[m.id] = call_group[m.tool_call_id]  # type: ignore[index]
        elif m.role == "assistant" and prev is not None and prev.role == "thinking":
            out[m.id] = out[prev.id]
        else:
            g += 1
            out[m.id] = g
        for c in m.tool_calls:
            call_group[c.id] = out[m.id]
        prev = m
    return out


step = st.one_of(
    st.tuples(st.just("user"), st.integers(1, 60), st.booleans()),
    st.tuples(st.just("assistant"), st.integers(1, 80), st.just(False)),
    st.tuples(st.just("thinking"), st.integers(1, 120), st.just(False)),
    st.tuples(st.just("tools"), st.integers(1, 3), st.integers(0, 400)),
)
policy_sets = st.sampled_from(["default", "none", "clear", "compact", "all"])


def make_policies(kind: str, memory: Memory | None) -> list[Any] | None:
    if kind == "default":
        return None
    if kind == "none":
        return []
    if kind == "clear":
        return [
            ClearToolResults(keep=1, clear_inputs=True, exclude_tools=["search"]),
            ClearThinking(keep=0, trigger=0),
        ]
    if kind == "compact":
        return [Compact(target_tokens=40)]
    assert memory is not None
    return [ClearThinking(), ClearToolResults(keep=2, trigger=200), Compact(), Offload(memory)]


@settings(max_examples=60)
@given(
    st.lists(step, min_size=1, max_size=30),
    st.integers(60, 2500),
    st.integers(0, 100),
    st.sampled_from(["openai", "anthropic", "chatml"]),
    policy_sets,
    st.integers(0, 10**6),
)
def test_generated_traces_keep_every_invariant_at_every_step(
    steps: list[Any], budget: int, reserve: int, fmt: str, policies: str, seed: int
) -> None:
    memory = Memory() if policies == "all" else None
    cm = ContextManager(
        budget=budget,
        reserve=min(reserve, budget - 1),
        format=fmt,
        policies=make_policies(policies, memory),
    )
    cm.add("system", words(seed, 12))
    calls = 0
    for i, (kind, a, b) in enumerate(steps):
        if kind == "user":
            cm.add("user", words(seed + i, a), pinned=b and i % 3 == 0)
        elif kind == "assistant":
            cm.add("assistant", words(seed + i, a))
        elif kind == "thinking":
            cm.add("thinking", words(seed + i, a))
        else:
            ids = [f"call_{calls + j}" for j in range(a)]
            calls += a
            cm.add(
                "assistant",
                words(seed + i, 5) if i % 2 else "",
                tool_calls=[
                    {
                        "id": c,
                        "type": "function",
                        "function": {
                            "name": ["search", "read", "run"][j % 3],
                            "arguments": json.dumps({"q": words(seed + j, 4)}),
                        },
                    }
                    for j, c in enumerate(ids)
                ],
            )
            check(cm, fmt)  # calls waiting for results
            for j, c in enumerate(ids):
                cm.add("tool", words(seed + i + j, b), tool_call_id=c, name=None)
        check(cm, fmt)
        if i % 7 == 0:  # the other formats of the same state
            for other in ("openai", "anthropic", "chatml"):
                check(cm, other)
    if memory is not None:
        try:
            edits = cm.render(fmt).edits
        except BudgetError:
            edits = []
        offloaded = {x for e in edits if e.kind != "clear_tool_input" for x in e.ids}
        for x in offloaded:
            m = next((m for m in cm.history if m.id == x), None)
            if m is not None and m.content.strip():
                assert memory.get(f"{cm.policies[-1].session}:{x}").text == m.content  # type: ignore[attr-defined]
        memory.close()


def test_a_long_tool_using_trace_in_every_format() -> None:
    for fmt in ("openai", "anthropic", "chatml"):
        with Memory() as memory:
            cm = ContextManager(
                budget=1500, reserve=200, format=fmt, policies=[*_defaults(), Offload(memory)]
            )
            cm.add("system", "You are a coding agent. " + words(1, 30))
            cm.add("user", "Fix the failing test in the parser module.", pinned=True)
            for i in range(60):
                cm.add("thinking", words(i, 40))
                arguments = json.dumps({"path": f"f{i}.py"})
                call = {"id": f"c{i}", "function": {"name": "read", "arguments": arguments}}
                cm.add("assistant", "", tool_calls=[call])
                cm.add("tool", words(i * 3, 150), tool_call_id=f"c{i}")
                if i % 10 == 9:
                    cm.add("user", f"Status after step {i}? " + words(i, 10))
                check(cm, fmt)
            kinds = {e.kind for e in cm.edits}
            assert "compact" in kinds or "clear_tool_result" in kinds
            hits = cm.recall(words(0 * 3, 150)[:200], 3)
            assert hits and hits[0].session == cm.policies[-1].session  # type: ignore[attr-defined]


def _defaults() -> list[Any]:
    return [ClearThinking(), ClearToolResults(), Compact()]


def test_formats_convert_tool_calls() -> None:
    cm = ContextManager(budget=1000, policies=[])
    cm.add("system", "sys")
    cm.add("user", "weather in Paris?")
    cm.add("thinking", "I should call the tool.")
    cm.add(
        "assistant",
        "Let me check.",
        tool_calls=[
            {
                "id": "c1",
                "type": "function",
                "function": {"name": "weather", "arguments": '{"city": "Paris"}'},
            }
        ],
    )
    cm.add("tool", "18 C, sunny", tool_call_id="c1")
    a = cm.render("anthropic")
    assert a.system == "sys"
    assert a.messages == [
        {"role": "user", "content": [{"type": "text", "text": "weather in Paris?"}]},
        {
            "role": "assistant",
            "content": [
                {"type": "thinking", "thinking": "I should call the tool."},
                {"type": "text", "text": "Let me check."},
                {"type": "tool_use", "id": "c1", "name": "weather", "input": {"city": "Paris"}},
            ],
        },
        {
            "role": "user",
            "content": [{"type": "tool_result", "tool_use_id": "c1", "content": "18 C, sunny"}],
        },
    ]
    o = cm.messages("openai")
    assert [m["role"] for m in o] == ["system", "user", "assistant", "tool"]
    c = cm.render("chatml")
    assert (
        '<tool_call>\n{"name": "weather", "arguments": {"city": "Paris"}}\n</tool_call>' in c.text
    )
    assert "<think>\nI should call the tool.\n</think>" in c.text and c.text.endswith(
        "<|im_start|>assistant\n"
    )


def test_the_count_is_packs_count_for_packs_messages() -> None:
    import ctxengine

    texts = ["A list is a mutable sequence.", "A tuple is an immutable sequence."]
    for fmt in ("openai", "anthropic", "chatml"):
        packed = ctxengine.pack("what is a list?", texts, 400, scores=[2.0, 1.0], format=fmt)
        cm = ContextManager(budget=400, policies=[], format=fmt)
        system = packed.system if fmt == "anthropic" else packed.messages[0]["content"]
        cm.add("system", system)
        cm.add("user", packed.messages[-1]["content"])
        assert cm.tokens == packed.tokens


def test_bad_input_is_refused() -> None:
    cm = ContextManager(budget=100)
    with pytest.raises(InvalidInputError, match="role"):
        cm.add("robot", "hi")
    with pytest.raises(InvalidInputError, match="tool_call_id"):
        cm.add("tool", "result", tool_call_id="nope")
    cm.add("assistant", "", tool_calls=[{"id": "a", "function": {"name": "f", "arguments": "{}"}}])
    with pytest.raises(InvalidInputError, match="waiting"):
        cm.add("user", "hello?")
    cm.add("tool", "done", tool_call_id="a")
    with pytest.raises(InvalidInputError, match="unique"):
        cm.add("assistant", "", tool_calls=[{"id": "a", "function": {"name": "f"}}])
    with pytest.raises(InvalidInputError, match="only assistant"):
        cm.add("user", "x", tool_calls=[{"id": "b", "function": {"name": "f"}}])
    with pytest.raises(BudgetError, match="reserve"):
        ContextManager(budget=100, reserve=100)
    with pytest.raises(InvalidInputError, match="format"):
        cm.render("xml")
    big = ContextManager(budget=50)
    big.add("user", words(3, 200))
    with pytest.raises(BudgetError, match="latest user message"):
        big.render()
