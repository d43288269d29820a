"""Long-context test haystacks at exact token lengths.

:func:`generate` builds one example of a task — NIAH and the rest of RULER's synthetic tasks,
needle threading, HoloBench-style aggregation, LongBioBench-style biographies — with a context
of exactly the requested number of tokens in the given tokenizer, gold facts at the requested
depths, and the str offsets of every gold fact. :func:`generate_grid` walks lengths x depths x
samples. Everything is deterministic in `seed`.

>>> from ctxengine.haystack import generate
>>> hs = generate("niah", 2000, tokenizer="cl100k_base", depth=0.5, seed=1)
>>> hs.length, hs.context[hs.spans[0].start : hs.spans[0].end] == hs.spans[0].text
(2000, True)
"""

from __future__ import annotations

import inspect
import random
from collections.abc import Iterator, Sequence
from typing import Any

from .._native import check_internal
from ..errors import InvalidInputError
from ._tokens import TokenCounter, resolve_tokenizer, tokenizer_name
from .filler import Filler, FillerSpec, load_filler, split_units
from .layout import Insert, assemble, fit_units
from .positions import counts_spans, token_offsets
from .record import GoldSpan, Haystack, read_jsonl, render_template, write_jsonl
from .tasks import TASKS, Task, TaskInput, get_task

__all__ = [
    "TASKS",
    "Filler",
    "GoldSpan",
    "Haystack",
    "Insert",
    "Task",
    "TokenCounter",
    "generate",
    "generate_grid",
    "load_filler",
    "read_jsonl",
    "split_units",
    "write_jsonl",
]

MEASURES = ("context", "input")
# Exact token offsets of gold spans cost one prefix count each (unless the tokenizer counts
# spans of one text cheaply); beyond this many spans they are left out for such tokenizers.
MAX_COUNTED_SPANS = 64


def generate(
    task: str,
    length: int,
    *,
    tokenizer: str | TokenCounter = "cl100k_base",
    filler: FillerSpec = None,
    depth: float | Sequence[float] | None = None,
    seed: int = 0,
    index: int = 0,
    measure: str = "context",
    **options: Any,
) -> Haystack:
    """One haystack of `task` whose context has exactly `length` tokens.

    - `tokenizer`: a name (``"cl100k_base"``, ``"o200k_base"``, a tokenizer file) or any
      object with ``count(text) -> int``.
    - `filler`: ``None``/``"prose"`` (built-in synthetic prose), ``"noise"`` (built-in
      repeated sentences), a file, a directory, a list of paths, or a :class:`Filler`.
    - `depth`: where the gold facts sit (0 = start, 1 = end): one number for the first gold
      fact, a list with one depth per inserted fact (gold first, then distractors), or None for
      seeded random depths.
    - `seed` and `index`: the random source (the same seed and index give the same haystack;
      the seed does not depend on the length, so a grid over lengths reuses the same needles).
    - `measure`: ``"context"`` (the default: the haystack has exactly `length` tokens) or
      ``"input"`` (the whole prompt — instructions, haystack, question — has exactly `length`).
    - `options`: the task's own options (``keys=4``, ``hops=3``, ...), over its preset.

    Most tasks land exactly on `length`. Those whose haystack is made of whole structured units
    (``thread_kv``: a JSON object of pairs) land at most one unit short (see ``Haystack.meta``).
    """
    spec = get_task(task)
    if isinstance(length, bool) or not isinstance(length, int) or length < 1:
        raise InvalidInputError(f"length must be a positive integer, got {length!r}")
    if measure not in MEASURES:
        raise InvalidInputError(f"measure must be 'context' or 'input', got {measure!r}")
    known = [n for n in inspect.signature(spec.generate).parameters if n != "ti"]
    unknown = sorted(set(options) - set(known))
    if unknown:
        raise InvalidInputError(
            f"task {task} has no option {unknown[0]!r}; its options are {', '.join(known)}"
        )
    tok = resolve_tokenizer(tokenizer)
    fill = load_filler(filler, seed=seed)
    rng = random.Random(f"{task}/{seed}/{index}")
    plan = spec.generate(TaskInput(rng, fill, depth, length, tok), **{**spec.preset, **options})
    question = plan.question
    head, tail = "", ""
    if measure == "input":
        before, _, after = plan.template.partition("{context}")
        head, tail = before, render_template("{context}" + after, "", question)
    if plan.units is not None:
        layout = assemble(length, tok, plan.units, plan.inserts, head=head, tail=tail)
        context, spans, tokens = layout.context, layout.spans, layout.tokens
        exact = True
    else:
        check_internal(plan.build is not None, f"task {task} gave neither units nor build")
        assert plan.build is not None  # for the type checker
        context, spans, tokens, _n = fit_units(
            length,
            tok,
            plan.build,
            minimum=plan.build_minimum,
            estimate=plan.build_estimate,
            head=head,
            tail=tail,
        )
        exact = tokens == length
    answers = plan.answers
    if plan.finish is not None:
        answers, spans = plan.finish(context, spans)
    spans = sorted(spans, key=lambda s: (s.start, s.end))
    spans = _with_token_starts(tok, context, spans)
    meta = dict(plan.meta)
    if not exact:
        meta["short_by"] = length - tokens
    hs = Haystack(
        task=task,
        context=context,
        question=question,
        answers=[str(a) for a in answers],
        spans=spans,
        length=tokens,
        target_length=length,
        tokenizer=tokenizer_name(tokenizer),
        seed=seed,
        index=index,
        measure=measure,
        template=plan.template,
        answer_prefix=plan.answer_prefix,
        filler=plan.filler_name,
        meta=meta,
    )
    hs.token_position_answer = _answer_position(tok, hs)
    return hs


def generate_grid(
    task: str,
    lengths: Sequence[int],
    *,
    depths: Sequence[float | None] = (None,),
    samples: int = 1,
    **kwargs: Any,
) -> Iterator[Haystack]:
    """Haystacks for every length x depth x sample, indexed 0, 1, 2, ... in that order.

    Sample ``s`` uses ``index=s``, so every length and depth gets the same needles (only the
    position and the amount of filler change); other keyword arguments go to :func:`generate`.
    """
    if samples < 1:
        raise InvalidInputError(f"samples must be at least 1, got {samples}")
    n = 0
    for length in lengths:
        for depth in depths:
            for s in range(samples):
                hs = generate(task, length, depth=depth, index=s, **kwargs)
                hs.index = n
                n += 1
                yield hs


def _with_token_starts(
    tokenizer: TokenCounter, context: str, spans: list[GoldSpan]
) -> list[GoldSpan]:
    if not spans or (len(spans) > MAX_COUNTED_SPANS and not counts_spans(tokenizer)):
        return spans
    starts = token_offsets(tokenizer, context, [s.start for s in spans])
    return [
        GoldSpan(s.start, s.end, s.text, s.kind, s.answer, s.depth, n)
        for s, n in zip(spans, starts, strict=True)
    ]


def _answer_position(tokenizer: TokenCounter, hs: Haystack) -> int | None:
    # RULER's token_position_answer: tokens of the input before the first gold answer.
    if not hs.answers:
        return None
    gold = [s for s in hs.spans if s.answer == hs.answers[0]]
    if gold:
        offset = hs.context_offset + gold[0].start + gold[0].text.find(hs.answers[0])
    else:
        offset = hs.input.find(hs.answers[0], hs.context_offset)
        if offset < 0:
            return None
    return int(tokenizer.count(hs.input[:offset]))
