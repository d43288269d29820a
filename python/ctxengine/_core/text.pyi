"""
UTF-8 and Unicode tables of the core
"""

from __future__ import annotations

import numpy
import numpy.typing

__all__: list[str] = [
    "byte_offsets",
    "char_offsets",
    "find_invalid_utf8",
    "general_categories",
    "to_lower",
    "unicode_version",
    "white_space",
]

def byte_offsets(
    data: bytes, char_offsets: numpy.typing.NDArray[numpy.int64]
) -> numpy.typing.NDArray[numpy.int64]:
    """
    Byte offsets of code point offsets into valid UTF-8 `data`.
    """

def char_offsets(
    data: bytes, byte_offsets: numpy.typing.NDArray[numpy.int64]
) -> numpy.typing.NDArray[numpy.int64]:
    """
    Code point offsets of byte offsets into valid UTF-8 `data`.
    """

def find_invalid_utf8(data: bytes) -> int:
    """
    Byte offset of the first invalid UTF-8 sequence, or -1 when valid.
    """

def general_categories(
    code_points: numpy.typing.NDArray[numpy.uint32],
) -> numpy.typing.NDArray[numpy.uint8]:
    """
    General category index of each code point.
    """

def to_lower(code_points: numpy.typing.NDArray[numpy.uint32]) -> numpy.typing.NDArray[numpy.uint32]:
    """
    Simple lowercase of each code point.
    """

def unicode_version() -> str:
    """
    Unicode version of the built-in tables.
    """

def white_space(
    code_points: numpy.typing.NDArray[numpy.uint32],
) -> numpy.typing.NDArray[numpy.bool]:
    """
    White_Space property of each code point.
    """
