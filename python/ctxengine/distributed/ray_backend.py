"""Shards as Ray actors: each actor holds one :class:`Shard` (an Index and its global
numbering); the coordinator scatters a call to the actors and gathers the answers.

Faults: an actor that dies (its process killed, its node lost) is restarted from its saved
shard when it has no changes since that save, and the call is retried once; otherwise its
changes are gone, and the shard is reported (:class:`ShardUnavailableError`, naming it) rather
than silently answered from an older copy. Ray's own actor restarts are off for that reason: it
would rebuild the actor from its constructor arguments whether or not they still describe it.

Actors ask for no CPU of their own (``num_cpus=0``) so that on a small cluster they never keep
the ingest workers from being scheduled; they run their searches on the threads of the node.
Ray is imported only here and in ray_ingest.py: ``pip install 'ctxengine[ray]'``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from ..errors import UnsupportedError
from .backend import Backend, Call
from .errors import ShardError, ShardUnavailableError
from .shard import Shard

__all__ = ["RayBackend", "connect", "import_ray"]


def import_ray() -> Any:
    try:
        import ray
    except ImportError as exc:
        raise UnsupportedError(
            "backend='ray' needs Ray: pip install 'ctxengine[ray]' (or backend='local')"
        ) from exc
    return ray


def connect(address: str | None) -> bool:
    """Join the Ray cluster at `address` (None: the one this process already joined, else a new
    local one); returns whether a cluster was started or joined here (and should be left on
    close)."""
    ray = import_ray()
    if ray.is_initialized():
        return False
    ray.init(address=address, include_dashboard=False, log_to_driver=False)
    return True


class _ShardActor:
    """The actor class (made remote in :func:`_actor_class`): one shard, its calls by name."""

    def __init__(self, number: int, make: Mapping[str, Any]) -> None:
        # A shard that cannot be loaded is reported by ready() (an error raised here would
        # reach the caller as Ray's generic "actor died", without the shard's own message).
        self.error: ShardError | None = None
        try:
            if "new" in make:
                options, dense, embedder_name = make["new"]
                self.shard = Shard(number, options, dense=dense, embedder_name=embedder_name)
            else:
                folder, kwargs = make["load"]
                self.shard = Shard.load(number, folder, **kwargs)
        except ShardError as exc:
            self.error = exc

    def ready(self) -> int:
        """The actor's process id, once its shard is loaded (or the error that stopped it)."""
        if self.error is not None:
            raise self.error
        return os.getpid()

    def call(self, method: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        return getattr(self.shard, method)(*args, **kwargs)


_ACTOR: Any = None


def _actor_class() -> Any:
    global _ACTOR
    if _ACTOR is None:
        ray = import_ray()
        _ACTOR = ray.remote(num_cpus=0, max_restarts=0)(_ShardActor)
    return _ACTOR


class RayBackend(Backend):
    """Shards as Ray actors, called in parallel."""

    name = "ray"

    def __init__(self, n: int, *, partial: bool = False, owns_cluster: bool = False) -> None:
        super().__init__(n, partial=partial)
        self.ray = import_ray()
        self.actors: dict[int, Any] = {}
        self.restart_from: dict[int, tuple[str, dict[str, Any]]] = {}  # clean shards' saves
        self.owns_cluster = owns_cluster
        self.restarts = 0  # how many actors were restarted from their saved shard

    def start(self, number: int, make: Mapping[str, Any]) -> None:
        self.starts({number: make})

    def starts(self, makes: Mapping[int, Mapping[str, Any]]) -> None:
        """Start several shards at once (their loads run in parallel)."""
        actors = {i: _actor_class().remote(i, dict(m)) for i, m in makes.items()}
        ready = {i: a.ready.remote() for i, a in actors.items()}
        for i, ref in ready.items():
            try:
                self._get(ref)
            except ShardError as exc:
                self.down[i] = exc
            except self.ray.exceptions.RayActorError as exc:
                self.down[i] = ShardUnavailableError(i, f"shard {i} could not be started: {exc}")
            else:
                self.actors[i] = actors[i]
                self.down.pop(i, None)
                continue
            self.ray.kill(actors[i])

    def saved(self, number: int, folder: str, load_kwargs: dict[str, Any]) -> None:
        self.restart_from[number] = (folder, load_kwargs)

    def changed(self, number: int) -> None:
        self.restart_from.pop(number, None)

    def _submit(self, calls: dict[int, Call]) -> Any:
        return {i: self.actors[i].call.remote(m, a, k) for i, (m, a, k) in calls.items()}

    def _collect(self, calls: dict[int, Call], started: Any) -> dict[int, Any]:
        out: dict[int, Any] = {}
        for i, ref in started.items():
            try:
                out[i] = self._get(ref)
            except self.ray.exceptions.RayActorError:
                if self._restart(i):
                    try:
                        m, a, k = calls[i]
                        out[i] = self._get(self.actors[i].call.remote(m, a, k))
                    except self.ray.exceptions.RayActorError:
                        self._lost(i, "died again after a restart")
        return out

    def _get(self, ref: Any) -> Any:
        try:
            return self.ray.get(ref)
        except self.ray.exceptions.RayTaskError as exc:
            # An error raised by the shard's code: raise it as itself, without Ray's wrapper.
            cause = _cause(exc)
            if isinstance(cause, Exception):
                raise cause from None
            raise

    def _restart(self, i: int) -> bool:
        """Replace shard i's dead actor by one loaded from its saved shard, if it has one."""
        if i not in self.restart_from:
            self._lost(i, "died with changes that were never saved")
            return False
        folder, kwargs = self.restart_from[i]
        self.starts({i: {"load": (folder, kwargs)}})
        if i in self.down:
            return False
        self.restarts += 1
        return True

    def _lost(self, i: int, why: str) -> None:
        self.actors.pop(i, None)
        self.down[i] = ShardUnavailableError(
            i,
            f"shard {i}'s Ray actor {why}, so it cannot be restarted from a saved copy; "
            "load the index again from its last save (ShardedIndex.load), or open it with "
            "partial=True to search the other shards",
        )

    def pids(self) -> dict[int, int]:
        """Process ids of the shard actors (for tests that kill one)."""
        return {i: self.ray.get(a.ready.remote()) for i, a in self.actors.items()}

    def close(self) -> None:
        for a in self.actors.values():
            self.ray.kill(a)
        self.actors.clear()
        if self.owns_cluster and self.ray.is_initialized():
            self.ray.shutdown()


def _cause(exc: BaseException) -> BaseException | None:
    cause = getattr(exc, "cause", None)
    return cause if isinstance(cause, BaseException) else None
