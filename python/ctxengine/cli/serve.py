"""`ctxengine serve`: serve saved indexes over HTTP (FastAPI + uvicorn)."""

from __future__ import annotations

import os
from pathlib import Path

import click

from ..errors import UnsupportedError
from .app import main


def _named(specs: tuple[str, ...]) -> dict[str, Path]:
    """NAME=DIR or DIR (named by its folder) -> {name: folder}; names must differ."""
    out: dict[str, Path] = {}
    for spec in specs:
        name, sep, folder = spec.partition("=")
        path = Path(folder if sep else spec)
        if not sep:
            name = path.resolve().name
        if not name:
            raise click.BadParameter(f"no name for {spec!r}; use NAME=DIR", param_hint="INDEX")
        if name in out:
            raise click.BadParameter(
                f"two indexes are named {name!r}; name them with NAME=DIR", param_hint="INDEX"
            )
        if not (path / "CURRENT").is_file():
            raise click.BadParameter(
                f"{path} is not an index folder (make one with `ctxengine index ... --out DIR`)",
                param_hint="INDEX",
            )
        out[name] = path
    return out


@main.command("serve")
@click.argument("indexes", nargs=-1, metavar="[NAME=]INDEX_DIR...")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535))
@click.option(
    "--token",
    default=None,
    envvar="CTXENGINE_TOKEN",
    help="Require 'Authorization: Bearer TOKEN' on /v1 requests (or set CTXENGINE_TOKEN).",
)
@click.option(
    "--max-body-mb",
    default=16.0,
    show_default=True,
    type=click.FloatRange(min=0, min_open=True),
    help="Largest request body.",
)
@click.option(
    "--max-budget",
    default=2_000_000,
    show_default=True,
    type=click.IntRange(min=1),
    help="Largest pack budget, in tokens.",
)
@click.option(
    "--max-k", default=1000, show_default=True, type=click.IntRange(min=1), help="Largest k."
)
@click.option(
    "--log-level",
    default="info",
    show_default=True,
    type=click.Choice(["critical", "error", "warning", "info", "debug"]),
)
def serve_command(
    indexes: tuple[str, ...],
    host: str,
    port: int,
    token: str | None,
    max_body_mb: float,
    max_budget: int,
    max_k: int,
    log_level: str,
) -> None:
    """Serve saved indexes over HTTP: POST /v1/count, /v1/chunk, /v1/search, /v1/pack;
    GET /v1/indexes, /healthz; OpenAPI at /docs.

    ctxengine serve docs=my-index --port 8000 --token "$TOKEN"
    """
    try:
        from ..server import Limits, serve
    except ImportError as exc:  # the server extra is not installed: one line, exit 1
        raise UnsupportedError(str(exc)) from None

    limits = Limits(max_body_bytes=int(max_body_mb * (1 << 20)), max_budget=max_budget, max_k=max_k)
    named = _named(indexes)
    shown = ", ".join(f"{n}={p}" for n, p in named.items()) or "no index (count and chunk only)"
    click.echo(f"ctxengine: serving {shown} on http://{host}:{port} (docs: /docs)", err=True)
    serve(
        {n: os.fspath(p) for n, p in named.items()},
        host=host,
        port=port,
        token=token or None,
        limits=limits,
        log_level=log_level,
    )
