"""The compiled pre-tokenizer regexes (csrc/tokenizer/regex*) against the engines they stand in
for: HF tokenizers (Oniguruma) for tokenizer.json Split steps, tiktoken (fancy-regex) for
.tiktoken patterns, Python's `regex` module for patterns generated from the grammar, and the
hand-written scanners for the five known patterns. The patterns of the model families are in
tests/data/pretokenizer_patterns.json, each with its source."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import regex
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from tokenizers import Regex as HfRegex
from tokenizers import pre_tokenizers

import corpus
import ctxengine
import hf_files
import tok_oracles
from ctxengine import _core

DATA = Path(__file__).parent / "data"
ENTRIES: list[dict[str, Any]] = json.loads((DATA / "pretokenizer_patterns.json").read_text())[
    "patterns"
]
Regex = _core.tokenizer.Regex

SPLIT_PATTERNS = sorted(
    {
        s["pattern"]["Regex"]
        for e in ENTRIES
        for s in e["steps"] or []
        if s["type"] == "Split" and "Regex" in s["pattern"]
    }
)
TIKTOKEN_PATTERNS = [(e["name"], e["tiktoken"]) for e in ENTRIES if e["tiktoken"]]
PIPELINES = [e for e in ENTRIES if e["steps"]]

TRICKY = (
    list(" \t\n\r\x0b\x0c\x85\xa0\u2000\u2028\u3000")
    + list("'sStTdDmMlLvVeErRſK\u212a")
    + list("aZé\u01c5\u02b0中ひカ한々、ー")
    + list("\u0301\u0903")
    + list("0123456789٣²½")
    + list(".,-/()[]!?…。，")
    + ["\U0001f600", "\u200d", "\x00", "ß", "ﬆ"]
)
tricky_text = st.lists(st.sampled_from(TRICKY), max_size=48).map("".join)
any_text = st.text(st.characters(exclude_categories=["Cs"]), max_size=120)


@cache
def texts() -> list[str]:
    """A slice of the multilingual corpus (prose, code, CJK, 100+ languages)."""
    return [t for _, t in corpus.multilingual()[::8]]


def hf_pieces(pattern: str, text: str, behavior: str = "isolated", invert: bool = False):
    split = pre_tokenizers.Split(HfRegex(pattern), behavior=behavior, invert=invert)
    return [span for _, span in split.pre_tokenize_str(text)]


def our_pieces(pattern: str, text: str) -> list[tuple[int, int]]:
    """HF's Isolated split over the compiled regex's matches (empty pieces dropped)."""
    out, prev = [], 0
    for a, b in Regex(pattern, "oniguruma").find_all(text).tolist():
        if prev < a:
            out.append((prev, a))
        if a < b:
            out.append((a, b))
        prev = b
    if prev < len(text):
        out.append((prev, len(text)))
    return out


def test_the_pattern_list_names_its_sources() -> None:
    assert len(ENTRIES) >= 20
    for e in ENTRIES:
        assert e["source"] and e["families"], e["name"]


# ---- tokenizer.json Split regexes against HF tokenizers (Oniguruma) ------------------------------


@pytest.mark.parametrize("pattern", SPLIT_PATTERNS, ids=range(len(SPLIT_PATTERNS)))
def test_split_pieces_match_hf_on_real_text(pattern: str) -> None:
    for text in texts():
        assert our_pieces(pattern, text) == hf_pieces(pattern, text)


@settings(max_examples=60, suppress_health_check=[HealthCheck.too_slow])
@given(text=st.one_of(tricky_text, any_text), index=st.integers(0, len(SPLIT_PATTERNS) - 1))
def test_split_pieces_match_hf_on_generated_text(text: str, index: int) -> None:
    pattern = SPLIT_PATTERNS[index]
    assert our_pieces(pattern, text) == hf_pieces(pattern, text)


@cache
def pipeline_file(name: str, folder: Path) -> tuple[Any, Any]:
    entry = next(e for e in PIPELINES if e["name"] == name)
    normalizer = {"type": entry["normalizer"]} if entry.get("normalizer") else None
    # the cl100k vocabulary's first 50,000 ranks: real merges, a quicker load for 20+ files
    spec = hf_files.with_pre_tokenizer(entry["steps"], normalizer=normalizer, max_rank=50000)
    path = hf_files.write(spec, folder / f"{name}.json")
    return ctxengine.get_tokenizer(path), hf_files.oracle(path)


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("regex_files")


@pytest.mark.parametrize("name", [e["name"] for e in PIPELINES])
def test_model_family_tokenizer_json_ids_equal_hf(folder: Path, name: str) -> None:
    ours, ref = pipeline_file(name, folder)
    assert not ours._core._pipe.has_external_steps  # every step runs in C++
    sample = texts()[::3]
    for text in sample:
        assert ours.encode(text).tolist() == ref.encode(text, add_special_tokens=False).ids
    counts = ours.count_many(sample, threads=2)
    assert counts.tolist() == [len(ref.encode(t, add_special_tokens=False).ids) for t in sample]


@settings(max_examples=40, suppress_health_check=[HealthCheck.too_slow])
@given(text=st.one_of(tricky_text, any_text), index=st.integers(0, len(PIPELINES) - 1))
def test_model_family_tokenizer_json_on_generated_text(folder: Path, text: str, index: int) -> None:
    ours, ref = pipeline_file(PIPELINES[index]["name"], folder)
    assert ours.encode(text).tolist() == ref.encode(text, add_special_tokens=False).ids


# Falcon's Digits and Split run after ByteLevel, on its byte alphabet: U+043C (D0 BC) holds
# BC, which stands for the numeric '¼', so HF cuts the character in two; "²½" too.
FALCON_TEXTS = ["м and мир 999", "x²y ½6789 12½3456", "1234567 (555) 123-4567", " 999", "¼¼ м²"]


@pytest.mark.parametrize("prefix_space", [False, True])
@pytest.mark.parametrize("general_path", [False, True])
def test_steps_after_byte_level_see_its_alphabet(
    folder: Path, prefix_space: bool, general_path: bool
) -> None:
    from ctxengine.tokenizers.json_pipeline import _JsonCore
    from ctxengine.tokenizers.tokenizer_json import JsonTokenizer

    entry = next(e for e in PIPELINES if e["name"] == "falcon")
    steps = [dict(s) for s in entry["steps"]]
    steps[1]["add_prefix_space"] = prefix_space
    steps.append({"type": "Split", "pattern": {"Regex": r"\p{Lu}|\s"}, "behavior": "Removed",
                  "invert": False})  # fmt: skip
    spec = hf_files.with_pre_tokenizer(steps, max_rank=50000)
    path = hf_files.write(spec, folder / f"falcon-{prefix_space}-{general_path}.json")
    ours = JsonTokenizer(_JsonCore(spec, name=str(path), scanners=not general_path))
    assert ours._core._pipe.has_external_steps == general_path
    ref = hf_files.oracle(path)
    for text in FALCON_TEXTS + texts()[::7]:
        assert ours.encode(text).tolist() == ref.encode(text, add_special_tokens=False).ids, text
        assert ours.count(text) == len(ref.encode(text, add_special_tokens=False).ids)
    # HF cuts U+043C into Ð (D0) and ¼ (BC), and the last step removes the uppercase Ð
    pieces = [p for p, _ in ref.pre_tokenizer.pre_tokenize_str("м")]
    assert pieces == ["¼"]
    assert ours.encode("м").tolist() == ref.encode("м", add_special_tokens=False).ids


BEHAVIORS = ["Removed", "Isolated", "MergedWithPrevious", "MergedWithNext", "Contiguous"]
BEHAVIOR_PATTERNS = [r"\p{N}{1,3}", r"\s+|(?=\d)", r"(?=(\d{3})+(?!\d))", r"[,.]|x*", r"(?i:ab)+"]


@pytest.mark.parametrize("behavior", BEHAVIORS)
@pytest.mark.parametrize("invert", [False, True])
def test_split_behaviors_and_invert_match_hf(folder: Path, behavior: str, invert: bool) -> None:
    text = "ab AB 1234567 x, y.. 12 abab\n\t 99999 zzz xx,x"
    for k, pattern in enumerate(BEHAVIOR_PATTERNS):
        steps = [
            {"type": "Split", "pattern": {"Regex": pattern}, "behavior": behavior,
             "invert": invert},
        ]  # fmt: skip
        path = hf_files.write(
            hf_files.with_pre_tokenizer(steps, max_rank=2000),
            folder / f"b-{behavior}-{invert}-{k}.json",
        )
        ours, ref = ctxengine.get_tokenizer(path), hf_files.oracle(path)
        assert not ours._core._pipe.has_external_steps
        for t in (text, text[5:], "", "1", "x" * 7):
            assert ours.encode(t).tolist() == ref.encode(t, add_special_tokens=False).ids, (
                pattern,
                t,
            )


# ---- .tiktoken files with any pattern against tiktoken (fancy-regex) ----------------------------


@pytest.mark.parametrize(
    ("name", "pattern"), TIKTOKEN_PATTERNS, ids=[n for n, _ in TIKTOKEN_PATTERNS]
)
def test_tiktoken_file_with_any_pattern_equals_tiktoken(name: str, pattern: str) -> None:
    ours = ctxengine.get_tokenizer(tok_oracles.cl100k_path(), pattern=pattern, special_tokens={})
    ref = tok_oracles.with_pattern(pattern)
    for text in texts()[::2]:
        assert ours.encode_ordinary(text).tolist() == ref.encode_ordinary(text)
    assert ours.count_many(texts()[::2], threads=2).tolist() == [
        len(ref.encode_ordinary(t)) for t in texts()[::2]
    ]


@settings(max_examples=60, suppress_health_check=[HealthCheck.too_slow])
@given(text=st.one_of(tricky_text, any_text), index=st.integers(0, len(TIKTOKEN_PATTERNS) - 1))
def test_tiktoken_patterns_on_generated_text(text: str, index: int) -> None:
    pattern = TIKTOKEN_PATTERNS[index][1]
    ours = ctxengine.get_tokenizer(tok_oracles.cl100k_path(), pattern=pattern, special_tokens={})
    assert ours.encode_ordinary(text).tolist() == tok_oracles.with_pattern(pattern).encode_ordinary(
        text
    )


def test_custom_pattern_spans_count_until_and_truncate_are_exact() -> None:
    kimi = next(e["tiktoken"] for e in ENTRIES if e["name"] == "kimi")
    tok = ctxengine.get_tokenizer(tok_oracles.cl100k_path(), pattern=kimi, special_tokens={})
    assert tok._core.pretokenizer == "custom"
    text = "Hello  wörld, 中文字符 and 12345 numbers.\n\n  It's done. " * 12
    spans = tok.spans(text)
    rng = np.random.default_rng(7)
    for _ in range(200):
        a, b = sorted(int(x) for x in rng.integers(0, len(text) + 1, 2))
        assert spans.count(a, b) == tok.count(text[a:b])
    for limit in (0, 1, 7, 50, 200):
        tokens, end = tok.count_until(text, limit)
        assert tokens == tok.count(text[:end]) <= limit
        if end < len(text):
            assert tok.count(text[: end + 1]) > limit
        assert tok.count(tok.truncate(text, limit, side="start")) <= limit


# ---- the hand-written scanners are the compiled regex, faster ------------------------------------

KNOWN = [
    ("cl100k_base", tok_oracles.pattern("cl100k_base"), "tiktoken"),
    ("o200k_base", tok_oracles.pattern("o200k_base"), "tiktoken"),
    ("r50k_base", tok_oracles.pattern("r50k_base"), "tiktoken"),
    ("r50k_base", tok_oracles.GPT2_PATTERN, "oniguruma"),
    ("llama3", tok_oracles.LLAMA3_PATTERN, "oniguruma"),
    ("qwen2", tok_oracles.QWEN2_PATTERN, "oniguruma"),
]


def scanner_ends(name: str, text: str) -> list[int]:
    return _core.tokenizer.split_pieces(name, text).tolist()


def compiled_ends(pattern: str, flavor: str, text: str) -> list[int]:
    return [b for _, b in Regex(pattern, flavor).find_all(text).tolist()]


@pytest.mark.parametrize(
    ("name", "pattern", "flavor"), KNOWN, ids=[f"{k[0]}-{k[2]}" for k in KNOWN]
)
def test_hand_written_scanners_equal_the_compiled_pattern(
    name: str, pattern: str, flavor: str
) -> None:
    assert ctxengine.tokenizers.identify_pattern(pattern) == name
    for text in texts():
        assert compiled_ends(pattern, flavor, text) == scanner_ends(name, text)


@settings(max_examples=80)
@given(text=st.one_of(tricky_text, any_text), index=st.integers(0, len(KNOWN) - 1))
def test_hand_written_scanners_equal_the_compiled_pattern_on_generated_text(
    text: str, index: int
) -> None:
    name, pattern, flavor = KNOWN[index]
    assert compiled_ends(pattern, flavor, text) == scanner_ends(name, text)


# ---- patterns generated from the grammar against Python's regex module ---------------------------

ATOMS = [
    "a", "b", "A", " ", "\\n", "1", "é", "中", ".", "[ab]", "[^a]", "[a-c]", "[^\\s\\p{L}]",
    "\\d", "\\s", "\\S", "\\p{L}", "\\p{N}", "\\p{Lu}", "\\p{Han}", "[\\p{L}&&[^a]]", "\\x41",
]  # fmt: skip


def _patterns() -> st.SearchStrategy[str]:
    atom = st.sampled_from(ATOMS)

    def extend(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
        quant = st.sampled_from(["?", "*", "+", "{2}", "{1,3}", "{0,2}", "{2,}", "??", "*?", "+?",
                                 "?+", "*+", "++", "{1,2}+"])  # fmt: skip
        seq = st.lists(inner, min_size=1, max_size=3).map("".join)
        return st.one_of(
            st.tuples(inner, quant).map("".join),
            st.lists(seq, min_size=2, max_size=3).map(lambda xs: "(?:" + "|".join(xs) + ")"),
            seq.map(lambda x: "(" + x + ")"),
            seq.map(lambda x: "(?i:" + x + ")"),
            seq.map(lambda x: "(?=" + x + ")"),
            seq.map(lambda x: "(?!" + x + ")"),
            seq.map(lambda x: "(?>" + x + ")"),
        )

    body = st.recursive(atom, extend, max_leaves=6)
    return st.lists(
        st.lists(body, min_size=1, max_size=3).map("".join), min_size=1, max_size=3
    ).map("|".join)


regex_text = st.lists(st.sampled_from(list("abA 1\né中xB2")), max_size=24).map("".join)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(pattern=_patterns(), text=regex_text)
def test_generated_patterns_match_python_regex(pattern: str, text: str) -> None:
    """Leftmost-first matches equal those of Python's regex module."""
    try:
        expected_re = regex.compile(pattern, regex.V1)
    except regex.error:
        return
    expected = [m.span() for m in expected_re.finditer(text)]
    # After an empty match Python retries at the same place for a longer one; the reference
    # engines move on one character. Compare where no match is empty.
    assume(all(a < b for a, b in expected))
    got = [tuple(x) for x in Regex(pattern, "tiktoken").find_all(text).tolist()]
    assert got == expected, (pattern, text)


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow])
@given(pattern=_patterns(), text=regex_text)
def test_generated_patterns_match_hf_oniguruma(pattern: str, text: str) -> None:
    """The Oniguruma flavor against HF's Split on patterns from the grammar (it found that
    Oniguruma reads a{2}? as (a{2})? and folds (?i) classes differently from the regex crate)."""
    try:
        split = pre_tokenizers.Split(HfRegex(pattern), behavior="isolated")
    except Exception:  # Oniguruma refuses it too
        return
    assert our_pieces(pattern, text) == [s for _, s in split.pre_tokenize_str(text)], pattern


