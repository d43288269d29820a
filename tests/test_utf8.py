"""UTF-8 validation and byte <-> str offset maps against Python's own codec."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from ctxengine import InvalidInputError, _core

text = _core.text


def first_invalid_by_python(data: bytes) -> int:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        return exc.start
    return -1


@given(st.binary(max_size=200))
def test_find_invalid_matches_python_on_random_bytes(data: bytes) -> None:
    assert text.find_invalid_utf8(data) == first_invalid_by_python(data)


@given(st.text(max_size=200), st.binary(max_size=6), st.text(max_size=50))
def test_find_invalid_matches_python_around_valid_text(a: str, junk: bytes, b: str) -> None:
    data = a.encode() + junk + b.encode()
    assert text.find_invalid_utf8(data) == first_invalid_by_python(data)


@pytest.mark.parametrize(
    "data",
    [
        b"\xc0\x80",  # overlong NUL
        b"\xe0\x80\xaf",  # overlong slash
        b"\xed\xa0\x80",  # UTF-16 surrogate U+D800
        b"\xf4\x90\x80\x80",  # above U+10FFFF
        b"\xf8\x88\x80\x80\x80",  # 5-byte form
        b"abc\xe2\x82",  # truncated at the end
        b"\x80",  # lone continuation
        "x" * 17 + "é",  # valid, crosses the 8-byte fast path
    ],
)
def test_find_invalid_edge_cases(data: bytes | str) -> None:
    raw = data.encode() if isinstance(data, str) else data
    assert text.find_invalid_utf8(raw) == first_invalid_by_python(raw)


@given(st.text(max_size=300))
def test_offset_maps_round_trip(s: str) -> None:
    data = s.encode("utf-8", "surrogatepass")
    if text.find_invalid_utf8(data) != -1:  # lone surrogates are not UTF-8
        return
    # Byte offset of each character, the reference computed character by character.
    ref_bytes = np.cumsum([0] + [len(c.encode("utf-8")) for c in s]).astype(np.int64)
    chars = np.arange(len(s) + 1, dtype=np.int64)
    np.testing.assert_array_equal(text.byte_offsets(data, chars), ref_bytes)
    np.testing.assert_array_equal(text.char_offsets(data, ref_bytes), chars)


def test_char_offsets_of_inner_bytes_map_to_their_character() -> None:
    s = "aé€𝄞" * 40  # 1-, 2-, 3- and 4-byte characters, over several 64-byte blocks
    data = s.encode()
    leads = [i for i, byte in enumerate(data) if byte & 0xC0 != 0x80]
    # A byte inside a character belongs to that character: (lead bytes at or before it) - 1.
    expected = [sum(1 for i in leads if i <= b) - 1 for b in range(len(data))] + [len(s)]
    got = text.char_offsets(data, np.arange(len(data) + 1, dtype=np.int64))
    np.testing.assert_array_equal(got, expected)


def test_offsets_outside_the_text_are_refused() -> None:
    with pytest.raises(InvalidInputError, match="outside the text"):
        text.char_offsets("héllo".encode(), np.array([7], dtype=np.int64))
    with pytest.raises(InvalidInputError, match="outside the text"):
        text.byte_offsets("héllo".encode(), np.array([-1], dtype=np.int64))
