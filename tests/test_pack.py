"""ctxengine.pack against real oracles: the prompt's count is tiktoken's count of what is sent
(text, ChatML, OpenAI messages), never above the budget; sources are distinct chunks whose
offsets reconstruct the documents; citations map to the right places."""

from __future__ import annotations

import re
from functools import cache

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import corpus
import ctxengine
from ctxengine.packing.pack import DEFAULT_INSTRUCTIONS
from pack_support import Hit, StandInIndex, encoding, tokenizer

QUERIES = [
    "how do I sort a list of dictionaries by a key",
    "what does the with statement do",
    "unicode strings and bytes encoding errors",
    "thread safety of the logging module",
    "東京",
]


@cache
def documents() -> dict[str, str]:
    docs = dict(corpus.english_prose(12))
    docs.update({name: text[:6000] for name, text in corpus.cjk_texts()[:2]})
    docs.update({name: text[:6000] for name, text in corpus.message_catalogs()[:40:10]})
    return docs


IMPLS = ["tiktoken", "ctxengine"]  # the tiktoken stand-in and ctxengine's own tokenizer


@cache
def index(chat: bool = False, impl: str = "tiktoken") -> StandInIndex:
    return StandInIndex(documents(), tokenizer(chat=chat, impl=impl), max_tokens=96)


def oracle_count(packed: ctxengine.Packed) -> int:
    """What the backend counts, computed with tiktoken from the packed messages."""
    enc = encoding("cl100k_base", chat=packed.format == "chatml")
    if packed.format == "text":
        return len(enc.encode_ordinary(packed.text))
    if packed.format == "openai":
        return 3 + sum(
            3 + len(enc.encode_ordinary(m["role"])) + len(enc.encode_ordinary(m["content"]))
            for m in packed.messages
        )
    if packed.format == "anthropic":
        system = len(enc.encode_ordinary(packed.system)) if packed.system else 0
        return system + sum(len(enc.encode_ordinary(m["content"])) for m in packed.messages)
    assert packed.format == "chatml"
    expected = "".join(
        f"<|im_start|>{m['role']}\n{m['content']}<|im_end|>\n" for m in packed.messages
    )
    assert packed.text == expected + "<|im_start|>assistant\n"
    return len(enc.encode(packed.text, allowed_special="all"))


def check_sources(packed: ctxengine.Packed, docs: dict) -> None:
    """Distinct chunks, offsets that reconstruct the documents, citations in prompt order."""
    chunk_ids = [c for s in packed.sources for c in s.chunk_ids]
    assert len(chunk_ids) == len(set(chunk_ids)), "a chunk appears twice"
    spans: dict = {}
    for s in packed.sources:
        assert docs[s.doc_id][s.start : s.end] == s.text
        for a, b in spans.get(s.doc_id, []):
            assert s.end <= a or b <= s.start, "two sources overlap"
        spans.setdefault(s.doc_id, []).append((s.start, s.end))
    content = packed.messages[-1]["content"]
    numbers = [s.number for s in packed.sources]
    if numbers and numbers[0] is not None:
        assert numbers == list(range(1, len(numbers) + 1))
        positions = []
        for s in packed.sources:
            at = content.find(f"[{s.number}]")
            assert at >= 0 and content.find(s.text, at) >= 0
            positions.append(at)
        assert positions == sorted(positions)
    for s in packed.sources:
        assert s.text in content


budgets = st.one_of(st.integers(40, 400), st.integers(400, 6000), st.integers(6000, 400_000))


@settings(max_examples=60)
@given(
    budget=budgets,
    fmt=st.sampled_from(["text", "chatml", "openai", "anthropic"]),
    order=st.sampled_from(["relevance", "position", "edges"]),
    citations=st.booleans(),
    query=st.sampled_from(QUERIES),
    neighbors=st.integers(0, 2),
    impl=st.sampled_from(IMPLS),
)
def test_tokens_are_exact_and_within_budget(
    budget: int, fmt: str, order: str, citations: bool, query: str, neighbors: int, impl: str
) -> None:
    idx = index(chat=fmt == "chatml", impl=impl)
    try:
        packed = ctxengine.pack(
            query,
            idx,
            budget,
            format=fmt,
            order=order,
            citations=citations,
            neighbors=neighbors,
            tokenizer=idx.tokenizer,
        )
    except ctxengine.BudgetError as exc:
        needed = int(re.search(r"needs (\d+) tokens", str(exc)).group(1))  # type: ignore[union-attr]
        assert needed > budget
        return
    assert packed.tokens == oracle_count(packed)
    assert packed.tokens <= packed.available == budget
    check_sources(packed, documents())


