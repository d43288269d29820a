#!/usr/bin/env python3
"""Smoke test of an installed ctxengine (a wheel in a fresh environment; cibuildwheel runs it
too): the native module loads, the README's quick start works offline, answers are right.

    python scripts/wheel_smoke.py      # run from outside the source tree
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path


def main() -> int:
    import ctxengine

    where = Path(ctxengine.__file__).resolve()
    assert "site-packages" in where.parts, f"ctxengine imported from {where}, not an install"
    tok = ctxengine.get_tokenizer("cl100k_base")
    assert tok.encode("hello world").tolist() == [15339, 1917]
    assert ctxengine.get_tokenizer("o200k_base").count("hello world") == 2
    text = "# Title\n\n" + "A sentence about files and folders. " * 200
    chunks = ctxengine.chunk(text, 64, by="markdown")
    assert all(t <= 64 for t in chunks.tokens.tolist()) and len(chunks) > 5
    index = ctxengine.Index(max_tokens=64)
    index.add_many([text, "Tuples are immutable sequences."], ["a", "b"])
    assert index.search("immutable tuples", 1)[0].doc_id == "b"
    packed = ctxengine.pack("what are tuples?", index, 300, format="openai")
    assert packed.tokens <= 300 and packed.sources
    import ctxengine.integrations.tiktoken as tiktoken

    assert tiktoken.get_encoding("cl100k_base").encode("hello world") == [15339, 1917]
    with tempfile.TemporaryDirectory() as tmp:
        doc = Path(tmp) / "doc.md"
        doc.write_text(text)
        cli = Path(sys.executable).parent / "ctxengine"
        out = subprocess.run(
            [str(cli), "count", str(doc)], capture_output=True, text=True, check=True
        )
        assert out.stdout.split()[0] == str(tok.count(text)), out.stdout
        out = subprocess.run(
            [str(cli), "pack", str(doc), "files", "--budget", "500"],
            capture_output=True,
            text=True,
            check=True,
        )
        assert "files" in out.stdout
    print(f"wheel smoke test passed: ctxengine {ctxengine.__version__} from {where.parent}")
    print(f"  (cuda module: {ctxengine.cuda_available()}, PATH={os.environ.get('PATH')})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
