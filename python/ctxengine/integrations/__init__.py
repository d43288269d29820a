"""Adapters for the frameworks users already have, and a tiktoken drop-in.

Each submodule imports its framework only when it is itself imported, so ``import ctxengine``
never imports a framework; each framework is an optional extra of the package:

- :mod:`ctxengine.integrations.langchain` (``pip install "ctxengine[langchain]"``):
  ``TextSplitter`` and ``Retriever``;
- :mod:`ctxengine.integrations.llamaindex` (``[llamaindex]``): ``NodeParser`` and ``Retriever``;
- :mod:`ctxengine.integrations.haystack` (``[haystack]``): ``DocumentSplitter`` and
  ``Retriever`` components;
- :mod:`ctxengine.integrations.chonkie` (``[chonkie]``): ``CtxChunker``;
- :mod:`ctxengine.integrations.tiktoken`: ``import ctxengine.integrations.tiktoken as
  tiktoken`` (no extra: it needs nothing but ctxengine).

See docs/integrations.md.
"""

from __future__ import annotations

__all__: list[str] = []
