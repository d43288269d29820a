"""Seams in the BPE model of tokenizer.json files (csrc/tokenizer/hf_bpe.hpp): pieces with non-ASCII
characters are cut where no merge result covers a character boundary, and single characters come
from a table. Checked against HF `tokenizers` on SentencePiece-style files trained on real CJK
text (multi-character CJK tokens, rare characters left to the byte fallback or the unknown token,
fused or not, or dropped) and on random byte-level and character-level vocabularies with merges
that start or end inside a character, cross every kind of character, join byte-fallback and
unknown tokens, with some bytes or characters missing, and with a continuing_subword_prefix or
end_of_word_suffix (which turn seams off)."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import corpus
import hf_files
from ctxengine.tokenizer_json import JsonTokenizer, load

CJK_LANGS = {"zh_CN", "zh_TW", "ja", "ko"}


def cjk_corpus() -> list[str]:
    texts = [t for _, t in corpus.cjk_texts()]
    texts += [t for name, t in corpus.message_catalogs() if name.split("/")[0] in CJK_LANGS]
    return texts


def assert_same(ours: JsonTokenizer, ref: Any, text: str) -> None:
    got = ours.encode(text, allowed_special="all").tolist()
    want = ref.encode(text, add_special_tokens=False).ids
    assert got == want, text[:200]
    assert ours.count(text, allowed_special="all") == len(want)


# ---- SentencePiece-style BPE trained on CJK text ------------------------------------------------


@pytest.fixture(
    scope="module",
    params=["byte-fallback", "unk-fused", "unk-not-fused", "dropped"],
)
def cjk_spm(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> tuple[JsonTokenizer, Any]:
    texts = cjk_corpus()
    assert len(texts) >= 3
    # spaces between short runs give the trainer words to count pairs in
    training = " ".join(t.replace("\n", " ") for t in texts)[:30_000]
    spec = hf_files.sentencepiece_style_bpe(training, n_merges=400)
    model = spec["model"]
    model["byte_fallback"] = request.param == "byte-fallback"
    model["fuse_unk"] = request.param == "unk-fused"
    if request.param == "dropped":
        model["unk_token"] = None
    path = hf_files.write(spec, tmp_path_factory.mktemp("cjk-spm") / "tokenizer.json")
    return load(path), hf_files.oracle(path)


def test_cjk_spm_equals_hf_on_real_text(cjk_spm: tuple[JsonTokenizer, Any]) -> None:
    ours, ref = cjk_spm
    for text in cjk_corpus():
        assert_same(ours, ref, text[:20_000])


CJK_CHARS = list(
    "的是不了人我在有他这中大来上国个到说们为子和你地出道也时年得就那要下以生会自着去之过家学"
    "文件设置错误打开保存无法请选择" "鑿齉𠀋"
    "あいうえおかきくけこファイルを開く設定"
    "한국어파일을열수없습니다설정"
    "、。，！？「」（）é ab1"
)  # fmt: skip


@settings(max_examples=80, deadline=None)
@given(text=st.lists(st.sampled_from(CJK_CHARS), max_size=120).map("".join))
def test_cjk_spm_hypothesis(cjk_spm: tuple[JsonTokenizer, Any], text: str) -> None:
    ours, ref = cjk_spm
    assert_same(ours, ref, text)


# ---- random vocabularies -------------------------------------------------------------------------

ALPHABET = ["a", "b", " ", "é", "ß", "中", "文", "ア", "\u0800", "\uffee", "😀", "\U00010000"]


def random_spec(seed: int, *, byte_level: bool, options: dict[str, Any]) -> dict[str, Any]:
    """A BPE file over ALPHABET: byte-level (symbols are bytes, some bytes missing when
    options ask for it) or character-level (some characters missing, byte-fallback tokens for
    some bytes), with random merges of random tokens (byte-fallback and unknown tokens too)."""
    rng = random.Random(seed)
    missing = options.pop("missing", False)
    if byte_level:
        alphabet = hf_files.byte_alphabet()
        text_bytes = {b for c in ALPHABET for b in c.encode()}
        gone = set(rng.sample(sorted(text_bytes - {ord("a")}), 3)) if missing else set()
        tokens = [alphabet[b] for b in range(256) if b not in gone]
        parts = [alphabet[b] for b in sorted(text_bytes - gone)]
    else:
        chars = [c for c in ALPHABET if not (missing and c in ("文", "😀", "\uffee"))]
        fallback = sorted({f"<0x{b:02X}>" for c in ALPHABET for b in c.encode()})
        fallback = [t for t in fallback if rng.random() < 0.8]
        tokens = [*chars, *fallback]
        parts = list(tokens)
    # With a prefix (suffix), a symbol after the first (the last symbol) is spelled with it:
    # merges join a left part of any kind with a right part of the marked kind.
    prefix = str(options.get("continuing_subword_prefix") or "")
    suffix = str(options.get("end_of_word_suffix") or "")
    marked = [prefix + t + suffix for t in parts] if prefix or suffix else []
    vocab: dict[str, int] = {"<unk>": 0}
    for t in [*tokens, *marked]:
        vocab.setdefault(t, len(vocab))
    parts.append("<unk>")
    merges: list[list[str]] = []
    while len(merges) < 120:
        a = rng.choice(parts + marked if prefix else parts)
        b = rng.choice(marked if prefix else parts + marked)
        joined = a + b[len(prefix) :]
        if joined in vocab or len(joined) > 14:
            continue
        merges.append([a, b])
        vocab[joined] = len(vocab)
        (marked if (prefix and a.startswith(prefix)) or (suffix and b.endswith(suffix))
         else parts).append(joined)  # fmt: skip
    pre = {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": False,
           "use_regex": False}  # fmt: skip
    model = {"type": "BPE", "dropout": None, "unk_token": "<unk>",
             "continuing_subword_prefix": None, "end_of_word_suffix": None, "fuse_unk": False,
             "byte_fallback": not byte_level, "ignore_merges": False, "vocab": vocab,
             "merges": merges}  # fmt: skip
    model.update(options)
    return {
        "version": "1.0", "added_tokens": [], "normalizer": None,
        "pre_tokenizer": pre if byte_level else None, "post_processor": None,
        "decoder": pre if byte_level else None, "model": model,
    }  # fmt: skip


VARIANTS = {
    "bytes": (True, {}),
    "bytes-missing-unk-fused": (True, {"missing": True, "fuse_unk": True}),
    "bytes-missing-dropped": (True, {"missing": True, "unk_token": None}),
    "bytes-ignore-merges": (True, {"ignore_merges": True}),
    "chars-fallback": (False, {}),
    "chars-missing-fallback": (False, {"missing": True}),
    "chars-missing-unk-fused": (False, {"missing": True, "byte_fallback": False, "fuse_unk": True}),
    "chars-prefix": (False, {"continuing_subword_prefix": "##"}),
    "chars-suffix": (False, {"end_of_word_suffix": "</w>"}),
}


@pytest.mark.parametrize("seed", range(2))
@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_random_vocabularies_equal_hf(variant: str, seed: int, tmp_path: Path) -> None:
    byte_level, options = VARIANTS[variant]
    spec = random_spec(seed, byte_level=byte_level, options=dict(options))
    path = hf_files.write(spec, tmp_path / "tokenizer.json")
    ours, ref = load(path), hf_files.oracle(path)
    rng = random.Random(seed)
    for _ in range(250):
        text = "".join(rng.choice(ALPHABET) for _ in range(rng.randint(1, 60)))
        assert_same(ours, ref, text)
