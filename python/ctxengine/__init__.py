"""ctxengine: context engineering for LLM applications.

Turns large haystacks of text into the exact prompt a model should see: counted in the model's
own tokens, chunked, retrieved, scored, ordered and packed to a budget. A C++ core does the heavy
work; this package is its Python face. See docs/architecture.md for the layers.

>>> import ctxengine
>>> isinstance(ctxengine.__version__, str)
True
"""

from __future__ import annotations

import importlib
import sys

from . import evaluation, haystack
from ._native import core as _core
from .chunking import Chunk, Chunks, chunk, chunk_many, chunk_stream
from .cuda import cuda_available
from .errors import (
    BudgetError,
    Error,
    FormatError,
    InternalError,
    InvalidInputError,
    NotBuiltError,
    NotFoundError,
    StorageError,
    UnsupportedError,
)
from .packing import (
    ChatTemplate,
    CitationCheck,
    Fitted,
    ModelProfile,
    Packed,
    Source,
    check_citations,
    fit,
    get_model,
    pack,
    plan_chain,
    run_chain,
)
from .retrieval import BM25, Hit, Index, analyze, inner_product_topk
from .tokenizers import SpanCounter, Tokenizer, get_tokenizer

# The flat modules of earlier versions stay importable under their old names
# (``import ctxengine.index``, ``from ctxengine.tokenizer import Tokenizer``, pickles).
for _old, _new in {
    "tokenizer": "tokenizers",
    "tokenizer_json": "tokenizers.tokenizer_json",
    "index": "retrieval.index",
    "bm25": "retrieval.bm25",
    "embed": "retrieval.embed",
    "fusion": "retrieval.fusion",
    "scoring": "retrieval.topk",
}.items():
    _module = importlib.import_module(f".{_new}", __name__)
    sys.modules[f"{__name__}.{_old}"] = globals()[_old] = _module
del _old, _new, _module

__version__: str = _core.__version__

__all__ = [
    "BM25",
    "BudgetError",
    "ChatTemplate",
    "Chunk",
    "Chunks",
    "CitationCheck",
    "Error",
    "Fitted",
    "FormatError",
    "Hit",
    "Index",
    "InternalError",
    "InvalidInputError",
    "ModelProfile",
    "NotBuiltError",
    "NotFoundError",
    "Packed",
    "Source",
    "SpanCounter",
    "StorageError",
    "Tokenizer",
    "UnsupportedError",
    "__version__",
    "analyze",
    "check_citations",
    "chunk",
    "chunk_many",
    "chunk_stream",
    "cuda_available",
    "evaluation",
    "fit",
    "get_model",
    "get_tokenizer",
    "haystack",
    "inner_product_topk",
    "pack",
    "plan_chain",
    "run_chain",
]
