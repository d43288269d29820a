"""LangChain adapters (``pip install "ctxengine[langchain]"``): a text splitter whose lengths are
exact tokens and a retriever over a ctxengine index.

>>> from ctxengine.integrations.langchain import TextSplitter
>>> splitter = TextSplitter(chunk_size=8, add_start_index=True)
>>> docs = splitter.create_documents(["Alpha beta gamma. " * 6])
>>> [d.metadata["start_index"] for d in docs]
[0, 36, 72]

``TextSplitter`` is a ``langchain_text_splitters.TextSplitter``: ``chunk_size`` and
``chunk_overlap`` count tokens of `tokenizer` (a name such as ``"cl100k_base"`` or
``"o200k_base"``, a ``*.tiktoken`` or ``tokenizer.json`` path, or a ctxengine tokenizer), and
every chunk has at most ``chunk_size`` of them; `by` is ``ctxengine.chunk``'s (``"recursive"``,
``"sentences"``, ``"markdown"``, ``"code"``, ``"tokens"``). ``create_documents`` and
``split_documents`` set ``start_index`` from ctxengine's offsets (``text[start_index:]`` starts
with the chunk), not from ``str.find``, which picks the wrong occurrence of repeated text.

``Retriever`` is a ``BaseRetriever`` over an ``Index``, a ``ShardedIndex`` (anything with
Index's ``search``) or an index folder; each ``Document``'s metadata holds the source
document's metadata plus ``doc_id``, ``chunk_id``, ``start``, ``end``, ``tokens`` and ``score``.
"""

from __future__ import annotations

import copy
from typing import Any

from ..chunking import Chunks
from ._common import check_k, check_split_options, hit_metadata, open_index, require, split

require("langchain_core", "langchain")
require("langchain_text_splitters", "langchain")

from langchain_core.callbacks import CallbackManagerForRetrieverRun  # noqa: E402
from langchain_core.documents import Document  # noqa: E402
from langchain_core.retrievers import BaseRetriever  # noqa: E402
from langchain_text_splitters import TextSplitter as _LangChainSplitter  # noqa: E402
from pydantic import ConfigDict, Field, PrivateAttr  # noqa: E402

__all__ = ["Retriever", "TextSplitter"]


class TextSplitter(_LangChainSplitter):
    """Splits text into chunks of at most `chunk_size` exact tokens (see the module's docstring).

    `add_start_index` works as in LangChain, with exact offsets. Whitespace at chunk edges is
    trimmed (LangChain's `strip_whitespace`); ``strip_whitespace=False`` keeps it, and then the
    chunks tile the text (``by="tokens"`` windows always do). `length_function` is the exact
    token count and cannot be replaced.
    """

    def __init__(
        self,
        chunk_size: int = 512,
        chunk_overlap: int = 0,
        *,
        tokenizer: Any = "cl100k_base",
        by: str = "recursive",
        add_start_index: bool = False,
        strip_whitespace: bool = True,
    ) -> None:
        check_split_options(chunk_size, chunk_overlap, tokenizer, by)
        from ..tokenizers import resolve_tokenizer

        counter = resolve_tokenizer(tokenizer)
        super().__init__(
            chunk_size=chunk_size,
            chunk_overlap=chunk_overlap,
            length_function=lambda text: int(counter.count(text)),
            add_start_index=add_start_index,
            strip_whitespace=strip_whitespace,
        )
        self._tokenizer = tokenizer
        self._by = by

    def _chunks(self, text: str) -> Chunks:
        return split(
            text, self._chunk_size, self._chunk_overlap, self._tokenizer, self._by,
            # by="tokens" windows tile the text, whitespace included.
            trim=None if self._by == "tokens" else self._strip_whitespace,
        )  # fmt: skip

    def split_text(self, text: str) -> list[str]:
        """The chunks of `text`."""
        return list(self._chunks(text))

    def create_documents(
        self, texts: list[str], metadatas: list[dict[Any, Any]] | None = None
    ) -> list[Document]:
        """One ``Document`` per chunk of each text, with a copy of that text's metadata and,
        with `add_start_index`, the chunk's exact ``start_index``."""
        metas = metadatas or [{}] * len(texts)
        if len(metas) != len(texts):
            raise ValueError(f"got {len(texts)} texts but {len(metas)} metadatas")
        out = []
        for text, meta in zip(texts, metas, strict=True):
            chunks = self._chunks(text)
            for piece, start in zip(chunks, chunks.starts.tolist(), strict=True):
                metadata = copy.deepcopy(meta)
                if self._add_start_index:
                    metadata["start_index"] = start
                out.append(Document(page_content=piece, metadata=metadata))
        return out


class Retriever(BaseRetriever):
    """The `k` best chunks of a ctxengine index for a query, as LangChain ``Document``s.

    >>> import ctxengine
    >>> index = ctxengine.Index()
    >>> _ = index.add_many(["Lists are mutable.", "Tuples are immutable."], ["a", "b"])
    >>> docs = Retriever(index=index, k=1).invoke("tuples")
    >>> docs[0].page_content, docs[0].metadata["doc_id"]
    ('Tuples are immutable.', 'b')

    `mode` is ``"bm25"``, ``"dense"`` or ``"hybrid"`` (dense and hybrid need an index built
    with an embedder), `filter` a metadata filter as ``Index.search`` takes it, and
    `search_kwargs` any other ``Index.search`` options (``fusion``, ``mmr_lambda``, ...).
    """

    model_config = ConfigDict(arbitrary_types_allowed=True)

    index: Any = Field(description="A ctxengine Index, ShardedIndex or index folder.")
    k: int = 4
    mode: str = "bm25"
    filter: Any = None
    search_kwargs: dict[str, Any] = Field(default_factory=dict)
    _searchable: Any = PrivateAttr(default=None)

    def model_post_init(self, context: Any, /) -> None:
        super().model_post_init(context)
        self._searchable, _ = open_index(self.index)
        check_k(self.k)

    def _get_relevant_documents(
        self, query: str, *, run_manager: CallbackManagerForRetrieverRun
    ) -> list[Document]:
        options = dict(self.search_kwargs)
        if self.filter is not None:
            options["filter"] = self.filter
        hits = self._searchable.search(query, self.k, mode=self.mode, **options)
        return [Document(page_content=h.text, metadata=hit_metadata(h)) for h in hits]
