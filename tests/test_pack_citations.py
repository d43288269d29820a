"""Citations: an answer's [n] markers checked against a pack's source map (numbers that exist,
offsets that reconstruct the cited documents), and the model profiles behind budgets."""

from __future__ import annotations

import pytest

import ctxengine
from ctxengine.packing.citations import parse_citations
from pack_support import StandInIndex, tokenizer

DOCS = {
    "lists": "Lists are mutable sequences.\nThey can be sorted in place with list.sort().\n" * 3,
    "tuples": "Tuples are immutable sequences.\nThey are hashable when their items are.\n" * 3,
}


def packed() -> ctxengine.Packed:
    index = StandInIndex(DOCS, tokenizer(), max_tokens=20)
    return ctxengine.pack("are lists mutable or immutable", index, 400, tokenizer=tokenizer())


def test_parse_citations() -> None:
    assert parse_citations("a [1] b [2][3] c [4, 6] d [7-9] e [x] f [10–11]") == [
        1,
        2,
        3,
        4,
        6,
        7,
        8,
        9,
        10,
        11,
    ]
    assert parse_citations("no citations, [] or [a]") == []


def test_check_citations_against_a_pack() -> None:
    p = packed()
    n = len(p.sources)
    assert n >= 2
    answer = f"Lists are mutable sequences [1]. Tuples are not [2][{n + 5}]. Done."
    check = ctxengine.check_citations(answer, p, documents=DOCS)
    assert check.cited == (1, 2, n + 5)
    assert check.valid == (1, 2) and check.unknown == (n + 5,)
    assert check.uncited == tuple(range(3, n + 1))
    assert not check.ok and not check.mismatched
    assert [s.numbers for s in check.sentences] == [(1,), (2, n + 5)]
    good = ctxengine.check_citations("Lists are mutable sequences [1].", p, documents=DOCS)
    assert good.ok and good.sources[1] is p.source(1)
    support = good.sentences[0].support
    assert 0 <= support <= 1
    # A source whose offsets no longer match its document is reported.
    moved = {k: "x" + v for k, v in DOCS.items()}
    assert ctxengine.check_citations("See [1].", p, documents=moved).mismatched == (1,)
    assert ctxengine.check_citations("See [1].", p.sources, documents=moved.get).mismatched == (1,)


def test_check_citations_bad_input() -> None:
    with pytest.raises(ctxengine.InvalidInputError):
        ctxengine.check_citations(None, [])  # type: ignore[arg-type]
    with pytest.raises(ctxengine.InvalidInputError):
        ctxengine.check_citations("x", 5)
    assert not ctxengine.check_citations("no citations", packed()).ok


def test_model_profiles() -> None:
    gpt4o = ctxengine.get_model("gpt-4o")
    assert (gpt4o.tokenizer, gpt4o.context_window, gpt4o.max_output) == (
        "o200k_base",
        128_000,
        16_384,
    )
    assert ctxengine.get_model("OpenAI/GPT-4o-mini").name == "gpt-4o-mini"
    assert ctxengine.get_model("gpt-3.5-turbo").tokenizer == "cl100k_base"
    llama = ctxengine.get_model("meta-llama/Llama-3.1-8B-Instruct")
    assert (
        llama.name == "llama-3.1-8b" and llama.tokenizer is None and llama.context_window == 131_072
    )
    assert llama.default_reserve == 4096
    for profile in ctxengine.packing.models():
        assert profile.source.startswith("https://")
        assert profile.context_window > 0
        assert profile.tokenizer in (None, "cl100k_base", "o200k_base")
        assert profile.tokenizer or "tokenizer=" in profile.tokenizer_hint
    with pytest.raises(ctxengine.NotFoundError, match="unknown model"):
        ctxengine.get_model("no-such-model")
