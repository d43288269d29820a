"""`ctxengine attn`: sparse-attention tools; `ctxengine attn coverage Q.npy K.npy` compares
selection methods by the softmax mass they keep."""

from __future__ import annotations

import json
from pathlib import Path

import click
import numpy as np

from ..attn.study import METHODS, coverage_table, format_table
from ..errors import FormatError, NotFoundError
from .app import main


@main.group("attn")
def attn() -> None:
    """Sparse-attention scoring: which KV pages, blocks and keys attention should read."""


def _load(path: Path, name: str) -> np.ndarray:
    if not path.is_file():
        raise NotFoundError(f"no such file: {path}")
    try:
        array = np.load(path, allow_pickle=False)
    except (ValueError, OSError, EOFError) as exc:
        raise FormatError(f"{path} is not a NumPy .npy file ({exc})") from exc
    if not isinstance(array, np.ndarray):
        raise FormatError(f"{path} holds several arrays; save {name} alone with np.save")
    return np.ascontiguousarray(array)


@attn.command("coverage")
@click.argument("q_path", metavar="Q.npy", type=click.Path(path_type=Path))
@click.argument("k_path", metavar="K.npy", type=click.Path(path_type=Path))
@click.option(
    "--method",
    "methods",
    multiple=True,
    type=click.Choice([*METHODS, "all"]),
    default=("all",),
    show_default=True,
    help="Selection method (repeat for several).",
)
@click.option(
    "--budget",
    "budgets",
    multiple=True,
    default=("1/4", "1/8", "1/16"),
    show_default=True,
    help="Keys each query may read, as a fraction of Nk such as 1/16 (repeat for several).",
)
@click.option("--page-size", default=16, show_default=True, type=click.IntRange(min=1))
@click.option("--block", default=64, show_default=True, type=click.IntRange(min=1))
@click.option("--threads", default=None, type=click.IntRange(min=1), help="Default: all cores.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def coverage(
    q_path: Path,
    k_path: Path,
    methods: tuple[str, ...],
    budgets: tuple[str, ...],
    page_size: int,
    block: int,
    threads: int | None,
    as_json: bool,
) -> None:
    """Coverage of each method on one layer's queries Q.npy [Hq, Nq, D] and keys K.npy
    [Hkv, Nk, D] (float32 or float16; queries are the last Nq positions): the share of each
    query's causal softmax mass the selection keeps, against the oracle."""
    q = _load(q_path, "q")
    k = _load(k_path, "k")
    chosen = list(METHODS) if "all" in methods else list(dict.fromkeys(methods))
    rows = coverage_table(
        q, k, methods=chosen, budgets=budgets, page_size=page_size, block=block, threads=threads
    )
    if as_json:
        payload = {
            "q_shape": list(q.shape),
            "k_shape": list(k.shape),
            "page_size": page_size,
            "block": block,
            "rows": [r.to_dict() for r in rows],
        }
        click.echo(json.dumps(payload, indent=1))
    else:
        click.echo(format_table(rows))
