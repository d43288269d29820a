"""Pipelines: how a prompt is made from a long context and a question, within a budget.

A pipeline prepares a context once (for retrieval: chunks and indexes it) and then makes a
prompt for a question at each budget. Built-in pipelines:

- ``"bm25"``, ``"dense"``, ``"hybrid"``: ctxengine's retrieval and packing — the context is
  indexed with :class:`ctxengine.Index` and the prompt is :func:`ctxengine.pack` of the
  question at the budget;
- ``"head"``, ``"tail"``, ``"middle"``, ``"head_tail"``: no retrieval, the context cut to the
  budget with :func:`ctxengine.fit` (LongBench keeps the head and the tail);
- ``"full"``: the whole context, whatever the budget (a sanity check: recall 1.0).

Any callable ``fn(question, context, budget) -> str`` (or returning an object with ``.text``)
is a pipeline too, so the kit measures other people's pipelines the same way.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..errors import InvalidInputError
from ..haystack._tokens import TokenCounter

__all__ = ["FIT_STRATEGIES", "PIPELINES", "Pipeline", "get_pipeline"]

RETRIEVAL_MODES = ("bm25", "dense", "hybrid")
DEFAULT_EMBEDDER = "all-MiniLM-L6-v2"  # for dense and hybrid when no embedder is given
FIT_STRATEGIES = ("head", "tail", "middle", "head_tail")
PIPELINES = (*RETRIEVAL_MODES, *FIT_STRATEGIES, "full")


class Pipeline:
    """Base class: `prepare` a context once, then make a `prompt` per question and budget.

    Pipelines whose `prepare_key` is equal share one prepared context (the retrieval
    pipelines share one index when they chunk and embed alike).
    """

    name = "pipeline"

    def prepare_key(self) -> Any:
        return ("context",)

    def prepare(self, context: str) -> Any:
        return context

    def prompt(self, prepared: Any, question: str, budget: int) -> Any:
        raise NotImplementedError


class _Function(Pipeline):
    def __init__(self, fn: Callable[[str, str, int], Any], name: str | None = None) -> None:
        self.fn = fn
        self.name = name or str(getattr(fn, "__name__", "custom"))

    def prompt(self, prepared: Any, question: str, budget: int) -> Any:
        return self.fn(question, prepared, budget)


class _Full(Pipeline):
    name = "full"

    def prompt(self, prepared: Any, question: str, budget: int) -> Any:
        return prepared


class _Fit(Pipeline):
    def __init__(self, strategy: str, tokenizer: TokenCounter | str) -> None:
        self.name, self.strategy, self.tokenizer = strategy, strategy, tokenizer

    def prompt(self, prepared: Any, question: str, budget: int) -> Any:
        from ..packing import fit

        return fit(prepared, budget, strategy=self.strategy, tokenizer=self.tokenizer)


class _Retrieval(Pipeline):
    def __init__(
        self, mode: str, tokenizer: TokenCounter | str, chunk_tokens: int, options: dict[str, Any]
    ) -> None:
        self.name, self.mode, self.tokenizer = mode, mode, tokenizer
        self.chunk_tokens, self.options = chunk_tokens, options

    def prepare_key(self) -> Any:
        embedder = self.options.get("embedder")
        tokenizer = self.tokenizer if isinstance(self.tokenizer, str) else id(self.tokenizer)
        embed = embedder if isinstance(embedder, str) or embedder is None else id(embedder)
        return ("index", tokenizer, self.chunk_tokens, embed, self.options.get("by"))

    def prepare(self, context: str) -> Any:
        from ..retrieval import Index

        index_options = {k: v for k, v in self.options.items() if k in ("embedder", "by")}
        index = Index(tokenizer=self.tokenizer, max_tokens=self.chunk_tokens, **index_options)
        index.add(context, doc_id="haystack")
        return index

    def prompt(self, prepared: Any, question: str, budget: int) -> Any:
        from ..packing import pack

        pack_options = {k: v for k, v in self.options.items() if k not in ("embedder", "by")}
        return pack(question, prepared, budget, mode=self.mode, **pack_options)


def load_embedder(name: str) -> Any:
    """The embedder called `name` (see :func:`ctxengine.embed.get_embedder`), loaded once so
    that every haystack's index reuses it."""
    from ..retrieval import get_embedder

    return get_embedder(name)


def get_pipeline(
    spec: str | Pipeline | Callable[[str, str, int], Any],
    *,
    tokenizer: TokenCounter | str = "cl100k_base",
    chunk_tokens: int = 256,
    **options: Any,
) -> Pipeline:
    """A :class:`Pipeline` from a name (see :data:`PIPELINES`), a Pipeline, or a callable
    ``fn(question, context, budget)``. `chunk_tokens` sizes the retrieval chunks; other
    options go to :class:`ctxengine.Index` (``embedder``, ``by``) and :func:`ctxengine.pack`.
    Dense and hybrid use all-MiniLM-L6-v2 unless an ``embedder`` is given."""
    if isinstance(spec, Pipeline):
        return spec
    if callable(spec):
        return _Function(spec)
    if spec in RETRIEVAL_MODES:
        if spec != "bm25":
            options.setdefault("embedder", DEFAULT_EMBEDDER)
        if isinstance(options.get("embedder"), str):
            options["embedder"] = load_embedder(options["embedder"])
        return _Retrieval(spec, tokenizer, chunk_tokens, options)
    if spec in FIT_STRATEGIES:
        return _Fit(spec, tokenizer)
    if spec == "full":
        return _Full()
    raise InvalidInputError(f"unknown pipeline {spec!r}; choose one of {', '.join(PIPELINES)}")
