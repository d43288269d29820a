"""The ``ctxengine`` command line: click commands over the public API.

User mistakes print one line (``ctxengine: error: ...``) and exit with status 1; nothing in the
API imports this module.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any, NoReturn

import click

from . import __version__
from .errors import Error, InternalError, NotBuiltError

EXIT_USER_ERROR = 1
EXIT_INTERNAL_ERROR = 2


def fail(message: str, status: int = EXIT_USER_ERROR) -> NoReturn:
    """Print one error line to stderr and exit."""
    click.echo(f"ctxengine: error: {message}", err=True)
    sys.exit(status)


class _Group(click.Group):
    """Turns ctxengine errors and the usual user mistakes into one line and a non-zero exit."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except InternalError as exc:
            fail(str(exc), EXIT_INTERNAL_ERROR)
        except (Error, ValueError, OSError, UnicodeError) as exc:
            fail(_one_line(exc))


def _one_line(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.strerror and exc.filename:
        return f"{exc.strerror}: {exc.filename}"
    text = str(exc).strip() or type(exc).__name__
    return " ".join(text.split())


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", "-V", prog_name="ctxengine")
def main() -> None:
    """ctxengine: count, chunk, index, search and pack text into the exact prompt a model sees."""


def _not_built(name: str, issue: str) -> Callable[..., None]:
    def command(**_: Any) -> None:
        raise NotBuiltError(f"`ctxengine {name}` is not built yet in this version ({issue})")

    return command


_PLANNED = {
    "count": ("Count tokens per file and in total.", "tokenizers"),
    "chunk": ("Split a file into token-bounded chunks (JSONL).", "chunking"),
    "index": ("Build a search index from files and directories.", "retrieval"),
    "search": ("Search an index.", "retrieval"),
    "pack": ("Pack the best context for a query into a prompt within a token budget.", "packing"),
    "haystack": ("Generate long-context test haystacks at exact token lengths.", "evaluation"),
    "eval": ("Measure context recall of a retrieval pipeline over haystacks.", "evaluation"),
    "bench": ("Run the benchmark suite against the peers.", "evaluation"),
}

for _name, (_help, _area) in _PLANNED.items():
    main.command(
        _name,
        help=f"{_help} (not built yet)",
        context_settings={"ignore_unknown_options": True, "allow_extra_args": True},
    )(_not_built(_name, _area))


if __name__ == "__main__":  # pragma: no cover
    main()
