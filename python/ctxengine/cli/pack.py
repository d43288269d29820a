"""`ctxengine pack`: pack the best context for a query into a prompt within a token budget."""

from __future__ import annotations

from . import not_built

not_built(
    "pack", "Pack the best context for a query into a prompt within a token budget.", "packing"
)
