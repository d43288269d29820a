"""Chain-of-Agents planning and running, with a fake llm that records what it was sent: every
prompt fits the window exactly (tiktoken is the oracle), windows cover the input in order, and
each worker sees the previous worker's (capped) message."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import corpus
import ctxengine
from pack_support import encoding, tokenizer


def openai_count(messages: list[dict[str, str]]) -> int:
    enc = encoding()
    return 3 + sum(
        3 + len(enc.encode_ordinary(m["role"])) + len(enc.encode_ordinary(m["content"]))
        for m in messages
    )


def long_text() -> str:
    return "\n\n".join(t for _, t in corpus.english_prose(6))[:120_000]


class FakeLLM:
    """Answers every call with a long reply naming the call, and records the messages."""

    def __init__(self, words: int) -> None:
        self.words = words
        self.sent: list[list[dict[str, str]]] = []

    def __call__(self, messages: list[dict[str, str]]) -> str:
        self.sent.append(messages)
        return f"reply {len(self.sent)}: " + "evidence " * self.words


@settings(max_examples=12)
@given(
    window=st.integers(600, 12_000),
    message_tokens=st.integers(1, 600),
    words=st.integers(0, 2000),
    impl=st.sampled_from(["tiktoken", "ctxengine"]),
)
def test_every_prompt_fits_the_window(
    window: int, message_tokens: int, words: int, impl: str
) -> None:
    text = long_text()[: window * 12]
    query = "Which functions are described, and what do they return?"
    try:
        plan = ctxengine.plan_chain(
            text,
            query,
            window=window,
            reserve_output=100,
            message_tokens=message_tokens,
            tokenizer=tokenizer(impl=impl),
        )
    except ctxengine.BudgetError as exc:
        assert "leaves" in str(exc)
        return
    # Windows cover the input in order (only whitespace between them) and fit their budget.
    pos = 0
    for w in plan.windows:
        assert text[pos : w.start].strip() == ""
        assert text[w.start : w.end] == w.text and 0 < w.tokens <= plan.window_tokens
        assert w.tokens == len(encoding().encode_ordinary(w.text))
        pos = w.end
    assert text[pos:].strip() == ""
    llm = FakeLLM(words)
    result = ctxengine.run_chain(plan, llm)
    assert len(llm.sent) == len(plan.windows) + 1
    assert result.answer.startswith(f"reply {len(llm.sent)}")
    for sent, call in zip(llm.sent, result.calls, strict=True):
        assert call.messages == sent
        assert call.tokens == openai_count(sent) <= window - 100
    for i, w in enumerate(plan.windows):
        user = llm.sent[i][-1]["content"]
        assert w.text in user
        if i > 0:  # the previous reply, capped to message_tokens, is passed along
            previous = result.messages[i - 1]
            assert previous in user and (f"reply {i}: " + "evidence " * words).startswith(previous)
            assert len(encoding().encode_ordinary(previous)) <= message_tokens
    assert result.messages[-1] in llm.sent[-1][-1]["content"]
    assert llm.sent[-1][0]["content"] == plan.manager_instructions


def test_plan_by_model_name_and_errors() -> None:
    text = long_text()[:50_000]
    plan = ctxengine.plan_chain(text, "q", window="gpt-4", tokenizer=tokenizer(), reserve_output=0)
    assert plan.limit == 8192 and len(plan.windows) >= 2
    with pytest.raises(ctxengine.BudgetError, match="leaves"):
        ctxengine.plan_chain(text, "q", window=300, tokenizer=tokenizer())
    with pytest.raises(ctxengine.InvalidInputError, match="window"):
        ctxengine.plan_chain(text, "q", tokenizer=tokenizer())
    with pytest.raises(ctxengine.InvalidInputError, match="message_tokens"):
        ctxengine.plan_chain(text, "q", window=4000, message_tokens=0, tokenizer=tokenizer())
    plan = ctxengine.plan_chain("short text.", "q", window=4000, tokenizer=tokenizer())
    assert [w.text for w in plan.windows] == ["short text."]
    with pytest.raises(ctxengine.InvalidInputError, match="must return a str"):
        ctxengine.run_chain(plan, lambda messages: None)  # type: ignore[arg-type, return-value]
