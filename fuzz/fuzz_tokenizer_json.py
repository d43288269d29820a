"""Fuzz harness: loading a ``tokenizer.json`` from arbitrary JSON, against HF ``tokenizers``.

The contract:

- loading either gives a tokenizer or refuses with a ctxengine error (FormatError for what is
  malformed, UnsupportedError for what ctxengine cannot reproduce exactly); never another
  exception (KeyError, TypeError, ...), a crash, or a hang;
- what loads counts exactly: ``count == len(encode)``, ``count_many`` on one thread == on two;
  chunks keep their guarantees (tests/chunk_checks.py) with the file's own count;
- when HF ``tokenizers`` loads the same file too, the ids (every added token recognised) equal
  HF's ``encode(text, add_special_tokens=...)`` for both settings (padding and truncation off),
  and ``decode`` equals HF's ``decode``.

Files whose Split patterns are not among the known ones are skipped: the general regex path is
being replaced by a compiled one (issue 11, "a{99999999}"), fuzzed with it.

Input: the JSON text (UTF-8, bad bytes replaced). Run it with
``scripts/fuzz.sh SECONDS tokenizer_json``; the test suite replays fuzz/corpus/tokenizer_json.
"""

from __future__ import annotations

import json
from typing import Any

import ctxengine
from chunk_checks import check_chunks
from ctxengine._native import core
from ctxengine.errors import BudgetError, Error
from ctxengine.tokenizers.tokenizer_json import JsonTokenizer

SAMPLES = [
    "Hello, world! It's 2024-06-01; x = 3.14 * r**2.",
    "  leading spaces,\ttabs\nand\r\nnew lines  ",
    "naïve café résumé — “quotes” 東京 日本語のテキスト 한국어 ﬁ ŉ",
    "emoji 👩‍💻 and 🇯🇵, combining e\u0301, ZWJ\u200d, NBSP\u00a0.",
    "[CLS] <s> </s> <|endoftext|> [UNK] [MASK] <pad>",
    "",
]
# The patterns the core has scanners for, and a few simple ones.
KNOWN_PATTERNS = {
    p
    for name in ("cl100k_base", "o200k_base", "r50k_base", "llama3", "qwen2")
    for p in core.tokenizer.pattern_strings(name)
} | {r"\s+", r"\p{N}", r"\d", r"[.,!?]", " "}


def _patterns(node: Any) -> list[str]:
    """Every regex pattern in a parsed tokenizer.json."""
    out: list[str] = []
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "Regex" and isinstance(value, str):
                out.append(value)
            else:
                out += _patterns(value)
    elif isinstance(node, list):
        for value in node:
            out += _patterns(value)
    return out


def _hf(text: str) -> Any:
    try:
        import tokenizers

        hf = tokenizers.Tokenizer.from_str(text)
    except Exception:  # HF refuses it: no oracle for this file
        return None
    # ctxengine counts the text itself: padding and truncation are the caller's business.
    hf.no_padding()
    hf.no_truncation()
    return hf


def check(data: bytes) -> None:
    text = data.decode("utf-8", "replace")
    try:
        parsed = json.loads(text)
    except (ValueError, RecursionError):
        parsed = None
    if any(p not in KNOWN_PATTERNS for p in _patterns(parsed)):
        return
    try:
        tok = JsonTokenizer.from_str(text, name="fuzz.json")
    except Error:
        return
    hf = _hf(text)
    samples = [*SAMPLES, *tok.added_tokens]
    for sample in samples:
        # HF matches every added token in the text, special or not: allow them all.
        ids = tok.encode(sample, allowed_special="all").tolist()
        assert tok.count(sample, allowed_special="all") == len(ids)
        framed = tok.encode(sample, allowed_special="all", add_special_tokens=True).tolist()
        assert tok.count(sample, allowed_special="all", add_special_tokens=True) == len(framed)
        assert tok.count(sample) == len(tok.encode(sample, disallowed_special=()))
        if hf is not None:
            assert ids == hf.encode(sample, add_special_tokens=False).ids, sample
            assert framed == hf.encode(sample, add_special_tokens=True).ids, sample
            assert tok.decode(ids) == hf.decode(ids, skip_special_tokens=False), sample
    one = tok.count_many(samples, threads=1).tolist()
    assert one == tok.count_many(samples, threads=2).tolist() == [tok.count(s) for s in samples]
    for sample in SAMPLES[:4]:
        try:
            chunks = ctxengine.chunk(sample, 4, tokenizer=tok)
        except BudgetError:
            continue
        check_chunks(sample, chunks, 4, tok.count)


if __name__ == "__main__":
    from atheris_main import run

    run(check)
