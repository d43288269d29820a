"""The hand-written pre-tokenizer scanners against the regex engines they replace: tiktoken's
(fancy-regex over the regex crate, Unicode 16) running each pattern, and HF tokenizers' Split
pre-tokenizer (Oniguruma) for the tokenizer.json patterns (Llama 3, Qwen2, GPT-2)."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from tokenizers import Regex, pre_tokenizers

import corpus
import ctxengine
import tok_oracles
from ctxengine import _core

# scanner name -> the pattern strings that must select it
PATTERNS = {
    "cl100k_base": [tok_oracles.pattern("cl100k_base")],
    "o200k_base": [tok_oracles.pattern("o200k_base")],
    "r50k_base": [tok_oracles.pattern("r50k_base"), tok_oracles.GPT2_PATTERN],
    "llama3": [tok_oracles.LLAMA3_PATTERN],
    "qwen2": [tok_oracles.QWEN2_PATTERN],
}
OTHER = [(name, pat) for name, pats in PATTERNS.items() for pat in pats]
OTHER = [(n, p) for n, p in OTHER if n not in ("cl100k_base", "o200k_base")]

TRICKY = (
    list(" \t\n\r\x0b\x0c\x85\xa0\u2000\u2028\u3000")
    + list("'sStTdDmMlLvVeErRſ")
    + list("aZé\u01c5\u02b0中")
    + list("\u0301\u0903")
    + list("09٣²½")
    + list(".,-/()")
    + ["\U0001f600", "\u200d", "\x00"]
)
tricky_text = st.lists(st.sampled_from(TRICKY), max_size=40).map("".join)
any_text = st.text(st.characters(exclude_categories=["Cs"]), max_size=150)


def test_identify_pattern() -> None:
    for name, pats in PATTERNS.items():
        for pat in pats:
            assert ctxengine.tokenizer.identify_pattern(pat) == name
    for near_miss in [
        tok_oracles.LLAMA3_PATTERN + "|x",
        tok_oracles.pattern("cl100k_base").replace("{1,3}", "{1,4}"),
        r"\p{N}",
        "",
    ]:
        assert ctxengine.tokenizer.identify_pattern(near_miss) == "custom"


@pytest.fixture(scope="module")
def with_pattern(tmp_path_factory: pytest.TempPathFactory):
    """ctxengine over the cl100k ranks with another pattern, and tiktoken doing the same."""
    rank_file = tok_oracles.cl100k_path()

    def make(pat: str) -> tuple[ctxengine.Tokenizer, object]:
        ours = ctxengine.get_tokenizer(rank_file, pattern=pat, special_tokens={})
        return ours, tok_oracles.with_pattern(pat)

    return make


@pytest.mark.parametrize(("name", "pat"), OTHER, ids=[f"{n}-{i}" for i, (n, _) in enumerate(OTHER)])
def test_patterns_on_real_text(with_pattern, name: str, pat: str) -> None:
    ours, ref = with_pattern(pat)
    assert ours._core.pretokenizer == name
    for label, text in corpus.multilingual()[::3]:
        assert ours.encode_ordinary(text).tolist() == ref.encode_ordinary(text), label


@pytest.mark.parametrize(("name", "pat"), OTHER, ids=[f"{n}-{i}" for i, (n, _) in enumerate(OTHER)])
@given(text=st.one_of(tricky_text, any_text))
def test_patterns_on_generated_text(with_pattern, name: str, pat: str, text: str) -> None:
    ours, ref = with_pattern(pat)
    assert ours.encode_ordinary(text).tolist() == ref.encode_ordinary(text)


def hf_piece_ends(pat: str, text: str) -> list[int]:
    split = pre_tokenizers.Split(Regex(pat), behavior="isolated")
    return [end for _, (_, end) in split.pre_tokenize_str(text)]


HF_PATTERNS = [
    ("llama3", tok_oracles.LLAMA3_PATTERN),
    ("qwen2", tok_oracles.QWEN2_PATTERN),
    ("r50k_base", tok_oracles.GPT2_PATTERN),
]


@pytest.mark.parametrize(("name", "pat"), HF_PATTERNS, ids=[n for n, _ in HF_PATTERNS])
def test_pieces_match_hf_split_on_real_text(name: str, pat: str) -> None:
    for label, text in corpus.multilingual()[::2]:
        assert _core.tokenizer.split_pieces(name, text).tolist() == hf_piece_ends(pat, text), label


@pytest.mark.parametrize(("name", "pat"), HF_PATTERNS, ids=[n for n, _ in HF_PATTERNS])
@given(text=tricky_text)
def test_pieces_match_hf_split_on_generated_text(name: str, pat: str, text: str) -> None:
    assert _core.tokenizer.split_pieces(name, text).tolist() == hf_piece_ends(pat, text)


def test_pieces_tile_the_text() -> None:
    text = "Hello  world's 123456 \u00e9t\u00e9!\n\n\tdone  "
    for name in PATTERNS:
        ends = _core.tokenizer.split_pieces(name, text).tolist()
        assert ends == sorted(set(ends))
        assert ends[-1] == len(text)
        assert 0 not in ends


def test_pattern_outside_the_dialect_is_unsupported(tmp_path: Path) -> None:
    with pytest.raises(ctxengine.UnsupportedError, match="backreference"):
        ctxengine.get_tokenizer(tok_oracles.cl100k_path(), pattern=r"(\w)\1|\w+|\s+")
