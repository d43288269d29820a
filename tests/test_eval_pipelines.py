"""The named pipelines over ctxengine's own retrieval and packing: bm25, dense and hybrid pack
an index of the haystack; head/tail/middle/head_tail cut it with fit. Prompts stay within their
budget (counted by tiktoken), and a needle whose key is in the question is found by BM25."""

from __future__ import annotations

import numpy as np
import pytest

from ctxengine.evaluation import evaluate, evaluate_examples, get_pipeline
from ctxengine.evaluation.datasets import Example
from ctxengine.haystack import GoldSpan, generate
from eval_support import counter

CL100K = counter("cl100k_base")


def toy_embedder(texts: list[str]) -> np.ndarray:
    """A deterministic bag-of-hashed-words embedder: enough for dense search to run."""
    out = np.zeros((len(texts), 64), dtype=np.float32)
    for i, text in enumerate(texts):
        for word in text.lower().split():
            out[i, hash(word) % 64] += 1.0
    return out + 1e-3


@pytest.mark.parametrize("mode", ["bm25", "dense", "hybrid"])
def test_retrieval_pipelines_pack_within_budget(mode: str) -> None:
    report = evaluate(
        mode, tasks=["niah_single", "thread"], lengths=[6_000], depths=[0.0, 0.5, 1.0],
        budgets=[600, 2_000], tokenizer="cl100k_base", chunk_tokens=128,
        pipeline_options={"embedder": toy_embedder},
    )  # fmt: skip
    assert len(report.rows) == 2 * 3 * 2
    for row in report.rows:
        assert row.tokens is not None and row.tokens <= row.budget
        assert row.recall is not None
    if mode == "bm25":
        niah = [r for r in report.rows if r.task == "niah_single"]
        assert all(r.recall == 1.0 for r in niah)  # the key is in the question


def test_one_index_serves_bm25_dense_and_hybrid() -> None:
    pipelines = [
        get_pipeline(m, chunk_tokens=128, embedder=toy_embedder)
        for m in ("bm25", "dense", "hybrid")
    ]
    assert len({p.prepare_key() for p in pipelines}) == 1
    hs = generate("niah", 3_000, tokenizer="cl100k_base", depth=0.5)
    index = pipelines[0].prepare(hs.context)
    for p in pipelines:
        packed = p.prompt(index, hs.question, 800)
        assert CL100K.count(packed.text) <= packed.tokens <= 800


@pytest.mark.parametrize("strategy", ["head", "tail", "middle", "head_tail"])
def test_fit_pipelines_cut_to_the_budget(strategy: str) -> None:
    report = evaluate(
        strategy, lengths=[4_000], depths=[0.0, 1.0], budgets=[1_000], tokenizer="cl100k_base"
    )
    for row in report.rows:
        assert row.tokens is not None and row.tokens <= 1_000
    found = {r.depth: r.recall for r in report.rows}
    expect = {"head": (1.0, 0.0), "tail": (0.0, 1.0), "middle": (0.0, 0.0), "head_tail": (1.0, 1.0)}
    assert (found[0.0], found[1.0]) == expect[strategy]


def test_dataset_prompts_at_a_budget_with_fit_and_pack() -> None:
    text = " ".join(f"Sentence number {i} is filler." for i in range(400))
    fact = "The treasure is buried under the old oak."
    context = text + " " + fact + " " + text
    at = context.index(fact)
    ex = Example("1", "loogle", context, "Where is the treasure buried?", ["under the old oak"],
                 evidence=[GoldSpan(at, at + len(fact), fact, "evidence")])  # fmt: skip
    report = evaluate_examples([ex], ["head_tail", "bm25"], budgets=[500], tokenizer="cl100k_base")
    by = {r.pipeline: r for r in report.rows}
    assert by["head_tail"].recall == 0.0 and by["bm25"].recall == 1.0
    assert all(r.tokens <= 500 for r in report.rows)


def test_a_named_embedder_is_loaded_once_and_one_index_per_haystack(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import ctxengine.retrieval

    loads: list[str] = []
    monkeypatch.setattr(
        ctxengine.retrieval, "get_embedder", lambda name: loads.append(name) or toy_embedder
    )
    built: list[object] = []
    real = ctxengine.retrieval.Index

    class Counting(real):  # type: ignore[misc, valid-type]
        def __init__(self, *args: object, **kwargs: object) -> None:
            built.append(self)
            super().__init__(*args, **kwargs)

    monkeypatch.setattr(ctxengine.retrieval, "Index", Counting)
    report = evaluate(["bm25", "dense", "hybrid"], lengths=[2_000], depths=[0.0, 1.0],
                      budgets=[500], tokenizer="cl100k_base", chunk_tokens=128,
                      pipeline_options={"embedder": "toy"})  # fmt: skip
    assert loads == ["toy"]
    assert len(built) == 2  # one index per haystack, shared by the three modes
    assert len(report.rows) == 6
