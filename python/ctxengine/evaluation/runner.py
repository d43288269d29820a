"""Run pipelines over haystacks (or dataset examples) and collect context recall, tokens used
and, with a model, scores.

Every item — a generated haystack, a haystack read back from JSONL, a dataset example — becomes
a job: a context, a question, its gold facts and answers. Every pipeline prepares each context
once (pipelines that index alike share one index) and makes a prompt at every budget; each
prompt is measured with :func:`context_recall`. With a model, the prompt (in the item's
template, with the question) is sent to it and the answer scored RULER-style.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from .._progress import progress_bar
from ..errors import InvalidInputError
from ..haystack import FillerSpec, generate, load_filler, resolve_tokenizer
from ..haystack._tokens import TokenCounter
from ..haystack.record import GoldSpan, Haystack, render_template
from .datasets import Example
from .llm import LLM, prompt_messages
from .pipelines import DEFAULT_EMBEDDER, Pipeline, get_pipeline, load_embedder
from .recall import context_recall, gold_facts
from .report import Report, Row
from .scoring import score

__all__ = ["evaluate", "evaluate_examples", "evaluate_haystacks", "run_haystack"]

PipelineSpec = str | Pipeline | Callable[[str, str, int], Any]

DATASET_TEMPLATE = (
    "Answer the question using the text below. Answer briefly.\n\n{context}\n\n"
    "Question: {question}\nAnswer:"
)


@dataclass
class _Job:
    """One context and question to make prompts for."""

    task: str
    context: str
    question: str
    gold: list[GoldSpan]
    answers: list[str]
    template: str
    length: int
    depth: float | None
    index: int


def _haystack_job(hs: Haystack, depth: float | None = None) -> _Job:
    gold = gold_facts(hs)
    if depth is None and gold:
        depth = gold[0].depth
    return _Job(
        hs.task, hs.context, hs.question, gold, hs.answers, hs.template, hs.target_length,
        depth, hs.index,
    )  # fmt: skip


def _rows(
    job: _Job,
    pipeline: Pipeline,
    prepared: Any,
    budgets: Sequence[int | None],
    tokenizer: TokenCounter,
    llm: LLM | None,
) -> Iterator[Row]:
    for budget in budgets:
        packed = pipeline.prompt(prepared, job.question, budget or 0)
        r = context_recall(packed, job.gold, tokenizer=tokenizer, answers=job.answers)
        row = Row(
            pipeline=pipeline.name,
            task=job.task,
            length=job.length,
            depth=job.depth,
            budget=budget,
            recall=r.recall,
            answer_recall=r.answer_recall,
            tokens=r.tokens,
            found=r.found,
            facts=len(r.facts),
            index=job.index,
            token_offsets=[f.token_offset for f in r.facts],
        )
        if llm is not None and job.answers:
            text = packed if isinstance(packed, str) else packed.text
            row.prediction = llm(prompt_messages(render_template(job.template, text, job.question)))
            row.score = score(job.task, row.prediction, job.answers)
        yield row


def _run(
    jobs: Iterable[_Job],
    pipelines: list[Pipeline],
    budgets: Sequence[int | None],
    *,
    tokenizer: TokenCounter,
    llm: LLM | None,
    total: int,
    progress: bool,
    on_row: Callable[[Row], None] | None = None,
) -> Report:
    bar = progress_bar(total=total, unit="item", wanted=progress)
    report = Report()
    prepared: dict[Any, Any] = {}
    context: str | None = None
    try:
        for job in jobs:
            if job.context is not context:  # a new context: prepare it afresh
                context, prepared = job.context, {}
            for pipeline in pipelines:
                key = pipeline.prepare_key()
                if key not in prepared:
                    prepared[key] = pipeline.prepare(job.context)
                for row in _rows(job, pipeline, prepared[key], budgets, tokenizer, llm):
                    report.rows.append(row)
                    if on_row is not None:
                        on_row(row)
            bar.update(1)
    finally:
        bar.close()
    return report


def _build(
    pipelines: PipelineSpec | Sequence[PipelineSpec],
    tokenizer: TokenCounter,
    chunk_tokens: int,
    options: dict[str, Any] | None,
) -> list[Pipeline]:
    specs: list[PipelineSpec] = (
        [pipelines]
        if isinstance(pipelines, (str, Pipeline)) or callable(pipelines)
        else list(pipelines)
    )
    if not specs:
        raise InvalidInputError("give at least one pipeline")
    options = dict(options or {})
    if any(p in ("dense", "hybrid") for p in specs if isinstance(p, str)):
        options.setdefault("embedder", DEFAULT_EMBEDDER)  # bm25 then shares their index
    if isinstance(options.get("embedder"), str):
        options["embedder"] = load_embedder(options["embedder"])  # once, for every pipeline
    return [
        get_pipeline(p, tokenizer=tokenizer, chunk_tokens=chunk_tokens, **options) for p in specs
    ]


def run_haystack(
    hs: Haystack,
    pipeline: Pipeline,
    budgets: Sequence[int | None],
    *,
    tokenizer: TokenCounter,
    llm: LLM | None = None,
) -> list[Row]:
    """Rows for one haystack through one pipeline at each budget."""
    prepared = pipeline.prepare(hs.context)
    return list(_rows(_haystack_job(hs), pipeline, prepared, budgets, tokenizer, llm))


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
    ...), :class:`Pipeline` objects or callables ``fn(question, context, budget)``. One
    haystack is generated per task x length x depth x sample (a depth of None places the gold
    facts at seeded random depths). `task_options` gives options per task (``{"thread":
    {"hops": 3}}``); `pipeline_options` go to the named pipelines (``embedder`` and ``by`` to
    :class:`ctxengine.Index`, the rest to :func:`ctxengine.pack`). `progress` shows a progress
    bar on stderr; `on_row` is called with each result as it comes.

    >>> report = evaluate("full", lengths=[1000], depths=[0.5], budgets=[None])
    >>> report.rows[0].recall
    1.0
    """
    if not tasks or not lengths or not depths or not budgets or samples < 1:
        raise InvalidInputError(
            "evaluate needs at least one pipeline, task, length, depth, budget and sample"
        )
    tok = resolve_tokenizer(tokenizer)
    built = _build(pipelines, tok, chunk_tokens, pipeline_options)
    fill = load_filler(filler, seed=seed)
    grid = [
        (task, length, depth, sample)
        for task in tasks
        for length in lengths
        for depth in depths
        for sample in range(samples)
    ]

    def jobs() -> Iterator[_Job]:
        for n, (task, length, depth, sample) in enumerate(grid):
            options = (task_options or {}).get(task, {})
            hs = generate(
                task, length, tokenizer=tok, filler=fill, depth=depth, seed=seed, index=sample,
                **options,
            )  # fmt: skip
            hs.index = n
            yield _haystack_job(hs, depth)

    return _run(
        jobs(), built, budgets, tokenizer=tok, llm=llm, total=len(grid), progress=progress,
        on_row=on_row,
    )  # fmt: skip


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
    tok = resolve_tokenizer(tokenizer if tokenizer is not None else items[0].tokenizer)
    built = _build(pipelines, tok, chunk_tokens, pipeline_options)
    return _run(
        (_haystack_job(hs) for hs in items), built, budgets, tokenizer=tok, llm=llm,
        total=len(items), progress=progress,
    )  # fmt: skip


def evaluate_examples(
    examples: Sequence[Example],
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
    tok = resolve_tokenizer(tokenizer)
    built = _build(pipelines, tok, chunk_tokens, pipeline_options)

    def jobs() -> Iterator[_Job]:
        context, length = None, 0
        for n, ex in enumerate(examples):
            if ex.context is not context:  # count each document once
                context, length = ex.context, int(tok.count(ex.context))
            yield _Job(
                ex.dataset, ex.context, ex.question, ex.evidence, ex.answers, template, length,
                None, n,
            )  # fmt: skip

    return _run(
        jobs(), built, budgets, tokenizer=tok, llm=llm, total=len(examples), progress=progress
    )
