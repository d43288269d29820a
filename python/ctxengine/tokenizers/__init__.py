"""Exact tokenizers: ids and counts equal to tiktoken's and HF tokenizers', from a C++ core.

- :mod:`.tokenizer`: :class:`Tokenizer` (tiktoken-family byte-level BPE), :class:`SpanCounter`.
- :mod:`.tokenizer_json`: :class:`JsonTokenizer`, the same API over a HF ``tokenizer.json``.
- :mod:`.registry`: :func:`get_tokenizer`, the one place names and files become tokenizers.
- :mod:`.resolve`: what the other areas accept as "a tokenizer" (:func:`resolve_tokenizer`).
- :mod:`.tiktoken_files`, :mod:`.byte_alphabet`, :mod:`.surrogates`: rank files, GPT-2's
  byte alphabet, and tiktoken's repair of strings that are not valid UTF-8.
"""

from __future__ import annotations

from .registry import get_tokenizer, identify_pattern, list_tokenizers
from .resolve import TokenCounter, count_many, resolve_tokenizer, tokenizer_name
from .tokenizer import Prefix, SpanCounter, Tokenizer
from .tokenizer_json import JsonTokenizer

__all__ = [
    "JsonTokenizer",
    "Prefix",
    "SpanCounter",
    "TokenCounter",
    "Tokenizer",
    "count_many",
    "get_tokenizer",
    "identify_pattern",
    "list_tokenizers",
    "resolve_tokenizer",
    "tokenizer_name",
]
