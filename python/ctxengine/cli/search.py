"""`ctxengine search`: search an index."""

from __future__ import annotations

from . import not_built

not_built("search", "Search an index.", "retrieval")
