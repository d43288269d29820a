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
from .scoring import inner_product_topk
from .tokenizer import SpanCounter, Tokenizer, get_tokenizer

__version__: str = _core.__version__

__all__ = [
    "BudgetError",
    "Error",
    "FormatError",
    "InternalError",
    "InvalidInputError",
    "NotBuiltError",
    "NotFoundError",
    "SpanCounter",
    "StorageError",
    "Tokenizer",
    "UnsupportedError",
    "__version__",
    "cuda_available",
    "evaluation",
    "get_tokenizer",
    "haystack",
    "inner_product_topk",
]
