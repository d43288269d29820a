"""Haystack adapters (``pip install "ctxengine[haystack]"``): a ``DocumentSplitter`` component with
exact token budgets and a ``Retriever`` component over a ctxengine index.

>>> from haystack import Document
>>> from ctxengine.integrations.haystack import DocumentSplitter
>>> out = DocumentSplitter(chunk_size=8).run([Document(content="One two. " * 9)])
>>> [(d.meta["split_idx_start"], d.meta["tokens"]) for d in out["documents"]][:2]
[(0, 6), (18, 6)]

``DocumentSplitter`` splits each document into pieces of at most `chunk_size` tokens of
`tokenizer` (`chunk_overlap` tokens shared), cut where ctxengine's `by` allows, with
Haystack's metadata: the document's own, ``source_id``, ``split_id``, ``split_idx_start``
(ctxengine's exact offset), ``page_number`` (counting form feeds, as Haystack's splitter) and
``_split_overlap`` when pieces overlap, plus ``tokens`` (the exact count).

``Retriever`` follows Haystack's text-retriever protocol (``run(query, filters, top_k)``) over
an ``Index``, a ``ShardedIndex`` or an index folder; `filters` use Haystack's filter syntax on
the documents' metadata (``{"field": "meta.lang", "operator": "==", "value": "en"}``). Both
serialise with ``to_dict``/``from_dict`` (so pipelines ``dumps``/``loads``); a retriever
serialises only when its index was given as a folder.
"""

from __future__ import annotations

from typing import Any

from ._common import check_k, check_split_options, hit_metadata, open_index, require, split

require("haystack", "haystack")

from haystack import Document, component, default_from_dict, default_to_dict  # noqa: E402
from haystack.core.errors import SerializationError  # noqa: E402
from haystack.utils.filters import document_matches_filter  # noqa: E402

__all__ = ["DocumentSplitter", "Retriever"]


@component
class DocumentSplitter:
    """Splits documents into pieces of at most `chunk_size` exact tokens (see the module's
    docstring); `by` is one of ctxengine's chunking modes."""

    def __init__(
        self,
        chunk_size: int = 512,
        chunk_overlap: int = 0,
        tokenizer: str = "cl100k_base",
        by: str = "recursive",
    ) -> None:
        check_split_options(chunk_size, chunk_overlap, tokenizer, by)
        self.chunk_size = chunk_size
        self.chunk_overlap = chunk_overlap
        self.tokenizer = tokenizer
        self.by = by

    def to_dict(self) -> dict[str, Any]:
        return default_to_dict(
            self,
            chunk_size=self.chunk_size,
            chunk_overlap=self.chunk_overlap,
            tokenizer=self.tokenizer,
            by=self.by,
        )

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DocumentSplitter:
        return default_from_dict(cls, data)

    @component.output_types(documents=list[Document])
    def run(self, documents: list[Document]) -> dict[str, list[Document]]:
        """Split each document (a document without text raises ValueError, as Haystack's)."""
        out: list[Document] = []
        for doc in documents:
            if doc.content is None:
                raise ValueError(
                    f"DocumentSplitter only splits text documents; document {doc.id} has no content"
                )
            out.extend(self._split(doc))
        return {"documents": out}

    def _split(self, doc: Document) -> list[Document]:
        text = doc.content or ""
        chunks = split(text, self.chunk_size, self.chunk_overlap, self.tokenizer, self.by)
        starts, ends = chunks.starts.tolist(), chunks.ends.tolist()
        pieces: list[Document] = []
        for i, piece in enumerate(chunks):
            meta = {
                **doc.meta,
                "source_id": doc.id,
                "page_number": 1 + text.count("\f", 0, starts[i]),
                "split_id": i,
                "split_idx_start": starts[i],
                "tokens": int(chunks.tokens[i]),
            }
            pieces.append(Document(content=piece, meta=meta))
        if self.chunk_overlap > 0:  # Haystack's record of the text neighbours share
            for i, cur in enumerate(pieces):
                cur.meta["_split_overlap"] = []
                if i and starts[i] < ends[i - 1]:
                    prev = pieces[i - 1]
                    shared = ends[i - 1] - starts[i]
                    in_prev = (starts[i] - starts[i - 1], ends[i - 1] - starts[i - 1])
                    cur.meta["_split_overlap"].append({"doc_id": prev.id, "range": in_prev})
                    prev.meta["_split_overlap"].append({"doc_id": cur.id, "range": (0, shared)})
        return pieces


@component
class Retriever:
    """The `k` best chunks of a ctxengine index for a query, as Haystack ``Document``s whose
    ``meta`` holds the source document's metadata plus ``doc_id``, ``chunk_id``, ``start``,
    ``end``, ``tokens`` and ``score`` (also ``Document.score``).

    `mode` is ``"bm25"``, ``"dense"`` or ``"hybrid"``; `filters` (Haystack's syntax) and `k`
    are defaults that ``run``'s `filters` and `top_k` replace; `search_kwargs` go to
    ``Index.search``.
    """

    def __init__(
        self,
        index: Any,
        k: int = 10,
        mode: str = "bm25",
        filters: dict[str, Any] | None = None,
        search_kwargs: dict[str, Any] | None = None,
    ) -> None:
        self._index, self._folder = open_index(index)
        self.k = check_k(k)
        self.mode = mode
        self.filters = filters
        self.search_kwargs = dict(search_kwargs or {})

    def to_dict(self) -> dict[str, Any]:
        if self._folder is None:
            raise SerializationError(
                "this Retriever was given an index object, which cannot be written into a "
                "pipeline's YAML: save the index (Index.save(folder)) and pass the folder"
            )
        return default_to_dict(
            self,
            index=self._folder,
            k=self.k,
            mode=self.mode,
            filters=self.filters,
            search_kwargs=self.search_kwargs,
        )

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Retriever:
        return default_from_dict(cls, data)

    @component.output_types(documents=list[Document])
    def run(
        self, query: str, filters: dict[str, Any] | None = None, top_k: int | None = None
    ) -> dict[str, list[Document]]:
        """Search the index for `query`."""
        k = self.k if top_k is None else check_k(top_k, "top_k")
        options = dict(self.search_kwargs)
        chosen = self.filters if filters is None else filters
        if chosen:
            options["filter"] = _metadata_filter(chosen)
        hits = self._index.search(query, k, mode=self.mode, **options)
        docs = [
            Document(
                id=f"{h.doc_id}#{h.chunk_id}", content=h.text, meta=hit_metadata(h), score=h.score
            )
            for h in hits
        ]
        return {"documents": docs}


def _metadata_filter(filters: dict[str, Any]) -> Any:
    """A Haystack filter as ctxengine's callable metadata filter (``meta.x`` fields)."""
    return lambda meta: document_matches_filter(filters, Document(content="", meta=dict(meta)))
