"""Compiled pre-tokenizer regexes: ctxengine against HF `tokenizers` and tiktoken on patterns with
no hand-written scanner, the compiled scanner against the hand-written ones, and loading a
200K-vocabulary tokenizer.json.

Cases (all one thread, medians of thread-CPU time, so that other processes on a shared machine
do not skew one side of a ratio; ids checked equal before timing):
- count with a tokenizer.json over the cl100k vocabulary whose pre-tokenizer is DeepSeek V3's
  (three Splits), Qwen3.5's or Kimi's (tests/data/pretokenizer_patterns.json), on the Python docs
  and on a CJK-heavy text (the Chinese, Japanese and Korean message catalogs of this machine):
  ctxengine ``count`` per document vs HF ``encode`` per document;
- count with a .tiktoken file (cl100k ranks) and Kimi's pattern: ctxengine vs tiktoken;
- cl100k_base and o200k_base counted with the hand-written scanner and with the same pattern
  compiled (spelled ``(?:...)`` so that no scanner recognizes it);
- load: a tokenizer.json of o200k's 199,998 tokens and 446,189 merges, ctxengine vs HF.
"""

from __future__ import annotations

import gettext
import json
import sys
import tempfile
import time
from pathlib import Path

from common import Context, Result, peer

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
import ctxengine
import hf_files
import tok_oracles

ROOT = Path(__file__).resolve().parent.parent
PATTERNS = {
    e["name"]: e
    for e in json.loads((ROOT / "tests" / "data" / "pretokenizer_patterns.json").read_text())[
        "patterns"
    ]
}


