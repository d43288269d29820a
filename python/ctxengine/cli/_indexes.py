"""Opening a saved index for a command: a folder made by ``ctxengine index`` holds either one
Index or a sharded index (``--shards``); `search` and `pack` take both."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

__all__ = ["is_saved_index", "open_index", "ray_option"]

ray_option = click.option(
    "--ray",
    "ray_address",
    default=None,
    metavar="ADDRESS",
    help="Run a sharded index's shards as Ray actors on this cluster ('auto': the running "
    "one; 'local': start one here). Default: in this process.",
)


def is_saved_index(path: str | Path) -> bool:
    """Whether `path` is a folder holding a saved Index or sharded index."""
    from ..distributed.persistence import is_sharded

    return (Path(path) / "CURRENT").is_file() or is_sharded(path)


def open_index(path: str | Path, *, ray_address: str | None = None) -> Any:
    """The index saved at `path`: an Index, or a ShardedIndex (on Ray with `ray_address`).
    A sharded index's Ray actors live as long as this process."""
    from ..distributed import is_sharded, load_saved

    if ray_address is not None and not is_sharded(path):
        raise click.UsageError("--ray applies to a sharded index (made with --shards)")
    return load_saved(path, ray_address=ray_address)
