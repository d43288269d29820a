"""``ctxengine.pack``: the exact prompt for a query, within a token budget, for any backend.

One optimisation rather than a chain of stages that each ignore the budget:

1. candidates: the hits of a search (an :class:`ctxengine.Index`, or a temporary one over the
   texts given), plus the chunks around each hit (neighbour expansion);
2. selection (``csrc/pack/select.cpp``): greedy by relevance per token, discounted by redundancy
   with what is already chosen (MMR), near-duplicates dropped (MinHash), at most
   ``max_per_doc`` chunks per document, neighbours only after their hit;
3. passages: chosen chunks of one document that touch or overlap are merged into one passage
   (one citation, no repeated text);
4. order: by relevance, by position in the documents, or "edges" (the best at the start and at
   the end of the context, against lost-in-the-middle, Liu et al. 2023);
5. rendering in the chosen format and the exact count of what is sent; the estimate used for
   selection is replaced by that count, chunks are dropped until it fits, the room left is
   offered to more chunks, and the last slot is filled with a chunk cut at a sentence boundary.

The prompt's count never exceeds ``budget - reserve_output``.
"""

from __future__ import annotations

import os
import weakref
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from time import perf_counter
from typing import Any

import numpy as np

from .._native import check_internal
from ..errors import BudgetError, InvalidInputError
from ..tokenizers import count_many, tokenizer_name
from . import _select
from ._candidates import DEFAULT_CHUNK_TOKENS, Cand, fill_tokens, gather, relevance_of
from ._passages import (
    NO_ROOM,
    SEPARATOR_TOKENS,
    Layout,
    Passage,
    fill_last_slot,
    merge_passages,
    order_passages,
)
from ._resolve import choose_tokenizer, resolve_budget
from .formats import FORMATS, ChatTemplate, Rendered, Renderer

__all__ = [
    "DEFAULT_INSTRUCTIONS",
    "ORDERS",
    "Packed",
    "Source",
    "pack",
]

ORDERS = ("relevance", "position", "edges")

DEFAULT_INSTRUCTIONS = (
    "Answer the question using the numbered sources below. Cite the sources you use by their "
    "numbers in square brackets, like [1] or [2][3]. If the sources do not contain the answer, "
    "say so."
)
DEFAULT_INSTRUCTIONS_NO_CITATIONS = (
    "Answer the question using the sources below. If the sources do not contain the answer, say so."
)

_REFILL_ROUNDS = 2  # times the room left after the exact count is offered again


@dataclass(frozen=True)
class Source:
    """One passage of the prompt: where it comes from and its citation number.

    ``document[start:end] == text`` (str offsets into the source document) whenever offsets are
    known; a merged passage spans several chunks (``chunk_ids``) of one document.
    """

    number: int | None  # the [n] it is cited by in the prompt (None without citations)
    doc_id: Any
    chunk_id: Any  # the first chunk of the passage
    chunk_ids: tuple[Any, ...]
    start: int | None
    end: int | None
    score: float  # the best search score among its chunks
    tokens: int  # tokens of the passage text alone
    text: str
    truncated: bool = False  # cut at a sentence boundary to fill the last slot
    metadata: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "number": self.number,
            "doc_id": self.doc_id,
            "chunk_id": self.chunk_id,
            "chunk_ids": list(self.chunk_ids),
            "start": self.start,
            "end": self.end,
            "score": self.score,
            "tokens": self.tokens,
            "truncated": self.truncated,
            "metadata": dict(self.metadata),
            "text": self.text,
        }


