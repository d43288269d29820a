"""The packing core (csrc/pack) against its plain-Python reference: MinHash sketches, their
Jaccard estimates, and the greedy selection, on real text and generated input."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import corpus
from ctxengine._native import core
from ctxengine.errors import InvalidInputError
from ctxengine.packing import _reference as ref
from ctxengine.packing import _select

K, W = 16, 3


def native_sketches(texts: list[str], k: int = K, shingle: int = W, threads: int = 0) -> np.ndarray:
    data = [t.encode("utf-8", "surrogatepass") for t in texts]
    offsets = np.zeros(len(data) + 1, dtype=np.int64)
    np.cumsum([len(d) for d in data], out=offsets[1:])
    return core.pack.minhash_sketches(b"".join(data), offsets, k, shingle, threads)


def real_texts(limit: int = 60, size: int = 1500) -> list[str]:
    texts = []
    for _, text in corpus.multilingual():
        texts.extend(text[i : i + size] for i in range(0, min(len(text), 3 * size), size))
    return texts[:: max(1, len(texts) // limit)][:limit]


def test_sketches_equal_reference_on_real_text() -> None:
    texts = real_texts()
    native = native_sketches(texts, 64, 3)
    for text, row in zip(texts, native, strict=True):
        assert np.array_equal(row, ref.minhash_sketch(text, 64, 3)), text[:80]


@settings(max_examples=60)
@given(st.lists(st.text(max_size=60), min_size=1, max_size=6), st.integers(1, 5))
def test_sketches_equal_reference_on_generated_text(texts: list[str], shingle: int) -> None:
    native = native_sketches(texts, K, shingle)
    for text, row in zip(texts, native, strict=True):
        assert np.array_equal(row, ref.minhash_sketch(text, K, shingle))


def test_sketches_do_not_depend_on_threads() -> None:
    texts = real_texts(200, 400)
    assert np.array_equal(native_sketches(texts, threads=1), native_sketches(texts, threads=2))


def test_units_split_words_and_cjk_characters() -> None:
    assert ref.units("Hello, World! x2 naïve") == ["Hello", "World", "x2", "naïve"]
    assert ref.units("東京タワー") == ["東", "京", "タ", "ワ", "ー"]
    # Native and reference agree that case and punctuation do not matter.
    a, b = native_sketches(["The Quick, brown fox.", "the quick brown FOX"])
    assert core.pack.sketch_jaccard(a, b) == 1.0


def exact_jaccard(a: str, b: str, shingle: int = W) -> float:
    """Jaccard of the shingle sets, from a sketch with one bin per possible hash prefix."""
    sa = set(ref.minhash_sketch(a, 1 << 16, shingle).tolist()) - {ref.EMPTY}
    sb = set(ref.minhash_sketch(b, 1 << 16, shingle).tolist()) - {ref.EMPTY}
    return len(sa & sb) / len(sa | sb) if sa and sb else 0.0


def test_jaccard_estimate_is_close_to_the_exact_value() -> None:
    texts = real_texts(40, 3000)
    errors = []
    for i in range(0, len(texts) - 1, 2):
        a = texts[i]
        b = a[: len(a) // 2] + texts[i + 1][: len(texts[i + 1]) // 2]
        sa, sb = native_sketches([a, b], 256, 3)
        est = core.pack.sketch_jaccard(sa, sb)
        assert est == ref.sketch_jaccard(sa, sb)
        errors.append(abs(est - exact_jaccard(a, b)))
    assert max(errors) < 0.2 and sum(errors) / len(errors) < 0.08
    a, b = native_sketches([texts[0], texts[0]], 64, 3)
    assert core.pack.sketch_jaccard(a, b) == 1.0


def test_empty_texts_share_nothing() -> None:
    sa, sb = native_sketches(["", "..."])
    assert (sa == ref.EMPTY).all()
    assert core.pack.sketch_jaccard(sa, sb) == 0.0 == ref.sketch_jaccard(sa, sb)


def random_problem(rng: np.random.Generator, n: int) -> dict:
    texts = real_texts(30, 300)
    pool = [texts[i] for i in rng.integers(0, len(texts), n)]
    for i in range(n):  # some near-duplicates
        if rng.random() < 0.2:
            pool[i] = pool[rng.integers(0, n)] + " extra words"
    anchor = np.full(n, -1, dtype=np.int32)
    for i in range(1, n):
        if rng.random() < 0.3:
            anchor[i] = rng.integers(0, i)
    return {
        "relevance": rng.uniform(0.01, 1.0, n),
        "cost": rng.integers(1, 400, n).astype(np.int64),
        "group": rng.integers(0, max(1, n // 3), n).astype(np.int32),
        "anchor": anchor,
        "sk": _select.sketches(pool),
    }


@settings(max_examples=80)
@given(
    st.integers(0, 40),
    st.integers(0, 2**32 - 1),
    st.integers(0, 5000),
    st.floats(0, 1),
    st.sampled_from([0.5, 0.8, 1.0, 2.0]),
    st.integers(0, 3),
    st.booleans(),
)
def test_select_equals_reference(
    n: int, seed: int, budget: int, diversity: float, dup: float, cap: int, density: bool
) -> None:
    p = random_problem(np.random.default_rng(seed), n)
    status, max_sim = np.zeros(n, dtype=np.int8), np.zeros(n)
    status_ref, max_sim_ref = status.copy(), max_sim.copy()
    args = (p["relevance"], p["cost"], p["group"], p["anchor"], p["sk"])
    kw = {
        "budget": budget,
        "diversity": diversity,
        "duplicate_threshold": dup,
        "max_per_group": cap,
        "by_density": density,
    }
    native = _select.select(*args, status, max_sim, **kw)
    reference = _select.select(*args, status_ref, max_sim_ref, **kw, impl="reference")
    assert native == reference
    assert np.array_equal(status, status_ref) and np.array_equal(max_sim, max_sim_ref)
    # Invariants: within budget, no duplicates chosen, caps kept, anchors first.
    assert p["cost"][native].sum() <= budget
    chosen = set(native)
    for pos, i in enumerate(native):
        if p["anchor"][i] >= 0:
            assert p["anchor"][i] in native[:pos]
    if cap:
        assert max(np.bincount(p["group"][native]).tolist() or [0]) <= cap
    # A second call with the room left continues from the first one's state.
    more = _select.select(*args, status, max_sim, **{**kw, "budget": budget // 2})
    more_ref = _select.select(
        *args, status_ref, max_sim_ref, **{**kw, "budget": budget // 2}, impl="reference"
    )
    assert more == more_ref and not (set(more) & chosen)
    assert np.array_equal(max_sim, max_sim_ref)
    # Redundancy carried over equals redundancy computed from scratch.
    picked = native + more
    for i in range(n):
        if status[i] == 0 or status[i] >= 3:
            sims = [ref.sketch_jaccard(p["sk"][i], p["sk"][j]) for j in picked]
            assert max_sim[i] == max(sims, default=0.0)


def test_select_first_pick_is_most_relevant_that_fits() -> None:
    rel = np.array([0.2, 1.0, 0.9])
    cost = np.array([1, 500, 10], dtype=np.int64)
    sk = _select.sketches(["a b c", "d e f", "g h i"])
    args = (rel, cost, np.zeros(3, np.int32), np.full(3, -1, np.int32), sk)
    status = np.zeros(3, np.int8)
    assert _select.select(
        *args,
        status,
        np.zeros(3),
        budget=600,
        diversity=0,
        duplicate_threshold=2,
        max_per_group=0,
        by_density=True,
    ) == [1, 0, 2]
    status = np.zeros(3, np.int8)
    # Without room for it, density decides among the rest.
    assert _select.select(
        *args,
        status,
        np.zeros(3),
        budget=100,
        diversity=0,
        duplicate_threshold=2,
        max_per_group=0,
        by_density=True,
    ) == [2, 0]
    assert status.tolist() == [1, 4, 1]


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("relevance", np.array([0.0]), "relevance"),
        ("relevance", np.array([np.nan]), "relevance"),
        ("cost", np.array([0], np.int64), "cost"),
        ("anchor", np.array([0], np.int32), "anchor"),
        ("group", np.array([-1], np.int32), "group"),
    ],
)
def test_select_rejects_bad_input(field: str, value: np.ndarray, message: str) -> None:
    args = {
        "relevance": np.array([0.5]),
        "cost": np.array([3], np.int64),
        "group": np.array([0], np.int32),
        "anchor": np.array([-1], np.int32),
    }
    args[field] = value
    with pytest.raises(InvalidInputError, match=message):
        core.pack.select_greedy(
            args["relevance"],
            args["cost"],
            args["group"],
            args["anchor"],
            _select.sketches(["x"]),
            np.zeros(1, np.int8),
            np.zeros(1),
            10,
            0.3,
            0.8,
            0,
        )
