"""`ctxengine pack`: pack the best context for a query into a prompt within a token budget."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from ..errors import InvalidInputError
from ._indexes import is_saved_index, open_index, ray_option
from .app import main

FORMATS = ["text", "openai", "anthropic", "chatml", "hf", "json"]


def _budget(value: str | None, model: str | None) -> int | str:
    if value is None:
        if model is None:
            raise click.UsageError("give --budget (tokens or a model name) or --model")
        return model
    try:
        return int(value.replace("_", "").replace(",", ""))
    except ValueError:
        return value  # a model name: its context window


def _source(
    paths: tuple[str, ...], tokenizer: Any, chunk_tokens: int, ray_address: str | None
) -> Any:
    """A saved index (a folder made by `ctxengine index`, sharded or not), or the files given,
    indexed now."""
    from ..retrieval import Index

    if len(paths) == 1 and is_saved_index(paths[0]):
        # The index keeps its own tokenizer (its chunk counts are in it); pack recounts the
        # chunks when --tokenizer or --model names another.
        return open_index(paths[0], ray_address=ray_address)
    if ray_address is not None:
        raise click.UsageError("--ray applies to a sharded index folder (made with --shards)")
    for p in paths:
        if not Path(p).exists():
            raise FileNotFoundError(2, "No such file or directory", p)
    index = Index(tokenizer=tokenizer or "cl100k_base", max_tokens=chunk_tokens)
    index.add_files(list(paths))
    return index


@main.command("pack", context_settings={"show_default": True})
@click.argument("args", nargs=-1, required=True, metavar="INDEX_DIR|FILES... QUERY")
@click.option("--budget", "-b", help="Token budget: a number, or a model name for its window.")
@click.option("--model", "-m", help="Model profile (tokenizer, window, output limit), e.g. gpt-4o.")
@click.option("--tokenizer", "-t", help="Tokenizer name or tokenizer.json path.")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(FORMATS),
    default="text",
    help="Prompt format; json prints the whole manifest.",
)
@click.option(
    "--order",
    type=click.Choice(["relevance", "position", "edges"]),
    default="relevance",
    help="Order of the sources in the prompt.",
)
@click.option("--citations/--no-citations", default=True, help="Number the sources [n].")
@click.option(
    "-k",
    "k",
    type=click.IntRange(min=1),
    help="Hits to consider (default: enough to fill the budget 1.5 times).",
)
@click.option("--mode", type=click.Choice(["bm25", "dense", "hybrid"]), help="Search mode.")
@click.option(
    "--fusion",
    type=click.Choice(["weighted", "rrf"]),
    help="How --mode hybrid fuses the BM25 and dense lists (default: weighted).",
)
@click.option(
    "--reserve-output",
    type=click.IntRange(min=0),
    help="Tokens kept free for the answer (default: 0, or the model's output limit).",
)
@click.option(
    "--instructions", help="System instructions (default: answer from the sources and cite them)."
)
@click.option(
    "--chat-template",
    type=click.Path(exists=True, path_type=Path),
    help="Model folder, tokenizer_config.json or .jinja file (--format hf).",
)
@click.option(
    "--neighbors",
    type=click.IntRange(min=0),
    default=1,
    help="Chunks on each side of a hit that may join it.",
)
@click.option("--max-per-doc", type=click.IntRange(min=1), help="Most chunks from one document.")
@click.option(
    "--chunk-tokens",
    type=click.IntRange(min=16),
    default=256,
    help="Chunk size when FILES are indexed on the fly.",
)
@ray_option
def pack_command(
    args: tuple[str, ...],
    budget: str | None,
    model: str | None,
    tokenizer: str | None,
    fmt: str,
    order: str,
    citations: bool,
    k: int | None,
    mode: str | None,
    fusion: str | None,
    reserve_output: int | None,
    instructions: str | None,
    chat_template: Path | None,
    neighbors: int,
    max_per_doc: int | None,
    chunk_tokens: int,
    ray_address: str | None,
) -> None:
    """Pack the best context for QUERY from INDEX_DIR (made by `ctxengine index`) or FILES
    into a prompt of at most --budget tokens, and print it.

    \b
    ctxengine pack my-index "how do I open a file" --budget 8000
    ctxengine pack docs/ "what changed in 3.11?" --model gpt-4o --format openai
    """
    if len(args) < 2:
        raise click.UsageError("give an index folder or files, then the query")
    *paths, query = args
    if not query.strip():
        raise InvalidInputError("the query is empty")
    from ..packing import pack
    from ..packing._resolve import resolve_budget

    total = _budget(budget, model)
    resolve_budget(total, model=model, reserve_output=reserve_output)  # fail before indexing
    source = _source(tuple(paths), tokenizer, chunk_tokens, ray_address)
    packed = pack(
        query,
        source,
        total,
        model=model,
        tokenizer=tokenizer,
        format="text" if fmt == "json" else fmt,
        order=order,
        citations=citations,
        instructions=instructions,
        chat_template=chat_template,
        reserve_output=reserve_output,
        k=k,
        mode=mode,
        fusion=fusion,
        neighbors=neighbors,
        max_per_doc=max_per_doc,
    )
    if fmt == "json":
        click.echo(json.dumps(packed.to_dict(), ensure_ascii=False, indent=1))
    elif fmt in ("openai", "anthropic"):
        body: dict[str, Any] = {}
        if packed.model:
            body["model"] = packed.model
        if fmt == "anthropic":
            if packed.system:
                body["system"] = packed.system
            if packed.reserve_output:
                body["max_tokens"] = packed.reserve_output
        body["messages"] = packed.messages
        click.echo(json.dumps(body, ensure_ascii=False, indent=1))
    else:
        click.echo(packed.text)