def reference_find_iter(pattern: str, text: str) -> list[tuple[int, int]]:
    """find_iter as the reference engines walk it, on Python's regex: search on from the end of
    a match; an empty match where the last one ended is skipped, and after an empty match the
    walk moves one character."""
    compiled = regex.compile(pattern, regex.V1)
    spans: list[tuple[int, int]] = []
    at, last_end = 0, -1
    while at <= len(text):
        m = compiled.search(text, at)
        if m is None:
            break
        a, b = m.span()
        if a == b == last_end:
            at = a + 1
            continue
        spans.append((a, b))
        last_end = b
        at = b + 1 if a == b else b
    return spans


@pytest.mark.parametrize("pattern", [r"\b", r"x*", r"(?=b)|a+", r"\w+|\s*", r"[ab]*?"])
def test_matches_across_batches_keep_find_iter_order(pattern: str) -> None:
    """The scanner hands its matches over in batches (64 to find_all, 128 to count); the walk,
    empty matches included, continues exactly across the batch boundaries."""
    text = ("ab ba, xxa b\n" * 60) + "ab"
    got = [tuple(x) for x in Regex(pattern, "tiktoken").find_all(text).tolist()]
    expected = reference_find_iter(pattern, text)
    assert len(expected) > 300
    assert got == expected
    tok = ctxengine.get_tokenizer(tok_oracles.cl100k_path(), pattern=pattern, special_tokens={})
    ids = tok.encode(text).tolist()
    assert tok.count(text) == len(ids)
    assert tok.decode(ids) == "".join(text[a:b] for a, b in expected)