@settings(max_examples=30)
@given(budget=budgets, query=st.sampled_from(QUERIES), impl=st.sampled_from(IMPLS), data=st.data())
def test_texts_with_scores_are_exact_and_within_budget(
    budget: int, query: str, impl: str, data
) -> None:
    docs = documents()
    names = data.draw(st.lists(st.sampled_from(sorted(docs)), min_size=1, max_size=6, unique=True))
    texts = [docs[n][:3000] for n in names]
    scores = data.draw(st.lists(st.floats(-5, 5), min_size=len(texts), max_size=len(texts)))
    tok = tokenizer(impl=impl)
    try:
        packed = ctxengine.pack(query, texts, budget, scores=scores, tokenizer=tok)
    except ctxengine.BudgetError:
        return
    assert packed.tokens == oracle_count(packed) <= budget
    check_sources(packed, dict(enumerate(texts)))


def test_too_small_budget_says_what_the_template_needs() -> None:
    tok = tokenizer()
    query = QUERIES[0]
    alone = len(encoding().encode_ordinary(f"{DEFAULT_INSTRUCTIONS}\n\nQuestion: {query}"))
    with pytest.raises(ctxengine.BudgetError, match=f"needs {alone} tokens"):
        ctxengine.pack(query, index(), alone - 1, tokenizer=tok)
    with pytest.raises(ctxengine.BudgetError, match=f"needs {alone} tokens"):
        ctxengine.pack(query, index(), alone + 99, reserve_output=100, tokenizer=tok)
    packed = ctxengine.pack(query, index(), alone, tokenizer=tok)  # the template exactly fits
    assert packed.tokens == alone and packed.sources == []
    with pytest.raises(ctxengine.BudgetError, match="reserve_output"):
        ctxengine.pack(query, index(), 100, reserve_output=101, tokenizer=tok)


def test_huge_budget_takes_every_chunk() -> None:
    tok = tokenizer()
    idx = index()
    hits = idx.search(QUERIES[0], k=10**6)
    expected = {h.chunk_id for h in hits}
    for h in hits:
        expected |= set(idx.neighbors(h.chunk_id, before=1, after=1))
    packed = ctxengine.pack(QUERIES[0], idx, 10**7, k=10**6, dedupe=None, tokenizer=tok)
    assert {c for s in packed.sources for c in s.chunk_ids} == expected
    assert packed.tokens == oracle_count(packed)
    texts = [t[:2000] for t in documents().values()]
    packed = ctxengine.pack(
        "q", texts, 10**7, scores=[1.0] * len(texts), dedupe=None, tokenizer=tok
    )
    assert sorted(s.doc_id for s in packed.sources) == list(range(len(texts)))
    assert not any(s.truncated for s in packed.sources)


def test_reserve_output_and_model_budgets() -> None:
    tok = tokenizer()
    packed = ctxengine.pack(QUERIES[1], index(), 3000, reserve_output=1000, tokenizer=tok)
    assert packed.available == 2000 and packed.tokens <= 2000
    assert packed.tokens > 1900  # the room is used (the last slot fills what chunks leave)
    packed = ctxengine.pack(QUERIES[1], index(), "gpt-4o", k=5)  # ctxengine's o200k_base
    assert (packed.budget, packed.reserve_output, packed.available) == (128_000, 16_384, 111_616)
    assert packed.model == "gpt-4o" and packed.tokens == len(
        encoding("o200k_base").encode_ordinary(packed.text)
    )
    with pytest.raises(ctxengine.BudgetError, match="context window of 8192"):
        ctxengine.pack(QUERIES[1], index(), 9000, model="gpt-4", tokenizer=tok)
    assert packed.tokenizer == "o200k_base"
    with pytest.raises(ctxengine.NotFoundError, match=r"tokenizer= the tokenizer\.json"):
        ctxengine.pack(QUERIES[1], index(), 8000, model="llama-3.1-8b")
    with pytest.raises(ctxengine.NotFoundError, match="unknown model"):
        ctxengine.pack(QUERIES[1], index(), "gpt-99", tokenizer=tok)


def hits_for_order() -> list[Hit]:
    tok = tokenizer()
    texts = [f"Passage number {i} talks about topic {i * 7} in some depth." for i in range(7)]
    return [
        Hit(f"d{i % 3}", i, float(10 - i), t, 100 * i, 100 * i + len(t), tok.count(t))
        for i, t in enumerate(texts)
    ]


