"""The generated Unicode tables against independent oracles: unicodedata2 (pinned to the
tables' version) for categories and the `regex` module for White_Space."""

from __future__ import annotations

import numpy as np
import pytest
import regex

from ctxengine import _core

CATEGORIES = (
    "Lu Ll Lt Lm Lo Mn Mc Me Nd Nl No Pc Pd Ps Pe Pi Pf Po Sm Sc Sk So Zs Zl Zp Cc Cf Cs Co Cn"
).split()
ALL = np.arange(0x110000, dtype=np.uint32)


def test_unicode_version_is_named() -> None:
    assert _core.text.unicode_version() == "16.0.0"


def test_categories_match_unicodedata2() -> None:
    ud = pytest.importorskip("unicodedata2")
    assert ud.unidata_version == _core.text.unicode_version()
    got = _core.text.general_categories(ALL)
    expected = np.array([CATEGORIES.index(ud.category(chr(cp))) for cp in range(0x110000)])
    mismatched = np.nonzero(got != expected)[0]
    assert mismatched.size == 0, [hex(cp) for cp in mismatched[:10]]


def test_categories_beyond_unicode_are_unassigned() -> None:
    got = _core.text.general_categories(np.array([0x110000, 0xFFFFFFFF], dtype=np.uint32))
    assert [CATEGORIES[c] for c in got] == ["Cn", "Cn"]


def test_white_space_matches_regex_module() -> None:
    got = _core.text.white_space(ALL)
    pattern = regex.compile(r"\s")
    expected = np.array([pattern.match(chr(cp)) is not None for cp in range(0x110000)])
    mismatched = np.nonzero(got != expected)[0]
    assert mismatched.size == 0, [hex(cp) for cp in mismatched[:10]]


def test_lowercase_matches_python_where_unicode_versions_agree() -> None:
    import unicodedata

    got = _core.text.to_lower(ALL)
    for cp in range(0x110000):
        ch = chr(cp)
        if unicodedata.category(ch) in ("Cn", "Cs"):  # unassigned in this Python's Unicode
            continue
        low = ch.lower()
        expected = ord(low[0]) if low != ch else cp
        assert got[cp] == expected, hex(cp)


# ---- the properties of the compiled pre-tokenizer regexes (unicode_props.inc) --------------------
# Checked against the two engines the compiled regexes stand in for, not against the `regex`
# module the tables were read from: tiktoken (its regex crate's Unicode 16) drops the text a
# pattern does not match, so decoding its ids gives exactly the matched characters; HF
# tokenizers' Split (Oniguruma) gives them as pieces.


def _assigned_text(limit: int = 0x30000) -> str:
    cats = _core.text.general_categories(np.arange(limit, dtype=np.uint32))
    keep = [cp for cp in range(limit) if CATEGORIES[cats[cp]] not in ("Cn", "Cs", "Co")]
    return "".join(map(chr, keep))


def _ours(pattern: str, flavor: str, text: str) -> str:
    spans = _core.tokenizer.Regex(pattern, flavor).find_all(text).tolist()
    return "".join(text[a:b] for a, b in spans)


PROPERTY_PATTERNS = [
    r"\p{Han}",
    r"\p{Hiragana}",
    r"\p{Katakana}",
    r"\p{Hangul}",
    r"\p{Latin}",
    r"\p{Common}",
    r"\p{Inherited}",
    r"\p{Greek}",
    r"\p{Arabic}",
    r"\w",
    r"\s",
    r"\d",
    r"\p{L}",
    r"\p{M}",
    r"\p{N}",
    r"\p{P}",
    r"\p{S}",
    r"\p{Lm}",
    r".",
    r"(?i)[a-z]",
    r"(?i)[α-ω]",
    r"(?i)[а-я]",
    r"(?i:'s|'k)",
]


@pytest.mark.parametrize("pattern", PROPERTY_PATTERNS)
def test_regex_properties_match_tiktoken(pattern: str) -> None:
    import tok_oracles

    text = _assigned_text()
    enc = tok_oracles.with_pattern(pattern)
    expected = enc.decode_bytes(enc.encode_ordinary(text)).decode("utf-8")
    assert _ours(pattern, "tiktoken", text) == expected


@pytest.mark.parametrize("pattern", PROPERTY_PATTERNS)
def test_regex_properties_match_hf_oniguruma(pattern: str) -> None:
    from tokenizers import Regex, pre_tokenizers

    text = _assigned_text(0x10000)
    split = pre_tokenizers.Split(Regex(pattern), behavior="removed", invert=True)
    expected = "".join(piece for piece, _ in split.pre_tokenize_str(text))
    assert _ours(pattern, "oniguruma", text) == expected
