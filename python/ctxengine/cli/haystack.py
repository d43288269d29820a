"""`ctxengine haystack`: generate long-context test haystacks at exact token lengths."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from .._progress import progress_bar
from ..errors import InvalidInputError
from ..haystack import TASKS, generate_grid, write_jsonl
from ._grid import parse_depths, parse_lengths, parse_options
from .app import main


def _list_tasks(ctx: click.Context, _: click.Parameter, value: bool) -> None:
    if not value or ctx.resilient_parsing:
        return
    width = max(len(name) for name in TASKS)
    for name, task in TASKS.items():
        click.echo(f"{name:<{width}}  {task.summary}")
    ctx.exit()


@main.command("haystack")
@click.option("--task", "-t", default="niah", show_default=True, help="Task (see --list-tasks).")
@click.option(
    "--length",
    "-n",
    "lengths",
    multiple=True,
    required=True,
    help="Exact token length; several as 8000,32k,1M (k = 1,000).",
)
@click.option(
    "--tokenizer", default="cl100k_base", show_default=True, help="Tokenizer name or file."
)
@click.option(
    "--filler",
    help="Filler text: a file or directory, or 'prose' / 'noise' (built in). [default: prose]",
)
@click.option(
    "--depth",
    "depths",
    multiple=True,
    help="Depth of the gold fact: 0..1 or a percentage; several (0,0.5,1) make one haystack "
    "each; 'random' draws it. [default: random]",
)
@click.option(
    "--needle-depths",
    help="One depth per inserted fact of a single haystack, e.g. 0.1,0.5,0.9.",
)
@click.option("--samples", default=1, show_default=True, help="Haystacks per length and depth.")
@click.option("--seed", default=0, show_default=True, help="Random seed.")
@click.option(
    "--measure",
    type=click.Choice(["context", "input"]),
    default="context",
    show_default=True,
    help="What has the exact length: the haystack, or the whole prompt with the question.",
)
@click.option("--option", "-O", "options", multiple=True, help="Task option KEY=VALUE (hops=3).")
@click.option("--output", "-o", required=True, help="Output JSONL file ('-' for stdout).")
@click.option(
    "--list-tasks",
    is_flag=True,
    expose_value=False,
    is_eager=True,
    callback=_list_tasks,
    help="List the tasks and exit.",
)
def haystack(
    task: str,
    lengths: tuple[str, ...],
    tokenizer: str,
    filler: str | None,
    depths: tuple[str, ...],
    needle_depths: str | None,
    samples: int,
    seed: int,
    measure: str,
    options: tuple[str, ...],
    output: str,
) -> None:
    """Generate haystacks at exact token lengths, as JSONL (RULER's fields plus gold spans).

    \b
    ctxengine haystack --task niah --length 128000 --filler docs/ --depth 0.5 -o niah.jsonl
    ctxengine haystack --task thread -n 32k,128k --depth 0,0.5,1 -O hops=6 -o thread.jsonl
    """
    if task not in TASKS:
        raise InvalidInputError(f"--task: unknown task {task!r}; see --list-tasks")
    sizes = parse_lengths(lengths)
    grid = parse_depths(depths) or [None]
    if needle_depths:
        if depths:
            raise InvalidInputError("give either --depth or --needle-depths, not both")
        per_needle = parse_depths([needle_depths])
        if None in per_needle:
            raise InvalidInputError("--needle-depths: needle depths are numbers")
        grid = [per_needle]  # type: ignore[list-item]
    if samples < 1:
        raise InvalidInputError("--samples: must be at least 1")
    total = len(sizes) * len(grid) * samples
    records = generate_grid(
        task,
        sizes,
        depths=grid,
        samples=samples,
        tokenizer=tokenizer,
        filler=filler,
        seed=seed,
        measure=measure,
        **parse_options(options),
    )
    bar = progress_bar(records, total=total, unit="haystack", wanted=total >= 2)
    if output == "-":
        n = write_jsonl(bar, sys.stdout)
    else:
        # Write next to the target and rename at the end: a failure leaves no partial file.
        part = Path(output).with_name(Path(output).name + ".part")
        try:
            n = write_jsonl(bar, part)
            os.replace(part, output)
        finally:
            part.unlink(missing_ok=True)
    where = "stdout" if output == "-" else output
    click.echo(
        f"wrote {n} {task} haystack(s) of {', '.join(f'{s:,}' for s in sizes)} {tokenizer} "
        f"tokens to {where}",
        err=True,
    )
