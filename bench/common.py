"""Shared pieces of the benchmark programs: the real corpus, timing, peers, results.

Benchmarks are programs, not tests. Each `bench/bench_*.py` module defines
``run(ctx: Context) -> list[Result]`` and measures ctxengine and the peer a user would pick
instead in the same run, on the same text, reporting medians and ratios.
"""

from __future__ import annotations

import gc
import importlib
import json
import platform
import statistics
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

DOCS_DIR = Path("/usr/share/doc/python3.11/html/_sources")


@dataclass
class Result:
    """One measurement: `impl` did `case` of benchmark `bench` at `value` `unit`."""

    bench: str
    case: str
    impl: str
    value: float
    unit: str
    higher_is_better: bool = True
    ratio: float | None = None  # ctxengine relative to this impl (filled by `add_ratios`)
    notes: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class Context:
    """What every benchmark gets: the corpus size and how many repeats to take the median of."""

    corpus_mb: float = 44.0
    repeat: int = 5
    quick: bool = False

    def docs(self) -> list[str]:
        return python_docs()

    def corpus_text(self, mb: float | None = None) -> str:
        """The Python docs joined, repeated up to `mb` megabytes (default: corpus_mb)."""
        return repeat_to(python_docs(), (mb or self.corpus_mb) * 1e6)


def python_docs() -> list[str]:
    """The 497 .rst.txt files of the Python 3.11 docs (11 MB), sorted by path."""
    if not DOCS_DIR.is_dir():
        raise SystemExit(
            "bench needs the Python 3.11 docs as text: apt-get install python3.11-doc "
            f"(expected {DOCS_DIR})"
        )
    return [p.read_text(encoding="utf-8") for p in sorted(DOCS_DIR.rglob("*.rst.txt"))]


def repeat_to(texts: list[str], target_bytes: float) -> str:
    joined = "\n\n".join(texts)
    size = len(joined.encode("utf-8"))
    copies = max(1, round(target_bytes / size))
    return "\n\n".join([joined] * copies)


def median_time(fn: Callable[[], Any], repeat: int, warmup: int = 1) -> tuple[float, Any]:
    """Median wall time of `fn()` over `repeat` runs (after `warmup`), and its last result."""
    result = None
    for _ in range(warmup):
        result = fn()
    times = []
    for _ in range(repeat):
        gc.collect()
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def peer(module: str) -> Any | None:
    """Import a peer library, or None when it is not installed (pip install '.[bench]')."""
    try:
        return importlib.import_module(module)
    except ImportError:
        return None


def add_ratios(results: list[Result], ours: str = "ctxengine") -> list[Result]:
    """Fill `ratio` of each peer's row with ctxengine's advantage in the same bench and case."""
    for r in results:
        mine = [x for x in results if x.bench == r.bench and x.case == r.case and x.impl == ours]
        if not mine or r.value == 0:
            continue
        m = mine[0].value
        r.ratio = (m / r.value) if r.higher_is_better else (r.value / m if m else None)
    return results


def write_results(results: list[Result], out_dir: Path) -> tuple[Path, Path]:
    """Write results as JSON and as a Markdown table; return both paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    meta = {"machine": platform.machine(), "python": platform.python_version(), "time": stamp}
    json_path = out_dir / f"results-{stamp}.json"
    json_path.write_text(
        json.dumps({"meta": meta, "results": [asdict(r) for r in results]}, indent=1)
    )
    md_path = out_dir / f"results-{stamp}.md"
    md_path.write_text(markdown_table(results))
    return json_path, md_path


def markdown_table(results: list[Result]) -> str:
    lines = [
        "| bench | case | impl | value | unit | ctxengine is | notes |",
        "|---|---|---|---:|---|---:|---|",
    ]
    for r in results:
        ratio = f"{r.ratio:.2f}x" if r.ratio is not None and r.impl != "ctxengine" else ""
        lines.append(
            f"| {r.bench} | {r.case} | {r.impl} | {r.value:.4g} | {r.unit} | {ratio} | {r.notes} |"
        )
    return "\n".join(lines) + "\n"
