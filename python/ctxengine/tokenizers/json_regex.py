"""The general path of tokenizer.json pre-tokenizers: a ``Split`` pattern outside the dialect
that the C++ core compiles runs through the ``regex`` module (HF's Oniguruma semantics, with the
Unicode 16.0 categories of HF's build patched in; exact, slower)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

import numpy as np
import regex

from .._native import core
from .byte_alphabet import CHAR_OF_BYTE

# GPT-2's pre-tokenizer pattern (HF ByteLevel with use_regex=true).
GPT2_PATTERN = r"""'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"""


@dataclass(frozen=True)
class _RegexStep:
    """A pre-tokenizer step run by the `regex` module: split each piece on `pattern`."""

    pattern: Any  # a compiled regex.Pattern
    behavior: str
    invert: bool
    add_prefix_space: bool = False  # ByteLevel(use_regex=true)
    byte_level: bool = False  # after ByteLevel: the pattern sees GPT-2's byte alphabet


# General categories in the order of csrc/text/unicode.hpp's GeneralCategory.
_CATEGORIES = (
    "Lu Ll Lt Lm Lo Mn Mc Me Nd Nl No Pc Pd Ps Pe Pi Pf Po Sm Sc Sk So Zs Zl Zp Cc Cf Cs Co Cn"
).split()


def compile_pattern(pattern: str) -> Any:
    """Compile an Oniguruma pattern of a tokenizer.json with the `regex` module.

    The two engines share this syntax (classes, possessive quantifiers, look-around, inline
    flags). Their Unicode versions may differ; :func:`_match_view` makes up for that.
    """
    return regex.compile(pattern)


@cache
def _unicode_stand_ins() -> tuple[Any, dict[int, int]]:
    """What makes the `regex` module see Unicode 16.0, the version of HF's Oniguruma.

    Returns a pattern that finds the characters whose general category differs between the
    `regex` module's Unicode and ctxengine's Unicode 16.0 tables (characters assigned in a
    later version, the odd re-categorized one), and a translation table that replaces each
    with a stand-in of its Unicode 16.0 category. Patterns match by category, so they match
    the stand-ins as Oniguruma matches the originals. (None, {}) when the versions agree.
    """
    cats = core.text.general_categories(np.arange(0x110000, dtype=np.uint32))
    differ: list[int] = []
    for index, name in enumerate(_CATEGORIES):
        if name == "Cs":
            continue
        members = np.flatnonzero(cats == index)
        text = "".join(map(chr, members.tolist()))
        differ.extend(ord(m.group()) for m in regex.finditer(rf"\P{{{name}}}", text))
    if not differ:
        return None, {}
    changed = np.zeros(0x110000, dtype=bool)
    changed[differ] = True
    stand_in: dict[int, int] = {}
    for index, name in enumerate(_CATEGORIES):
        stable = np.flatnonzero((cats == index) & ~changed)
        stable = stable[stable >= 0x100]  # never an ASCII or Latin-1 character a pattern names
        if name != "Cs" and stable.size:
            stand_in[index] = int(stable[0])
    table = {c: stand_in[int(cats[c])] for c in differ}
    edges = np.flatnonzero(np.diff(np.concatenate(([0], changed.view(np.int8), [0]))))
    ranges = "".join(
        f"\\U{lo:08X}-\\U{hi:08X}"
        for lo, hi in zip(edges[::2].tolist(), (edges[1::2] - 1).tolist(), strict=True)
    )
    return regex.compile(f"[{ranges}]"), table


def _match_view(s: str) -> str:
    """`s` as a pattern should see it: `s` itself, unless it holds characters whose category
    the `regex` module's Unicode version gives differently; those are replaced by stand-ins of
    their Unicode 16.0 category (one character for one, so offsets do not move)."""
    if s.isascii():
        return s
    finder, table = _unicode_stand_ins()
    if finder is None or finder.search(s) is None:
        return s
    return s.translate(table)


def _regex_step(step: _RegexStep, text: bytes, pieces: np.ndarray) -> np.ndarray:
    """Split each text piece on `step.pattern` with HF's Split semantics (the general path)."""
    out: list[tuple[int, int, int, int]] = []
    for begin, end, token_id, space in pieces.tolist():
        if token_id >= 0:
            out.append((begin, end, token_id, space))
            continue
        lead = 1 if space else 0
        if step.byte_level:
            # One character per byte (a virtual space first), so str offsets are byte offsets.
            s = CHAR_OF_BYTE[32] * lead + "".join(map(CHAR_OF_BYTE.__getitem__, text[begin:end]))
            for a, b in _split_spans(s, step):
                out.append(
                    (begin + max(a - lead, 0), begin + max(b - lead, 0), -1, int(lead and a == 0))
                )
            continue
        s = text[begin:end].decode("utf-8")
        if step.add_prefix_space and not space and not s.startswith(" "):
            lead = 1
        if lead:
            s = " " + s
        spans = _split_spans(s, step)
        if not spans:
            continue
        # str offsets of s -> byte offsets of text (the virtual space is byte -1 of the piece)
        if s.isascii():
            for a, b in spans:
                out.append((begin + max(a - lead, 0), begin + b - lead, -1, int(lead and a == 0)))
            continue
        char_bytes = np.fromiter((len(c.encode("utf-8")) for c in s), np.int64, len(s))
        pos = np.concatenate(([0], np.cumsum(char_bytes)))
        for a, b in spans:
            out.append(
                (
                    begin + max(int(pos[a]) - lead, 0),
                    begin + int(pos[b]) - lead,
                    -1,
                    int(lead and a == 0),
                )
            )
    return np.array(out, dtype=np.int64).reshape(-1, 4)


def _split_spans(s: str, step: _RegexStep) -> list[tuple[int, int]]:
    """HF NormalizedString::split over a pattern: the kept (start, end) spans, none empty."""
    marks: list[tuple[int, int, bool]] = []
    prev = 0
    for m in step.pattern.finditer(_match_view(s)):
        a, b = m.span()
        if prev != a:
            marks.append((prev, a, False))
        marks.append((a, b, True))
        prev = b
    if prev != len(s):
        marks.append((prev, len(s), False))
    if step.invert:
        marks = [(a, b, not is_match) for a, b, is_match in marks]
    behavior = step.behavior
    spans: list[list[int]] = []
    if behavior == "Isolated":
        spans = [[a, b] for a, b, _ in marks]
    elif behavior == "Removed":
        spans = [[a, b] for a, b, is_match in marks if not is_match]
    elif behavior == "Contiguous":
        previous = False
        for a, b, is_match in marks:
            if is_match == previous and spans:
                spans[-1][1] = b
            else:
                spans.append([a, b])
            previous = is_match
    elif behavior == "MergedWithPrevious":
        previous = False
        for a, b, is_match in marks:
            if is_match and not previous and spans:
                spans[-1][1] = b
            else:
                spans.append([a, b])
            previous = is_match
    else:  # MergedWithNext
        previous = False
        for a, b, is_match in reversed(marks):
            if is_match and not previous and spans:
                spans[-1][0] = a
            else:
                spans.append([a, b])
            previous = is_match
        spans.reverse()
    return [(a, b) for a, b in spans if a < b]


def _utf8(text: str) -> bytes:
    # A str with lone surrogates raises UnicodeEncodeError here; Tokenizer repairs it as
    # tiktoken does and calls again.
    return text.encode("utf-8")
