"""`ctxengine index`: build a search index from files and directories."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any, Literal

import click

from ._indexes import ray_option
from .app import main


@main.command("index")
@click.argument("paths", nargs=-1, required=True)
@click.option(
    "--out",
    "-o",
    "out",
    required=True,
    type=click.Path(path_type=Path),
    help="Directory to save the index in (replaced atomically if it holds one).",
)
@click.option(
    "--embed",
    "embed",
    default=None,
    metavar="MODEL",
    help="Also embed chunks for dense/hybrid search: all-MiniLM-L6-v2 (built in), "
    "st:<sentence-transformers model> or a model directory.",
)
@click.option(
    "--tokenizer",
    default="cl100k_base",
    show_default=True,
    help="Tokenizer that counts chunk tokens.",
)
@click.option(
    "--max-tokens",
    default=256,
    show_default=True,
    type=click.IntRange(min=1),
    help="Largest chunk, in tokens.",
)
@click.option(
    "--overlap",
    default=0,
    show_default=True,
    type=click.IntRange(min=0),
    help="Tokens shared by consecutive chunks.",
)
@click.option(
    "--by",
    default="recursive",
    show_default=True,
    type=click.Choice(["recursive", "tokens", "sentences", "markdown", "code"]),
    help="How documents are chunked.",
)
@click.option(
    "--dense-index",
    default="flat",
    show_default=True,
    type=click.Choice(["flat", "hnsw", "ivf"]),
    help="FAISS index for --embed.",
)
@click.option(
    "--stop-words/--no-stop-words",
    default=True,
    show_default=True,
    help="Drop English stop words (BM25).",
)
@click.option(
    "--min-chars",
    default=2,
    show_default=True,
    type=click.IntRange(1, 255),
    help="Drop words shorter than this (BM25; CJK terms and words with a digit stay).",
)
@click.option(
    "--stem/--no-stem", default=False, show_default=True, help="Light English stemming (BM25)."
)
@click.option("--append", is_flag=True, help="Add to the index at --out instead of replacing it.")
@click.option(
    "--shards",
    type=click.IntRange(min=1),
    default=None,
    help="Split the index over N shards (a sharded index; saved as it grows, so a killed run "
    "re-run with the same arguments resumes and adds nothing twice).",
)
@ray_option
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=None,
    help="With --ray: ingest workers (default: the cluster's CPUs).",
)
@click.option(
    "--checkpoint-every",
    type=click.IntRange(min=1),
    default=10_000,
    show_default=True,
    help="With --shards: save after this many new documents (or more as the index grows).",
)
@click.option("--quiet", "-q", is_flag=True, help="No progress bar.")
def index_command(
    paths: tuple[str, ...],
    out: Path,
    embed: str | None,
    tokenizer: str,
    max_tokens: int,
    overlap: int,
    by: str,
    dense_index: str,
    stop_words: bool,
    min_chars: int,
    stem: bool,
    append: bool,
    shards: int | None,
    ray_address: str | None,
    workers: int | None,
    checkpoint_every: int,
    quiet: bool,
) -> None:
    """Chunk, index and save PATHS (files, directories walked recursively, or globs).

    Binary and unreadable files are skipped and reported. Example:

        ctxengine index docs/ "src/**/*.py" --out my-index --max-tokens 256
    """
    from ..retrieval import Index, SkippedFilesWarning

    options: dict[str, Any] = {
        "tokenizer": tokenizer,
        "max_tokens": max_tokens,
        "overlap": overlap,
        "by": by,
        "embedder": embed,
        "dense_index": dense_index,
        "stop_words": stop_words,
        "min_chars": min_chars,
        "stem": stem,
    }
    if shards is not None:
        _index_sharded(
            list(paths), out, options, shards, append, ray_address, workers, checkpoint_every, quiet
        )
        return
    if ray_address is not None or workers is not None:
        raise click.UsageError("--ray and --workers build a sharded index: add --shards N")
    index = Index.load(out, embedder=embed) if append else Index(**options)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SkippedFilesWarning)
        result = index.add_files(list(paths), progress=not quiet)
    for path, why in result.skipped:
        click.echo(f"ctxengine: skipped {path}: {why}", err=True)
    index.save(out)
    click.echo(
        f"indexed {len(result.added)} file(s) into {out}: {len(index)} documents, "
        f"{index.n_chunks} chunks; skipped {len(result.skipped)}",
        err=True,
    )


def _index_sharded(
    paths: list[str],
    out: Path,
    options: dict[str, Any],
    shards: int,
    append: bool,
    ray_address: str | None,
    workers: int | None,
    checkpoint_every: int,
    quiet: bool,
) -> None:
    """`index --shards N`: a sharded index, saved to --out as it grows. When --out holds the
    checkpoint of an ingest that did not finish, this run resumes it: files already in are
    skipped, so nothing is added twice."""
    from ..distributed import ShardedIndex
    from ..distributed.persistence import is_sharded, read_manifest
    from ..retrieval import SkippedFilesWarning

    backend: Literal["local", "ray"] = "local" if ray_address is None else "ray"
    resume = is_sharded(out) and not read_manifest(out).get("complete", True)
    if append or resume:
        index = ShardedIndex.load(
            out, backend=backend, ray_address=ray_address, embedder=options["embedder"]
        )
        if index.n_shards != shards:
            index.close()
            raise click.UsageError(f"{out} holds {index.n_shards} shards, not {shards}")
        if resume:
            click.echo(
                f"ctxengine: resuming the unfinished ingest in {out} ({len(index)} documents in)",
                err=True,
            )
    else:
        index = ShardedIndex(shards, backend=backend, ray_address=ray_address, **options)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", SkippedFilesWarning)
            result = index.add_files(
                paths,
                progress=not quiet,
                skip_existing=resume,
                workers=workers,
                checkpoint=out,
                checkpoint_every=checkpoint_every,
            )
        for path, why in result.skipped:
            click.echo(f"ctxengine: skipped {path}: {why}", err=True)
        click.echo(
            f"indexed {len(result.added)} file(s) into {out} ({shards} shards): {len(index)} "
            f"documents, {index.n_chunks} chunks; skipped {len(result.skipped)}",
            err=True,
        )
    finally:
        index.close()