@pytest.mark.parametrize("order", ["relevance", "position", "edges"])
def test_orders(order: str) -> None:
    packed = ctxengine.pack("topic", hits_for_order(), 5000, order=order, tokenizer=tokenizer())
    ids = [s.chunk_id for s in packed.sources]
    assert sorted(ids) == list(range(7))
    if order == "relevance":
        assert ids == list(range(7))
    elif order == "edges":
        # best first, second best last, third second, ...: the middle holds the weakest.
        assert ids == [0, 2, 4, 6, 5, 3, 1]
    else:
        assert ids == [0, 3, 6, 1, 4, 2, 5]  # documents d0, d1, d2 in first-seen order


def test_near_duplicates_are_dropped() -> None:
    tok = tokenizer()
    base = (
        documents()["bugs.rst.txt"][:1500]
        if "bugs.rst.txt" in documents()
        else (next(iter(documents().values()))[:1500])
    )
    texts = [base, base.upper(), base.replace(".", "!"), "Something else entirely, about cats."]
    packed = ctxengine.pack("q", texts, 10_000, scores=[4, 3, 2, 1], tokenizer=tok)
    assert [s.doc_id for s in packed.sources] == [0, 3]
    assert packed.stats["duplicates"] == 2
    kept = ctxengine.pack("q", texts, 10_000, scores=[4, 3, 2, 1], dedupe=None, tokenizer=tok)
    assert len(kept.sources) == 4


def test_max_per_doc() -> None:
    packed = ctxengine.pack(
        QUERIES[0], index(), 20_000, max_per_doc=2, neighbors=0, merge=False, tokenizer=tokenizer()
    )
    per_doc: dict = {}
    for s in packed.sources:
        per_doc[s.doc_id] = per_doc.get(s.doc_id, 0) + len(s.chunk_ids)
    assert per_doc and max(per_doc.values()) <= 2


def test_neighbours_are_merged_into_one_passage() -> None:
    tok = tokenizer()
    docs = documents()
    packed = ctxengine.pack(QUERIES[2], index(), 4000, neighbors=2, tokenizer=tok)
    merged = [s for s in packed.sources if len(s.chunk_ids) > 1]
    assert merged
    for s in merged:
        assert docs[s.doc_id][s.start : s.end] == s.text
        assert list(s.chunk_ids) == sorted(s.chunk_ids)
    unmerged = ctxengine.pack(QUERIES[2], index(), 4000, neighbors=2, merge=False, tokenizer=tok)
    assert all(len(s.chunk_ids) == 1 for s in unmerged.sources)
    check_sources(unmerged, docs)


@pytest.mark.parametrize("impl", IMPLS)
def test_last_slot_is_cut_at_a_sentence_boundary(impl: str) -> None:
    tok = tokenizer(impl=impl)
    docs = documents()
    seen = 0
    for budget in range(700, 3000, 173):
        packed = ctxengine.pack(QUERIES[1], index(impl=impl), budget, tokenizer=tok)
        for s in packed.sources:
            if not s.truncated:
                continue
            seen += 1
            doc = docs[s.doc_id]
            assert doc[s.start : s.end] == s.text
            assert re.search(r"[.!?…。！？][\"'”’»)\]]*$", s.text) or doc[s.end] == "\n", s.text
    assert seen > 0


def test_query_free_packing_takes_texts_in_order() -> None:
    tok = tokenizer()
    texts = [f"Paragraph {i}. " + "Some filler words here. " * 20 for i in range(30)]
    packed = ctxengine.pack("", texts, 800, tokenizer=tok, instructions="")
    ids = [s.doc_id for s in packed.sources]
    assert ids == list(range(len(ids))) and 0 < len(ids) < 30
    assert packed.tokens == oracle_count(packed) <= 800


