"""Fuzz harness: the Python API on arbitrary strings, lone surrogates included, against
tiktoken (the reference) and the chunking guarantees (tests/chunk_checks.py).

Checked for cl100k_base or o200k_base:

- ``encode`` equals tiktoken's ids (with special tokens disallowed-as-text and all allowed);
  ``count`` equals the number of ids; ``count_many`` on one thread equals on two and per text;
- ``decode(encode(text))`` is the text (as tiktoken repairs it when it is not UTF-8);
- ``encode_with_offsets`` gives tiktoken's character offsets;
- ``count_until`` and ``truncate`` stay within the limit and are as long as they promise;
- ``chunk`` in every mode keeps its guarantees, on one thread as on two, and ``chunk_stream``
  fed in blocks of any size gives the same chunks.

Input: one option byte (bit 0: the rest is UTF-16 with lone surrogates allowed, else UTF-8 with
bad bytes replaced; bit 1: o200k_base; bits 2-7: sizes), then the text. Run it with
``scripts/fuzz.sh SECONDS text``; the test suite replays fuzz/corpus/text through ``check``.
"""

from __future__ import annotations

import io

import ctxengine
from chunk_checks import check_chunks, repaired
from ctxengine.errors import BudgetError
from tiktoken_oracle import encoding

MODES = ("recursive", "tokens", "sentences", "markdown", "code")


def decode_input(data: bytes) -> tuple[int, str]:
    """The option byte and the text of a fuzz input."""
    opt, payload = (data[0], data[1:]) if data else (0, b"")
    if opt & 1:
        payload += b"\0" * (len(payload) % 2)
        return opt, payload.decode("utf-16-le", "surrogatepass")
    return opt, payload.decode("utf-8", "replace")


def check(data: bytes) -> None:
    opt, text = decode_input(data)
    name = "o200k_base" if opt & 2 else "cl100k_base"
    tok, enc = ctxengine.get_tokenizer(name), encoding(name)
    fixed = repaired(text)  # what tiktoken encodes when text is not UTF-8

    ids = tok.encode(text, disallowed_special=()).tolist()
    assert ids == enc.encode(text, disallowed_special=()), "ids differ from tiktoken"
    assert tok.count(text) == len(ids)
    special = tok.encode(text, allowed_special="all").tolist()
    assert special == enc.encode(text, allowed_special="all"), "ids (specials) differ"
    assert tok.count(text, allowed_special="all") == len(special)
    assert tok.decode(ids) == fixed == enc.decode(ids)

    got, starts = tok.encode_with_offsets(text)
    assert got.tolist() == ids
    if fixed == text:  # tiktoken's offsets index its decoded text
        assert starts.tolist() == enc.decode_with_offsets(ids)[1], "offsets differ from tiktoken"

    parts = [text, text[: len(text) // 2], "", text[len(text) // 3 :]]
    one = tok.count_many(parts, threads=1).tolist()
    assert one == tok.count_many(parts, threads=2).tolist() == [tok.count(p) for p in parts]

    limit = opt >> 2
    prefix = tok.count_until(text, limit)
    assert prefix.tokens == tok.count(text[: prefix.end]) <= limit
    if prefix.end < len(text):
        assert tok.count(text[: prefix.end + 1]) > limit, "count_until stopped early"
    for side in ("end", "start", "middle"):
        cut = tok.truncate(text, limit, side=side)
        assert tok.count(cut) <= limit, side
        if side == "end":
            assert text.startswith(cut)
        elif side == "start":
            assert text.endswith(cut)

    check_chunking(text, opt, name, enc)


def check_chunking(text: str, opt: int, name: str, enc: object) -> None:
    mode = MODES[(opt >> 2) % 5]
    max_tokens = 1 + (opt >> 3) % 24
    overlap = (opt >> 5) % max_tokens if opt & 0x80 else 0
    trim = mode != "tokens" and not (opt & 0x40 and opt & 4)

    def count(s: str) -> int:
        return len(enc.encode_ordinary(s))  # type: ignore[attr-defined]

    try:
        chunks = ctxengine.chunk(
            text, max_tokens, tokenizer=name, overlap=overlap, by=mode, trim=trim, threads=1
        )
    except BudgetError:
        return  # max_tokens cannot hold one of the characters: refused clearly
    check_chunks(text, chunks, max_tokens, count, overlap=overlap, trim=trim)
    two = ctxengine.chunk(
        text, max_tokens, tokenizer=name, overlap=overlap, by=mode, trim=trim, threads=2
    )
    assert [tuple(c) for c in (two.starts, two.ends, two.tokens)] == [
        tuple(c) for c in (chunks.starts, chunks.ends, chunks.tokens)
    ], "chunks depend on the thread count"
    if mode == "tokens":
        return
    fixed = repaired(text)
    whole = (
        chunks
        if fixed == text
        else ctxengine.chunk(fixed, max_tokens, tokenizer=name, overlap=overlap, by=mode, trim=trim)
    )
    block = 1 + (opt * 37) % 97
    streamed = list(
        ctxengine.chunk_stream(
            io.BytesIO(fixed.encode()),
            max_tokens,
            tokenizer=name,
            overlap=overlap,
            by=mode,
            trim=trim,
            block_size=block,
        )
    )
    expect = [whole.chunk(i) for i in range(len(whole))]
    assert [(c.start, c.end, c.tokens, c.text, c.headings) for c in streamed] == [
        (c.start, c.end, c.tokens, c.text, c.headings) for c in expect
    ], "streamed chunks differ from whole-text chunks"


if __name__ == "__main__":
    from atheris_main import run

    run(check)
