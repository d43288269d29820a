"""Run the benchmark suite: `python bench/run.py [--only NAME ...] [--quick] [--corpus-mb N]`.

Each bench/bench_*.py module measures ctxengine against its peers in the same run. Results are
printed as a Markdown table and written to bench/results/ as JSON and Markdown. Peers come from
`pip install '.[bench]'`; a missing peer is reported, not fatal.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from common import Context, Result, add_ratios, markdown_table, write_results  # noqa: E402


def available() -> list[str]:
    return sorted(p.stem.removeprefix("bench_") for p in HERE.glob("bench_*.py"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--only", nargs="*", choices=available(), help="benchmarks to run")
    parser.add_argument("--quick", action="store_true", help="small corpus, fewer repeats")
    parser.add_argument("--corpus-mb", type=float, default=44.0, help="corpus size (MB)")
    parser.add_argument("--repeat", type=int, default=5, help="runs per median")
    parser.add_argument("--out", type=Path, default=HERE / "results", help="results folder")
    args = parser.parse_args(argv)

    ctx = Context(corpus_mb=args.corpus_mb, repeat=args.repeat, quick=args.quick)
    if args.quick:
        ctx.corpus_mb, ctx.repeat = min(ctx.corpus_mb, 4.0), min(ctx.repeat, 3)
    results: list[Result] = []
    for name in args.only or available():
        print(f"# {name}", file=sys.stderr, flush=True)
        module = importlib.import_module(f"bench_{name}")
        results.extend(module.run(ctx))
    add_ratios(results)
    print(markdown_table(results))
    json_path, md_path = write_results(results, args.out)
    print(f"wrote {json_path} and {md_path}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