def test_hits_and_templates() -> None:
    tok = tokenizer()
    packed = ctxengine.pack(
        "topic",
        hits_for_order(),
        5000,
        tokenizer=tok,
        template="Context:\n{sources}\n\nQ: {query}",
        source_template="<{n}|{doc_id}> {text}",
        instructions="Be brief.",
    )
    assert packed.text.startswith("Be brief.\n\nContext:\n<1|d0> Passage number 0")
    assert packed.text.endswith("\n\nQ: topic")
    assert packed.tokens == oracle_count(packed)
    with pytest.raises(ctxengine.InvalidInputError, match="sources"):
        ctxengine.pack("q", ["a"], 100, scores=[1], template="{query}", tokenizer=tok)
    with pytest.raises(ctxengine.InvalidInputError, match="source_template"):
        ctxengine.pack("q", ["a"], 100, scores=[1], source_template="{nope}", tokenizer=tok)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"format": "xml"}, "unknown format"),
        ({"order": "random"}, "unknown order"),
        ({"diversity": 2.0}, "diversity"),
        ({"dedupe": 0.0}, "dedupe"),
        ({"max_per_doc": 0}, "max_per_doc"),
        ({"k": 0}, "k must be"),
        ({"neighbors": -1}, "neighbors"),
        ({"budget": -5}, "budget must be"),
        ({"budget": 1.5}, "budget must be"),
        ({"scores": [1.0, 2.0]}, "scores has 2 entries"),
        ({"scores": [float("nan")]}, "finite"),
        ({"format": "hf"}, "chat template"),
    ],
)
def test_bad_options(kwargs: dict, message: str) -> None:
    args = {"budget": 500, "scores": [1.0], "tokenizer": tokenizer(), **kwargs}
    budget = args.pop("budget")
    with pytest.raises(ctxengine.InvalidInputError, match=message):
        ctxengine.pack("q", ["some text"], budget, **args)


def test_bad_sources() -> None:
    tok = tokenizer()
    with pytest.raises(ctxengine.InvalidInputError, match="source must be"):
        ctxengine.pack("q", 42, 500, tokenizer=tok)
    with pytest.raises(ctxengine.InvalidInputError, match="source must be"):
        ctxengine.pack("q", ["text", 3], 500, scores=[1, 2], tokenizer=tok)
    with pytest.raises(ctxengine.InvalidInputError, match="non-empty query"):
        ctxengine.pack("  ", index(), 500, tokenizer=tok)


def test_manifest() -> None:
    packed = ctxengine.pack(QUERIES[0], index(), 1500, tokenizer=tokenizer(), format="openai")
    d = packed.to_dict()
    assert d["tokens"] == packed.tokens and d["messages"] == packed.messages
    assert [s["number"] for s in d["sources"]] == [s.number for s in packed.sources]
    assert set(packed.timings) == {"search", "select", "render", "count"}
    assert packed.source(1) is packed.sources[0]
    with pytest.raises(KeyError):
        packed.source(999)
    assert "OpenAI" in packed.counted_as


# ---- with ctxengine.Index ---------------------------------------------------------------------


@cache
def real_index() -> ctxengine.Index:
    index = ctxengine.Index(max_tokens=96)  # ctxengine's cl100k_base
    docs = documents()
    index.add_many(list(docs.values()), list(docs), [{"title": f"doc {n}"} for n in docs])
    return index


@settings(max_examples=25)
@given(
    budget=budgets,
    fmt=st.sampled_from(["text", "openai"]),
    order=st.sampled_from(["relevance", "position", "edges"]),
    query=st.sampled_from(QUERIES[:4]),
)
def test_pack_from_an_index(budget: int, fmt: str, order: str, query: str) -> None:
    index = real_index()
    try:
        packed = ctxengine.pack(query, index, budget, format=fmt, order=order)
    except ctxengine.BudgetError:
        return
    assert packed.tokenizer == "cl100k_base"  # the index's tokenizer by default
    assert packed.tokens == oracle_count(packed) <= budget
    check_sources(packed, documents())
    for s in packed.sources:
        assert index.document(s.doc_id)[s.start : s.end] == s.text
        assert s.metadata["title"] == f"doc {s.doc_id}"


def test_pack_texts_through_a_temporary_index() -> None:
    tok = tokenizer()
    docs = documents()
    texts = [docs[n] for n in sorted(docs)[:6]]
    packed = ctxengine.pack(QUERIES[0], texts, 1500, tokenizer=tok, chunk_tokens=64)
    assert packed.tokens == oracle_count(packed) <= 1500
    check_sources(packed, dict(enumerate(texts)))
    assert all(isinstance(s.doc_id, int) for s in packed.sources)
    # One long text, without a query: its chunks in order, from the start.
    text = "\n".join(texts)
    packed = ctxengine.pack("", text, 900, tokenizer=tok, chunk_tokens=64, instructions="")
    assert packed.sources[0].start == 0
    starts = [s.start for s in packed.sources]
    assert starts == sorted(starts)
    assert packed.tokens == oracle_count(packed) <= 900
    check_sources(packed, {0: text})


