"""
Byte-level BPE tokenizers of the core
"""

from __future__ import annotations

import collections.abc
import typing

import numpy
import numpy.typing

__all__: list[str] = [
    "BpeTokenizer",
    "Regex",
    "SpanCounter",
    "identify_pattern",
    "pattern_strings",
    "split_pieces",
]

class Regex:
    """
    A compiled pre-tokenizer regex (csrc/tokenizer/regex.hpp).
    """
    def __init__(self, pattern: str, flavor: str) -> None: ...
    def find_all(self, text: str) -> numpy.typing.NDArray[numpy.int64]:
        """
        (start, end) str offsets of the successive matches (find_iter).
        """
    @property
    def num_classes(self) -> int: ...
    @property
    def num_instructions(self) -> int: ...
    @property
    def pattern(self) -> str: ...

class SpanCounter:
    def __len__(self) -> int: ...
    def count(
        self,
        start: typing.SupportsInt | typing.SupportsIndex,
        end: typing.SupportsInt | typing.SupportsIndex,
    ) -> int: ...
    def count_many(
        self, starts: numpy.typing.NDArray[numpy.int64], ends: numpy.typing.NDArray[numpy.int64]
    ) -> numpy.typing.NDArray[numpy.int64]:
        """
        Counts of many spans (int64 arrays of str offsets).
        """
    def fit(
        self,
        start: typing.SupportsInt | typing.SupportsIndex,
        end: typing.SupportsInt | typing.SupportsIndex,
        limit: typing.SupportsInt | typing.SupportsIndex,
    ) -> int: ...
    def fit_start(
        self,
        start: typing.SupportsInt | typing.SupportsIndex,
        end: typing.SupportsInt | typing.SupportsIndex,
        limit: typing.SupportsInt | typing.SupportsIndex,
    ) -> int: ...
    @property
    def total(self) -> int: ...

class BpeTokenizer:
    @staticmethod
    def from_tiktoken(
        name: str,
        ranks: bytes,
        source: str,
        pattern: str,
        special_tokens: collections.abc.Sequence[
            tuple[str, typing.SupportsInt | typing.SupportsIndex]
        ],
    ) -> BpeTokenizer:
        """
        A tokenizer from a tiktoken rank file's content, its pattern and special tokens.
        """
    @staticmethod
    def from_vocab(
        name: str,
        tokens: collections.abc.Sequence[tuple[bytes, typing.SupportsInt | typing.SupportsIndex]],
        merges: collections.abc.Sequence[
            tuple[
                typing.SupportsInt | typing.SupportsIndex, typing.SupportsInt | typing.SupportsIndex
            ]
        ]
        | None,
        whole_piece_lookup: bool,
        pattern: str,
        special_tokens: collections.abc.Sequence[
            tuple[str, typing.SupportsInt | typing.SupportsIndex]
        ],
        source: str,
    ) -> BpeTokenizer:
        """
        A tokenizer from (bytes, id) tokens and merges (id pairs; None: ids are ranks).
        """
    def count(self, text: str, allowed_special: collections.abc.Sequence[str]) -> int:
        """
        Number of tokens.
        """
    def count_many(
        self,
        texts: list,
        allowed_special: collections.abc.Sequence[str],
        threads: typing.SupportsInt | typing.SupportsIndex,
    ) -> numpy.typing.NDArray[numpy.int64]:
        """
        Token counts of many texts (int64), on `threads` threads (0 = all cores).
        """
    def count_until(
        self, text: str, limit: typing.SupportsInt | typing.SupportsIndex
    ) -> tuple[int, int]:
        """
        (count, end) of the longest prefix text[:end] within the limit.
        """
    def decode_bytes(self, ids: numpy.typing.NDArray[numpy.uint32]) -> bytes:
        """
        The bytes of the tokens (uint32 ids).
        """
    def encode(
        self, text: str, allowed_special: collections.abc.Sequence[str]
    ) -> numpy.typing.NDArray[numpy.uint32]:
        """
        Token ids (uint32).
        """
    def encode_piece(self, piece: bytes) -> numpy.typing.NDArray[numpy.uint32]:
        """
        BPE of one piece of bytes, without pre-tokenization.
        """
    def encode_with_offsets(
        self, text: str, allowed_special: collections.abc.Sequence[str]
    ) -> tuple[numpy.typing.NDArray[numpy.uint32], numpy.typing.NDArray[numpy.int64]]:
        """
        (ids, starts): token ids and the str index where each token starts.
        """
    def find_special(self, text: str, names: collections.abc.Sequence[str]) -> typing.Any:
        """
        (str index, token) of the leftmost named special token in text, or None.
        """
    def safe_seams(
        self, text: str, part_bytes: typing.SupportsInt | typing.SupportsIndex
    ) -> numpy.typing.NDArray[numpy.int64]:
        """
        Where count_many cuts a long text (str indices), for parts of >= part_bytes.
        """
    def spans(self, text: str) -> SpanCounter:
        """
        An exact span counter over text (str offsets).
        """
    @property
    def n_vocab(self) -> int: ...
    @property
    def name(self) -> str: ...
    @property
    def pretokenizer(self) -> str: ...
    @property
    def special_tokens(self) -> list[tuple[str, int]]: ...

def identify_pattern(pattern: str) -> str:
    """
    Name of the built-in scanner for this exact regex pattern string, or 'custom'.
    """

def pattern_strings(name: str) -> list[str]:
    """
    Known spellings of a scanner's pattern (the first is canonical).
    """

def split_pieces(name: str, text: str) -> numpy.typing.NDArray[numpy.int64]:
    """
    End offsets (str indices) of the scanner's pieces.
    """
