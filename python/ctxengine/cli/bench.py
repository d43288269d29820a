"""`ctxengine bench`: run the benchmark suite of bench/ (from a source checkout)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import click

from ..errors import NotFoundError
from .app import main


def find_bench_runner(start: Path | None = None) -> Path | None:
    """bench/run.py of the source checkout this package runs from, or of the working
    directory (or a parent of it); None when neither has one (an installed package ships no
    benchmark programs)."""
    here = Path(__file__).resolve()
    candidates = [here.parents[3]]  # <checkout>/python/ctxengine/cli/bench.py
    cwd = (start or Path.cwd()).resolve()
    candidates += [cwd, *cwd.parents]
    for root in candidates:
        runner = root / "bench" / "run.py"
        if runner.is_file() and (root / "bench" / "common.py").is_file():
            return runner
    return None


@main.command(
    "bench",
    context_settings={"ignore_unknown_options": True, "allow_extra_args": True},
)
@click.option("--only", "only", multiple=True, help="Benchmarks to run (e.g. topk, recall).")
@click.option("--quick", is_flag=True, help="Small corpus, fewer repeats.")
@click.option("--list", "list_only", is_flag=True, help="List the benchmarks and exit.")
@click.pass_context
def bench(ctx: click.Context, only: tuple[str, ...], quick: bool, list_only: bool) -> None:
    """Run the benchmarks of bench/ against the peers (Markdown table on stdout).

    Needs a source checkout: run it from the checkout (or with the package imported from it).
    Other options go to bench/run.py (--corpus-mb, --repeat, --out).
    """
    runner = find_bench_runner()
    if runner is None:
        raise NotFoundError(
            "ctxengine bench runs the benchmark programs in bench/ of a source checkout, and "
            "none was found from this package or the working directory; run it inside a clone "
            "of the ctxengine repository (an installed package does not include bench/)"
        )
    if list_only:
        for path in sorted(runner.parent.glob("bench_*.py")):
            click.echo(path.stem.removeprefix("bench_"))
        return
    args = [sys.executable, str(runner)]
    if only:
        args += ["--only", *[o for v in only for o in v.split(",") if o]]
    if quick:
        args.append("--quick")
    args += ctx.args
    status = subprocess.call(args)
    if status:
        ctx.exit(status)
