"""Where the shards live, and how the coordinator calls them: in this process (the default,
:class:`LocalBackend`), or as Ray actors (ray_backend.py). Both run the same :class:`Shard`
code, so every answer of the Ray backend can be checked against the in-process one and against
one Index.

A call names a shard method and its arguments. `gather` scatters calls to several shards and
waits for all of them. A shard that is down (its saved copy was missing or damaged at load, or
its actor died and could not be restarted) fails every call with the error that took it down,
unless the index was opened with ``partial=True``: then read calls skip it and the caller is
told which shards were left out, so the answer can be marked partial. Writes never skip.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .errors import ShardError
from .shard import Shard

__all__ = ["Backend", "Call", "LocalBackend", "Pending"]

# (method name, positional arguments, keyword arguments)
Call = tuple[str, tuple[Any, ...], dict[str, Any]]


@dataclass
class Pending:
    """Calls submitted to shards: all of them, those on live shards, and what was started."""

    calls: dict[int, Call]
    live: dict[int, Call]
    started: Any


class Backend:
    """The shards of one index, numbered 0 .. n-1."""

    name = "?"

    def __init__(self, n: int, *, partial: bool) -> None:
        self.n = n
        self.partial = partial
        self.down: dict[int, ShardError] = {}  # shard -> the error that took it down

    # What each backend provides.

    def start(self, number: int, make: Mapping[str, Any]) -> None:
        """Start shard `number`: ``make`` is ``{"new": (options, dense, embedder_name)}`` or
        ``{"load": (folder, Shard.load keyword arguments)}``."""
        raise NotImplementedError

    def _submit(self, calls: dict[int, Call]) -> Any:
        """Start calls on live shards; returns what :meth:`_collect` waits on."""
        raise NotImplementedError

    def _collect(self, calls: dict[int, Call], started: Any) -> dict[int, Any]:
        """The results of started calls; shards that fail are added to `self.down` and left
        out."""
        raise NotImplementedError

    def saved(self, number: int, folder: str, load_kwargs: dict[str, Any]) -> None:
        """Shard `number` now matches its saved copy in `folder` (a restart may load it)."""

    def changed(self, number: int) -> None:
        """Shard `number` has changes its saved copy lacks."""

    def close(self) -> None:
        """Stop the shards (nothing to do in-process)."""

    # Shared logic.

    def call(self, number: int, method: str, *args: Any, **kwargs: Any) -> Any:
        """One call on one shard; a down shard raises its error."""
        return self.gather({number: (method, args, kwargs)}, write=True)[0][number]

    def gather(
        self, calls: Mapping[int, Call], *, write: bool = False
    ) -> tuple[dict[int, Any], list[int]]:
        """Run `calls` (shard -> call) and wait for them: (results, shards left out). Shards
        are left out only of reads on an index opened with partial=True."""
        return self.wait(self.submit(calls), write=write)

    def submit(self, calls: Mapping[int, Call]) -> Pending:
        """Start `calls` without waiting (on Ray they run while the caller goes on; a shard
        runs the calls it is given in the order given)."""
        live = {i: c for i, c in calls.items() if i not in self.down}
        return Pending(dict(calls), live, self._submit(live) if live else None)

    def wait(self, pending: Pending, *, write: bool = False) -> tuple[dict[int, Any], list[int]]:
        """The results of submitted calls, as :meth:`gather` gives them."""
        results = self._collect(pending.live, pending.started) if pending.live else {}
        missing = sorted(i for i in pending.calls if i not in results)
        if missing and (write or not self.partial):
            raise self.down[missing[0]]
        return results, missing

    def broadcast(
        self, method: str, *args: Any, write: bool = False, **kwargs: Any
    ) -> tuple[dict[int, Any], list[int]]:
        """The same call on every shard."""
        return self.gather({i: (method, args, kwargs) for i in range(self.n)}, write=write)


class LocalBackend(Backend):
    """Shards as objects in this process, called one after another."""

    name = "local"

    def __init__(self, n: int, *, partial: bool = False) -> None:
        super().__init__(n, partial=partial)
        self.shards: dict[int, Shard] = {}

    def start(self, number: int, make: Mapping[str, Any]) -> None:
        try:
            if "new" in make:
                options, dense, embedder_name = make["new"]
                shard = Shard(number, options, dense=dense, embedder_name=embedder_name)
            else:
                folder, kwargs = make["load"]
                shard = Shard.load(number, folder, **kwargs)
        except ShardError as exc:
            self.down[number] = exc
            return
        self.shards[number] = shard

    def _submit(self, calls: dict[int, Call]) -> Any:
        return {
            i: getattr(self.shards[i], method)(*args, **kwargs)
            for i, (method, args, kwargs) in calls.items()
        }

    def _collect(self, calls: dict[int, Call], started: Any) -> dict[int, Any]:
        return started  # type: ignore[no-any-return]
