"""The ``ctxengine`` command group and the CLI's error policy.

User mistakes print one line (``ctxengine: error: ...``) and exit with status 1, internal
errors with status 2; each command lives in its own module and registers itself on `main`.
"""

from __future__ import annotations

import sys
from typing import Any, NoReturn

import click

from .. import __version__
from ..errors import Error, InternalError

__all__ = ["fail", "main"]

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