@dataclass(frozen=True)
class Packed:
    """A packed prompt, exactly counted, with the manifest of its sources.

    ``text`` is the prompt as one string (for ``openai`` and ``anthropic``, the plain-text form
    of the messages); ``messages`` is the message list a chat API takes (for ``anthropic``,
    without the system text, which is in ``system``). ``tokens`` is the exact count of what is
    sent, computed as ``counted_as`` says, and is at most ``available``.
    """

    text: str
    messages: list[dict[str, str]]
    tokens: int
    sources: list[Source]
    format: str
    query: str
    budget: int
    reserve_output: int
    available: int
    tokenizer: str
    model: str | None
    system: str | None
    counted_as: str
    stats: dict[str, int]
    timings: dict[str, float]

    def __str__(self) -> str:
        return self.text

    def source(self, number: int) -> Source:
        """The source cited as ``[number]``."""
        for s in self.sources:
            if s.number == number:
                return s
        raise KeyError(f"no source is cited as [{number}]")

    def to_dict(self) -> dict[str, Any]:
        """Everything as JSON-ready data: the prompt, its count and the source manifest."""
        out: dict[str, Any] = {
            "format": self.format,
            "model": self.model,
            "tokenizer": self.tokenizer,
            "budget": self.budget,
            "reserve_output": self.reserve_output,
            "available": self.available,
            "tokens": self.tokens,
            "counted_as": self.counted_as,
            "query": self.query,
        }
        if self.format == "anthropic":
            out["system"] = self.system
        out["messages"] = self.messages
        out["text"] = self.text
        out["sources"] = [s.to_dict() for s in self.sources]
        out["stats"] = dict(self.stats)
        return out


