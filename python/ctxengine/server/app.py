"""The HTTP service: a FastAPI app over saved indexes and the tokenizers.

Endpoints (JSON bodies use the library's argument names; see :mod:`.schemas`):

- ``POST /v1/count``  exact token counts (``Tokenizer.count``);
- ``POST /v1/chunk``  ``ctxengine.chunk``;
- ``POST /v1/search`` ``Index.search`` on a served index;
- ``POST /v1/pack``   ``ctxengine.pack``; the answer is ``Packed.to_dict()``, as
  ``ctxengine pack --format json`` prints it;
- ``GET /v1/indexes``, ``GET /healthz``; the OpenAPI description at ``/openapi.json`` and
  ``/docs``.

Every error is JSON, ``{"error": {"status": 422, "field": "budget", "message": "..."}}``, with
a 4xx status for what the caller can fix: 401 (a missing or wrong bearer token, when the server
has one), 404 (an unknown index or path), 413 (a body over the limit), 422 (a bad field). Bodies,
budgets, k and batch sizes are bounded (:class:`Limits`). Only tokenizer *names* are accepted,
never paths, so a caller cannot make the server read its files.
"""

from __future__ import annotations

import json
import os
import re
import secrets
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Annotated, Any

from .. import __version__
from ..errors import BudgetError, Error, NotFoundError
from ..integrations._common import require
from .schemas import ChunkRequest, CountRequest, PackRequest, SearchRequest

require("fastapi", "server")

from fastapi import Depends, FastAPI, Request  # noqa: E402
from fastapi.exceptions import RequestValidationError  # noqa: E402
from fastapi.responses import JSONResponse  # noqa: E402
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer  # noqa: E402
from starlette.exceptions import HTTPException  # noqa: E402
from starlette.types import ASGIApp, Message, Receive, Scope, Send  # noqa: E402

__all__ = ["ApiError", "Limits", "create_app"]


@dataclass(frozen=True)
class Limits:
    """What one request may ask for."""

    max_body_bytes: int = 16 << 20  # a request body, in bytes
    max_budget: int = 2_000_000  # pack's budget, in tokens
    max_k: int = 1000  # search and pack's k
    max_texts: int = 10_000  # texts in one count request


class ApiError(HTTPException):
    """An HTTP error whose JSON names the request field at fault."""

    def __init__(self, status: int, field: str | None, message: str) -> None:
        super().__init__(status, message)
        self.field = field


def _plain(value: Any) -> Any:
    """NumPy values in an answer (from an index that returns them) as JSON values."""
    if hasattr(value, "tolist"):  # numpy scalars and arrays
        return value.tolist()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


class _Json(JSONResponse):
    """An answer written straight to JSON: FastAPI's default would first validate and copy
    the whole structure (jsonable_encoder), which costs more than the search it answers."""

    def render(self, content: Any) -> bytes:
        return json.dumps(
            content, ensure_ascii=False, allow_nan=False, separators=(",", ":"), default=_plain
        ).encode("utf-8")


def _error(status: int, field: str | None, message: str, **extra: Any) -> JSONResponse:
    body = {"error": {"status": status, "field": field, "message": message, **extra}}
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse(body, status_code=status, headers=headers)


