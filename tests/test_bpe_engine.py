"""The BPE engine against the pure-Python references in tok_reference.py: tiktoken ranks on the
real cl100k vocabulary, and HF merge lists on random vocabularies (also checked against HF
tokenizers' BPE model). Pieces above 128 bytes take the heap path; both paths are covered."""

from __future__ import annotations

import random

import pytest
from hypothesis import given
from hypothesis import strategies as st
from tokenizers import Tokenizer as HFTokenizer
from tokenizers import models

import ctxengine
import tok_oracles
import tok_reference

pieces = st.one_of(
    st.binary(min_size=1, max_size=300),
    st.lists(
        st.sampled_from([b"a", b"b", b"ab", b" ", b"\xe4\xb8", b"\xad", b"the"]),
        min_size=1,
        max_size=120,
    ).map(b"".join),
)


@pytest.fixture(scope="module")
def cl100k() -> ctxengine.Tokenizer:
    return ctxengine.get_tokenizer("cl100k_base")


@given(piece=pieces)
def test_ranks_engine_matches_reference(cl100k: ctxengine.Tokenizer, piece: bytes) -> None:
    ranks = tok_oracles.ranks("cl100k_base")
    assert cl100k._core.encode_piece(piece).tolist() == tok_reference.bpe_ranks(ranks, piece)


def test_ranks_engine_on_long_pieces(cl100k: ctxengine.Tokenizer) -> None:
    ranks = tok_oracles.ranks("cl100k_base")
    rng = random.Random(5)
    words = [t for t in list(ranks)[1000:3000] if t.isalpha()]
    for size in (129, 200, 500, 1500):
        piece = b"".join(rng.choice(words) for _ in range(size))[:size]
        assert cl100k._core.encode_piece(piece).tolist() == tok_reference.bpe_ranks(ranks, piece)
    assert cl100k._core.encode_piece(b"a" * 1000).tolist() == tok_reference.bpe_ranks(
        ranks, b"a" * 1000
    )


def random_merges(seed: int) -> tuple[dict[bytes, int], list[tuple[bytes, bytes]]]:
    """A byte-level vocabulary over all 256 bytes plus random merges of an 'abcd' alphabet,
    with a repeated merge (the later position wins, as in HF)."""
    rng = random.Random(seed)
    vocab = {bytes([b]): b for b in range(256)}
    merges: list[tuple[bytes, bytes]] = []
    tokens = [b"a", b"b", b"c", b"d"]
    while len(merges) < 60:
        a, b = rng.choice(tokens), rng.choice(tokens)
        if a + b in vocab or len(a + b) > 6:
            continue
        merges.append((a, b))
        vocab[a + b] = len(vocab)
        tokens.append(a + b)
    merges.append(merges[3])
    return vocab, merges


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("ignore_merges", [False, True])
def test_merges_engine_matches_reference_and_hf(seed: int, ignore_merges: bool) -> None:
    vocab, merges = random_merges(seed)
    ids = {t: i for t, i in vocab.items()}
    tok = ctxengine._core.tokenizer.BpeTokenizer.from_vocab(
        "toy",
        list(vocab.items()),
        [(ids[a], ids[b]) for a, b in merges],
        ignore_merges,
        "cl100k_base",
        [],
        "toy vocabulary",
    )
    hf = HFTokenizer(
        models.BPE(
            vocab={t.decode("latin-1"): i for t, i in vocab.items()},
            merges=[(a.decode(), b.decode()) for a, b in merges],
            ignore_merges=ignore_merges,
        )
    )
    rng = random.Random(seed)
    for _ in range(300):
        piece = bytes(rng.choice(b"abcd") for _ in range(rng.randrange(1, 200)))
        expected = tok_reference.bpe_merges(vocab, merges, piece, ignore_merges)
        assert tok.encode_piece(piece).tolist() == expected, piece
        assert hf.encode(piece.decode()).ids == expected, piece


def test_merges_engine_rejects_bad_input() -> None:
    vocab = [(bytes([b]), b) for b in range(256)]
    make = ctxengine._core.tokenizer.BpeTokenizer.from_vocab
    with pytest.raises(ctxengine.FormatError, match="not in the vocabulary"):
        make("toy", vocab, [(97, 98)], False, "cl100k_base", [], "toy.json")
    with pytest.raises(ctxengine.FormatError, match="byte 0 is not a token"):
        make("toy", vocab[1:], [], False, "cl100k_base", [], "toy.json")
    with pytest.raises(ctxengine.FormatError, match="same bytes"):
        make("toy", [*vocab, (b"a", 300)], [], False, "cl100k_base", [], "toy.json")
    with pytest.raises(ctxengine.UnsupportedError, match="look-behind"):
        make("toy", vocab, [], False, r"(?<=a)\w+", [], "toy.json")
    assert make("toy", vocab, [], False, r"\w+", [], "toy.json").pretokenizer == "custom"