def pack(
    query: str,
    source: Any,
    budget: int | str,
    *,
    model: str | None = None,
    tokenizer: str | os.PathLike[str] | Any | None = None,
    format: str = "text",
    order: str = "relevance",
    citations: bool = True,
    instructions: str | None = None,
    template: str | None = None,
    source_template: str | None = None,
    chat_template: ChatTemplate | str | os.PathLike[str] | None = None,
    reserve_output: int | None = None,
    k: int | None = None,
    mode: str | None = None,
    fusion: str | None = None,
    filter: Any = None,
    scores: Sequence[float] | None = None,
    neighbors: int = 1,
    diversity: float = 0.3,
    dedupe: float | None = 0.8,
    max_per_doc: int | None = None,
    merge: bool = True,
    truncate_last: bool = True,
    chunk_tokens: int = DEFAULT_CHUNK_TOKENS,
) -> Packed:
    """Pack the best context for `query` from `source` into a prompt of at most `budget` tokens.

    `source` is a :class:`ctxengine.Index` (searched with `k`, `mode`, `fusion`
    for hybrid search, and `filter`), one long
    text or a list of texts (searched through a temporary index, chunked to `chunk_tokens`),
    a :class:`ctxengine.Chunks`, or a list of search hits (their scores are used as given).
    With `scores` (one per text or chunk) the texts are taken as chunks with those scores, and
    with an empty `query` they are taken in order.

    `budget` is a token count or a model name (``"gpt-4o"``: its context window); the prompt may
    use ``budget - reserve_output`` tokens (by default the whole number, or for a model name the
    model's output limit is kept free). The tokenizer is `tokenizer`, else `model`'s, else the
    index's, else ``cl100k_base``.

    `format` is ``"text"``, ``"openai"``, ``"anthropic"``, ``"chatml"`` or ``"hf"`` (a Hugging
    Face chat template from `chat_template`: a model folder, a tokenizer_config.json or a .jinja
    file; by default the folder `tokenizer` was loaded from). `order` is ``"relevance"``,
    ``"position"`` or ``"edges"``. With `citations` each source is numbered ``[n]`` and
    ``Packed.sources`` maps the numbers back to documents and offsets. `instructions` is the
    system text (a default that asks for citations), `template` the user message with
    ``{sources}`` and ``{query}``, `source_template` one source with ``{n}``, ``{label}``,
    ``{doc_id}``, ``{text}``, ``{start}`` and ``{end}``.

    Selection: `neighbors` chunks on each side of a hit may join after it; `diversity` (0-1)
    discounts a chunk by its similarity to chosen ones; `dedupe` drops chunks at least this
    similar (estimated Jaccard of word 3-shingles; None keeps duplicates); `max_per_doc` caps
    the chunks taken from one document; `merge` joins touching chunks of a document;
    `truncate_last` fills the room left with a chunk cut at a sentence boundary.

    Raises :class:`ctxengine.BudgetError` when the prompt without any source (instructions,
    question and chat format) does not fit, saying how many tokens that needs.

    >>> import ctxengine
    >>> texts = ["A list is a mutable sequence.", "A tuple is an immutable sequence."]
    >>> packed = ctxengine.pack("what is a list?", texts, 100, scores=[2.0, 1.0])
    >>> packed.tokens <= 100, [s.number for s in packed.sources]
    (True, [1, 2])
    >>> print(packed.sources[0].text)
    A list is a mutable sequence.
    """
    timings = {"search": 0.0, "select": 0.0, "render": 0.0, "count": 0.0}
    _check_options(format, order, diversity, dedupe, max_per_doc, neighbors, chunk_tokens, k)
    query = "" if query is None else query
    if not isinstance(query, str):
        raise InvalidInputError(f"query must be a str, got {type(query).__name__}")
    plan = resolve_budget(budget, model=model, reserve_output=reserve_output)
    is_index = _is_index(source)
    tok = choose_tokenizer(tokenizer, profile=plan.profile, index=source if is_index else None)
    renderer = _TimedRenderer(
        Renderer(format, tok, chat_template=_chat_template(chat_template, format, tokenizer)),
        timings,
    )
    if instructions is None:
        instructions = DEFAULT_INSTRUCTIONS if citations else DEFAULT_INSTRUCTIONS_NO_CITATIONS
    layout = Layout(query, template, source_template, citations)
    available = plan.available

    alone = renderer.render(instructions, layout.user([]))
    if alone.tokens > available:
        raise BudgetError(
            f"the prompt without any source needs {alone.tokens} tokens (instructions, question "
            f"and {format} format) but the budget leaves {available} (budget {plan.total} - "
            f"reserve_output {plan.reserve}); raise the budget to at least "
            f"{alone.tokens + plan.reserve} or shorten the instructions or the question"
        )

    started = perf_counter()
    cands, doc_text, by_density = gather(
        query,
        source,
        tok,
        is_index=is_index,
        k=k,
        mode=mode,
        fusion=fusion,
        filter=filter,
        scores=scores,
        neighbors=neighbors,
        chunk_tokens=chunk_tokens,
        available=available,
    )
    timings["search"] = perf_counter() - started

    started, counted_before = perf_counter(), timings["count"]
    fill_tokens(cands, tok, source if is_index else None)
    header = _header_tokens(cands, layout, renderer)
    cost = np.array(
        [int(c.tokens or 0) + SEPARATOR_TOKENS + header[i] for i, c in enumerate(cands)],
        dtype=np.int64,
    )
    selector = _Selector(
        cands,
        cost,
        np.maximum(relevance_of(cands), 1e-9),
        _select.sketches([c.text for c in cands]),
        diversity=diversity,
        duplicate_threshold=2.0 if dedupe is None else float(dedupe),
        max_per_group=int(max_per_doc or 0),
        by_density=by_density,
        timings=timings,
    )
    # The "Sources:" heading comes with the first source.
    heading = renderer.count_plain(layout.user(["x"])) - renderer.count_plain(layout.user([]))
    chosen = selector.choose(available - alone.tokens - max(0, heading))
    timings["select"] = perf_counter() - started - (timings["count"] - counted_before)

    def build(items: list[Cand]) -> tuple[list[Passage], Rendered]:
        t = perf_counter()
        passages = order_passages(merge_passages(items, doc_text, merge), order)
        user = layout.user([layout.block(i + 1, p.text, p) for i, p in enumerate(passages)])
        assembled = renderer.assemble(instructions, user)
        timings["render"] += perf_counter() - t
        return passages, renderer.count(assembled)

    passages, rendered = build([cands[i] for i in chosen])
    for round_ in range(_REFILL_ROUNDS + 1):
        # Drop the latest choices until the exact count fits (a neighbour always goes before
        # its hit: it was chosen after it).
        while rendered.tokens > available:
            over, removed = rendered.tokens - available, 0
            while chosen and removed < over:
                removed += selector.drop(chosen.pop())
            passages, rendered = build([cands[i] for i in chosen])
        if round_ == _REFILL_ROUNDS:
            break
        added = selector.choose(available - rendered.tokens)
        if not added:
            break
        chosen += added
        passages, rendered = build([cands[i] for i in chosen])

    truncated = None
    if truncate_last:
        room = available - rendered.tokens - (0 if passages else max(0, heading))
        truncated, passages, rendered = fill_last_slot(
            cands,
            selector.status,
            header,
            tok,
            room,
            available,
            [cands[i] for i in chosen],
            passages,
            rendered,
            build,
        )

    check_internal(rendered.tokens <= available, f"packed {rendered.tokens} into {available}")
    sources = _sources(passages, citations, tok)
    stats = {
        "candidates": len(cands),
        "hits": sum(1 for c in cands if c.anchor < 0),
        "chunks": len(chosen) + (truncated is not None),
        "sources": len(sources),
        "duplicates": int((selector.status == 2).sum()),
        "truncated": int(truncated is not None),
    }
    return Packed(
        text=rendered.text,
        messages=rendered.messages,
        tokens=rendered.tokens,
        sources=sources,
        format=format,
        query=query,
        budget=plan.total,
        reserve_output=plan.reserve,
        available=available,
        tokenizer=tokenizer_name(tok),
        model=plan.profile.name if plan.profile else None,
        system=rendered.system,
        counted_as=renderer.counted_as,
        stats=stats,
        timings=timings,
    )


