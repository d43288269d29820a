"""The optional model path: OpenAIClient against a chat-completions server started here on
loopback (never the internet), retries, errors, and scoring answers through the grid."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

import ctxengine
from ctxengine.evaluation import OpenAIClient, evaluate, prompt_messages
from eval_support import counter

CL100K = counter("cl100k_base")


class Server:
    """A tiny OpenAI-compatible server: answers with the hidden number it finds in the prompt,
    or follows a script of failures first."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []
        self.script: list[tuple[int, bytes]] = []  # (status, body) served before real answers
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                owner.requests.append(body)
                owner.headers.append(dict(self.headers))
                if self.path != "/v1/chat/completions":
                    self._send(404, b'{"error": "not found"}')
                elif owner.script:
                    self._send(*owner.script.pop(0))
                else:
                    text = body["messages"][-1]["content"]
                    found = re.findall(r"hidden number for [\w-]+ is (\d+)", text)
                    answer = f"The number is {found[0]}." if found else "I do not know."
                    reply = {"choices": [{"message": {"role": "assistant", "content": answer}}]}
                    self._send(200, json.dumps(reply).encode())

            def _send(self, status: int, body: bytes) -> None:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server() -> Iterator[Server]:
    s = Server()
    yield s
    s.close()


def test_client_sends_chat_completions(server: Server) -> None:
    client = OpenAIClient("test-model", base_url=server.url, api_key="sk-test", max_tokens=16)
    answer = client(prompt_messages("The hidden number for red-fox is 4242.", system="Be brief."))
    assert answer == "The number is 4242."
    sent = server.requests[0]
    assert sent["model"] == "test-model" and sent["max_tokens"] == 16
    assert sent["temperature"] == 0.0
    assert sent["messages"][0] == {"role": "system", "content": "Be brief."}
    assert server.headers[0]["Authorization"] == "Bearer sk-test"


def test_client_retries_server_errors_then_succeeds(server: Server) -> None:
    server.script = [(503, b"busy"), (429, b"slow down")]
    client = OpenAIClient("m", base_url=server.url, api_key="", backoff=0.01)
    assert client(prompt_messages("nothing here")) == "I do not know."
    assert len(server.requests) == 3
    assert "Authorization" not in server.headers[0]


def test_client_errors_are_clear(server: Server) -> None:
    client = OpenAIClient("m", base_url=server.url, api_key="", retries=1, backoff=0.01)
    server.script = [(400, b'{"error": "context too long"}')]
    with pytest.raises(ctxengine.InvalidInputError, match=r"HTTP 400.*context too long"):
        client(prompt_messages("x"))
    server.script = [(200, b"not json")]
    with pytest.raises(ctxengine.FormatError, match="chat-completions"):
        client(prompt_messages("x"))
    server.script = [(500, b"down"), (500, b"down")]
    with pytest.raises(ctxengine.InvalidInputError, match="HTTP 500"):
        client(prompt_messages("x"))
    closed = Server()
    url = closed.url
    closed.close()
    with pytest.raises(ctxengine.StorageError, match="cannot reach"):
        OpenAIClient("m", base_url=url, retries=0, timeout=5)(prompt_messages("x"))
    with pytest.raises(ctxengine.InvalidInputError, match="http"):
        OpenAIClient("m", base_url="localhost:8000")


def test_grid_with_a_model_scores_answers(server: Server) -> None:
    client = OpenAIClient("m", base_url=server.url, api_key="")
    report = evaluate(
        ["full", lambda q, c, b: ""],
        lengths=[1_500],
        depths=[0.5],
        budgets=[500],
        tokenizer=CL100K,
        llm=client,
    )
    full, empty = report.rows
    assert full.score == 1.0 and (full.prediction or "").startswith("The number is")
    assert empty.score == 0.0 and empty.prediction == "I do not know."
    assert "score" in report.table("score")


def test_a_plain_callable_is_a_model() -> None:
    seen: list[list[dict[str, str]]] = []

    def llm(messages: list[dict[str, str]]) -> str:
        seen.append(messages)
        return " ".join(re.findall(r"is (\d+)\.", messages[-1]["content"]))

    report = evaluate("full", tasks=["niah_multivalue"], lengths=[2_000], depths=[0.3],
                      tokenizer=CL100K, llm=llm)  # fmt: skip
    assert report.rows[0].score == 1.0
    assert seen[0][0]["role"] == "user" and "hidden numbers" in seen[0][0]["content"]
