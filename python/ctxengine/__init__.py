"""ctxengine: context engineering for LLM applications.

Turns large haystacks of text into the exact prompt a model should see: counted in the model's
own tokens, chunked, retrieved, scored, ordered and packed to a budget. A C++ core does the heavy
work; this package is its Python face. See docs/architecture.md for the layers.

>>> import ctxengine
>>> isinstance(ctxengine.__version__, str)
True
"""

from __future__ import annotations

from . import evaluation, haystack
from ._native import core as _core
from .bm25 import BM25, analyze
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
from .index import Hit, Index
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
from .scoring import inner_product_topk
from .tokenizer import SpanCounter, Tokenizer, get_tokenizer

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