class _Selector:
    """The selection state across rounds: which candidates are chosen, and the core's greedy
    loop (csrc/pack/select.cpp) to choose more within the room left."""

    def __init__(
        self,
        cands: list[Cand],
        cost: np.ndarray,
        relevance: np.ndarray,
        sketches: np.ndarray,
        *,
        diversity: float,
        duplicate_threshold: float,
        max_per_group: int,
        by_density: bool,
        timings: dict[str, float],
    ) -> None:
        doc_ids: dict[Any, int] = {}
        self.group = np.array(
            [doc_ids.setdefault(c.key, len(doc_ids)) for c in cands], dtype=np.int32
        )
        self.anchor = np.array([c.anchor for c in cands], dtype=np.int32)
        self.cost = cost
        self.relevance = relevance
        self.sketches = sketches
        self.status = np.zeros(len(cands), dtype=np.int8)
        self.max_sim = np.zeros(len(cands), dtype=np.float64)
        self.diversity = diversity
        self.duplicate_threshold = duplicate_threshold
        self.max_per_group = max_per_group
        self.by_density = by_density
        self.timings = timings

    def choose(self, room: int) -> list[int]:
        t = perf_counter()
        out = _select.select(
            self.relevance,
            self.cost,
            self.group,
            self.anchor,
            self.sketches,
            self.status,
            self.max_sim,
            budget=max(0, room),
            diversity=self.diversity,
            duplicate_threshold=self.duplicate_threshold,
            max_per_group=self.max_per_group,
            by_density=self.by_density,
        )
        self.timings["select"] += perf_counter() - t
        return out

    def drop(self, i: int) -> int:
        """Un-chooses candidate i; returns its estimated cost."""
        self.status[i] = NO_ROOM
        return int(self.cost[i])


# Token counts of source headers, per tokenizer: the same documents' headers come back query
# after query, and counting a hundred short strings costs more than looking them up.
_HEADER_COUNTS: weakref.WeakKeyDictionary[Any, dict[str, int]] = weakref.WeakKeyDictionary()
_HEADER_CACHE_SIZE = 1 << 16


def _header_tokens(cands: list[Cand], layout: Layout, renderer: _TimedRenderer) -> list[int]:
    """Tokens a candidate's header adds (its source block without text), counted once per
    distinct header: nothing for a neighbour, which joins its hit's passage."""
    try:
        cache = _HEADER_COUNTS.setdefault(renderer.renderer.tokenizer, {})
    except TypeError:  # a tokenizer that cannot be weakly referenced: no cache
        cache = {}
    blocks = ["" if c.anchor >= 0 else layout.block(99, "", c) for c in cands]
    todo = sorted({b for b in blocks if b and b not in cache})
    if len(cache) + len(todo) > _HEADER_CACHE_SIZE:
        cache.clear()
        todo = sorted({b for b in blocks if b})
    cache.update(zip(todo, renderer.count_many(todo), strict=True))
    return [cache[b] if b else 0 for b in blocks]