class _BodyLimit:
    """Refuses request bodies over `limit` bytes with 413, by their Content-Length or, for a
    streamed body, as soon as more arrives; the app never holds more than that."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app, self.limit = app, limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        length = headers.get(b"content-length")
        if length is not None and length.isdigit() and int(length) > self.limit:
            await _error(413, "body", self._message())(scope, receive, send)
            return
        seen = 0

        async def limited() -> Message:
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > self.limit:
                raise ApiError(413, "body", self._message())
            return message

        await self.app(scope, limited, send)

    def _message(self) -> str:
        return f"the request body is over the server's limit of {self.limit} bytes"


_PARAM = re.compile(r"\b([a-z_]+)\b")


def _field_of(message: str, fields: tuple[str, ...], default: str) -> str:
    """The request field a library error is about: the first of `fields` it names."""
    named = set(_PARAM.findall(message))
    return next((f for f in fields if f in named), default)


@contextmanager
def _library(fields: tuple[str, ...], default: str) -> Iterator[None]:
    """Library errors (bad values the schema cannot see) as 422 naming the field."""
    try:
        yield
    except BudgetError as exc:
        raise ApiError(422, "budget", str(exc)) from exc
    except (Error, ValueError) as exc:
        raise ApiError(422, _field_of(str(exc), fields, default), str(exc)) from exc


_BEARER = HTTPBearer(auto_error=False, description="The token `ctxengine serve --token` set.")


class _Bearer:
    """The dependency that checks ``Authorization: Bearer <token>`` (none: every request)."""

    def __init__(self, token: str | None) -> None:
        self.token = token

    def __call__(
        self, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_BEARER)]
    ) -> None:
        if self.token is None:
            return
        given = credentials.credentials if credentials is not None else ""
        if not secrets.compare_digest(given.encode(), self.token.encode()):
            raise ApiError(401, "Authorization", "send 'Authorization: Bearer <token>'")


def _open(indexes: Mapping[str, Any]) -> dict[str, Any]:
    from ..distributed import load_saved

    out = {}
    for name, index in indexes.items():
        if isinstance(index, (str, os.PathLike)):
            index = load_saved(index)  # an Index or a sharded index folder
        if not callable(getattr(index, "search", None)):
            raise TypeError(f"index {name!r} has no search method")
        out[name] = index
    return out


def _documents(index: Any) -> int | None:
    """How many documents an index holds (None for one that does not say)."""
    try:
        return len(index)
    except TypeError:
        return None


def _warm(index: Any) -> None:
    """Build what an index builds on its first search now, before requests run in threads."""
    if _documents(index) == 0:
        return
    index.search("warm", 1)
    if getattr(index, "embedder", None) is not None:
        index.search("warm", 1, mode="dense")


def _describe(name: str, index: Any) -> dict[str, Any]:
    from ..tokenizers import tokenizer_name

    return {
        "name": name,
        "documents": _documents(index),
        "chunks": int(getattr(index, "n_chunks", 0)),
        "tokenizer": tokenizer_name(index.tokenizer) if hasattr(index, "tokenizer") else None,
        "max_tokens": getattr(index, "max_tokens", None),
        "dense": getattr(index, "embedder", None) is not None,
    }


def create_app(
    indexes: Mapping[str, Any] | None = None,
    *,
    token: str | None = None,
    limits: Limits | None = None,
) -> FastAPI:
    """The FastAPI app serving `indexes` (name -> an ``Index``, a ``ShardedIndex`` or a saved
    index folder). With `token`, every ``/v1`` request needs ``Authorization: Bearer <token>``.

    >>> app = create_app({})
    >>> sorted(r.path for r in app.routes if r.path.startswith("/v1"))
    ['/v1/chunk', '/v1/count', '/v1/indexes', '/v1/pack', '/v1/search']
    """
    from ..tokenizers import get_tokenizer, list_tokenizers

    limits = limits or Limits()
    served = _open(indexes or {})
    for index in served.values():
        _warm(index)
    known_tokenizers = set(list_tokenizers())

    app = FastAPI(
        title="ctxengine",
        version=__version__,
        description="Exact token counts, chunking, retrieval and packing over HTTP.",
    )
    app.add_middleware(_BodyLimit, limit=limits.max_body_bytes)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> JSONResponse:
        return _error(exc.status_code, getattr(exc, "field", None), str(exc.detail))

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = [
            {
                # JSON syntax errors are located by character position: the body is at fault.
                "field": "body"
                if e.get("type") == "json_invalid"
                else ".".join(str(p) for p in e["loc"][1:]) or "body",
                "message": e["msg"],
            }
            for e in exc.errors()
        ]
        first = problems[0] if problems else {"field": "body", "message": "invalid request"}
        if first["field"] == "body" and "json" not in request.headers.get("content-type", ""):
            first["message"] += "; send a JSON object with 'Content-Type: application/json'"
        return _error(422, first["field"], first["message"], errors=problems)

    authorized = _Bearer(token)

    def tokenizer_of(name: str, field: str = "tokenizer") -> Any:
        if name not in known_tokenizers:
            raise ApiError(
                422, field, f"unknown tokenizer {name!r}; use one of {sorted(known_tokenizers)}"
            )
        try:
            return get_tokenizer(name)
        except NotFoundError as exc:
            raise ApiError(422, field, f"{name} is not available on this server: {exc}") from exc

    def index_of(name: str | None) -> tuple[str, Any]:
        if name is None:
            if len(served) == 1:
                return next(iter(served.items()))
            raise ApiError(422, "index", f"say which index: one of {sorted(served)}")
        if name not in served:
            raise ApiError(404, "index", f"no index {name!r} here; served: {sorted(served)}")
        return name, served[name]

    def bounded(value: int | None, field: str, limit: int) -> None:
        if value is not None and value > limit:
            raise ApiError(422, field, f"{field} must be at most {limit} on this server")

    guarded = [Depends(authorized)]

    @app.get("/healthz", tags=["service"])
    def healthz() -> dict[str, Any]:
        """Liveness: always answers while the process serves (no token needed)."""
        return {"status": "ok", "version": __version__, "indexes": len(served)}

    @app.get("/v1/indexes", tags=["retrieval"], dependencies=guarded)
    def list_indexes() -> _Json:
        """The served indexes: name, documents, chunks, tokenizer, chunk size, dense search."""
        return _Json({"indexes": [_describe(n, i) for n, i in served.items()]})

    @app.post("/v1/count", tags=["tokens"], dependencies=guarded)
    def count(body: CountRequest) -> _Json:
        """Exact token counts (special-token text counts as plain text)."""
        if (body.text is None) == (body.texts is None):
            raise ApiError(422, "text", "give either text or texts")
        tok = tokenizer_of(body.tokenizer)
        if body.text is not None:
            return _Json({"tokenizer": body.tokenizer, "tokens": int(tok.count(body.text))})
        texts = body.texts or []
        bounded(len(texts), "texts", limits.max_texts)
        counts = [int(c) for c in tok.count_many(texts)] if texts else []
        return _Json({"tokenizer": body.tokenizer, "counts": counts, "total": sum(counts)})

    @app.post("/v1/chunk", tags=["tokens"], dependencies=guarded)
    def chunk(body: ChunkRequest) -> _Json:
        """Chunks of at most max_tokens exact tokens, with offsets into the text."""
        from ..chunking import chunk as split

        tok = tokenizer_of(body.tokenizer)
        with _library(("overlap", "max_tokens", "language", "trim", "by"), "text"):
            chunks = split(
                body.text,
                body.max_tokens,
                tokenizer=tok,
                overlap=body.overlap,
                by=body.by,
                language=body.language,
                trim=body.trim,
            )
        return _Json({"tokenizer": body.tokenizer, "chunks": chunks.records()})

    @app.post("/v1/search", tags=["retrieval"], dependencies=guarded)
    def search(body: SearchRequest) -> _Json:
        """The k best chunks of an index for a query."""
        name, index = index_of(body.index)
        bounded(body.k, "k", limits.max_k)
        if getattr(index, "embedder", True) is None:  # an Index without vectors
            if body.mode != "bm25":
                raise ApiError(422, "mode", f"index {name!r} has no embeddings: use mode bm25")
            if body.mmr_lambda is not None:
                raise ApiError(422, "mmr_lambda", f"index {name!r} has no embeddings for mmr")
        with _library(("filter", "mode", "mmr_lambda", "fusion", "k", "query"), "query"):
            hits = index.search(
                body.query,
                body.k,
                mode=body.mode,
                filter=body.filter,
                fusion=body.fusion,
                mmr_lambda=body.mmr_lambda,
            )
        hits_json = [{**h.to_dict(), "score": h.score} for h in hits]
        return _Json({"index": name, "hits": hits_json})

    @app.post("/v1/pack", tags=["retrieval"], dependencies=guarded)
    def pack(body: PackRequest) -> _Json:
        """The best context for a query packed into a prompt within the budget."""
        from ..packing import get_model
        from ..packing import pack as pack_prompt

        _, index = index_of(body.index)
        if isinstance(body.budget, int):
            if body.budget < 1:
                raise ApiError(422, "budget", "budget must be a positive number of tokens")
            bounded(body.budget, "budget", limits.max_budget)
        else:
            with _library((), "budget"):
                bounded(get_model(body.budget).context_window, "budget", limits.max_budget)
        bounded(body.k, "k", limits.max_k)
        if body.model is not None:
            with _library((), "model"):
                get_model(body.model)
        options = body.model_dump(exclude={"index", "query", "budget", "tokenizer"})
        if body.tokenizer is not None:
            options["tokenizer"] = tokenizer_of(body.tokenizer)
        fields = ("model", "tokenizer", "filter", "template", "source_template", "instructions")
        with _library((*fields, "k", "mode", "reserve_output"), "query"):
            packed = pack_prompt(body.query, index, body.budget, **options)
        return _Json(packed.to_dict())

    return app