def median_time(fn, repeat: int) -> tuple[float, object]:  # type: ignore[no-untyped-def]
    """Median thread-CPU seconds of fn() over `repeat` runs after one warm-up (every case here
    runs on the calling thread), and its result."""
    result = fn()
    times = []
    for _ in range(repeat):
        start = time.thread_time()
        result = fn()
        times.append(time.thread_time() - start)
    return sorted(times)[len(times) // 2], result


def interleaved_times(  # type: ignore[no-untyped-def]
    ours, ref, repeat: int
) -> tuple[tuple[float, float, float], tuple[object, object]]:
    """Thread-CPU seconds of ours() and ref() run alternately `repeat` times after a warm-up:
    (median of ours, median of ref, median of the per-round ratios ref/ours), and their
    results."""
    results = (ours(), ref())
    t_ours, t_ref = [], []
    for _ in range(repeat):
        start = time.thread_time()
        ours()
        t_ours.append(time.thread_time() - start)
        start = time.thread_time()
        ref()
        t_ref.append(time.thread_time() - start)
    ratios = sorted(r / o for o, r in zip(t_ours, t_ref, strict=True))
    return (
        (sorted(t_ours)[repeat // 2], sorted(t_ref)[repeat // 2], ratios[repeat // 2]),
        results,
    )


def cjk_documents(max_bytes: int = 4_000_000) -> list[str]:
    """Translated strings of the zh/ja/ko message catalogs, one document per catalog."""
    out, total = [], 0
    for lang in ("zh_CN", "zh_TW", "zh_HK", "ja", "ko"):
        for mo in sorted(Path("/usr/share/locale", lang, "LC_MESSAGES").glob("*.mo")):
            try:
                with mo.open("rb") as f:
                    catalog = gettext.GNUTranslations(f)
            except (OSError, UnicodeDecodeError):
                continue
            text = "\n".join(m for m in catalog._catalog.values() if isinstance(m, str))  # type: ignore[attr-defined]
            if text.strip():
                out.append(text)
                total += len(text.encode())
            if total > max_bytes:
                return out
    return out


def _mb(docs: list[str]) -> float:
    return sum(len(d.encode("utf-8")) for d in docs) / 1e6


def _json_cases(ctx: Context, folder: Path, corpora: dict[str, list[str]]) -> list[Result]:
    tokenizers = peer("tokenizers")
    results = []
    for name in ("deepseek-v3", "qwen3.5", "kimi"):
        entry = PATTERNS[name]
        normalizer = {"type": entry["normalizer"]} if entry.get("normalizer") else None
        spec = hf_files.with_pre_tokenizer(entry["steps"], normalizer=normalizer)
        path = hf_files.write(spec, folder / f"{name}.json")
        ours = ctxengine.get_tokenizer(path)
        ref = hf_files.oracle(path) if tokenizers is not None else None
        for label, docs in corpora.items():
            mb = _mb(docs)
            case = f"tokenizer.json, {name} pre-tokenizer, {label} {mb:.1f} MB, 1 thread"
            if ref is not None:
                for d in docs[:: max(1, len(docs) // 10)]:
                    assert ours.encode(d).tolist() == ref.encode(d, add_special_tokens=False).ids
            t, total = median_time(lambda o=ours, ds=docs: sum(o.count(d) for d in ds), ctx.repeat)
            results.append(
                Result("pretokenize", case, "ctxengine", mb / t, "MB/s", notes=f"{total} tokens")
            )
            if ref is not None:
                t, n = median_time(
                    lambda r=ref, ds=docs: sum(
                        len(r.encode(d, add_special_tokens=False).ids) for d in ds
                    ),
                    ctx.repeat,
                )
                assert n == total, (name, label, n, total)
                results.append(Result("pretokenize", case, "tokenizers encode", mb / t, "MB/s"))
    return results


def _tiktoken_cases(ctx: Context, corpora: dict[str, list[str]]) -> list[Result]:
    """Kimi's pattern compiled, and for reference cl100k_base's own (hand-written scanner)."""
    results = []
    kimi = PATTERNS["kimi"]["tiktoken"]
    for name, pattern in (("Kimi's pattern", kimi), ("cl100k_base's pattern", "cl100k_base")):
        results += _tiktoken_case(ctx, corpora, name, pattern)
    return results


def _tiktoken_case(
    ctx: Context, corpora: dict[str, list[str]], name: str, pattern: str
) -> list[Result]:
    results = []
    ours = ctxengine.get_tokenizer(tok_oracles.cl100k_path(), pattern=pattern, special_tokens={})
    ref = tok_oracles.with_pattern(ours.pattern)
    for label, docs in corpora.items():
        mb = _mb(docs)
        case = f".tiktoken (cl100k ranks), {name}, {label} {mb:.1f} MB, 1 thread"
        # The two alternate round by round: tiktoken's own speed drifts by 2x within minutes on
        # a shared machine, and each round's ratio sees the same load on both sides.
        (t_ours, t_ref, ratio), (total, n) = interleaved_times(
            lambda ds=docs: sum(ours.count(d) for d in ds),
            lambda ds=docs: sum(len(ref.encode_ordinary(d)) for d in ds),
            ctx.repeat,
        )
        assert n == total, (label, n, total)
        note = f"median of per-round ratios {ratio:.2f}x"
        results.append(Result("pretokenize", case, "ctxengine", mb / t_ours, "MB/s", notes=note))
        results.append(Result("pretokenize", case, "tiktoken encode_ordinary", mb / t_ref, "MB/s"))
    return results


def _scanner_cases(ctx: Context, docs: list[str]) -> list[Result]:
    results = []
    text = "\n\n".join(docs)
    mb = len(text.encode()) / 1e6
    with tempfile.TemporaryDirectory() as tmp:
        paths = {
            "cl100k_base": tok_oracles.cl100k_path(),
            "o200k_base": tok_oracles.o200k_path(Path(tmp)),
        }
        for name, path in paths.items():
            pattern = tok_oracles.pattern(name)
            hand = ctxengine.get_tokenizer(path, pattern=name, special_tokens={})
            compiled = ctxengine.get_tokenizer(path, pattern=f"(?:{pattern})", special_tokens={})
            assert compiled._core.pretokenizer == "custom"
            assert compiled.count(text) == hand.count(text)
            case = f"{name} count, hand-written vs compiled scanner, {mb:.1f} MB, 1 thread"
            t_hand, _ = median_time(lambda h=hand: h.count(text), ctx.repeat)
            t_comp, _ = median_time(lambda c=compiled: c.count(text), ctx.repeat)
            # The whole count (scan and BPE); the scanners alone: build/dev/bench_tokenize.
            note = f"count with the compiled pattern at {t_hand / t_comp:.2f}x the hand-written's"
            results.append(Result("pretokenize", case, "ctxengine", mb / t_hand, "MB/s"))
            results.append(
                Result("pretokenize", case, "ctxengine compiled regex", mb / t_comp, "MB/s",
                       notes=note)
            )  # fmt: skip
    return results


def _o200k_tokenizer_json(path: Path) -> Path:
    """o200k's ranks as a byte-level BPE tokenizer.json (merges derived as HF's converter)."""
    vocab, merges = hf_files.vocab_and_merges(tok_oracles.ranks("o200k_base"))
    spec = hf_files.with_pre_tokenizer(
        [{"type": "Split", "pattern": {"Regex": tok_oracles.pattern("o200k_base")},
          "behavior": "Isolated", "invert": False}],
        max_rank=10,
    )  # fmt: skip
    spec["added_tokens"] = []
    spec["model"]["vocab"] = vocab
    spec["model"]["merges"] = merges
    return hf_files.write(spec, path)


def _load_cases(ctx: Context, folder: Path) -> list[Result]:
    from ctxengine.tokenizers.tokenizer_json import JsonTokenizer

    tokenizers = peer("tokenizers")
    path = _o200k_tokenizer_json(folder / "o200k-tokenizer.json")
    size = path.stat().st_size / 1e6
    case = f"load a tokenizer.json of 199,998 tokens and 446,189 merges ({size:.0f} MB)"
    results = []

    def cpu(fn):  # type: ignore[no-untyped-def]
        start = time.process_time()
        fn()
        return time.process_time() - start

    t, _ = median_time(lambda: JsonTokenizer.from_file(path), ctx.repeat)
    c = sorted(cpu(lambda: JsonTokenizer.from_file(path)) for _ in range(3))[1]
    results.append(
        Result("pretokenize", case, "ctxengine", t, "s", higher_is_better=False,
               notes=f"{c:.3f} s CPU (all threads)")
    )  # fmt: skip
    if tokenizers is not None:
        t, _ = median_time(lambda: tokenizers.Tokenizer.from_file(str(path)), ctx.repeat)
        c = sorted(cpu(lambda: tokenizers.Tokenizer.from_file(str(path))) for _ in range(3))[1]
        results.append(
            Result("pretokenize", case, "tokenizers from_file", t, "s", higher_is_better=False,
                   notes=f"{c:.3f} s CPU (all threads)")
        )  # fmt: skip
    return results


def run(ctx: Context) -> list[Result]:
    docs = ctx.docs()
    cjk = cjk_documents()
    if ctx.quick:
        docs, cjk = docs[:60], cjk[:20]
    corpora = {"Python docs": docs, "CJK catalogs": cjk}
    results: list[Result] = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        results += _json_cases(ctx, folder, corpora)
        results += _tiktoken_cases(ctx, corpora)
        results += _scanner_cases(ctx, docs)
        results += _load_cases(ctx, folder)
    return results
