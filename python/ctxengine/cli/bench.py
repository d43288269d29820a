"""`ctxengine bench`: run the benchmark suite against the peers."""

from __future__ import annotations

from . import not_built

not_built("bench", "Run the benchmark suite against the peers.", "evaluation")
