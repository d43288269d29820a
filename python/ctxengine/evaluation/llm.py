"""Asking a model: any ``llm(messages) -> str`` callable, or an OpenAI-compatible HTTP server.

Nothing here runs unless a model is given: evaluation without a model measures context recall
only. :class:`OpenAIClient` speaks the chat-completions protocol that OpenAI, vLLM, llama.cpp's
server, Ollama and most gateways share, with the standard library's urllib (no extra
dependency), retrying on rate limits and server errors.
"""

from __future__ import annotations

import json
import os
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any

from ..errors import FormatError, InvalidInputError, StorageError

__all__ = ["LLM", "Message", "OpenAIClient", "prompt_messages"]

Message = dict[str, str]
LLM = Callable[[list[Message]], str]


def prompt_messages(prompt: str, *, system: str | None = None) -> list[Message]:
    """A prompt as chat messages: an optional system message and one user message.

    >>> prompt_messages("Hi", system="Be brief.")
    [{'role': 'system', 'content': 'Be brief.'}, {'role': 'user', 'content': 'Hi'}]
    """
    messages: list[Message] = []
    if system:
        messages.append({"role": "system", "content": system})
    messages.append({"role": "user", "content": prompt})
    return messages


class OpenAIClient:
    """A chat-completions client for any OpenAI-compatible server; call it with messages.

    `base_url` is the API root (``https://api.openai.com/v1``, ``http://localhost:8000/v1``);
    `api_key` defaults to ``$OPENAI_API_KEY`` (none is sent when it is unset). Requests are
    greedy by default (``temperature=0``). HTTP 429 and 5xx are retried `retries` times with
    exponential backoff; other failures raise a ctxengine error that says what the server
    answered.

    >>> client = OpenAIClient("gpt-4o-mini", base_url="http://localhost:8000/v1")
    >>> client.url
    'http://localhost:8000/v1/chat/completions'
    """

    def __init__(
        self,
        model: str,
        *,
        base_url: str = "https://api.openai.com/v1",
        api_key: str | None = None,
        max_tokens: int = 128,
        temperature: float = 0.0,
        timeout: float = 600.0,
        retries: int = 3,
        backoff: float = 1.0,
        extra: dict[str, Any] | None = None,
    ) -> None:
        if not model:
            raise InvalidInputError("OpenAIClient needs a model name")
        if not base_url.startswith(("http://", "https://")):
            raise InvalidInputError(
                f"base_url must start with http:// or https://, got {base_url!r}"
            )
        self.model = model
        self.url = base_url.rstrip("/") + "/chat/completions"
        self.api_key = api_key if api_key is not None else os.environ.get("OPENAI_API_KEY")
        self.max_tokens, self.temperature = max_tokens, temperature
        self.timeout, self.retries, self.backoff = timeout, retries, backoff
        self.extra = dict(extra or {})

    def __call__(self, messages: list[Message]) -> str:
        body = {
            "model": self.model,
            "messages": messages,
            "max_tokens": self.max_tokens,
            "temperature": self.temperature,
            **self.extra,
        }
        data = json.dumps(body).encode("utf-8")
        headers = {"Content-Type": "application/json"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        for attempt in range(self.retries + 1):
            request = urllib.request.Request(self.url, data=data, headers=headers, method="POST")
            try:
                with urllib.request.urlopen(request, timeout=self.timeout) as response:
                    return _content(response.read(), self.url)
            except urllib.error.HTTPError as exc:
                detail = exc.read().decode("utf-8", "replace")[:300]
                if exc.code in (429, 500, 502, 503, 504) and attempt < self.retries:
                    time.sleep(self.backoff * 2**attempt)
                    continue
                raise InvalidInputError(
                    f"{self.url} answered HTTP {exc.code}: {detail or exc.reason}"
                ) from None
            except (urllib.error.URLError, TimeoutError, ConnectionError) as exc:
                if attempt < self.retries:
                    time.sleep(self.backoff * 2**attempt)
                    continue
                reason = getattr(exc, "reason", exc)
                raise StorageError(f"cannot reach {self.url}: {reason}") from None
        raise StorageError(f"cannot reach {self.url}")  # pragma: no cover - loop always returns


def _content(raw: bytes, url: str) -> str:
    try:
        reply = json.loads(raw)
        content = reply["choices"][0]["message"]["content"]
    except (ValueError, KeyError, IndexError, TypeError) as exc:
        raise FormatError(
            f"{url} did not answer like a chat-completions server: {raw[:200]!r}"
        ) from exc
    return content if isinstance(content, str) else ""
