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
