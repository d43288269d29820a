"""`ctxengine index`: build a search index from files and directories."""

from __future__ import annotations

from . import not_built

not_built("index", "Build a search index from files and directories.", "retrieval")
