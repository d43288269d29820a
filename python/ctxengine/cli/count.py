"""`ctxengine count`: count tokens per file and in total."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path

import click

from .._progress import progress_bar
from ..errors import InvalidInputError
from ..tokenizers import Tokenizer, get_tokenizer
from .app import main

# Files are read and counted in batches of about this many bytes (count_many uses all cores).
BATCH_BYTES = 32 * 1024 * 1024
PROGRESS_MIN_FILES = 20


def _read_text(name: str) -> str:
    if name == "-":
        data = sys.stdin.buffer.read()
        label = "standard input"
    else:
        path = Path(name)
        if path.is_dir():
            raise InvalidInputError(f"{name} is a directory; pass the files in it")
        data = path.read_bytes()  # OSError (no such file, permission) is reported by the group
        label = name
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidInputError(
            f"{label} is not UTF-8 text (byte 0x{data[exc.start]:02x} at offset {exc.start})"
        ) from None


def _batches(names: list[str]) -> Iterator[tuple[list[str], list[str]]]:
    batch_names: list[str] = []
    batch_texts: list[str] = []
    size = 0
    for name in names:
        text = _read_text(name)
        batch_names.append(name)
        batch_texts.append(text)
        size += len(text)
        if size >= BATCH_BYTES:
            yield batch_names, batch_texts
            batch_names, batch_texts, size = [], [], 0
    if batch_names:
        yield batch_names, batch_texts


def _count(tok: Tokenizer, names: list[str], progress: bool) -> list[tuple[str, int]]:
    results: list[tuple[str, int]] = []
    with progress_bar(total=len(names), unit="file", wanted=progress, leave=False) as bar:
        for batch_names, batch_texts in _batches(names):
            counts = tok.count_many(batch_texts)
            results.extend(zip(batch_names, (int(c) for c in counts), strict=True))
            bar.update(len(batch_names))
    return results


@main.command("count")
@click.argument("files", nargs=-1, required=True)
@click.option(
    "--tokenizer",
    "-t",
    "tokenizer_name",
    default="cl100k_base",
    show_default=True,
    help="Tokenizer name (cl100k_base, o200k_base, ...) or path to a *.tiktoken file.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the counts as JSON.")
def count_command(files: tuple[str, ...], tokenizer_name: str, as_json: bool) -> None:
    """Count tokens per file and in total. FILES may include - for standard input.

    Special-token text counts as plain text, so any document can be counted.
    """
    tok = get_tokenizer(tokenizer_name)
    names = list(files)
    progress = len(names) >= PROGRESS_MIN_FILES
    results = _count(tok, names, progress)
    total = sum(c for _, c in results)
    if as_json:
        doc = {
            "tokenizer": tok.name,
            "files": [{"path": name, "tokens": c} for name, c in results],
            "total": total,
        }
        click.echo(json.dumps(doc, ensure_ascii=False))
        return
    width = max(len(str(total)), 1)
    for name, c in results:
        click.echo(f"{c:>{width}}  {name}")
    if len(results) > 1:
        click.echo(f"{total:>{width}}  total")
