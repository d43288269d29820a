"""`ctxengine chunk`: split a file into token-bounded chunks (JSONL)."""

from __future__ import annotations

from . import not_built

not_built("chunk", "Split a file into token-bounded chunks (JSONL).", "chunking")
