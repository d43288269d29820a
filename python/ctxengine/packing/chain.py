"""Chain-of-Agents (Zhang et al., NeurIPS 2024): long input read by a chain of workers.

The input is split into windows; worker i reads window i, the query and the running message
(the "communication unit") written by worker i-1, and writes the next message; a manager reads
the last message and the query and answers. Each worker's prompt must fit the model's window
minus the answer reserve, so a window's text gets what is left after the instructions, the
query and the largest running message allowed (`message_tokens`): ``plan_chain`` computes that,
and ``run_chain`` calls a user-given ``llm(messages) -> str``, caps each message it returns to
`message_tokens` and checks every prompt's exact count before sending it.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..errors import BudgetError, InvalidInputError
from ..tokenizers import tokenizer_name
from ._passages import sentence_cut
from ._resolve import choose_tokenizer, resolve_budget
from ._tokenizer import fit_prefix
from .formats import ChatTemplate, Renderer

__all__ = ["ChainCall", "ChainPlan", "ChainResult", "ChainWindow", "plan_chain", "run_chain"]

# Worker and manager instructions after the paper's (Appendix, query-based tasks), reworded.
WORKER_INSTRUCTIONS = (
    "You are one of several readers of a long text, each given one part of it. Read your part "
    "and the summary written by the previous reader (if any), then write a new summary that "
    "keeps everything from both that helps answer the question. The next reader, or the "
    "manager who answers, will only see your summary."
)
MANAGER_INSTRUCTIONS = (
    "You are given a summary of a long text, written by readers who each read one part of it. "
    "Answer the question using the summary."
)
_SEAM_SLACK = 8  # tokens kept free for merges across the seams between template and text
MIN_WINDOW_TOKENS = 32


@dataclass(frozen=True)
class ChainWindow:
    """The part of the input one worker reads: ``text == input[start:end]``."""

    index: int
    start: int
    end: int
    text: str
    tokens: int


@dataclass(frozen=True)
class ChainPlan:
    """How a long input is split across workers, and the budget of every prompt."""

    query: str
    windows: list[ChainWindow]
    limit: int  # tokens any one prompt may use (the model's window minus reserve_output)
    reserve_output: int
    message_tokens: int  # the running message is cut to this many tokens
    window_tokens: int  # the most tokens a window's text may have
    format: str
    tokenizer: Any
    renderer: Renderer
    worker_instructions: str
    manager_instructions: str

    def worker_prompt(self, window: ChainWindow, message: str) -> tuple[str, str]:
        """(system, user) of the worker that reads `window` after `message`."""
        previous = message if message else "(none: you read the first part)"
        user = (
            f"Part {window.index + 1} of {len(self.windows)} of the text:\n{window.text}\n\n"
            f"Summary so far:\n{previous}\n\nQuestion: {self.query}"
        )
        return self.worker_instructions, user

    def manager_prompt(self, message: str) -> tuple[str, str]:
        return self.manager_instructions, f"Summary:\n{message}\n\nQuestion: {self.query}"


@dataclass(frozen=True)
class ChainCall:
    """One call of the llm: who made it, what was sent, and its exact count."""

    role: str  # "worker" or "manager"
    window: int | None
    messages: list[dict[str, str]]
    tokens: int


@dataclass(frozen=True)
class ChainResult:
    answer: str
    messages: list[str]  # the running message after each worker
    calls: list[ChainCall]


def plan_chain(
    text: str,
    query: str,
    *,
    window: int | str | None = None,
    model: str | None = None,
    tokenizer: str | os.PathLike[str] | Any | None = None,
    reserve_output: int | None = None,
    message_tokens: int = 1024,
    format: str = "openai",
    chat_template: ChatTemplate | None = None,
    worker_instructions: str = WORKER_INSTRUCTIONS,
    manager_instructions: str = MANAGER_INSTRUCTIONS,
) -> ChainPlan:
    """Split `text` into worker windows for `query`.

    `window` is the model's context window in tokens, or a model name (default: `model`'s
    window); every prompt is kept within ``window - reserve_output``. Each window's text gets
    what a worker prompt leaves after the instructions, the query and a running message of up
    to `message_tokens` tokens. Windows follow each other through the text, cut at sentence or
    line boundaries where one is near.

    >>> import ctxengine.packing as packing
    >>> plan = packing.plan_chain(long_text, "who won?", window=8000)  # doctest: +SKIP
    >>> [w.tokens for w in plan.windows]  # doctest: +SKIP
    [6541, 6530, 1210]
    """
    if not isinstance(text, str) or not isinstance(query, str):
        raise InvalidInputError("plan_chain needs the text and the query as str")
    if window is None and model is None:
        raise InvalidInputError("plan_chain needs window= (tokens or a model name) or model=")
    if (
        isinstance(message_tokens, bool)
        or not isinstance(message_tokens, int)
        or message_tokens < 1
    ):
        raise InvalidInputError(f"message_tokens must be an integer >= 1, got {message_tokens!r}")
    budget = window if window is not None else model
    assert budget is not None
    plan = resolve_budget(
        budget, model=model if window is not None else None, reserve_output=reserve_output
    )
    tok = choose_tokenizer(tokenizer, profile=plan.profile)
    renderer = Renderer(format, tok, chat_template=chat_template)
    empty = ChainWindow(0, 0, 0, "", 0)
    skeleton = ChainPlan(
        query,
        [empty],
        plan.available,
        plan.reserve,
        message_tokens,
        0,
        format,
        tok,
        renderer,
        worker_instructions,
        manager_instructions,
    )
    overhead = renderer.render(*skeleton.worker_prompt(empty, "")).tokens
    room = plan.available - overhead - message_tokens - _SEAM_SLACK
    if room < MIN_WINDOW_TOKENS:
        raise BudgetError(
            f"a worker prompt needs {overhead} tokens without text plus {message_tokens} for the "
            f"running message, which leaves {max(0, room)} of {plan.available} for the text; "
            f"use a larger window, a smaller message_tokens or a shorter query"
        )
    windows = _split(text, tok, room)
    return ChainPlan(
        query,
        windows,
        plan.available,
        plan.reserve,
        message_tokens,
        room,
        format,
        tok,
        renderer,
        worker_instructions,
        manager_instructions,
    )


def _split(text: str, tok: Any, limit: int) -> list[ChainWindow]:
    """Consecutive windows of at most `limit` tokens; each ends at a sentence or line boundary
    when one lies in its last quarter, else where the tokens run out."""
    out: list[ChainWindow] = []
    start, n = 0, len(text)
    span = 8 * limit + 64  # characters to look at: more than `limit` tokens, nearly always
    while start < n:
        while True:
            rest = text[start : start + span]
            if start + span >= n or tok.count(rest) > limit:
                break
            span *= 2
        end = fit_prefix(tok, rest, limit)
        if end < len(rest):
            cut = sentence_cut(tok, rest[:end], limit)
            if cut >= end * 3 // 4:
                end = cut
            end = max(end, 1)  # a single character over the limit cannot happen: limit >= 32
        piece = rest[:end]
        out.append(ChainWindow(len(out), start, start + end, piece, int(tok.count(piece))))
        start += end
        while start < n and text[start].isspace():
            start += 1
    return out


def run_chain(
    plan: ChainPlan,
    llm: Callable[[list[dict[str, str]]], str],
    *,
    on_call: Callable[[ChainCall], None] | None = None,
) -> ChainResult:
    """Run the workers of `plan` in order, then the manager, calling ``llm(messages)``.

    Each returned message is cut to ``plan.message_tokens`` tokens before the next worker sees
    it. Every prompt is counted exactly before it is sent; none exceeds ``plan.limit``.
    """
    message = ""
    messages: list[str] = []
    calls: list[ChainCall] = []

    def call(role: str, index: int | None, system: str, user: str) -> str:
        r = plan.renderer.render(system, user)
        if r.tokens > plan.limit:  # planning left slack for this; never send an oversized prompt
            raise BudgetError(f"the {role} prompt needs {r.tokens} tokens, over {plan.limit}")
        record = ChainCall(role, index, r.messages, r.tokens)
        calls.append(record)
        if on_call is not None:
            on_call(record)
        reply = llm(r.messages)
        if not isinstance(reply, str):
            raise InvalidInputError(f"llm must return a str, got {type(reply).__name__}")
        return reply

    for w in plan.windows:
        message = _fit_message(plan, w, message)
        reply = call("worker", w.index, *plan.worker_prompt(w, message))
        message = _cap(plan, reply)
        messages.append(message)
    answer = call("manager", None, *plan.manager_prompt(message))
    return ChainResult(answer, messages, calls)


def _cap(plan: ChainPlan, text: str) -> str:
    end = fit_prefix(plan.tokenizer, text, plan.message_tokens)
    return text[:end]


def _fit_message(plan: ChainPlan, w: ChainWindow, message: str) -> str:
    """The running message, shortened further if the seams of this prompt need it."""
    while True:
        tokens = plan.renderer.render(*plan.worker_prompt(w, message)).tokens
        if tokens <= plan.limit or not message:
            return message
        keep = max(0, int(plan.tokenizer.count(message)) - (tokens - plan.limit))
        message = message[: fit_prefix(plan.tokenizer, message, keep)]


def describe(plan: ChainPlan) -> dict[str, Any]:
    """A JSON-ready summary of a plan."""
    return {
        "query": plan.query,
        "limit": plan.limit,
        "reserve_output": plan.reserve_output,
        "message_tokens": plan.message_tokens,
        "window_tokens": plan.window_tokens,
        "format": plan.format,
        "tokenizer": tokenizer_name(plan.tokenizer),
        "windows": [{"start": w.start, "end": w.end, "tokens": w.tokens} for w in plan.windows],
    }
