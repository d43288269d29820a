"""Shared pieces of the framework adapter tests: real text, a saved index of it, an independent
token counter (tiktoken itself) and the checks every splitter's output must pass."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import ctxengine
import tok_oracles
from corpus import cjk_texts, english_prose, stdlib_sources

QUESTIONS = [
    "how do I read a file line by line",
    "what does the with statement do",
    "dictionary keys and values",
    "raise an exception with a message",
]


@cache
def documents() -> list[tuple[str, str]]:
    """(id, text) of real documents: prose, code and CJK."""
    docs = [(n, t[:30_000]) for n, t in english_prose(14)]
    docs += [(n, t[:15_000]) for n, t in stdlib_sources(6)]
    docs += [(n, t) for n, t in cjk_texts()[:2]]
    return docs


def repeated_text() -> str:
    """Text whose paragraphs repeat: ``str.find`` locates later copies at the first one."""
    para = "The same paragraph appears again and again in this file.\n\n"
    return "Intro line.\n\n" + para * 12 + "A different ending paragraph.\n"


@cache
def saved_index(root: str) -> Path:
    """An index of documents(), saved under `root` (metadata: lang, n)."""
    index = ctxengine.Index(max_tokens=128)
    docs = documents()
    index.add_many(
        [t for _, t in docs],
        [n for n, _ in docs],
        [
            {"lang": "zh" if "cjk" in n or "utf8" in n else "en", "n": i}
            for i, (n, _) in enumerate(docs)
        ],
    )
    out = Path(root) / "ix"
    index.save(out)
    return out


def count(text: str, name: str = "cl100k_base") -> int:
    """tiktoken's own count, special-token text as plain text."""
    return len(tok_oracles.encoding(name).encode_ordinary(text))


def check_pieces(source: str, pieces: list[str], starts: list[int], size: int) -> None:
    """Each piece is source[start:start+len], has at most `size` tokens by tiktoken, and the
    pieces cover every non-space character of the source, in order."""
    assert len(pieces) == len(starts)
    covered_to = 0
    for piece, start in zip(pieces, starts, strict=True):
        assert source[start : start + len(piece)] == piece
        assert count(piece) <= size, (count(piece), size)
        assert not source[covered_to:start].strip(), "text between pieces was lost"
        covered_to = max(covered_to, start + len(piece))
    assert not source[covered_to:].strip()


def hits_as_rows(hits: list[Any]) -> list[tuple[Any, ...]]:
    return [(h.doc_id, h.chunk_id, h.text, h.start, h.end, h.tokens, h.score) for h in hits]


class SearchSpy:
    """Anything with Index's ``search`` (as a ShardedIndex has): records the calls."""

    def __init__(self, index: Any) -> None:
        self.index = index
        self.calls: list[tuple[str, int, dict[str, Any]]] = []

    def search(self, query: str, k: int = 10, **options: Any) -> list[Any]:
        self.calls.append((query, k, options))
        return self.index.search(query, k, **options)
