"""LlamaIndex adapters (``pip install "ctxengine[llamaindex]"``): a node parser with exact token
budgets and a retriever over a ctxengine index.

>>> from llama_index.core import Document
>>> from ctxengine.integrations.llamaindex import NodeParser
>>> nodes = NodeParser(chunk_size=8).get_nodes_from_documents([Document(text="One two. " * 9)])
>>> [(n.start_char_idx, n.end_char_idx) for n in nodes]
[(0, 17), (18, 35), (36, 53), (54, 71), (72, 80)]

``NodeParser`` is a LlamaIndex ``TextSplitter`` (a ``NodeParser``, usable in an
``IngestionPipeline`` and as ``Settings.node_parser``): every node's text has at most
`chunk_size` tokens of `tokenizer` (``chunk_overlap`` tokens shared), cut where ctxengine's
`by` allows; ``start_char_idx``/``end_char_idx`` are ctxengine's exact offsets into the source
(LlamaIndex's own parsers find them with ``str.find``); nodes get LlamaIndex's relationships
(SOURCE, and PREVIOUS/NEXT between neighbours) and the document's metadata. The budget counts
the node's text, not metadata that LlamaIndex may prepend to it when embedding.

``Retriever`` is a ``BaseRetriever`` over an ``Index``, a ``ShardedIndex`` or an index folder;
it returns ``NodeWithScore`` whose ``TextNode`` has the chunk's text, offsets, the document's
metadata plus ``doc_id``, ``chunk_id``, ``start``, ``end``, ``tokens`` and ``score`` (all but
``doc_id`` kept out of the text LlamaIndex shows a model or an embedder), and a SOURCE
relationship to the document.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..chunking import MODES, Chunks
from ._common import check_k, check_split_options, hit_metadata, open_index, require, split

require("llama_index.core", "llamaindex")

from llama_index.core.base.base_retriever import BaseRetriever  # noqa: E402
from llama_index.core.callbacks import CallbackManager  # noqa: E402
from llama_index.core.node_parser import TextSplitter  # noqa: E402
from llama_index.core.node_parser.node_utils import build_nodes_from_splits  # noqa: E402
from llama_index.core.schema import (  # noqa: E402
    BaseNode,
    Document,
    NodeRelationship,
    NodeWithScore,
    QueryBundle,
    RelatedNodeInfo,
    TextNode,
)
from llama_index.core.utils import get_tqdm_iterable  # noqa: E402
from pydantic import Field, model_validator  # noqa: E402

__all__ = ["NodeParser", "Retriever"]

_BOOKKEEPING = ("chunk_id", "start", "end", "tokens", "score")


class NodeParser(TextSplitter):
    """Splits documents into nodes of at most `chunk_size` exact tokens (see the module's
    docstring). `tokenizer` is a tokenizer name or file (``"cl100k_base"``, ``"o200k_base"``,
    a ``*.tiktoken`` or ``tokenizer.json`` path); `by` one of ctxengine's chunking modes."""

    chunk_size: int = Field(default=512, gt=0, description="Tokens per node, at most.")
    chunk_overlap: int = Field(default=0, ge=0, description="Tokens shared by neighbours.")
    tokenizer: str = Field(default="cl100k_base", description="ctxengine tokenizer name or path.")
    by: str = Field(default="recursive", description=f"Where nodes may end: {', '.join(MODES)}.")

    @model_validator(mode="after")
    def _check(self) -> NodeParser:
        check_split_options(self.chunk_size, self.chunk_overlap, self.tokenizer, self.by)
        return self

    @classmethod
    def class_name(cls) -> str:
        return "CtxengineNodeParser"

    @classmethod
    def from_dict(cls, data: dict[str, Any], **kwargs: Any) -> NodeParser:
        """The parser :meth:`to_dict` described. LlamaIndex writes ``id_func`` as its name,
        which its own ``from_dict`` cannot read back; the default one is restored here."""
        data = dict(data)
        if isinstance(data.get("id_func"), dict):
            if data["id_func"].get("id_func_name") != "default_id_func":
                raise ValueError("pass id_func= again: a custom id function is not serialised")
            del data["id_func"]
        return super().from_dict(data, **kwargs)

    def _chunks(self, text: str) -> Chunks:
        return split(text, self.chunk_size, self.chunk_overlap, self.tokenizer, self.by)

    def split_text(self, text: str) -> list[str]:
        """The chunks of `text`."""
        return list(self._chunks(text))

    def _parse_nodes(
        self, nodes: Sequence[BaseNode], show_progress: bool = False, **kwargs: Any
    ) -> list[BaseNode]:
        out: list[BaseNode] = []
        for node in get_tqdm_iterable(nodes, show_progress, "Parsing nodes"):
            chunks = self._chunks(node.get_content())
            built = build_nodes_from_splits(list(chunks), node, id_func=self.id_func)
            # Offsets are into the parsed node's text; a node cut from a larger document
            # carries its own offset into it.
            base = 0
            if not isinstance(node, Document) and isinstance(node, TextNode):
                base = node.start_char_idx or 0
            for child, start, end in zip(
                built, chunks.starts.tolist(), chunks.ends.tolist(), strict=True
            ):
                child.start_char_idx, child.end_char_idx = base + start, base + end
            out.extend(built)
        return out

    def _postprocess_parsed_nodes(
        self, nodes: list[BaseNode], parent_doc_map: dict[str, Document]
    ) -> list[BaseNode]:
        # LlamaIndex's post-processing re-finds each node in its document with str.find, which
        # can land on an earlier copy of repeated text: keep the exact offsets.
        exact = [
            (getattr(n, "start_char_idx", None), getattr(n, "end_char_idx", None)) for n in nodes
        ]
        nodes = super()._postprocess_parsed_nodes(nodes, parent_doc_map)
        for node, (start, end) in zip(nodes, exact, strict=True):
            if isinstance(node, TextNode):
                node.start_char_idx, node.end_char_idx = start, end
        return nodes


