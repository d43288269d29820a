"""The byte-level corners of tiktoken's API, for the drop-in: ``_encode_bytes`` (bytes that are
not UTF-8) and ``encode_with_unstable`` (the tokens of a text whose end may still change).

Both follow tiktoken 0.14's definitions (src/lib.rs ``_encode_unstable_native`` and src/py.rs
``_encode_bytes``): the tokens of the last pre-token piece (widened over trailing whitespace
tokens, since a later character can merge across such splits) are unstable; completions are
every token starting with the unstable bytes, plus, for each split of them, the re-encoding of
the prefix joined with each token that starts with the rest. ``bpe`` here is plain BPE over a
rank table, without tiktoken's whole-piece lookup, as those definitions use it.
"""

from __future__ import annotations

import bisect
from collections.abc import Mapping, Sequence
from typing import Protocol

__all__ = ["bpe", "encode_bytes", "encode_with_unstable"]

# Rust's char::is_whitespace (the Unicode White_Space property); str.isspace also accepts
# U+001C..U+001F, which tiktoken's check does not.
_WHITE_SPACE = frozenset(
    "\t\n\x0b\x0c\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009"
    "\u200a\u2028\u2029\u202f\u205f\u3000"
)


class _Encoder(Protocol):
    """What these functions need from an Encoding."""

    @property
    def _mergeable_ranks(self) -> dict[bytes, int]: ...
    def encode_ordinary(self, text: str) -> list[int]: ...
    def decode_bytes(self, tokens: Sequence[int]) -> bytes: ...
    def _encode_single_piece(self, text_or_bytes: str | bytes) -> list[int]: ...
    def _sorted_token_bytes(self) -> list[bytes]: ...
    def _encode_tracking(self, text: str, allowed: list[str]) -> tuple[list[int], int]: ...


def bpe(piece: bytes, ranks: Mapping[bytes, int]) -> list[int]:
    """Plain byte-pair encoding of `piece`: repeatedly merge the adjacent pair whose joined
    bytes have the lowest rank (leftmost on ties), until no pair is in `ranks`. The obviously
    correct O(n^2) form; it runs only on the few short strings of the functions below."""
    parts = [piece[i : i + 1] for i in range(len(piece))]
    while len(parts) > 1:
        best, at = None, -1
        for i in range(len(parts) - 1):
            rank = ranks.get(parts[i] + parts[i + 1])
            if rank is not None and (best is None or rank < best):
                best, at = rank, i
        if best is None:
            break
        parts[at : at + 2] = [parts[at] + parts[at + 1]]
    return [ranks[p] for p in parts]


def _widen_over_spaces(enc: _Encoder, tokens: list[int], last: int) -> int:
    """tiktoken's ``_increase_last_piece_token_len``: a split before whitespace can vanish when
    more text comes (cl100k's ``\\s*[\\r\\n]+``), so whitespace-only tokens before an unstable
    whitespace token are unstable too."""

    def all_space(token: int) -> bool:
        data = enc.decode_bytes([token])
        return all(b in b" \n\t" for b in data)

    if last > 0 and all_space(tokens[len(tokens) - last]):
        while last < len(tokens) and all_space(tokens[len(tokens) - last - 1]):
            last += 1
    return last


def encode_bytes(enc: _Encoder, data: bytes) -> list[int]:
    """tiktoken's ``Encoding._encode_bytes``: valid UTF-8 is encoded as text; otherwise the
    valid prefix is, and its unstable tail is re-encoded together with the invalid bytes."""
    try:
        return enc.encode_ordinary(data.decode("utf-8"))
    except UnicodeDecodeError as exc:
        valid = exc.start
    tokens, last = enc._encode_tracking(data[:valid].decode("utf-8"), [])
    last = _widen_over_spaces(enc, tokens, last)
    if tokens and last > 0:
        unstable = enc.decode_bytes(tokens[-last:]) + data[valid:]
        del tokens[-last:]
    else:
        unstable = data[valid:]
    if unstable:
        tokens.extend(enc._encode_single_piece(unstable))
    return tokens


def _last_char(data: bytes) -> tuple[str | None, int]:
    """The last UTF-8 character of `data` and its length in bytes (None when the end is not a
    valid character), as the ``bstr`` crate's ``decode_last_utf8`` that tiktoken uses."""
    for size in range(1, min(4, len(data)) + 1):
        if data[-size] & 0xC0 != 0x80:  # a lead byte (or ASCII)
            try:
                text = data[-size:].decode("utf-8")
            except UnicodeDecodeError:
                return None, 1
            return (text, size) if len(text) == 1 else (None, 1)
    return None, 1


def _starting_with(sorted_bytes: list[bytes], prefix: bytes) -> list[bytes]:
    out = []
    i = bisect.bisect_left(sorted_bytes, prefix)
    while i < len(sorted_bytes) and sorted_bytes[i].startswith(prefix):
        out.append(sorted_bytes[i])
        i += 1
    return out


def encode_with_unstable(
    enc: _Encoder, text: str, allowed: list[str]
) -> tuple[list[int], list[list[int]]]:
    """(stable tokens, possible completions) as tiktoken's ``encode_with_unstable``."""
    tokens, last = enc._encode_tracking(text, allowed)
    if last == 0:
        return tokens, []
    last = _widen_over_spaces(enc, tokens, last)
    unstable = enc.decode_bytes(tokens[-last:])
    del tokens[-last:]
    if not unstable:
        return tokens, []
    ranks = enc._mergeable_ranks
    sorted_bytes = enc._sorted_token_bytes()
    completions: set[tuple[int, ...]] = {
        (ranks[t],) for t in _starting_with(sorted_bytes, unstable)
    }
    for i in range(1, len(unstable)):
        prefix, suffix = unstable[:i], unstable[i:]
        for token_bytes in _starting_with(sorted_bytes, suffix):
            possibility = prefix + token_bytes
            try:
                encoded = enc.encode_ordinary(possibility.decode("utf-8"))
            except UnicodeDecodeError:
                encoded = bpe(possibility, ranks)
            seq, length = [], 0
            for token in encoded:
                seq.append(token)
                length += len(enc.decode_bytes([token]))
                if length >= len(unstable):
                    break
            completions.add(tuple(seq))
    if len(unstable) > 1:
        char, size = _last_char(unstable)
        if len(unstable) - size > 0 and char is not None and char in _WHITE_SPACE:
            completions.add(tuple(bpe(unstable[:-size], ranks) + bpe(unstable[-size:], ranks)))
    return tokens, [list(c) for c in completions]
