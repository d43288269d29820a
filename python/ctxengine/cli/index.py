"""`ctxengine index`: build a search index from files and directories."""

from __future__ import annotations

import warnings
from pathlib import Path

import click

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
    quiet: bool,
) -> None:
    """Chunk, index and save PATHS (files, directories walked recursively, or globs).

    Binary and unreadable files are skipped and reported. Example:

        ctxengine index docs/ "src/**/*.py" --out my-index --max-tokens 256
    """
    from ..retrieval import Index, SkippedFilesWarning

    if append:
        index = Index.load(out, embedder=embed)
    else:
        index = Index(
            tokenizer=tokenizer,
            max_tokens=max_tokens,
            overlap=overlap,
            by=by,
            embedder=embed,
            dense_index=dense_index,  # type: ignore[arg-type]
            stop_words=stop_words,
            min_chars=min_chars,
            stem=stem,
        )
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
