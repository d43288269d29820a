"""`ctxengine serve` as a real server process on 127.0.0.1 (a free port), called with a real HTTP
client (httpx): answers equal the library's, errors are 4xx JSON naming the field, bounds and
the bearer token hold, and the process stops cleanly."""

from __future__ import annotations

import concurrent.futures
import json
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest

import ctxengine
from integration_support import QUESTIONS, count, documents, saved_index
from package_env import package_env

TOKEN = "s3cret-token"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    def __init__(self, args: list[str], token: str | None = TOKEN) -> None:
        self.port = _free_port()
        env = package_env()
        env.pop("CTXENGINE_TOKEN", None)
        cmd = [sys.executable, "-m", "ctxengine", "serve", *args, "--port", str(self.port)]
        cmd += ["--max-body-mb", "1", "--max-budget", "50000", "--max-k", "100"]
        cmd += ["--log-level", "warning"] + (["--token", token] if token else [])
        self.proc = subprocess.Popen(
            cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.client = httpx.Client(
            base_url=f"http://127.0.0.1:{self.port}", headers=headers, timeout=60
        )
        deadline = time.monotonic() + 90
        while True:
            if self.proc.poll() is not None:
                self.stop()
                raise RuntimeError(f"the server exited: {self.err}")
            try:
                if self.client.get("/healthz").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("the server did not start in 90 s")
            time.sleep(0.2)

    def stop(self) -> int:
        """SIGTERM, then what the process printed is in `out` and `err`."""
        self.client.close()
        self.proc.terminate()
        try:
            self.out, self.err = self.proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.out, self.err = self.proc.communicate()
        return int(self.proc.returncode)


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return saved_index(str(tmp_path_factory.mktemp("srv")))


@pytest.fixture(scope="module")
def server(folder: Path) -> Iterator[Server]:
    srv = Server([f"docs={folder}", str(folder)])
    yield srv
    assert srv.stop() == 0, srv.err  # SIGTERM: a graceful shutdown, status 0
    assert "Traceback" not in srv.err


def _post(server: Server, path: str, body: dict[str, Any]) -> httpx.Response:
    return server.client.post(path, json=body)


def test_health_indexes_and_openapi(server: Server, folder: Path) -> None:
    assert server.client.get("/healthz").json()["status"] == "ok"
    listed = server.client.get("/v1/indexes").json()["indexes"]
    index = ctxengine.Index.load(folder)
    assert [i["name"] for i in listed] == ["docs", folder.name]
    assert listed[0]["documents"] == len(index) and listed[0]["chunks"] == index.n_chunks
    assert listed[0]["tokenizer"] == "cl100k_base" and listed[0]["dense"] is False
    spec = server.client.get("/openapi.json").json()
    assert {"/v1/count", "/v1/chunk", "/v1/search", "/v1/pack", "/v1/indexes"} <= set(spec["paths"])
    assert "PackRequest" in spec["components"]["schemas"]
    docs = server.client.get("/docs")
    assert docs.status_code == 200 and "swagger" in docs.text.lower()


def test_counts_equal_the_library(server: Server) -> None:
    texts = [t for _, t in documents()]
    for name in ("cl100k_base", "o200k_base"):
        tok = ctxengine.get_tokenizer(name)
        r = _post(server, "/v1/count", {"texts": texts, "tokenizer": name})
        assert r.status_code == 200, r.text
        assert r.json()["counts"] == [tok.count(t) for t in texts]
        assert r.json()["total"] == sum(tok.count(t) for t in texts)
        one = _post(server, "/v1/count", {"text": texts[0], "tokenizer": name}).json()
        assert one["tokens"] == count(texts[0], name)  # and tiktoken's own count
    # A lone surrogate arrives as a JSON escape (as JavaScript's JSON.stringify sends it).
    tricky = "<|endoftext|> \ud83d lone surrogate, 👍"
    r = server.client.post(
        "/v1/count",
        content=json.dumps({"text": tricky}),
        headers={"content-type": "application/json"},
    )
    assert r.json()["tokens"] == count(tricky)


def test_chunks_equal_the_library(server: Server) -> None:
    text = documents()[0][1]
    body = {
        "text": text,
        "max_tokens": 64,
        "overlap": 8,
        "by": "sentences",
        "tokenizer": "o200k_base",
    }
    r = _post(server, "/v1/chunk", body)
    want = ctxengine.chunk(text, 64, overlap=8, by="sentences", tokenizer="o200k_base").records()
    assert r.status_code == 200 and r.json()["chunks"] == want


def test_search_and_pack_equal_the_library(server: Server, folder: Path) -> None:
    index = ctxengine.Index.load(folder)
    for q in QUESTIONS:
        r = _post(server, "/v1/search", {"index": "docs", "query": q, "k": 7})
        assert r.status_code == 200, r.text
        hits = index.search(q, 7)
        assert r.json()["hits"] == [{**h.to_dict(), "score": h.score} for h in hits]
        filtered = _post(
            server, "/v1/search", {"index": "docs", "query": q, "filter": {"lang": "en"}}
        )
        assert [h["doc_id"] for h in filtered.json()["hits"]] == [
            h.doc_id for h in index.search(q, 10, filter={"lang": "en"})
        ]
    for fmt, budget in (("text", 2000), ("openai", 4000), ("anthropic", "gpt-3.5-turbo")):
        body = {"index": "docs", "query": QUESTIONS[0], "budget": budget, "format": fmt}
        got = _post(server, "/v1/pack", body).json()
        want = ctxengine.pack(QUESTIONS[0], index, budget, format=fmt).to_dict()
        got.pop("stats"), want.pop("stats")  # timings differ
        assert got == want
        assert got["tokens"] <= got["available"]
    with_model = _post(
        server,
        "/v1/pack",
        {"index": "docs", "query": QUESTIONS[1], "budget": 3000, "model": "gpt-4o", "k": 20},
    ).json()
    want = ctxengine.pack(QUESTIONS[1], index, 3000, model="gpt-4o", k=20).to_dict()
    assert with_model["tokens"] == want["tokens"] and with_model["text"] == want["text"]
    assert with_model["tokenizer"] == "o200k_base"


@pytest.mark.parametrize(
    ("path", "body", "status", "field"),
    [
        ("/v1/pack", {"index": "docs", "query": "q", "budget": -5}, 422, "budget"),
        ("/v1/pack", {"index": "docs", "query": "q", "budget": 10**9}, 422, "budget"),
        ("/v1/pack", {"index": "docs", "query": "q", "budget": "no-such-model"}, 422, "budget"),
        ("/v1/pack", {"index": "docs", "query": "q", "budget": 5}, 422, "budget"),
        ("/v1/pack", {"index": "docs", "query": "q", "budget": 900, "format": "hf"}, 422, "format"),
        (
            "/v1/pack",
            {"index": "docs", "query": "q", "budget": 900, "model": "gpt-99"},
            422,
            "model",
        ),
        ("/v1/pack", {"index": "nope", "query": "q", "budget": 900}, 404, "index"),
        ("/v1/pack", {"query": "q", "budget": 900}, 422, "index"),
        ("/v1/pack", {"index": "docs", "budget": 900}, 422, "query"),
        ("/v1/search", {"index": "docs", "query": "   "}, 422, "query"),
        ("/v1/search", {"index": "docs", "query": "q", "k": 101}, 422, "k"),
        ("/v1/search", {"index": "docs", "query": "q", "k": 0}, 422, "k"),
        ("/v1/search", {"index": "docs", "query": "q", "mode": "dense"}, 422, "mode"),
        ("/v1/search", {"index": "docs", "query": "q", "kk": 3}, 422, "kk"),
        ("/v1/search", {"index": "docs", "query": "q", "filter": [1]}, 422, "filter"),
        ("/v1/count", {"text": "a", "tokenizer": "/etc/passwd"}, 422, "tokenizer"),
        ("/v1/count", {"text": "a", "texts": ["b"]}, 422, "text"),
        ("/v1/count", {"texts": "not a list"}, 422, "texts"),
        ("/v1/chunk", {"text": "a b", "max_tokens": 4, "overlap": 4}, 422, "overlap"),
        ("/v1/chunk", {"text": "a b", "max_tokens": 0}, 422, "max_tokens"),
        ("/v1/chunk", {"text": "a b", "max_tokens": 4, "language": "python"}, 422, "language"),
    ],
)
def test_bad_input_is_4xx_json_naming_the_field(
    server: Server, path: str, body: dict[str, Any], status: int, field: str
) -> None:
    r = _post(server, path, body)
    assert r.status_code == status, r.text
    error = r.json()["error"]
    assert error["field"] == field and error["status"] == status and error["message"]


def test_bodies_and_tokens(server: Server) -> None:
    big = {"text": "x" * (1 << 20)}
    r = _post(server, "/v1/count", big)
    assert r.status_code == 413 and r.json()["error"]["field"] == "body"

    def chunks() -> Iterator[bytes]:  # no Content-Length: counted as it streams
        yield b'{"text": "'
        for _ in range(200):
            yield b"y" * 8192
        yield b'"}'

    r = server.client.post(
        "/v1/count", content=chunks(), headers={"content-type": "application/json"}
    )
    assert r.status_code == 413 and r.json()["error"]["field"] == "body"
    r = server.client.post(
        "/v1/count", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert r.status_code == 422 and r.json()["error"]["field"] == "body"
    r = server.client.post("/v1/count", content=b'{"text": "a"}')  # no JSON content type
    assert r.status_code == 422 and "application/json" in r.json()["error"]["message"]
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": "Basic xyz"}):
        with httpx.Client(base_url=str(server.client.base_url)) as anonymous:
            r = anonymous.post("/v1/count", json={"text": "a"}, headers=headers)
            assert r.status_code == 401 and r.json()["error"]["field"] == "Authorization"
            assert r.headers["www-authenticate"] == "Bearer"
            assert anonymous.get("/healthz").status_code == 200  # liveness needs no token
    r = server.client.get("/v1/nothing-here")
    assert r.status_code == 404 and r.json()["error"]["message"]


def test_concurrent_requests_get_the_library_answers(server: Server, folder: Path) -> None:
    index = ctxengine.Index.load(folder)
    want = {q: [h.chunk_id for h in index.search(q, 5)] for q in QUESTIONS}

    def ask(q: str) -> tuple[str, list[int]]:
        r = _post(server, "/v1/search", {"index": "docs", "query": q, "k": 5})
        return q, [h["chunk_id"] for h in r.json()["hits"]]

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        for q, got in pool.map(ask, QUESTIONS * 6):
            assert got == want[q]


def test_command_line_errors(folder: Path, tmp_path: Path) -> None:
    env = package_env()
    cases = [
        ([str(tmp_path)], "not an index folder"),
        ([f"a={folder}", f"a={folder}"], "two indexes are named 'a'"),
        ([f"={folder}"], "no name"),
    ]
    for args, message in cases:
        run = subprocess.run(
            [sys.executable, "-m", "ctxengine", "serve", *args],
            capture_output=True,
            text=True,
            env=env,
            timeout=60,
        )
        assert run.returncode != 0 and message in run.stderr, run.stderr
    # Without the server extra: one line that names it, status 1.
    prog = (
        "import sys; sys.modules['fastapi'] = None\n"
        f"from ctxengine.cli import main; main(['serve', {str(folder)!r}])"
    )
    run = subprocess.run([sys.executable, "-c", prog], capture_output=True, text=True, env=env)
    assert run.returncode == 1 and run.stderr.count("\n") == 1, run.stderr
    assert "ctxengine: error:" in run.stderr and 'pip install "ctxengine[server]"' in run.stderr


def test_no_token_and_a_public_address_warns(folder: Path) -> None:
    srv = Server([str(folder), "--host", "0.0.0.0"], token=None)  # still reached via 127.0.0.1
    try:
        r = _post(srv, "/v1/search", {"query": "file", "k": 1})  # the only index: no name needed
        assert r.status_code == 200 and len(r.json()["hits"]) == 1
    finally:
        assert srv.stop() == 0
    assert "without --token" in srv.err


def test_any_object_with_index_search_is_served(folder: Path) -> None:
    """A ShardedIndex, or anything with Index's search, is served as an index (in process)."""
    from fastapi.testclient import TestClient

    from ctxengine.server import create_app
    from integration_support import SearchSpy

    class Shards:  # the search method and nothing else
        def __init__(self) -> None:
            self.spy = SearchSpy(ctxengine.Index.load(folder))

        def search(self, query: str, k: int = 10, **options: Any) -> list[Any]:
            hits = self.spy.search(query, k, **options)
            for h in hits:  # shards may answer with NumPy numbers
                h.score, h.tokens = np.float32(h.score), np.int64(h.tokens)
            return hits

    shards = Shards()
    with TestClient(create_app({"shards": shards})) as client:
        r = client.post("/v1/search", json={"query": QUESTIONS[0], "k": 3})
        assert r.status_code == 200
        want = shards.spy.index.search(QUESTIONS[0], 3)
        assert [h["chunk_id"] for h in r.json()["hits"]] == [h.chunk_id for h in want]
        assert [h["tokens"] for h in r.json()["hits"]] == [h.tokens for h in want]
        assert [h["score"] for h in r.json()["hits"]] == [float(np.float32(h.score)) for h in want]
        assert shards.spy.calls[-1][:2] == (QUESTIONS[0], 3)
        listed = client.get("/v1/indexes").json()["indexes"]
        assert listed == [
            {"name": "shards", "documents": None, "chunks": 0, "tokenizer": None,
             "max_tokens": None, "dense": False}
        ]  # fmt: skip