def test_overlapping_chunks_merge_without_repeating_text() -> None:
    docs = documents()
    index = ctxengine.Index(max_tokens=64, overlap=16)
    names = sorted(docs)[:4]
    index.add_many([docs[n] for n in names], names)
    packed = ctxengine.pack(QUERIES[0], index, 3000, neighbors=2)
    assert any(len(s.chunk_ids) > 1 for s in packed.sources)
    check_sources(packed, docs)  # merged passages equal document[start:end]: no text twice
    assert packed.tokens == oracle_count(packed) <= 3000


def test_a_chunk_given_twice_is_packed_once() -> None:
    hits = hits_for_order()
    twice = [*hits, *hits[:3]]
    packed = ctxengine.pack("topic", twice, 5000, dedupe=None, tokenizer=tokenizer())
    assert sorted(s.chunk_id for s in packed.sources) == list(range(7))


def test_nasty_text_packs_exactly() -> None:
    """Lone surrogates, NUL bytes, special-token text, empty texts and CJK, with ctxengine's
    tokenizer: the count is still the tokenizer's count of the prompt."""
    tok = ctxengine.get_tokenizer("cl100k_base")
    docs = [
        "Lone \ud800 surrogate text. More words about lists.",
        "NUL\x00 bytes and <|endoftext|> in a document about lists.",
        "",
        "東京は日本の首都です。リストについて。",
    ]
    for kwargs in ({"scores": [3.0, 2.0, 1.0, 0.5]}, {}):
        packed = ctxengine.pack("lists", docs, 120, **kwargs)  # type: ignore[arg-type]
        assert packed.tokens == tok.count(packed.text) <= 120
        for s in packed.sources:
            assert docs[s.doc_id][s.start : s.end] == s.text
    fitted = ctxengine.fit("a\ud800b " * 100, 10)
    assert fitted.tokens == tok.count(fitted.text) <= 10


def test_hybrid_fusion_reaches_the_index() -> None:
    import numpy as np

    calls: list[dict] = []

    class Spy(ctxengine.Index):
        def search(self, *args, **kwargs):  # type: ignore[no-untyped-def]
            calls.append(kwargs)
            return super().search(*args, **kwargs)

    def embed(texts: list[str]) -> np.ndarray:  # bag of hashed words, deterministic
        out = np.zeros((len(texts), 64), dtype=np.float32)
        for i, t in enumerate(texts):
            for w in re.findall(r"\w+", t.lower()):
                out[i, sum(map(ord, w)) % 64] += 1
        return out

    index = Spy(max_tokens=96, embedder=embed)
    docs = documents()
    index.add_many(list(docs.values()), list(docs))
    for fusion in ("weighted", "rrf"):
        packed = ctxengine.pack("how do I read a file", index, 1500, mode="hybrid", fusion=fusion)
        assert calls[-1]["mode"] == "hybrid" and calls[-1]["fusion"] == fusion
        assert packed.sources and packed.tokens == oracle_count(packed) <= 1500
        check_sources(packed, docs)
    with pytest.raises(ctxengine.InvalidInputError, match="fusion"):
        ctxengine.pack("how do I read a file", index, 1500, mode="hybrid", fusion="sum")


def test_many_short_documents_fill_the_budget_in_one_search() -> None:
    """An index of chat-turn-sized documents (far below its max_tokens): pack asks for enough
    hits to fill the budget, from the index's mean chunk size, in one search; hits below
    MIN_RELATIVE_SCORE of the best are not candidates."""
    from corpus import english_prose
    from ctxengine.packing import _candidates

    calls: list[tuple] = []

    class Spy(ctxengine.Index):
        def search(self, *args, **kwargs):  # type: ignore[no-untyped-def]
            calls.append(args)
            return super().search(*args, **kwargs)

    turns = [
        s for _, t in english_prose(400) for s in re.split(r"(?<=\.)\s+", t) if 20 < len(s) < 200
    ]
    index = Spy(max_tokens=256)
    index.add_many(turns)
    assert index.mean_chunk_tokens < 60
    packed = ctxengine.pack("how do I read and write files", index, 4000)
    assert len(calls) == 1 and calls[0][1] >= 1.5 * 4000 / index.mean_chunk_tokens
    assert 3900 <= packed.tokens == oracle_count(packed) <= 4000
    hits = index.search("how do I read and write files", k=10_000)
    kept = {h.chunk_id for h in hits if h.score >= _candidates.MIN_RELATIVE_SCORE * hits[0].score}
    assert {s.chunk_id for s in packed.sources} <= kept | {None}