class Retriever(BaseRetriever):
    """The `k` best chunks of a ctxengine index for a query, as ``NodeWithScore``.

    >>> import ctxengine
    >>> index = ctxengine.Index()
    >>> _ = index.add_many(["Lists are mutable.", "Tuples are immutable."], ["a", "b"])
    >>> [n.node.get_content() for n in Retriever(index, k=1).retrieve("tuples")]
    ['Tuples are immutable.']

    `mode`, `filter` and `search_kwargs` are passed to ``Index.search`` (see
    :class:`ctxengine.integrations.langchain.Retriever`).
    """

    def __init__(
        self,
        index: Any,
        k: int = 4,
        *,
        mode: str = "bm25",
        filter: Any = None,
        search_kwargs: dict[str, Any] | None = None,
        callback_manager: CallbackManager | None = None,
        verbose: bool = False,
    ) -> None:
        self._index, _ = open_index(index)
        self.k = check_k(k)
        self.mode = mode
        self.filter = filter
        self.search_kwargs = dict(search_kwargs or {})
        super().__init__(callback_manager=callback_manager, verbose=verbose)

    def _retrieve(self, query_bundle: QueryBundle) -> list[NodeWithScore]:
        options = dict(self.search_kwargs)
        if self.filter is not None:
            options["filter"] = self.filter
        hits = self._index.search(query_bundle.query_str, self.k, mode=self.mode, **options)
        out = []
        for h in hits:
            node = TextNode(
                id_=f"{h.doc_id}#{h.chunk_id}",
                text=h.text,
                start_char_idx=h.start,
                end_char_idx=h.end,
                metadata=hit_metadata(h),
                # ctxengine's bookkeeping stays out of the text LlamaIndex shows a model.
                excluded_llm_metadata_keys=list(_BOOKKEEPING),
                excluded_embed_metadata_keys=list(_BOOKKEEPING),
                relationships={NodeRelationship.SOURCE: RelatedNodeInfo(node_id=h.doc_id)},
            )
            out.append(NodeWithScore(node=node, score=h.score))
        return out
