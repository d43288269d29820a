"""HF ``tokenizer.json`` files: loaded with Python's json, checked, and run by the C++ core.

``get_tokenizer("path/to/tokenizer.json")`` returns a :class:`JsonTokenizer`, the
:class:`~ctxengine.Tokenizer` API over a tokenizer.json pipeline: added tokens, a normalizer, a
pre-tokenizer, a model (BPE or WordPiece), a post-processor and a decoder. Loading refuses what
ctxengine cannot reproduce exactly (:class:`~ctxengine.UnsupportedError`, naming the file and
the component) and what is malformed (:class:`~ctxengine.FormatError`). Ids equal HF
``tokenizers``' ``encode(text, add_special_tokens=False)``; ``add_special_tokens=True`` adds the
post-processor's tokens. docs/tokenizer_json.md lists what is supported.

Pre-tokenizer ``Split`` regexes run in C++: the known patterns as hand-written scanners, any
other pattern of the tokenizer-file dialect compiled (``ctxengine._core.tokenizer.Regex``, with
Oniguruma's semantics). Only a pattern outside that dialect runs through the ``regex`` module
(the "general path": exact, slower).

>>> import json
>>> spec = {"model": {"type": "WordPiece", "unk_token": "[UNK]", "vocab": {
...     "[UNK]": 0, "hello": 1, "world": 2, "##s": 3, "!": 4}},
...     "normalizer": {"type": "BertNormalizer", "lowercase": True},
...     "pre_tokenizer": {"type": "BertPreTokenizer"}}
>>> tok = JsonTokenizer.from_str(json.dumps(spec), name="tiny")
>>> tok.encode("Hello, worlds!").tolist()
[1, 0, 2, 3, 4]
>>> tok.count("hello world")
2
"""

from __future__ import annotations

import os
from collections.abc import Iterable

import numpy as np
import numpy.typing as npt

from .json_pipeline import _JsonCore
from .tokenizer import SpecialSet, Tokenizer, _as_ids

__all__ = ["JsonTokenizer", "load"]


def load(path: str | os.PathLike[str]) -> JsonTokenizer:
    """Load a HF ``tokenizer.json`` file (uncached; :func:`ctxengine.get_tokenizer` caches)."""
    return JsonTokenizer.from_file(path)


class JsonTokenizer(Tokenizer):
    """A :class:`~ctxengine.Tokenizer` over a HF ``tokenizer.json``.

    Everything of Tokenizer works (tiktoken's special-token policy, ``count_many`` on all
    cores, ``count_until``, ``truncate``, ``spans``). Special tokens are the file's added tokens
    marked ``special``; its other added tokens are always matched, as in HF. In addition:
    ``add_special_tokens=True`` on :meth:`encode` / :meth:`count` / :meth:`count_many` adds the
    post-processor's tokens (BERT's [CLS] ... [SEP], Llama-3's BOS), and :meth:`decode` runs the
    file's decoder (``skip_special_tokens`` as in HF).

    >>> import json
    >>> tok = JsonTokenizer.from_str(json.dumps({"model": {"type": "WordPiece",
    ...     "unk_token": "[UNK]", "vocab": {"[UNK]": 0, "a": 1, "[CLS]": 2, "[SEP]": 3}},
    ...     "added_tokens": [{"id": 2, "content": "[CLS]", "special": True},
    ...                      {"id": 3, "content": "[SEP]", "special": True}],
    ...     "pre_tokenizer": {"type": "WhitespaceSplit"},
    ...     "post_processor": {"type": "BertProcessing",
    ...                        "cls": ["[CLS]", 2], "sep": ["[SEP]", 3]}}))
    >>> tok.encode("a [SEP] a", allowed_special="all").tolist()
    [1, 3, 1]
    >>> tok.encode("a a", add_special_tokens=True).tolist()
    [2, 1, 1, 3]
    """

    _core: _JsonCore

    def __init__(self, native: _JsonCore) -> None:
        super().__init__(native, pattern=native.pattern)

    @classmethod
    def from_file(cls, path: str | os.PathLike[str]) -> JsonTokenizer:
        """Read and check a ``tokenizer.json``; errors name the file."""
        return cls(_JsonCore.from_file(path))

    @classmethod
    def from_str(cls, text: str, *, name: str = "tokenizer.json") -> JsonTokenizer:
        """Build from the JSON text of a tokenizer.json; `name` is used in error messages."""
        return cls(_JsonCore.from_str(text, name=name))

    def __repr__(self) -> str:
        return f"<JsonTokenizer {self.name!r}>"

    @property
    def added_tokens(self) -> dict[str, int]:
        """Every added token (special or not): text -> id."""
        return dict(self._core.added_tokens)

    @property
    def special_prefix(self) -> tuple[int, ...]:
        """Ids the post-processor puts before a single sequence (e.g. BOS, [CLS])."""
        return self._core.special_prefix

    @property
    def special_suffix(self) -> tuple[int, ...]:
        """Ids the post-processor puts after a single sequence (e.g. [SEP])."""
        return self._core.special_suffix

    def _frame(self, ids: np.ndarray) -> np.ndarray:
        return np.concatenate(
            [
                np.array(self.special_prefix, np.uint32),
                ids,
                np.array(self.special_suffix, np.uint32),
            ]
        )

    def encode(
        self,
        text: str,
        *,
        allowed_special: SpecialSet = frozenset(),
        disallowed_special: SpecialSet = "all",
        add_special_tokens: bool = False,
    ) -> np.ndarray:
        """Token ids, equal to HF's ``encode(text, add_special_tokens=...).ids`` (see
        :meth:`Tokenizer.encode` for the special-token policy)."""
        ids = super().encode(
            text, allowed_special=allowed_special, disallowed_special=disallowed_special
        )
        return self._frame(ids) if add_special_tokens else ids

    def count(
        self,
        text: str,
        *,
        allowed_special: SpecialSet = frozenset(),
        disallowed_special: SpecialSet = (),
        add_special_tokens: bool = False,
    ) -> int:
        n = super().count(
            text, allowed_special=allowed_special, disallowed_special=disallowed_special
        )
        return n + (len(self.special_prefix) + len(self.special_suffix)) * add_special_tokens

    def count_many(
        self,
        texts: Iterable[str],
        *,
        threads: int | None = None,
        allowed_special: SpecialSet = frozenset(),
        disallowed_special: SpecialSet = (),
        add_special_tokens: bool = False,
    ) -> np.ndarray:
        counts = super().count_many(
            texts,
            threads=threads,
            allowed_special=allowed_special,
            disallowed_special=disallowed_special,
        )
        extra = (len(self.special_prefix) + len(self.special_suffix)) * add_special_tokens
        return counts + extra if extra else counts

    def decode(
        self,
        ids: Iterable[int] | npt.ArrayLike,
        *,
        errors: str = "replace",
        skip_special_tokens: bool = False,
    ) -> str:
        """The text of the tokens through the file's decoder, as HF's ``decode``. Byte-level
        BPE files give ``decode(encode(t)) == t``; WordPiece files lowercase and split words,
        so only the words come back. Unknown ids are skipped, as HF does."""
        arr = _as_ids(ids)
        return self._core.decode_bytes(arr, skip_special_tokens).decode("utf-8", errors=errors)

    def decode_bytes(self, ids: Iterable[int] | npt.ArrayLike) -> bytes:
        return self._core.decode_bytes(_as_ids(ids))

    def token_to_string(self, token_id: int) -> str | None:
        """The token string of an id as written in the file (``"##ing"``, ``"Ġthe"``), or None."""
        result = self._core._pipe.token_string(int(token_id))
        return None if result is None else str(result)
