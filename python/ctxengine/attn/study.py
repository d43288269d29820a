"""Compare selection methods on one layer's q and k: the coverage table.

:func:`coverage_table` runs every method at budgets given as fractions of the keys and reports
how much of each query's true softmax mass the selection keeps (:func:`coverage`), against the
oracle ceiling. ``ctxengine attn coverage`` prints it; ``scripts/attn_coverage.py`` builds the
table of ``docs/attention.md`` with it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from fractions import Fraction
from typing import Any

import numpy as np

from ..errors import InvalidInputError
from .coverage import coverage, oracle_topk
from .hashing import hamming_topk, hash_codes, random_planes
from .minference import block_topk, vertical_slash, vertical_slash_selection
from .pages import page_meta, quest_scores, select_pages
from .selection import Selection
from .streaming import streaming

__all__ = ["METHODS", "CoverageRow", "coverage_table", "format_table", "parse_budget", "select"]

METHODS = ("oracle", "oracle_pages", "quest", "block", "vertical_slash", "streaming", "hash")


@dataclass(frozen=True)
class CoverageRow:
    """One method at one budget: coverage over all (head, query) pairs (mean, 10th percentile,
    minimum), the keys it read per query (mean share of Nk), and, when needles are given, the
    share of needle keys their queries' selections hold."""

    method: str
    budget: str
    budget_keys: int
    mean: float
    p10: float
    min: float
    read: float
    needles: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def parse_budget(text: str | float) -> Fraction:
    """``"1/16"``, ``"0.25"`` or a float in (0, 1] as a fraction of the keys.

    >>> parse_budget("1/16")
    Fraction(1, 16)
    """
    try:
        value = Fraction(str(text))
    except (ValueError, ZeroDivisionError) as exc:
        raise InvalidInputError(f"budget {text!r} is not a fraction such as 1/16") from exc
    if not 0 < value <= 1:
        raise InvalidInputError(f"budget {text!r} must be a fraction of the keys in (0, 1]")
    return value


def select(
    method: str,
    q: np.ndarray,
    k: np.ndarray,
    budget_keys: int,
    *,
    page_size: int = 16,
    block: int = 64,
    bits: int = 128,
    threads: int | None = None,
) -> Selection:
    """The selection `method` (one of :data:`METHODS`) makes with about `budget_keys` keys per
    query. Pages and blocks count whole (``budget_keys // page_size``, at least 1, and Quest at
    least its sink and local pages); vertical-slash splits the budget evenly between columns and
    diagonals and forces up to half of each (MInference's 30 and 100 at most); streaming keeps 4
    sinks and a window of the rest; hash ranks keys by 128-bit sign codes of random planes."""
    _, nq, d = q.shape
    nk = k.shape[1]
    units = max(1, budget_keys // page_size)
    if method == "oracle":
        return oracle_topk(q, k, budget_keys, threads=threads)
    if method == "oracle_pages":
        return oracle_topk(q, k, units, page_size=page_size, threads=threads)
    if method == "quest":
        scores = quest_scores(q, page_meta(k, page_size, threads=threads), threads=threads)
        return select_pages(scores, max(2, units), page_size=page_size, nk=nk, threads=threads)
    if method == "block":
        return block_topk(q, k, block=block, top_k=max(1, budget_keys // block), threads=threads)
    if method == "vertical_slash":
        nv, ns = budget_keys // 2, budget_keys - budget_keys // 2
        v, s = vertical_slash(
            q,
            k,
            n_vertical=nv,
            n_slash=ns,
            sink=min(30, nv // 2),
            local=min(100, ns // 2),
            threads=threads,
        )
        return vertical_slash_selection(v, s, nq=nq, nk=nk)
    if method == "streaming":
        return streaming(nq, nk, sink=4, window=max(0, budget_keys - 4), threads=threads)
    if method == "hash":
        planes = random_planes(d, bits, seed=0)
        return hamming_topk(
            hash_codes(q, planes, threads=threads),
            hash_codes(k, planes, threads=threads),
            budget_keys,
            threads=threads,
        )
    raise InvalidInputError(f"unknown method {method!r}: use one of {', '.join(METHODS)}")


def _needle_share(sel: Selection, needles: Sequence[tuple[int, int, int]]) -> float:
    """Share of (head, query, key) needles whose key the query's selection holds."""
    found = 0
    for h, i, key in needles:
        units = np.asarray(sel.row(0 if sel.heads == 1 else h, i))
        found += int(np.any(units == key // sel.unit_size))
    return found / len(needles)


def coverage_table(
    q: np.ndarray,
    k: np.ndarray,
    *,
    methods: Sequence[str] = METHODS,
    budgets: Sequence[str | float] = ("1/4", "1/8", "1/16"),
    page_size: int = 16,
    block: int = 64,
    needles: Sequence[tuple[int, int, int]] = (),
    threads: int | None = None,
    progress: Callable[[str], None] | None = None,
) -> list[CoverageRow]:
    """Coverage of every method at every budget (a fraction of Nk keys) on one q/k pair.

    `needles` lists ``(head, query, key)`` triples a query must find (synthetic data).

    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> q = rng.standard_normal((2, 4, 16)).astype(np.float32)
    >>> k = rng.standard_normal((1, 256, 16)).astype(np.float32)
    >>> table = coverage_table(q, k, methods=["oracle", "streaming"], budgets=["1/4"])
    >>> [(r.method, r.budget_keys) for r in table]
    [('oracle', 64), ('streaming', 64)]
    >>> table[0].mean >= table[1].mean
    True
    """
    nk = k.shape[1]
    out = []
    for text in budgets:
        fraction = parse_budget(text)
        keys = max(1, int(fraction * nk))
        for method in methods:
            if progress:
                progress(f"{method} at {fraction}")
            sel = select(method, q, k, keys, page_size=page_size, block=block, threads=threads)
            cov = coverage(q, k, sel, threads=threads).astype(np.float64)
            read = float(np.broadcast_to(sel.to_dense(causal=True).sum(axis=2), cov.shape).mean())
            out.append(
                CoverageRow(
                    method=method,
                    budget=str(fraction),
                    budget_keys=keys,
                    mean=float(np.nanmean(cov)),
                    p10=float(np.nanpercentile(cov, 10)),
                    min=float(np.nanmin(cov)),
                    read=read / nk,
                    needles=_needle_share(sel, needles) if needles else None,
                )
            )
    return out


def format_table(rows: Sequence[CoverageRow]) -> str:
    """The rows as a Markdown table."""
    needles = any(r.needles is not None for r in rows)
    head = "| method | budget | keys | coverage mean | p10 | min | keys read |"
    rule = "|---|---|---:|---:|---:|---:|---:|"
    if needles:
        head, rule = head + " needles found |", rule + "---:|"
    lines = [head, rule]
    for r in rows:
        line = (
            f"| {r.method} | {r.budget} | {r.budget_keys} | {r.mean:.3f} | {r.p10:.3f} | "
            f"{r.min:.3f} | {r.read:.3f} |"
        )
        if needles:
            line += f" {r.needles:.2f} |" if r.needles is not None else " |"
        lines.append(line)
    return "\n".join(lines)
