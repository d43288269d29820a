"""
The tokenizer.json pipeline
"""

from __future__ import annotations

import collections.abc
import typing

import numpy
import numpy.typing

__all__: list[str] = [
    "ParsedBpe",
    "Pipeline",
    "Prepared",
    "SpanCounting",
    "character_flags",
    "check_text_size",
    "combining_classes",
    "parse_bpe_json",
    "reference_version",
]

class ParsedBpe:
    """
    A BPE model's vocab and merges parsed in C++ (hf_json.hpp).
    """
    def id_of(self, token: str) -> typing.Any: ...
    def ids(self) -> numpy.typing.NDArray[numpy.int64]: ...
    def merge_ids(
        self,
    ) -> tuple[numpy.typing.NDArray[numpy.uint32], numpy.typing.NDArray[numpy.uint32]]: ...
    def tokens(self) -> list[str]: ...
    @property
    def max_id(self) -> int: ...
    @property
    def min_id(self) -> int: ...
    @property
    def rest(self) -> str: ...
    @property
    def size(self) -> int: ...

class Prepared:
    """
    Normalized text and segments of one input.
    """
    @property
    def segments(self) -> numpy.typing.NDArray[numpy.int64]: ...
    @property
    def text(self) -> bytes: ...

class Pipeline:
    """
    A tokenizer.json pipeline (built by tokenizer_json.py).
    """
    def __init__(self) -> None: ...
    def add_decoder(
        self,
        kind: str,
        *,
        text: str = "",
        content: str = "",
        cleanup: bool = False,
        start: typing.SupportsInt | typing.SupportsIndex = 0,
        stop: typing.SupportsInt | typing.SupportsIndex = 0,
    ) -> None: ...
    def add_normalizer(
        self,
        kind: str,
        *,
        clean_text: bool = False,
        handle_chinese_chars: bool = False,
        strip_accents: bool = False,
        lowercase: bool = False,
        left: bool = False,
        right: bool = False,
        pattern: str = "",
        content: str = "",
    ) -> None: ...
    def add_pre_tokenizer(
        self,
        kind: str,
        *,
        add_prefix_space: bool = False,
        scanner: str = "custom",
        prepend_scheme: str = "always",
        split: bool = True,
        replacement: str = "▁",
        behavior: str = "Isolated",
        pattern: str = "",
        invert: bool = False,
        flavor: str = "oniguruma",
        byte_level: bool = False,
    ) -> None: ...
    def add_token(
        self,
        content: str,
        id: typing.SupportsInt | typing.SupportsIndex,
        *,
        special: bool,
        lstrip: bool,
        rstrip: bool,
        normalized: bool,
    ) -> None: ...
    def count(
        self,
        text: bytes,
        special_mask: typing.Annotated[numpy.typing.ArrayLike, numpy.uint8],
        *,
        add_special: bool,
    ) -> int: ...
    def count_many(
        self,
        texts: collections.abc.Sequence[bytes],
        special_mask: typing.Annotated[numpy.typing.ArrayLike, numpy.uint8],
        *,
        add_special: bool,
        threads: typing.SupportsInt | typing.SupportsIndex = 0,
    ) -> numpy.typing.NDArray[numpy.int64]: ...
    def decode(
        self,
        ids: typing.Annotated[numpy.typing.ArrayLike, numpy.uint32],
        *,
        skip_special: bool = False,
    ) -> str: ...
    def encode(
        self,
        text: bytes,
        special_mask: typing.Annotated[numpy.typing.ArrayLike, numpy.uint8],
        *,
        add_special: bool,
        offsets: bool = False,
    ) -> typing.Any: ...
    def encode_pieces(
        self,
        prepared: Prepared,
        pieces: typing.Annotated[numpy.typing.ArrayLike, numpy.int64],
        *,
        add_special: bool,
        offsets: bool = False,
    ) -> typing.Any: ...
    def finalize(self) -> None: ...
    def find_token(
        self, text: bytes, mask: typing.Annotated[numpy.typing.ArrayLike, numpy.uint8]
    ) -> tuple[int, int]: ...
    def normalize(self, text: str) -> str:
        """
        The normalizer alone, on valid UTF-8 text.
        """
    def prepare(
        self,
        text: bytes,
        special_mask: typing.Annotated[numpy.typing.ArrayLike, numpy.uint8],
        *,
        alignment: bool,
    ) -> Prepared: ...
    def run_step(
        self,
        step: typing.SupportsInt | typing.SupportsIndex,
        prepared: Prepared,
        pieces: typing.Annotated[numpy.typing.ArrayLike, numpy.int64],
    ) -> numpy.typing.NDArray[numpy.int64]:
        """
        Runs native pre-tokenizer step `step` on (begin, end, id, space) pieces.
        """
    def set_bpe(
        self,
        tokens: collections.abc.Sequence[str],
        ids: typing.Annotated[numpy.typing.ArrayLike, numpy.uint32],
        left: typing.Annotated[numpy.typing.ArrayLike, numpy.uint32],
        right: typing.Annotated[numpy.typing.ArrayLike, numpy.uint32],
        merged: typing.Annotated[numpy.typing.ArrayLike, numpy.uint32],
        *,
        byte_level: bool,
        ignore_merges: bool,
        byte_fallback: bool,
        fuse_unk: bool,
        unk_id: typing.SupportsInt | typing.SupportsIndex,
        continuing_subword_prefix: bytes,
        end_of_word_suffix: bytes,
    ) -> None: ...
    def set_bpe_parsed(
        self,
        parsed: ParsedBpe,
        *,
        byte_level: bool,
        ignore_merges: bool,
        byte_fallback: bool,
        fuse_unk: bool,
        unk_id: typing.SupportsInt | typing.SupportsIndex,
        prefix: str,
        continuing_subword_prefix: bytes,
        end_of_word_suffix: bytes,
        source: str,
    ) -> None: ...
    def set_post_processor(
        self,
        prefix: typing.Annotated[numpy.typing.ArrayLike, numpy.uint32],
        suffix: typing.Annotated[numpy.typing.ArrayLike, numpy.uint32],
    ) -> None: ...
    def set_wordpiece(
        self,
        tokens: collections.abc.Sequence[str],
        ids: typing.Annotated[numpy.typing.ArrayLike, numpy.uint32],
        *,
        unk_id: typing.SupportsInt | typing.SupportsIndex,
        continuing_subword_prefix: str,
        max_input_chars_per_word: typing.SupportsInt | typing.SupportsIndex,
    ) -> None: ...
    def token_string(self, id: typing.SupportsInt | typing.SupportsIndex) -> typing.Any: ...
    @property
    def has_external_steps(self) -> bool: ...
    @property
    def num_added_tokens(self) -> int: ...

