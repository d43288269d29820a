"""`ctxengine search`: search an index."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from ._indexes import open_index, ray_option
from .app import main


def _parse_filter(items: tuple[str, ...]) -> dict[str, Any] | None:
    if not items:
        return None
    out: dict[str, Any] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise click.BadParameter(f"expected KEY=VALUE, got {item!r}", param_hint="--filter")
        try:
            parsed = json.loads(value)  # numbers, true/false, lists; anything else is a string
        except ValueError:
            parsed = value
        out.setdefault(key, []).append(parsed)
    return {k: v[0] if len(v) == 1 else v for k, v in out.items()}


@main.command("search")
@click.argument("index_dir", type=click.Path(path_type=Path))
@click.argument("query")
@click.option(
    "-k", "k", default=10, show_default=True, type=click.IntRange(min=1), help="Number of hits."
)
@click.option(
    "--mode",
    default="bm25",
    show_default=True,
    type=click.Choice(["bm25", "dense", "hybrid"]),
    help="How to search.",
)
@click.option(
    "--fusion",
    default="weighted",
    show_default=True,
    type=click.Choice(["weighted", "rrf"]),
    help="How --mode hybrid fuses the BM25 and dense lists.",
)
@click.option(
    "--filter",
    "filters",
    multiple=True,
    metavar="KEY=VALUE",
    help="Keep documents whose metadata KEY equals VALUE (repeat a key for any-of).",
)
@click.option(
    "--mmr",
    "mmr_lambda",
    type=click.FloatRange(0, 1),
    default=None,
    help="Diversify with maximal marginal relevance (1 = relevance only).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the hits as a JSON array.")
@ray_option
def search_command(
    index_dir: Path,
    query: str,
    k: int,
    mode: str,
    fusion: str,
    filters: tuple[str, ...],
    mmr_lambda: float | None,
    as_json: bool,
    ray_address: str | None,
) -> None:
    """Search INDEX_DIR (made by `ctxengine index`, sharded or not) for QUERY.

    ctxengine search my-index "how do I open a file" -k 5 --mode hybrid --json
    """
    index = open_index(index_dir, ray_address=ray_address)
    hits = index.search(
        query,
        k,
        mode=mode,  # type: ignore[arg-type]
        fusion=fusion,  # type: ignore[arg-type]
        filter=_parse_filter(filters),
        mmr_lambda=mmr_lambda,
    )
    if as_json:
        rows = [
            {
                "doc_id": h.doc_id,
                "chunk_id": h.chunk_id,
                "score": h.score,
                "start": h.start,
                "end": h.end,
                "tokens": h.tokens,
                "metadata": dict(h.metadata),
                "text": h.text,
            }
            for h in hits
        ]
        click.echo(json.dumps(rows, ensure_ascii=False, indent=1))
        return
    if not hits:
        click.echo("no hits", err=True)
    for rank, h in enumerate(hits, 1):
        snippet = " ".join(h.text.split())
        if len(snippet) > 200:
            snippet = snippet[:199] + "…"
        click.echo(f"{rank}. {h.score:.4f}  {h.doc_id} [{h.start}:{h.end}] {h.tokens} tokens")
        click.echo(f"   {snippet}")