FLAVOR_CASES = [
    r"(?i:\p{Lu})",
    r"(?i:\P{Ll})",
    r"(?i:[\p{Lu}])",
    r"(?i:[[^a]])",
    r"(?i:[^a])",
    r"(?i:[b-z&&[^B]])",
    r"(?i:[\p{L}&&[^a]])",
    r"a{2}?",
    r"a{1,2}?",
    r"a{2}+",
    r"\d{1,3}+",
]


@pytest.mark.parametrize("pattern", FLAVOR_CASES)
def test_where_the_engines_differ(pattern: str) -> None:
    """Each flavor follows its own engine where Oniguruma and the regex crate disagree."""
    text = "aAbBxXé1 aaaaa 1234567 ſK"
    assert our_pieces(pattern, text) == hf_pieces(pattern, text)
    enc = tok_oracles.with_pattern(pattern)
    matched = enc.decode(enc.encode_ordinary(text))
    spans = Regex(pattern, "tiktoken").find_all(text).tolist()
    assert "".join(text[a:b] for a, b in spans) == matched


# ---- errors and bounded work ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pattern", "construct"),
    [
        (r"(a)\1", "backreference"),
        (r"(?<=a)b", "look-behind"),
        (r"\X", r"\\X"),
        (r"[[:alpha:]]", "POSIX class"),
        (r"(?x)a b", "inline flag 'x'"),
        (r"\p{Nonsense}", "property"),
    ],
)
def test_constructs_outside_the_dialect_are_named(pattern: str, construct: str) -> None:
    with pytest.raises(ctxengine.UnsupportedError, match=construct):
        Regex(pattern, "oniguruma")


