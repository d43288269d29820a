"""Oracles for the evaluation-kit tests: tiktoken's own encodings (built offline by
tests/tok_oracles.py) wrapped as token counters with the methods the kit uses."""

from __future__ import annotations

from functools import cache

from tok_oracles import encoding


class Tiktoken:
    """A token counter over tiktoken's encoding `name` (the oracle): ``count`` is the length
    of ``encode_ordinary``, like ctxengine's Tokenizer.count."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.enc = encoding(name)

    def count(self, text: str) -> int:
        return len(self.enc.encode_ordinary(text))

    def count_many(self, texts: list[str]) -> list[int]:
        return [len(ids) for ids in self.enc.encode_ordinary_batch(texts, num_threads=2)]


@cache
def counter(name: str) -> Tiktoken:
    return Tiktoken(name)
