"""The Python fuzz harnesses (fuzz/fuzz_*.py) in the normal test run: every committed seed
(fuzz/corpus/<harness>/) and every input a fuzzer found (tests/data/fuzz/<harness>/) goes
through the harness's own checks, so the harnesses cannot rot and what they found stays fixed.
scripts/fuzz.sh runs the same checks under atheris with coverage feedback (docs/reliability.md).
"""

from __future__ import annotations

import importlib
import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
HARNESSES = ("text", "tokenizer_json", "index_load", "chat_template")
# Under AddressSanitizer (scripts/sanitize.sh) a throwing `new` of a huge size aborts instead of
# raising bad_alloc; FAISS makes such a request reading this damaged file (ctxengine turns the
# bad_alloc into a FormatError, which the normal run checks), so the sanitized run leaves it out.
ASAN_ABORTS = {"faiss_huge_allocation"}
UNDER_ASAN = "asan" in os.environ.get("LD_PRELOAD", "")


def _inputs() -> list[tuple[str, Path]]:
    out = []
    for harness in HARNESSES:
        for folder in (
            ROOT / "fuzz" / "corpus" / harness,
            ROOT / "tests" / "data" / "fuzz" / harness,
        ):
            if folder.is_dir():
                out += [
                    (harness, p)
                    for p in sorted(folder.iterdir())
                    if p.is_file() and not (UNDER_ASAN and p.name in ASAN_ABORTS)
                ]
    return out


def _harness(name: str):  # type: ignore[no-untyped-def]
    sys.path.insert(0, str(ROOT / "fuzz"))
    try:
        return importlib.import_module(f"fuzz_{name}")
    finally:
        sys.path.remove(str(ROOT / "fuzz"))


def test_every_harness_has_seeds() -> None:
    found = {h for h, _ in _inputs()}
    assert found == set(HARNESSES), f"harnesses without seeds: {set(HARNESSES) - found}"


@pytest.mark.parametrize(
    ("harness", "path"), _inputs(), ids=lambda v: v if isinstance(v, str) else v.name
)
def test_input(harness: str, path: Path) -> None:
    _harness(harness).check(path.read_bytes())
