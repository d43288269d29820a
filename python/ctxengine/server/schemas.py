"""The request bodies of the HTTP service, with the library's argument names.

Unknown fields are refused (a misspelt option is an error naming it, not silently ignored).
Static bounds live here; the bounds a server is started with (:class:`~.app.Limits`) are
checked by the endpoints, with the same kind of error.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["ChunkRequest", "CountRequest", "PackRequest", "SearchRequest"]

Mode = Literal["bm25", "dense", "hybrid"]
ChunkMode = Literal["recursive", "tokens", "sentences", "markdown", "code"]
# "hf" renders a chat template read from a file: not offered to remote callers.
Format = Literal["text", "openai", "anthropic", "chatml"]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")  # subclasses' configs add to this one


class CountRequest(_Body):
    """Exact token counts: give `text` (one count) or `texts` (one count each, and the total)."""

    text: str | None = Field(default=None, description="One text to count.")
    texts: list[str] | None = Field(default=None, description="Several texts to count.")
    tokenizer: str = Field(default="cl100k_base", description="A tokenizer name.")

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"text": "hello world", "tokenizer": "cl100k_base"}]},
    )


class ChunkRequest(_Body):
    """``ctxengine.chunk(text, max_tokens, ...)``: chunks of at most `max_tokens` tokens."""

    text: str
    max_tokens: int = Field(gt=0)
    overlap: int = Field(default=0, ge=0)
    by: ChunkMode = "recursive"
    tokenizer: str = "cl100k_base"
    language: str | None = Field(default=None, description="by='code': the language.")
    trim: bool | None = None

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"text": "# Title\n\nSome text.", "max_tokens": 256}]},
    )


class SearchRequest(_Body):
    """``Index.search(query, k, ...)`` on a served index (the only one when `index` is left
    out)."""

    index: str | None = Field(default=None, description="The index's name (GET /v1/indexes).")
    query: str = Field(min_length=1, pattern=r"\S")
    k: int = Field(default=10, gt=0)
    mode: Mode = "bm25"
    filter: dict[str, Any] | None = Field(
        default=None, description="Metadata key -> value (or a list of accepted values)."
    )
    fusion: Literal["weighted", "rrf"] = "weighted"
    mmr_lambda: float | None = Field(default=None, ge=0, le=1)

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"index": "docs", "query": "open a file", "k": 5}]},
    )


class PackRequest(_Body):
    """``ctxengine.pack(query, index, budget, ...)``; the answer is ``Packed.to_dict()``."""

    index: str | None = Field(default=None, description="The index's name (GET /v1/indexes).")
    query: str = Field(min_length=1, pattern=r"\S")
    budget: int | str = Field(
        description="Tokens (an integer), or a model name for its context window."
    )
    format: Format = "text"
    model: str | None = Field(default=None, description="A model profile, e.g. gpt-4o.")
    tokenizer: str | None = Field(default=None, description="A tokenizer name.")
    order: Literal["relevance", "position", "edges"] = "relevance"
    citations: bool = True
    instructions: str | None = None
    template: str | None = None
    source_template: str | None = None
    reserve_output: int | None = Field(default=None, ge=0)
    k: int | None = Field(default=None, gt=0)
    mode: Mode | None = None
    fusion: Literal["weighted", "rrf"] | None = None
    filter: dict[str, Any] | None = None
    neighbors: int = Field(default=1, ge=0, le=10)
    diversity: float = Field(default=0.3, ge=0, le=1)
    dedupe: float | None = Field(default=0.8, ge=0, le=1)
    max_per_doc: int | None = Field(default=None, gt=0)
    merge: bool = True
    truncate_last: bool = True

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "index": "docs",
                    "query": "how is the budget kept?",
                    "budget": 8000,
                    "format": "openai",
                }
            ]
        },
    )