def _is_index(source: Any) -> bool:
    return hasattr(source, "search") and not isinstance(source, (str, Sequence))


def _check_options(
    fmt: str,
    order: str,
    diversity: float,
    dedupe: float | None,
    max_per_doc: int | None,
    neighbors: int,
    chunk_tokens: int,
    k: int | None,
) -> None:
    if fmt not in FORMATS:
        raise InvalidInputError(f"unknown format {fmt!r}: use one of {', '.join(FORMATS)}")
    if order not in ORDERS:
        raise InvalidInputError(f"unknown order {order!r}: use one of {', '.join(ORDERS)}")
    if not (0.0 <= diversity <= 1.0):
        raise InvalidInputError(f"diversity must be between 0 and 1, got {diversity}")
    if dedupe is not None and not (0.0 < dedupe <= 1.0):
        raise InvalidInputError(f"dedupe must be in (0, 1] or None, got {dedupe}")
    for name, value, least in (
        ("max_per_doc", max_per_doc, 1),
        ("neighbors", neighbors, 0),
        ("chunk_tokens", chunk_tokens, 1),
        ("k", k, 1),
    ):
        if value is None and name in ("max_per_doc", "k"):
            continue
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < least:
            raise InvalidInputError(f"{name} must be an integer >= {least}, got {value!r}")


def _chat_template(
    chat_template: ChatTemplate | str | os.PathLike[str] | None, fmt: str, tokenizer: Any
) -> ChatTemplate | None:
    if fmt != "hf":
        return None
    if isinstance(chat_template, ChatTemplate):
        return chat_template
    if isinstance(chat_template, str) and ("{{" in chat_template or "{%" in chat_template):
        return ChatTemplate(chat_template)
    if chat_template is not None:
        return ChatTemplate.load(chat_template)
    if isinstance(tokenizer, (str, os.PathLike)) and os.path.exists(tokenizer):
        folder = tokenizer if os.path.isdir(tokenizer) else os.path.dirname(os.fspath(tokenizer))
        return ChatTemplate.load(folder)
    return None  # the Renderer says what is missing


class _TimedRenderer:
    """A Renderer that books its time under "render" (assembly) and "count"."""

    def __init__(self, renderer: Renderer, timings: dict[str, float]) -> None:
        self.renderer = renderer
        self.timings = timings
        self.counted_as = renderer.counted_as

    def assemble(self, system: str, user: str) -> Rendered:
        t = perf_counter()
        out = self.renderer.assemble(system, user)
        self.timings["render"] += perf_counter() - t
        return out

    def count(self, r: Rendered) -> Rendered:
        t = perf_counter()
        out = self.renderer.count(r)
        self.timings["count"] += perf_counter() - t
        return out

    def render(self, system: str, user: str) -> Rendered:
        return self.count(self.assemble(system, user))

    def count_many(self, texts: list[str]) -> list[int]:
        t = perf_counter()
        out = count_many(self.renderer.tokenizer, texts)
        self.timings["count"] += perf_counter() - t
        return out

    def count_plain(self, text: str) -> int:
        t = perf_counter()
        out = int(self.renderer.tokenizer.count(text)) if text else 0
        self.timings["count"] += perf_counter() - t
        return out


def _sources(passages: list[Passage], citations: bool, tok: Any) -> list[Source]:
    """The manifest, in prompt order; merged passages are counted in one batch."""
    merged = [p.text for p in passages if len(p.members) > 1]
    counts = iter(count_many(tok, merged))
    out = []
    for i, p in enumerate(passages):
        hits = [c for c in p.members if c.anchor < 0] or p.members
        tokens = p.members[0].tokens if len(p.members) == 1 else next(counts)
        out.append(
            Source(
                number=i + 1 if citations else None,
                doc_id=p.doc_id,
                chunk_id=p.members[0].chunk_id,
                chunk_ids=tuple(c.chunk_id for c in p.members),
                start=p.start,
                end=p.end,
                score=max(c.score for c in hits),
                tokens=int(tokens or 0),
                text=p.text,
                truncated=any(c.truncated for c in p.members),
                metadata=dict(p.members[0].metadata),
            )
        )
    return out
