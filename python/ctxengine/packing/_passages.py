"""Passages: chosen chunks merged per document, ordered, laid out as numbered sources; and the
last slot, filled with a chunk cut at a sentence boundary."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from ..errors import InvalidInputError
from ._candidates import Cand
from ._tokenizer import fit_prefix
from .formats import Rendered

__all__ = [
    "NO_ROOM",
    "SEPARATOR_TOKENS",
    "Layout",
    "Passage",
    "fill_last_slot",
    "merge_passages",
    "order_passages",
    "sentence_cut",
]

SELECTED, DUPLICATE, NO_ROOM = 1, 2, 4  # SelectStatus values (csrc/pack/select.hpp)
MIN_TRUNCATED_TOKENS = 16  # a cut chunk shorter than this is not worth its header
SEPARATOR_TOKENS = 1  # "\n\n" between two sources

# Where a chunk may be cut: after terminal punctuation (and closing quotes) followed by
# whitespace, after a CJK full stop, or at a line end.
_SENTENCE_END = re.compile(r"[.!?…][\"'”’»)\]]*(?=\s)|[。！？][」』”’)）]*|(?=\n)")


@dataclass
class Passage:
    doc_id: Any
    members: list[Cand]
    start: int | None
    end: int | None
    text: str
    first_chosen: int


class Layout:
    """The user message: numbered source blocks, then the question."""

    def __init__(
        self, query: str, template: str | None, source_template: str | None, citations: bool
    ) -> None:
        self.query = query
        self.template = template
        self.source_template = source_template
        self.citations = citations
        self._labels: dict[Any, str | None] = {}  # per document
        if template is not None and "{sources}" not in template:
            raise InvalidInputError("template must contain {sources} (and usually {query})")

    def block(self, number: int, text: str, item: Cand | Passage) -> str:
        members = item.members if isinstance(item, Passage) else [item]
        label = self._labels.get(members[0].key, "")
        if label == "":
            label = self._labels[members[0].key] = _label(members[0])
        if self.source_template is not None:
            fields = {
                "n": number if self.citations else "",
                "label": label or "",
                "doc_id": members[0].doc_id,
                "text": text,
                "start": item.start,
                "end": item.end,
            }
            try:
                return self.source_template.format_map(fields)
            except (KeyError, IndexError, ValueError) as exc:
                raise InvalidInputError(
                    f"source_template may use {{n}}, {{label}}, {{doc_id}}, {{text}}, {{start}} "
                    f"and {{end}}: {exc!r}"
                ) from exc
        head = f"[{number}]" if self.citations else ""
        if label:
            head = f"{head} {label}" if head else label
        return f"{head}\n{text}" if head else text

    def user(self, blocks: list[str]) -> str:
        sources = "\n\n".join(blocks)
        if self.template is not None:
            try:
                return self.template.format_map({"sources": sources, "query": self.query})
            except (KeyError, IndexError, ValueError) as exc:
                raise InvalidInputError(
                    f"template may use {{sources}} and {{query}} only: {exc!r}"
                ) from exc
        parts = []
        if blocks:
            parts.append("Sources:\n\n" + sources)
        if self.query:
            parts.append(f"Question: {self.query}")
        return "\n\n".join(parts)


def _label(c: Cand) -> str | None:
    for key in ("title", "path", "source", "name"):
        value = c.metadata.get(key) if isinstance(c.metadata, Mapping) else None
        if isinstance(value, str) and value:
            return " ".join(value.split())
    return " ".join(c.doc_id.split()) if isinstance(c.doc_id, str) and c.doc_id.strip() else None


def merge_passages(
    items: list[Cand], doc_text: Callable[[Any], str | None], merge: bool
) -> list[Passage]:
    order = {id(c): i for i, c in enumerate(items)}
    by_doc: dict[Any, list[Cand]] = {}
    for c in items:
        by_doc.setdefault(c.key, []).append(c)
    out: list[Passage] = []
    for members in by_doc.values():
        members.sort(key=lambda c: (c.start is None, c.start or 0, order[id(c)]))
        cur: Passage | None = None
        for c in members:
            if cur is not None and merge and _join(cur, c, doc_text):
                continue
            if cur is not None:
                out.append(cur)
            cur = Passage(c.doc_id, [c], c.start, c.end, c.text, order[id(c)])
        if cur is not None:
            out.append(cur)
    for p in out:
        p.first_chosen = min(order[id(c)] for c in p.members)
    return out


def _join(p: Passage, c: Cand, doc_text: Callable[[Any], str | None]) -> bool:
    """Appends chunk `c` to passage `p` when they touch or overlap (or only whitespace of the
    document lies between them)."""
    if p.start is None or p.end is None or c.start is None or c.end is None:
        return False
    if c.start <= p.end:
        if c.end > p.end:
            p.text += c.text[p.end - c.start :]
            p.end = c.end
        p.members.append(c)
        return True
    doc = doc_text(c.doc_id)
    if doc is None or not doc[p.end : c.start].isspace():
        return False
    p.text += doc[p.end : c.start] + c.text
    p.end = c.end
    p.members.append(c)
    return True


def order_passages(passages: list[Passage], order: str) -> list[Passage]:
    by_relevance = sorted(passages, key=lambda p: (-passage_relevance(p), p.first_chosen))
    if order == "relevance":
        return by_relevance
    if order == "position":
        return sorted(passages, key=lambda p: (p.members[0].doc_rank, p.start or 0, p.first_chosen))
    # "edges": 1st, 3rd, 5th ... from the front, 2nd, 4th ... from the back.
    return by_relevance[0::2] + by_relevance[1::2][::-1]


def passage_relevance(p: Passage) -> float:
    return max(c.relevance for c in p.members)


def sentence_cut(tok: Any, text: str, limit: int) -> int:
    """The end of the longest prefix of `text` that ends a sentence (or a line) and has at most
    `limit` tokens; 0 when there is none."""
    if limit <= 0:
        return 0
    e = fit_prefix(tok, text, limit)
    if e >= len(text):
        return len(text)
    best = 0
    for m in _SENTENCE_END.finditer(text, 0, min(len(text), e + 1)):
        if 0 < m.end() <= e:
            best = m.end()
    return len(text[:best].rstrip())


def fill_last_slot(
    cands: list[Cand],
    status: np.ndarray,
    header: list[int],
    tok: Any,
    room: int,
    available: int,
    picked: list[Cand],
    passages: list[Passage],
    rendered: Rendered,
    build: Callable[[list[Cand]], tuple[list[Passage], Rendered]],
) -> tuple[Cand | None, list[Passage], Rendered]:
    """Fills `room` (the tokens left) with the most relevant chunk that did not fit, cut at a
    sentence boundary. Only a hit or a chunk after its hit qualifies: the start of the chunk
    is kept, which continues its passage. Returns the piece (or None) and the new rendering."""
    options = [
        i
        for i, c in enumerate(cands)
        if status[i] == NO_ROOM and c.side >= 0 and (c.anchor < 0 or status[c.anchor] == SELECTED)
    ]
    options.sort(key=lambda i: (-cands[i].relevance, i))
    for i in options[:3]:
        c = cands[i]
        limit = room - SEPARATOR_TOKENS - header[i]
        for _attempt in range(4):
            if limit < MIN_TRUNCATED_TOKENS:
                break
            cut = sentence_cut(tok, c.text, limit)
            if cut < 1:
                break
            text = c.text[:cut]
            piece = replace(
                c,
                text=text,
                end=None if c.start is None else c.start + cut,
                tokens=int(tok.count(text)),
                truncated=True,
            )
            new_passages, new_rendered = build([*picked, piece])
            if new_rendered.tokens <= available:
                return piece, new_passages, new_rendered
            limit -= new_rendered.tokens - available  # the estimate was short: ask for less
    return None, passages, rendered
