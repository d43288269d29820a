"""`ctxengine chunk`: split a file (or stdin) into token-bounded chunks, as JSON lines."""

from __future__ import annotations

import json
import os
import sys
from typing import IO, Any, BinaryIO

import click

from .._progress import progress_bar
from ..chunking import MODES, chunk, chunk_stream
from ..errors import InvalidInputError
from .app import main

# Inputs at least this large show a progress bar (others only if they take over a second).
PROGRESS_BYTES = 16 << 20


class _Progress:
    """A binary file that reports the bytes read to a tqdm bar."""

    def __init__(self, f: BinaryIO, bar: Any) -> None:
        self._f, self._bar = f, bar
        self.name = getattr(f, "name", "<stdin>")

    def read(self, n: int = -1) -> bytes:
        data = self._f.read(n)
        self._bar.update(len(data))
        return data


@main.command("chunk")
@click.argument("source", metavar="FILE|-")
@click.option("--max-tokens", "-n", type=int, required=True, help="Tokens per chunk, at most.")
@click.option("--overlap", type=int, default=0, show_default=True, help="Tokens shared, at most.")
@click.option(
    "--by",
    default="recursive",
    show_default=True,
    help=f"Where chunks may end: {', '.join(MODES)}.",
)
@click.option("--tokenizer", default="cl100k_base", show_default=True, help="Tokenizer name.")
@click.option("--language", default=None, help="--by code: the language (default: from FILE).")
@click.option(
    "--errors",
    default="strict",
    show_default=True,
    help="Invalid UTF-8: 'strict' stops with its byte offset, 'replace' reads it as U+FFFD.",
)
@click.option("--no-trim", is_flag=True, help="Keep whitespace at chunk edges (chunks tile).")
@click.option("--output", "-o", default="-", help="Write here instead of stdout.")
@click.option(
    "--progress/--no-progress",
    default=None,
    help="Progress bar on stderr (default: for big inputs, on a terminal).",
)
def chunk_command(
    source: str,
    max_tokens: int,
    overlap: int,
    by: str,
    tokenizer: str,
    language: str | None,
    errors: str,
    no_trim: bool,
    output: str,
    progress: bool | None,
) -> None:
    """Split FILE (or - for stdin) into chunks of at most --max-tokens tokens.

    Writes one JSON object per line: text, start and end (str offsets into the decoded text),
    tokens (the exact count) and metadata (the heading path for --by markdown).
    """
    options: dict[str, Any] = {
        "tokenizer": tokenizer,
        "overlap": overlap,
        "by": by,
        "language": language,
        "trim": False if no_trim else None,
    }
    # Check the options before reading anything (the API checks them the same way).
    chunk("", max_tokens, **options)
    name = "<stdin>" if source == "-" else source
    f: BinaryIO = sys.stdin.buffer if source == "-" else open(source, "rb")  # noqa: SIM115
    size = None if source == "-" else os.fstat(f.fileno()).st_size
    big = (size or 0) >= PROGRESS_BYTES
    bar = progress_bar(
        total=size,
        unit="B",
        unit_scale=True,
        desc=os.path.basename(name),
        delay=0 if progress or (progress is None and big) else 1.0,
        wanted=progress is not False,
        force=progress is True,
        leave=False,
    )
    out: IO[bytes] = sys.stdout.buffer if output == "-" else open(output, "wb")  # noqa: SIM115
    try:
        reader: Any = _Progress(f, bar)
        if by == "tokens":  # token windows need the whole text's encoding
            chunks = chunk(_decode(reader.read(), name, errors), max_tokens, **options)
            records = (chunks.chunk(i).to_dict() for i in range(len(chunks)))
        else:  # for --by code without --language, the stream guesses it from the file name
            stream = chunk_stream(reader, max_tokens, errors=errors, **options)
            records = (c.to_dict() for c in stream)
        for record in records:
            out.write(json.dumps(record, ensure_ascii=False).encode() + b"\n")
        out.flush()
    except BrokenPipeError:  # the reader went away (`| head`): stop quietly
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    finally:
        bar.close()
        if source != "-":
            f.close()
        if output != "-":
            out.close()


def _decode(data: bytes, name: str, errors: str) -> str:
    if errors not in ("strict", "replace"):
        raise InvalidInputError(f"errors must be 'strict' or 'replace', got {errors!r}")
    try:
        return data.decode("utf-8", errors)
    except UnicodeDecodeError as exc:
        raise InvalidInputError(
            f"{name}: invalid UTF-8 at byte offset {exc.start} ({exc.reason}); fix the file, "
            "or read bad bytes as U+FFFD with errors='replace' (CLI: --errors replace)"
        ) from None
