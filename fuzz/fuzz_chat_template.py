"""Fuzz harness: rendering Hugging Face chat templates (``ctxengine.ChatTemplate``), and packing
with ``format="hf"``.

A template from the input renders arbitrary messages. The contract:

- rendering either returns a str or refuses with a ctxengine error (a template that does not
  parse, raises, or asks for what the sandbox forbids: FormatError); never another exception
  (TypeError, ZeroDivisionError, RecursionError, ...), a crash, or a hang;
- rendering is a function of the template and the messages (twice gives the same text);
- a template that renders gives ``pack(..., format="hf")`` whose ``tokens`` is the exact count
  of its text with special tokens recognised, within the budget.

Input: option byte, then the template and two message contents separated by NUL bytes (UTF-8,
bad bytes replaced). Run it with ``scripts/fuzz.sh SECONDS chat_template``; the test suite
replays fuzz/corpus/chat_template.
"""

from __future__ import annotations

from functools import cache

import ctxengine
from ctxengine.errors import Error

SPECIALS = {"bos_token": "<|endoftext|>", "eos_token": "<|endoftext|>"}


@cache
def index() -> ctxengine.Index:
    ix = ctxengine.Index(max_tokens=32)
    ix.add("Chat templates turn messages into the prompt text a model was trained on.")
    ix.add("A budget counts the rendered prompt, special tokens included.")
    return ix


def split_input(data: bytes) -> tuple[int, str, list[str]]:
    opt, rest = (data[0], data[1:]) if data else (0, b"")
    parts = rest.decode("utf-8", "replace").split("\0")
    template = parts[0]
    contents = [*parts[1:], "hello", "world"][:2]
    return opt, template, contents


def check(data: bytes) -> None:
    opt, template, contents = split_input(data)
    try:
        chat = ctxengine.ChatTemplate(template, special_tokens=SPECIALS)
    except Error:
        return
    roles = ("system", "user", "assistant", "tool")
    messages = [
        {"role": roles[(opt >> (2 * i)) % 4], "content": content}
        for i, content in enumerate(contents)
    ]
    try:
        text = chat.render(messages, add_generation_prompt=bool(opt & 0x80))
    except Error:
        return
    assert isinstance(text, str)
    assert chat.render(messages, add_generation_prompt=bool(opt & 0x80)) == text
    if opt & 0x40:
        budget = 16 + (opt & 0x3F) * 8
        try:
            packed = ctxengine.pack(
                "what is a chat template", index(), budget, format="hf", chat_template=chat
            )
        except Error:
            return
        tok = ctxengine.get_tokenizer("cl100k_base")
        assert packed.tokens == tok.count(packed.text, allowed_special="all") <= budget


if __name__ == "__main__":
    from atheris_main import run

    run(check)