class SpanCounting:
    """
    Span counting of a pipeline: its BpeTokenizer twin where exact, else C++ re-encoding.
    """
    def __init__(self, pipeline: Pipeline, twin: typing.Any = None) -> None:
        """
        `twin`: a BpeTokenizer that counts like the pipeline when twin_applies(), or None.
        """
    def twin_applies(self, text: bytes) -> bool:
        """
        Whether the twin counts every span of this UTF-8 text exactly.
        """
    @property
    def twin(self) -> typing.Any:
        """
        The BpeTokenizer twin, or None.
        """

def character_flags(
    code_points: typing.Annotated[numpy.typing.ArrayLike, numpy.uint32],
) -> numpy.typing.NDArray[numpy.uint8]:
    """
    HF character flags (1 drop, 2 Bert Mn, 4 Bert punct, 8 mark).
    """

def check_text_size(bytes: typing.SupportsInt | typing.SupportsIndex) -> None:
    """
    Raises BudgetError when a text of this many bytes is 4 GiB or more (32-bit offsets).
    """

def combining_classes(
    code_points: typing.Annotated[numpy.typing.ArrayLike, numpy.uint32],
) -> numpy.typing.NDArray[numpy.uint8]:
    """
    Canonical combining classes as HF tokenizers knows them.
    """

def parse_bpe_json(raw: bytes, source: str) -> typing.Any:
    """
    A tokenizer.json's BPE vocab and merges parsed in C++, or None (no such model).
    """

def reference_version() -> str:
    """
    The HF tokenizers version whose character tables the pipeline reproduces.
    """
