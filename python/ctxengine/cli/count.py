"""`ctxengine count`: count tokens per file and in total."""

from __future__ import annotations

from . import not_built

not_built("count", "Count tokens per file and in total.", "tokenizers")
