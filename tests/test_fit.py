"""ctxengine.fit: a text cut to a token budget, exact to the token (tiktoken is the oracle)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import corpus
import ctxengine
from ctxengine.packing._tokenizer import fit_prefix, fit_suffix
from pack_support import encoding, tokenizer


def count(text: str) -> int:
    return len(encoding().encode_ordinary(text))


def texts() -> list[str]:
    return [t[:4000] for _, t in corpus.multilingual()[::7]][:20]


IMPLS = ["tiktoken", "ctxengine"]


def check(
    text: str, budget: int, strategy: str, marker: str = "", impl: str = "tiktoken"
) -> ctxengine.Fitted:
    tok = tokenizer(impl=impl)
    fitted = ctxengine.fit(text, budget, tokenizer=tok, strategy=strategy, marker=marker)
    assert fitted.tokens == count(fitted.text) <= budget
    if not fitted.truncated:
        assert fitted.text == text and count(text) <= budget
        return fitted
    pieces = [text[s:e] for s, e in fitted.spans]
    assert fitted.text == marker.join(pieces)
    (s, e) = fitted.spans[0]
    if strategy == "head":
        assert s == 0 and count(text[: e + 1]) > budget  # one more character does not fit
    elif strategy == "tail":
        assert e == len(text) and count(text[s - 1 :]) > budget
    elif strategy == "middle":
        # About as many tokens cut from each end; the end cannot reach one character further.
        assert e < len(text) and count(text[s : e + 1]) > budget
    else:
        (s2, e2) = fitted.spans[1]
        assert s == 0 and e <= s2 and e2 == len(text)
        # Both sides are used: the result is within a few tokens of the budget.
        assert fitted.tokens >= budget - 8 or count(text[: e + 1] + marker + text[s2:]) > budget
    return fitted


@settings(max_examples=80)
@given(
    st.integers(0, 19),
    st.integers(0, 1500),
    st.sampled_from(["head", "tail", "middle", "head_tail"]),
    st.sampled_from(["", "\n...\n"]),
    st.sampled_from(IMPLS),
)
def test_fit_on_real_text(i: int, budget: int, strategy: str, marker: str, impl: str) -> None:
    pool = texts()
    text = pool[i % len(pool)]
    if strategy == "head_tail" and marker and budget < count(marker):
        with pytest.raises(ctxengine.BudgetError, match="marker"):
            ctxengine.fit(text, budget, tokenizer=tokenizer(), strategy=strategy, marker=marker)
        return
    check(text, budget, strategy, marker, impl)


@settings(max_examples=60)
@given(
    st.text(max_size=300),
    st.integers(0, 80),
    st.sampled_from(["head", "tail", "middle", "head_tail"]),
    st.sampled_from(IMPLS),
)
def test_fit_on_generated_text(text: str, budget: int, strategy: str, impl: str) -> None:
    check(text, budget, strategy, impl=impl)


def test_head_tail_keeps_both_ends_like_longbench() -> None:
    text = "START " + "filler words. " * 2000 + " END"
    fitted = check(text, 200, "head_tail")
    assert fitted.text.startswith("START") and fitted.text.endswith("END")
    a, b = (count(text[s:e]) for s, e in fitted.spans)
    assert abs(a - b) <= 2  # about half each


@pytest.mark.parametrize("impl", IMPLS)
def test_fit_prefix_and_suffix_contract(impl: str) -> None:
    tok = tokenizer(impl=impl)
    for text in texts()[:6]:
        for limit in (0, 1, 7, 100, 10_000):
            e = fit_prefix(tok, text, limit)
            assert count(text[:e]) <= limit and (e == len(text) or count(text[: e + 1]) > limit)
            s = fit_suffix(tok, text, limit)
            assert count(text[s:]) <= limit and (s == 0 or count(text[s - 1 :]) > limit)


def test_fit_budget_by_model_and_errors() -> None:
    text = "word " * 100
    fitted = ctxengine.fit(text, "gpt-4", tokenizer=tokenizer(), reserve_output=8150)
    assert fitted.tokens <= 42 and fitted.truncated
    with pytest.raises(ctxengine.InvalidInputError, match="strategy"):
        ctxengine.fit(text, 10, tokenizer=tokenizer(), strategy="random")
    with pytest.raises(ctxengine.InvalidInputError, match="budget"):
        ctxengine.fit(text, -1, tokenizer=tokenizer())
    with pytest.raises(ctxengine.InvalidInputError, match="str"):
        ctxengine.fit(b"bytes", 10, tokenizer=tokenizer())  # type: ignore[arg-type]
    assert str(ctxengine.fit("", 0, tokenizer=tokenizer())) == ""
