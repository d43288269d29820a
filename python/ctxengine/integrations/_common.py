"""What the adapters share: importing a framework with a message that says which extra to
install, opening the index a retriever searches, and the checks on splitter options."""

from __future__ import annotations

import importlib
import os
from pathlib import Path
from types import ModuleType
from typing import Any

from ..chunking import Chunks, chunk
from ..errors import InvalidInputError

__all__ = ["check_k", "check_split_options", "hit_metadata", "open_index", "require", "split"]


def require(module: str, extra: str) -> ModuleType:
    """Import `module` of a framework, or raise ImportError naming the extra that brings it."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise ImportError(
            f"this ctxengine adapter needs {module.split('.')[0]}: "
            f'pip install "ctxengine[{extra}]" ({exc})'
        ) from exc


def open_index(index: Any) -> tuple[Any, str | None]:
    """``(searchable, folder)``: an object with Index's ``search`` (an :class:`~ctxengine.Index`,
    a ``ShardedIndex``, ...) as given, or an index folder (``ctxengine index --out``) loaded;
    `folder` is the path when one was given (adapters that serialise themselves keep it)."""
    if isinstance(index, (str, os.PathLike)):
        from ..distributed import load_saved

        return load_saved(index), str(Path(index))  # an Index or a sharded index folder
    if callable(getattr(index, "search", None)):
        return index, None
    raise InvalidInputError(
        "index must be a ctxengine Index (or ShardedIndex, or anything with Index's search) or "
        f"the folder of a saved index, got {type(index).__name__}"
    )


def check_k(k: Any, name: str = "k") -> int:
    if isinstance(k, bool) or not isinstance(k, int) or k < 1:
        raise InvalidInputError(f"{name} must be a positive integer, got {k!r}")
    return k


def hit_metadata(hit: Any) -> dict[str, Any]:
    """A search hit's metadata for a framework's document: the document's own metadata, then
    ctxengine's facts (``doc_id``, ``chunk_id``, ``start``, ``end``, ``tokens``, ``score``),
    which win over document metadata of the same names."""
    return {
        **dict(hit.metadata),
        "doc_id": hit.doc_id,
        "chunk_id": hit.chunk_id,
        "start": hit.start,
        "end": hit.end,
        "tokens": hit.tokens,
        "score": hit.score,
    }


def split(
    text: str,
    chunk_size: int,
    chunk_overlap: int,
    tokenizer: Any,
    by: str,
    trim: bool | None = None,
) -> Chunks:
    """``ctxengine.chunk`` with a framework's option names: at most `chunk_size` tokens of
    `tokenizer` per chunk, `chunk_overlap` tokens shared."""
    return chunk(text, chunk_size, tokenizer=tokenizer, overlap=chunk_overlap, by=by, trim=trim)


def check_split_options(chunk_size: Any, chunk_overlap: Any, tokenizer: Any, by: Any) -> None:
    """Raise what splitting would raise for these options, before any text comes."""
    check_k(chunk_size, "chunk_size")
    if isinstance(chunk_overlap, bool) or not isinstance(chunk_overlap, int):
        raise InvalidInputError(f"chunk_overlap must be an integer, got {chunk_overlap!r}")
    split("", chunk_size, chunk_overlap, tokenizer, by)
