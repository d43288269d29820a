"""`ctxengine eval`: measure context recall of a pipeline over haystacks or a dataset."""

from __future__ import annotations

from pathlib import Path

import click

from ..errors import InvalidInputError
from ..evaluation import (
    OpenAIClient,
    Report,
    evaluate,
    evaluate_examples,
    evaluate_haystacks,
    load_dataset,
)
from ..evaluation.datasets import FORMATS
from ..evaluation.pipelines import PIPELINES
from ..haystack import TASKS, read_jsonl
from ._grid import parse_depths, parse_lengths, parse_options
from .app import main


@main.command("eval")
@click.option(
    "--pipeline",
    "-p",
    "pipelines",
    multiple=True,
    default=("bm25",),
    show_default=True,
    help=f"How prompts are made: {', '.join(PIPELINES)}; several as bm25,hybrid.",
)
@click.option(
    "--tasks", "-t", multiple=True, help="Tasks, e.g. niah_single,thread. [default: niah_single]"
)
@click.option(
    "--lengths",
    "-n",
    multiple=True,
    help="Haystack lengths, e.g. 8k,32k,128k. [default: 8k,32k,128k]",
)
@click.option(
    "--depths",
    "-d",
    multiple=True,
    help="Depths of the gold fact, e.g. 0,0.25,0.5,0.75,1 or 'random'. [default: 0..1 by 0.25]",
)
@click.option(
    "--budget",
    "-b",
    "budgets",
    multiple=True,
    help="Prompt budgets in tokens, e.g. 4k,16k. [default: 4k]",
)
@click.option("--samples", default=1, show_default=True, help="Haystacks per length and depth.")
@click.option(
    "--tokenizer", default="cl100k_base", show_default=True, help="Tokenizer name or file."
)
@click.option(
    "--filler", help="Filler: a file or directory, or 'prose' / 'noise'. [default: prose]"
)
@click.option("--seed", default=0, show_default=True, help="Random seed.")
@click.option("--chunk-tokens", default=256, show_default=True, help="Retrieval chunk size.")
@click.option(
    "--embedder",
    help="Embedder for dense and hybrid (a name or a model folder). [default: all-MiniLM-L6-v2]",
)
@click.option("--option", "-O", "options", multiple=True, help="Task option KEY=VALUE (hops=3).")
@click.option(
    "--haystacks",
    type=click.Path(dir_okay=False),
    help="Evaluate haystacks from a JSONL file written by `ctxengine haystack`.",
)
@click.option(
    "--dataset",
    type=click.Path(dir_okay=False),
    help="Evaluate a dataset file instead of haystacks (LongBench, L-Eval, LooGLE, LoCoMo).",
)
@click.option(
    "--format", "dataset_format", type=click.Choice(sorted(FORMATS)), help="Dataset format."
)
@click.option("--model", help="Also ask this model (OpenAI-compatible server) and score answers.")
@click.option(
    "--base-url",
    default="https://api.openai.com/v1",
    show_default=True,
    help="The model server's API root (vLLM, llama.cpp, Ollama: http://host:port/v1).",
)
@click.option("--heatmap", type=click.Path(dir_okay=False), help="Draw the NIAH heatmap to a PNG.")
@click.option(
    "--json", "json_out", type=click.Path(dir_okay=False), help="Write all results as JSON."
)
def eval_command(
    pipelines: tuple[str, ...],
    tasks: tuple[str, ...],
    lengths: tuple[str, ...],
    depths: tuple[str, ...],
    budgets: tuple[str, ...],
    samples: int,
    tokenizer: str | None,
    filler: str | None,
    seed: int,
    chunk_tokens: int,
    embedder: str | None,
    options: tuple[str, ...],
    haystacks: str | None,
    dataset: str | None,
    dataset_format: str | None,
    model: str | None,
    base_url: str,
    heatmap: str | None,
    json_out: str | None,
) -> None:
    """Context recall (and tokens used) of prompts packed from haystacks, as a table.

    \b
    ctxengine eval --pipeline bm25 --lengths 32k,128k,1M --budget 4k --filler docs/
    ctxengine eval -p bm25,hybrid -t niah_single,thread -n 32k -b 4k,16k --heatmap niah.png
    ctxengine eval --haystacks niah.jsonl -p bm25,hybrid -b 4k,16k
    ctxengine eval --dataset loogle.jsonl -p head_tail,bm25 -b 8k
    """
    names = [p for v in pipelines for p in v.split(",") if p]
    for name in names:
        if name not in PIPELINES:
            raise InvalidInputError(f"--pipeline: unknown pipeline {name!r}")
    task_list = [t for v in tasks for t in v.split(",") if t] or ["niah_single"]
    for t in task_list:
        if t not in TASKS:
            raise InvalidInputError(f"--tasks: unknown task {t!r}")
    budget_list: list[int | None] = list(parse_lengths(budgets or ["4k"]))
    tokenizer_given = tokenizer is not None
    tokenizer = tokenizer or "cl100k_base"
    llm = OpenAIClient(model, base_url=base_url) if model else None
    pipeline_options = {"embedder": embedder} if embedder else None
    if haystacks and dataset:
        raise InvalidInputError("give either --haystacks or --dataset, not both")
    if haystacks:
        report = evaluate_haystacks(
            read_jsonl(haystacks),
            names,
            budgets=budget_list,
            tokenizer=tokenizer if tokenizer_given else None,
            llm=llm,
            chunk_tokens=chunk_tokens,
            pipeline_options=pipeline_options,
            progress=True,
        )
        _print(report, llm is not None, by_length=True)
    elif dataset:
        examples = load_dataset(dataset, dataset_format)
        report = evaluate_examples(
            examples,
            names,
            budgets=budget_list,
            tokenizer=tokenizer,
            llm=llm,
            chunk_tokens=chunk_tokens,
            pipeline_options=pipeline_options,
            progress=True,
        )
        _print(report, llm is not None, by_length=False)
    else:
        extra = parse_options(options)
        report = evaluate(
            names,
            tasks=task_list,
            lengths=parse_lengths(lengths or ["8k,32k,128k"]),
            depths=parse_depths(depths or ["0,0.25,0.5,0.75,1"]),
            budgets=budget_list,
            samples=samples,
            tokenizer=tokenizer,
            filler=filler,
            seed=seed,
            llm=llm,
            chunk_tokens=chunk_tokens,
            task_options={t: extra for t in task_list} if extra else None,
            pipeline_options=pipeline_options,
            progress=True,
        )
        _print(report, llm is not None, by_length=True)
    if json_out:
        Path(json_out).write_text(report.to_json(), encoding="utf-8")
        click.echo(f"wrote {json_out}", err=True)
    if heatmap:
        report.heatmap(heatmap)
        click.echo(f"wrote {heatmap}", err=True)


def _print(report: Report, with_model: bool, *, by_length: bool) -> None:
    if not by_length:
        click.echo(report.overview())
        return
    click.echo(report.table("recall"))
    if with_model:
        click.echo(report.table("score"))
