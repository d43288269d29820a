"""The HTTP service under load: `ctxengine serve` on 127.0.0.1, concurrent clients, p50/p99.

An index of the Python docs (256-token chunks; the first 100 files with --quick) is served by a
real `ctxengine serve` process on a free port of 127.0.0.1. Concurrent clients (threads, one
httpx connection each) send a fixed number of requests each, a mix of ``/v1/search`` (k=10),
``/v1/pack`` (4,000 tokens, OpenAI messages) and ``/v1/count`` (one docs file); every answer must
be 200 and its count equal the library's. Reported per endpoint: p50 and p99 latency over HTTP,
and the same call's median in-process (the library without HTTP) for the overhead; overall
requests per second, and the number of errors (the run fails unless it is zero). The load is
bounded (requests, not time) and only ever sent to 127.0.0.1.

    python bench/bench_server.py [--clients 8] [--requests 60] [--quick]
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import ctxengine
from common import Context, Result, median_time

QUESTIONS = [
    "how do I read a file line by line",
    "what does the with statement do",
    "sort a list of dictionaries by a key",
    "difference between a list and a tuple",
    "how to run a subprocess and capture its output",
    "asyncio event loop and coroutines",
    "unicode strings encode and decode errors",
    "parse command line arguments with argparse",
]
ROOT = Path(__file__).resolve().parent.parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def _requests(text: str) -> list[tuple[str, str, dict[str, Any]]]:
    """(endpoint, label, body) in the order each client cycles through them."""
    out: list[tuple[str, str, dict[str, Any]]] = []
    for q in QUESTIONS:
        out.append(("/v1/search", "search k=10", {"index": "docs", "query": q, "k": 10}))
        out.append(("/v1/count", "count 1 file", {"text": text}))
    for q in QUESTIONS[:2]:
        body = {"index": "docs", "query": q, "budget": 4000, "format": "openai"}
        out.append(("/v1/pack", "pack 4k openai", body))
    return out


def _start(folder: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    path = os.pathsep.join([str(ROOT / "python"), os.environ.get("PYTHONPATH", "")])
    env = dict(os.environ, PYTHONPATH=path)
    proc = subprocess.Popen(
        [sys.executable, "-m", "ctxengine", "serve", f"docs={folder}", "--port", str(port),
         "--log-level", "warning"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    import httpx

    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"the server exited: {proc.stderr.read() if proc.stderr else ''}")
        try:
            if httpx.get(f"{url}/healthz", timeout=5).status_code == 200:
                return proc, url
        except httpx.TransportError:
            time.sleep(0.2)
    proc.kill()
    raise SystemExit("the server did not start in 120 s")


def load(url: str, clients: int, per_client: int, text: str, want_tokens: int) -> dict[str, Any]:
    """Send `per_client` requests from each of `clients` threads; latencies by label."""
    import httpx

    plan = _requests(text)
    latencies: dict[str, list[float]] = {}
    errors: list[str] = []
    lock = threading.Lock()

    def client(c: int) -> None:
        with httpx.Client(base_url=url, timeout=120) as http:
            for i in range(per_client):
                path, label, body = plan[(c + i) % len(plan)]
                start = time.perf_counter()
                r = http.post(path, json=body)
                elapsed = time.perf_counter() - start
                bad = r.status_code != 200 or (
                    label.startswith("count") and r.json()["tokens"] != want_tokens
                )
                with lock:
                    latencies.setdefault(label, []).append(elapsed)
                    if bad:
                        errors.append(f"{path} {r.status_code} {r.text[:200]}")

    threads = [threading.Thread(target=client, args=(c,)) for c in range(clients)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - start
    total = sum(len(v) for v in latencies.values())
    return {"latencies": latencies, "errors": errors, "rps": total / wall, "total": total}


def run(ctx: Context, clients: int = 8, per_client: int = 60) -> list[Result]:
    docs = ctx.docs()[:100] if ctx.quick else ctx.docs()
    tmp = tempfile.TemporaryDirectory(prefix="ctxengine-bench-server-")
    folder = Path(tmp.name) / "ix"
    index = ctxengine.Index(max_tokens=256)
    index.add_many(docs)
    index.save(folder)
    text = max(docs[:50], key=len)
    tok = ctxengine.get_tokenizer("cl100k_base")
    proc, url = _start(folder)
    try:
        got = load(url, clients, per_client, text, tok.count(text))
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        tmp.cleanup()
    library = {
        "search k=10": lambda: [index.search(q, 10) for q in QUESTIONS],
        "count 1 file": lambda: [tok.count(text) for _ in QUESTIONS],
        "pack 4k openai": lambda: [
            ctxengine.pack(q, index, 4000, format="openai") for q in QUESTIONS[:2] * 4
        ],
    }
    calls = {"search k=10": len(QUESTIONS), "count 1 file": len(QUESTIONS), "pack 4k openai": 8}
    results = []
    setup = f"{clients} clients x {per_client} requests, {len(docs)} docs, {index.n_chunks} chunks"
    http, local = "ctxengine serve (HTTP)", "ctxengine in-process"
    for label, values in sorted(got["latencies"].items()):
        seconds, _ = median_time(library[label], max(5, ctx.repeat))
        in_process = seconds / calls[label] * 1e3
        p50, p99 = _percentile(values, 0.5) * 1e3, _percentile(values, 0.99) * 1e3
        results.append(Result("server", f"{label} p50", http, p50, "ms", False, notes=setup))
        results.append(Result("server", f"{label} p99", http, p99, "ms", False))
        note = f"the same call without HTTP, one at a time; HTTP p50 is {p50 / in_process:.1f}x"
        results.append(Result("server", f"{label} p50", local, in_process, "ms", False, notes=note))
    errors = f"{got['total']} requests, {len(got['errors'])} errors"
    results.append(Result("server", "all requests", http, got["rps"], "req/s", notes=errors))
    if got["errors"]:
        raise SystemExit(f"{len(got['errors'])} requests failed, e.g. {got['errors'][0]}")
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--requests", type=int, default=60, help="requests per client")
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    from common import add_ratios, markdown_table

    results = run(Context(quick=args.quick, repeat=3), args.clients, args.requests)
    print(markdown_table(add_ratios(results)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
