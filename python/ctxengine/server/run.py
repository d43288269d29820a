"""Running the service: uvicorn in this process, on localhost unless told otherwise."""

from __future__ import annotations

import ipaddress
import signal
import sys
from collections.abc import Mapping
from typing import Any

from ..integrations._common import require
from .app import Limits, create_app

__all__ = ["is_loopback", "serve"]


def is_loopback(host: str) -> bool:
    """Whether `host` only accepts connections from this machine.

    >>> is_loopback("127.0.0.1"), is_loopback("localhost"), is_loopback("0.0.0.0")
    (True, True, False)
    """
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def serve(
    indexes: Mapping[str, Any],
    *,
    host: str = "127.0.0.1",
    port: int = 8000,
    token: str | None = None,
    limits: Limits | None = None,
    log_level: str = "info",
) -> None:
    """Serve `indexes` (name -> Index, ShardedIndex or index folder) until interrupted.

    Requests run on uvicorn's thread pool; the C++ calls release the GIL, so they use every
    core. Binding to anything but localhost without a `token` prints a warning: anyone who can
    reach the port can then read the indexes.
    """
    uvicorn = require("uvicorn", "server")
    if not is_loopback(host) and token is None:
        print(
            f"ctxengine: warning: serving on {host} without --token: anyone who can reach "
            f"port {port} can read these indexes",
            file=sys.stderr,
        )
    app = create_app(indexes, token=token, limits=limits)
    _exit_zero_on_signals()
    uvicorn.run(app, host=host, port=port, log_level=log_level)


def _exit_zero_on_signals() -> None:
    """uvicorn shuts down gracefully on SIGTERM/SIGINT, then re-raises the signal to the
    handler it found: make that an exit with status 0, as a stopped service should."""

    def stop(signum: int, frame: Any) -> None:
        raise SystemExit(0)

    for sig in (signal.SIGTERM, signal.SIGINT):
        try:
            signal.signal(sig, stop)
        except ValueError:  # not the main thread: leave the signals alone
            return
