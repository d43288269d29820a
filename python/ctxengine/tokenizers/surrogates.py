"""A str as the tokenizers see it: tiktoken's repair of text that is not valid UTF-8.

A Python str may hold surrogates (from ``surrogateescape``, JSON, or a careless slice of
UTF-16). tiktoken joins each surrogate pair into the character it encodes and turns lone
surrogates into U+FFFD (``text.encode("utf-16", "surrogatepass").decode("utf-16",
"replace")``); ctxengine does the same everywhere, and :class:`Repaired` keeps the offset map
between the original and the repaired text so results can be reported in the caller's offsets.
"""

from __future__ import annotations

import re
from typing import overload

import numpy as np

__all__ = ["Repaired", "utf8_safe"]

_PAIR = re.compile("[\ud800-\udbff][\udc00-\udfff]")


class Repaired:
    """`text` repaired as tiktoken repairs it, with the map of offsets back and forth.

    Only a joined pair changes lengths (two original characters become one); a lone surrogate
    becomes one U+FFFD. ``pairs`` holds the repaired offset of each joined pair's character.

    >>> r = Repaired("a\\ud83d\\ude00b")
    >>> r.text == "a\\U0001f600b", r.to_original(2), r.to_repaired(3)
    (True, 3, 2)
    """

    __slots__ = ("pairs", "text")

    def __init__(self, text: str) -> None:
        self.text = text
        self.pairs = np.empty(0, dtype=np.int64)
        if text.isascii():  # O(1) in CPython
            return
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            self.text = text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
            if len(self.text) != len(text):
                starts = [m.start() for m in _PAIR.finditer(text)]
                self.pairs = np.array(starts, dtype=np.int64) - np.arange(len(starts))

    @property
    def changed_length(self) -> bool:
        """Whether offsets differ between the two texts (some surrogate pair was joined)."""
        return bool(self.pairs.size)

    @overload
    def to_original(self, offsets: int) -> int: ...
    @overload
    def to_original(self, offsets: np.ndarray) -> np.ndarray: ...
    def to_original(self, offsets: int | np.ndarray) -> int | np.ndarray:
        """Original offsets of repaired offsets (an int or an int64 array)."""
        if not self.pairs.size:
            return offsets
        shift = np.searchsorted(self.pairs, offsets, side="left")
        return int(offsets + shift) if isinstance(offsets, int) else offsets + shift

    def to_repaired(self, offset: int) -> int:
        """The repaired offset of an original offset (one inside a pair maps to its character)."""
        if not self.pairs.size:
            return offset
        originals = self.pairs + np.arange(self.pairs.size)  # where each pair starts originally
        return offset - int(np.searchsorted(originals, offset - 1, side="left"))

    def inside_pair(self, offset: int) -> bool:
        """Whether original offset `offset` falls between the two halves of a joined pair."""
        if not self.pairs.size:
            return False
        originals = self.pairs + np.arange(self.pairs.size)
        k = int(np.searchsorted(originals, offset - 1, side="left"))
        return k < originals.size and int(originals[k]) == offset - 1


def utf8_safe(text: str) -> str:
    """`text` itself when it encodes to UTF-8, else tiktoken's repair of it."""
    return Repaired(text).text
