"""Run pipelines over a grid of haystacks and collect context recall (and model scores).

For every task x length x depth x sample, one haystack is generated (at the exact length);
every pipeline prepares it once and makes a prompt at every budget; each prompt is measured
with :func:`context_recall`. With a model, the prompt (in the task's template, with the
question) is sent to it and the answer scored RULER-style.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from ..errors import InvalidInputError
from ..haystack import FillerSpec, generate, load_filler, resolve_tokenizer
from ..haystack._tokens import TokenCounter
from ..haystack.record import Haystack, render_template
from .llm import LLM, prompt_messages
from .pipelines import DEFAULT_EMBEDDER, Pipeline, get_pipeline
from .recall import context_recall
from .report import Report, Row
from .scoring import score

__all__ = ["evaluate", "evaluate_examples", "evaluate_haystacks", "run_haystack"]

PipelineSpec = str | Pipeline | Callable[[str, str, int], Any]


def run_haystack(
    hs: Haystack,
    pipeline: Pipeline,
    budgets: Sequence[int | None],
    *,
    tokenizer: TokenCounter,
    llm: LLM | None = None,
    cache: dict[Any, Any] | None = None,
) -> list[Row]:
    """Rows for one haystack through one pipeline at each budget.

    `cache` (one dict per haystack) lets pipelines with the same ``prepare_key`` share the
    prepared context (one index for bm25, dense and hybrid)."""
    key = pipeline.prepare_key()
    if cache is not None and key in cache:
        prepared = cache[key]
    else:
        prepared = pipeline.prepare(hs.context)
        if cache is not None:
            cache[key] = prepared
    rows = []
    depth = hs.spans[0].depth if len(hs.spans) == 1 else _gold_depth(hs)
    for budget in budgets:
        packed = pipeline.prompt(prepared, hs.question, budget or 0)
        r = context_recall(packed, hs, tokenizer=tokenizer)
        row = Row(
            pipeline=pipeline.name,
            task=hs.task,
            length=hs.target_length,
            depth=depth,
            budget=budget,
            recall=r.recall,
            answer_recall=r.answer_recall,
            tokens=r.tokens,
            found=r.found,
            facts=len(r.facts),
            index=hs.index,
            token_offsets=[f.token_offset for f in r.facts],
        )
        if llm is not None:
            text = packed if isinstance(packed, str) else packed.text
            prediction = llm(prompt_messages(render_template(hs.template, text, hs.question)))
            row.prediction = prediction
            row.score = score(hs.task, prediction, hs.answers)
        rows.append(row)
    return rows


def _gold_depth(hs: Haystack) -> float | None:
    gold = [s.depth for s in hs.spans if s.kind != "distractor"]
    return gold[0] if gold else None


def evaluate(
    pipelines: PipelineSpec | Sequence[PipelineSpec] = "bm25",
    *,
    tasks: Sequence[str] = ("niah_single",),
    lengths: Sequence[int] = (8_000, 32_000, 128_000),
    depths: Sequence[float | None] = (0.0, 0.25, 0.5, 0.75, 1.0),
    budgets: Sequence[int | None] = (4_000,),
    samples: int = 1,
    tokenizer: str | TokenCounter = "cl100k_base",
    filler: FillerSpec = None,
    seed: int = 0,
    llm: LLM | None = None,
    chunk_tokens: int = 256,
    task_options: dict[str, dict[str, Any]] | None = None,
    pipeline_options: dict[str, Any] | None = None,
    progress: bool = False,
    on_row: Callable[[Row], None] | None = None,
) -> Report:
    """Context recall (and, with `llm`, model scores) of `pipelines` over a haystack grid.

    `pipelines`: names (``"bm25"``, ``"dense"``, ``"hybrid"``, ``"head_tail"``, ``"full"``
    ...), :class:`Pipeline` objects or callables ``fn(question, context, budget)``. A depth of
    None places the gold facts at seeded random depths. `task_options` gives options per task
    (``{"thread": {"hops": 3}}``); `pipeline_options` go to the named pipelines (``embedder``
    and ``by`` to :class:`ctxengine.Index`, the rest to :func:`ctxengine.pack`). `progress`
    shows a progress bar on stderr; `on_row` is called with each result as it comes.

    >>> report = evaluate("full", lengths=[1000], depths=[0.5], budgets=[None])  # doctest: +SKIP
    >>> report.rows[0].recall
    1.0
    """
    specs = (
        [pipelines]
        if isinstance(pipelines, (str, Pipeline)) or callable(pipelines)
        else list(pipelines)
    )
    if not specs or not tasks or not lengths or not depths or not budgets:
        raise InvalidInputError(
            "evaluate needs at least one pipeline, task, length, depth and budget"
        )
    tok = resolve_tokenizer(tokenizer)
    built = _build(specs, tok, chunk_tokens, pipeline_options)
    fill = load_filler(filler, seed=seed)
    grid = [
        (task, length, depth, sample)
        for task in tasks
        for length in lengths
        for depth in depths
        for sample in range(samples)
    ]
    bar = _progress(len(grid), progress)
    report = Report()
    try:
        for n, (task, length, depth, sample) in enumerate(grid):
            options = (task_options or {}).get(task, {})
            hs = generate(
                task, length, tokenizer=tok, filler=fill, depth=depth, seed=seed, index=sample,
                **options,
            )  # fmt: skip
            hs.index = n
            cache: dict[Any, Any] = {}  # one index per haystack, shared by the pipelines
            for pipeline in built:
                for row in run_haystack(hs, pipeline, budgets, tokenizer=tok, llm=llm, cache=cache):
                    row.depth = depth
                    report.rows.append(row)
                    if on_row is not None:
                        on_row(row)
            if bar is not None:
                bar.update(1)
    finally:
        if bar is not None:
            bar.close()
    return report


def _build(
    specs: Sequence[PipelineSpec],
    tokenizer: TokenCounter,
    chunk_tokens: int,
    options: dict[str, Any] | None,
) -> list[Pipeline]:
    options = dict(options or {})
    if any(p in ("dense", "hybrid") for p in specs if isinstance(p, str)):
        options.setdefault("embedder", DEFAULT_EMBEDDER)  # bm25 then shares their index
    return [
        get_pipeline(p, tokenizer=tokenizer, chunk_tokens=chunk_tokens, **options) for p in specs
    ]


def _progress(total: int, enabled: bool) -> Any:
    if not enabled:
        return None
    from tqdm import tqdm

    return tqdm(total=total, unit="haystack", file=sys.stderr, dynamic_ncols=True)


def evaluate_haystacks(
    haystacks: Iterable[Haystack],
    pipelines: PipelineSpec | Sequence[PipelineSpec] = "bm25",
    *,
    budgets: Sequence[int | None] = (4_000,),
    tokenizer: str | TokenCounter | None = None,
    llm: LLM | None = None,
    chunk_tokens: int = 256,
    pipeline_options: dict[str, Any] | None = None,
    progress: bool = False,
) -> Report:
    """Like :func:`evaluate`, over haystacks already made (``read_jsonl`` of a file written by
    ``ctxengine haystack``). The tokenizer defaults to the one the haystacks were made with."""
    items = list(haystacks)
    if not items:
        raise InvalidInputError("no haystacks to evaluate")
    specs = (
        [pipelines]
        if isinstance(pipelines, (str, Pipeline)) or callable(pipelines)
        else list(pipelines)
    )
    tok = resolve_tokenizer(tokenizer if tokenizer is not None else items[0].tokenizer)
    built = _build(specs, tok, chunk_tokens, pipeline_options)
    bar = _progress(len(items), progress)
    report = Report()
    try:
        for hs in items:
            cache: dict[Any, Any] = {}
            for pipeline in built:
                report.rows += run_haystack(
                    hs, pipeline, budgets, tokenizer=tok, llm=llm, cache=cache
                )
            if bar is not None:
                bar.update(1)
    finally:
        if bar is not None:
            bar.close()
    return report


DATASET_TEMPLATE = (
    "Answer the question using the text below. Answer briefly.\n\n{context}\n\n"
    "Question: {question}\nAnswer:"
)


def evaluate_examples(
    examples: Sequence[Any],
    pipelines: PipelineSpec | Sequence[PipelineSpec] = "head_tail",
    *,
    budgets: Sequence[int | None] = (8_000,),
    tokenizer: str | TokenCounter = "cl100k_base",
    llm: LLM | None = None,
    template: str = DATASET_TEMPLATE,
    chunk_tokens: int = 256,
    pipeline_options: dict[str, Any] | None = None,
    progress: bool = False,
) -> Report:
    """Prompts for dataset examples (see :mod:`ctxengine.evaluation.datasets`) at each budget:
    recall of their marked evidence and answers, tokens used and, with `llm`, scores.

    Consecutive examples that share a context (L-Eval, LooGLE and LoCoMo ask many questions
    of one document) are prepared once. A row's `length` is the exact token count of the
    context.
    """
    specs = (
        [pipelines]
        if isinstance(pipelines, (str, Pipeline)) or callable(pipelines)
        else list(pipelines)
    )
    tok = resolve_tokenizer(tokenizer)
    built = _build(specs, tok, chunk_tokens, pipeline_options)
    bar = _progress(len(examples), progress)
    report = Report()
    context_id, length = -1, 0
    cache: dict[Any, Any] = {}
    try:
        for n, ex in enumerate(examples):
            if id(ex.context) != context_id:  # a new document: count it, prepare it afresh
                context_id, length, cache = id(ex.context), int(tok.count(ex.context)), {}
            for pipeline in built:
                key = pipeline.prepare_key()
                if key not in cache:
                    cache[key] = pipeline.prepare(ex.context)
                for budget in budgets:
                    packed = pipeline.prompt(cache[key], ex.question, budget or 0)
                    r = context_recall(packed, ex.evidence, tokenizer=tok, answers=ex.answers)
                    row = Row(
                        pipeline=pipeline.name,
                        task=ex.dataset,
                        length=length,
                        depth=None,
                        budget=budget,
                        recall=r.recall,
                        answer_recall=r.answer_recall,
                        tokens=r.tokens,
                        found=r.found,
                        facts=len(r.facts),
                        index=n,
                        token_offsets=[f.token_offset for f in r.facts],
                    )
                    if llm is not None and ex.answers:
                        text = packed if isinstance(packed, str) else packed.text
                        prompt = render_template(template, text, ex.question)
                        row.prediction = llm(prompt_messages(prompt))
                        row.score = score(ex.dataset, row.prediction, ex.answers)
                    report.rows.append(row)
            if bar is not None:
                bar.update(1)
    finally:
        if bar is not None:
            bar.close()
    return report
