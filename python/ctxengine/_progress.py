"""Progress bars: one rule for every bar ctxengine draws.

A bar shows on stderr when it is wanted (an API's ``progress=`` option, on by default where a
bar is useful) and stderr is a terminal. ``CTXENGINE_PROGRESS=0`` turns those bars off;
``CTXENGINE_PROGRESS=1`` shows them even where stderr is not a terminal (a notebook, say).
Without it, a log file or a pipe never receives a stream of carriage-return redraws. A bar the
user asked for by name (a command's ``--progress``) is forced: it shows wherever stderr goes.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable
from typing import Any

__all__ = ["progress_bar", "show_progress"]

_OFF = ("0", "false", "no", "off")
_ON = ("1", "true", "yes", "on")


def show_progress(wanted: bool = True, *, force: bool = False) -> bool:
    """Whether a bar is drawn, by the rule above (`force`: the user asked for it by name).

    >>> show_progress(False)
    False
    """
    if force:
        return True
    if not wanted:
        return False
    setting = os.environ.get("CTXENGINE_PROGRESS", "").strip().lower()
    if setting in _OFF:
        return False
    if setting in _ON:
        return True
    try:
        return sys.stderr is not None and sys.stderr.isatty()
    except (AttributeError, ValueError):  # a replaced or closed stderr
        return False


def progress_bar(
    iterable: Iterable[Any] | None = None,
    *,
    wanted: bool = True,
    force: bool = False,
    **options: Any,
) -> Any:
    """A tqdm bar on stderr, disabled unless :func:`show_progress` says so; `options` go to
    tqdm (``total``, ``desc``, ``unit``, ...). A disabled bar still iterates and counts.

    >>> with progress_bar(total=3, wanted=False) as bar:
    ...     bar.update(3)
    """
    from tqdm import tqdm

    options.setdefault("dynamic_ncols", True)
    show = show_progress(wanted, force=force)
    return tqdm(iterable, file=sys.stderr, disable=not show, **options)
