"""A quick, coverage-blind mutation loop over a Python harness's ``check``, against whatever
ctxengine is importable (the developer build): thousands of inputs a second instead of
atheris's handful under AddressSanitizer, so it finds shallow bugs in the Python layer fast.
scripts/fuzz.sh remains the real fuzzer (coverage feedback, sanitizers, the C++ core).

    PYTHONPATH=python:tests:fuzz python fuzz/quick.py index_load 120 [SEED]

Each new (exception type, file, line) is written to build/quick/<harness>-<sha1> and printed;
a check taking over 20 s counts as a hang. Exit status 1 when anything was found.
"""

from __future__ import annotations

import hashlib
import importlib
import random
import signal
import sys
import time
import traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TOKENS = [b"{{", b"}}", b"{%", b"%}", b"null", b"[]", b"{}", b"-1", b"4294967295", b"1e309",
          b'"', b"\\u0000", b"**", b"9999999", b"0", b"true", b"\0", b"\xff"]  # fmt: skip


def mutate(rnd: random.Random, data: bytes, seeds: list[bytes]) -> bytes:
    b = bytearray(data)
    for _ in range(rnd.randint(1, 6)):
        op = rnd.randrange(6)
        at = rnd.randrange(len(b) + 1)
        if op == 0 and b:  # replace a byte
            b[rnd.randrange(len(b))] = rnd.randrange(256)
        elif op == 1:  # insert random bytes
            b[at:at] = bytes(rnd.randrange(256) for _ in range(rnd.randint(1, 8)))
        elif op == 2 and b:  # delete a run
            del b[at : at + rnd.randint(1, 16)]
        elif op == 3:  # splice in part of another seed
            other = rnd.choice(seeds)
            i = rnd.randrange(len(other) + 1)
            b[at:at] = other[i : i + rnd.randint(1, 64)]
        elif op == 4 and b:  # flip a bit
            b[rnd.randrange(len(b))] ^= 1 << rnd.randrange(8)
        else:  # insert a token that tends to matter
            b[at:at] = rnd.choice(TOKENS)
    return bytes(b)


def _hang(signum: int, frame: object) -> None:
    raise TimeoutError("the check ran for more than 20 s")


def main() -> int:
    harness, seconds = sys.argv[1], float(sys.argv[2])
    rnd = random.Random(int(sys.argv[3]) if len(sys.argv) > 3 else 1)
    check = importlib.import_module(f"fuzz_{harness}").check
    seeds = [p.read_bytes() for p in sorted((ROOT / "fuzz" / "corpus" / harness).iterdir())]
    out = ROOT / "build" / "quick"
    out.mkdir(parents=True, exist_ok=True)
    signal.signal(signal.SIGALRM, _hang)
    seen: set[tuple[str, str, int]] = set()
    start, runs = time.time(), 0
    while time.time() - start < seconds:
        data = mutate(rnd, rnd.choice(seeds), seeds)
        runs += 1
        signal.alarm(20)
        try:
            check(data)
        except Exception as exc:
            last = traceback.extract_tb(exc.__traceback__)[-1]
            key = (type(exc).__name__, last.filename, last.lineno or 0)
            if key not in seen:
                seen.add(key)
                path = out / f"{harness}-{hashlib.sha1(data).hexdigest()[:12]}"
                path.write_bytes(data)
                print(f"found {key[0]} at {key[1]}:{key[2]}: {str(exc)[:160]} -> {path}")
        finally:
            signal.alarm(0)
    print(f"{harness}: {runs} inputs in {time.time() - start:.0f} s, {len(seen)} distinct failures")
    return 1 if seen else 0


if __name__ == "__main__":
    sys.exit(main())