@pytest.mark.parametrize("pattern", ["(a", "a)", "[a", "a{3,1}", "*a", "\\"])
def test_malformed_patterns_are_format_errors(pattern: str) -> None:
    with pytest.raises(ctxengine.FormatError):
        Regex(pattern, "oniguruma")


def test_huge_repetition_counts_are_refused_at_once() -> None:
    # The parser's own limit answers (its message), before any expansion is compiled.
    for pattern in ["a{99999999}", "(?:ab){100001}", "x{1,99999999}", "[a-z]{200000,}"]:
        with pytest.raises(ctxengine.BudgetError, match="over the limit of 100000"):
            Regex(pattern, "oniguruma")
    with pytest.raises(ctxengine.BudgetError, match="more than 100000 instructions"):
        Regex("(?:a|b|c){5000}(?:a|b|c){5000}(?:a|b|c){5000}", "tiktoken")


def test_tokenizer_json_with_a_huge_repetition_is_refused_not_hung(tmp_path: Path) -> None:
    """Regression (issue 11): this file's Split regex a{99999999} hung the load."""
    path = DATA / "huge_repetition_tokenizer.json"
    with pytest.raises(ctxengine.UnsupportedError, match="over the limit of 100000"):
        ctxengine.get_tokenizer(path)
    # also when a construct before it sends the pattern to the general path
    spec = json.loads(path.read_text())
    spec["pre_tokenizer"]["pretokenizers"][0]["pattern"]["Regex"] = r"(?<=x)a{99999999}"
    other = tmp_path / "tokenizer.json"
    other.write_text(json.dumps(spec))
    with pytest.raises(ctxengine.UnsupportedError, match="over the limit of 100000"):
        ctxengine.get_tokenizer(other)


def test_catastrophic_backtracking_is_a_clear_error() -> None:
    re_ = Regex(r"(?:a|a)*c", "tiktoken")
    with pytest.raises(ctxengine.BudgetError, match="backtracking"):
        re_.find_all("a" * 64)


def test_texts_of_4_gib_are_refused_on_the_tokenizer_json_path() -> None:
    _core.tokenizer_json.check_text_size(2**32 - 2)
    for size in (2**32 - 1, 2**32, 2**40):
        with pytest.raises(ctxengine.BudgetError, match="below 4 GiB"):
            _core.tokenizer_json.check_text_size(size)
