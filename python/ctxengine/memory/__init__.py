"""Agent memory in one SQLite file: episodes, temporal facts, search and packing.

- :class:`Memory`: the store (``Memory(path)``: one file, WAL; ``Memory()``: in memory);
- :class:`Episode`, :class:`Fact`, :class:`MemoryHit`: what it hands back;
- :data:`EXTRACTION_SCHEMA`, :func:`extraction_messages`: the JSON schema and prompt for a
  caller's model to extract facts (ctxengine calls no model itself).

See docs/memory.md.
"""

from __future__ import annotations

from .extraction import (
    EXTRACTION_INSTRUCTIONS,
    EXTRACTION_SCHEMA,
    Extraction,
    Extractor,
    extraction_messages,
    parse_facts,
)
from .memory import Memory
from .ranking import Weights
from .records import Episode, Fact, MemoryHit

__all__ = [
    "EXTRACTION_INSTRUCTIONS",
    "EXTRACTION_SCHEMA",
    "Episode",
    "Extraction",
    "Extractor",
    "Fact",
    "Memory",
    "MemoryHit",
    "Weights",
    "extraction_messages",
    "parse_facts",
]
