"""GPT-2's byte alphabet (``bytes_to_unicode`` in its encoder.py), shared by byte-level BPE
files: printable Latin-1 bytes stand for themselves, the other 68 bytes for U+0100 onwards in
byte order. Sorting the bytes by their character gives the order of GPT-2's single-byte ranks."""

from __future__ import annotations


def _alphabet() -> dict[int, str]:
    chars: dict[int, str] = {}
    extra = 0
    for b in range(256):
        if chr(b).isprintable() and chr(b) != " ":
            chars[b] = chr(b)
        else:
            chars[b] = chr(256 + extra)
            extra += 1
    return chars


CHAR_OF_BYTE: dict[int, str] = _alphabet()
BYTE_OF_CHAR: dict[str, int] = {c: b for b, c in CHAR_OF_BYTE.items()}
