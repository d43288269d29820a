"""The ``ctxengine`` command group and the CLI's error policy.

User mistakes print one line (``ctxengine: error: ...``) and exit with status 1, internal
errors with status 2; a reader of stdout that goes away (``| head``) ends the command quietly
with status 0. Each command lives in its own module and registers itself on `main`.
"""

from __future__ import annotations

import os
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
            result = super().invoke(ctx)
            sys.stdout.flush()  # a reader that went away shows here, not at interpreter exit
            return result
        except BrokenPipeError:
            _reader_left()
        except InternalError as exc:
            fail(str(exc), EXIT_INTERNAL_ERROR)
        except (Error, ValueError, OSError, UnicodeError) as exc:
            fail(_one_line(exc))


def _reader_left() -> NoReturn:
    """The reader of stdout went away (``ctxengine search ... | head -3``): end quietly with
    status 0, as Unix tools do. Later writes, including Python's flush at exit, go to
    /dev/null instead of raising again."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)
    sys.exit(0)


def _one_line(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.strerror and exc.filename:
        return f"{exc.strerror}: {exc.filename}"
    text = str(exc).strip() or type(exc).__name__
    return " ".join(text.split())


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", "-V", prog_name="ctxengine")
def main() -> None:
    """ctxengine: count, chunk, index, search and pack text into the exact prompt a model sees."""
