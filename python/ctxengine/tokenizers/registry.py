"""How a name or a file becomes a :class:`Tokenizer`: the one place tokenizers are loaded.

Known encodings load from the rank files that ship with the package; ``*.tiktoken`` files with a
pattern; ``tokenizer.json`` files and Hugging Face model folders through
:class:`~ctxengine.tokenizers.tokenizer_json.JsonTokenizer`. Loaded tokenizers are cached, and a
tokenizer pickles as the name or path it was loaded from.
"""

from __future__ import annotations

import copyreg
import os
import threading
from pathlib import Path
from typing import Any

from .._native import core
from ..errors import InvalidInputError, NotFoundError
from . import tiktoken_files as files
from .tokenizer import Tokenizer
from .tokenizer_json import JsonTokenizer

__all__ = ["get_tokenizer", "identify_pattern", "list_tokenizers"]

_core_tok = core.tokenizer

_lock = threading.Lock()
_cache: dict[Any, Tokenizer] = {}


def list_tokenizers() -> list[str]:
    """The names :func:`get_tokenizer` knows, available here or not (``r50k_base``,
    ``p50k_base``, ``p50k_edit`` and ``gpt2`` need their files on this machine)."""
    return list(files.KNOWN)


def identify_pattern(pattern: str) -> str:
    """The built-in scanner that runs this exact pre-tokenizer regex (``"cl100k_base"``,
    ``"o200k_base"``, ``"r50k_base"``, ``"llama3"``, ``"qwen2"``), or ``"custom"`` (a pattern
    that is compiled: see docs/tokenizers.md, "Compiled patterns").

    >>> identify_pattern(r"\\p{N}")
    'custom'
    """
    return str(_core_tok.identify_pattern(pattern))


def _pattern_string(pattern: str) -> tuple[str, str]:
    """(scanner name, pattern string) for a scanner name or a pattern string."""
    if pattern in ("cl100k_base", "o200k_base", "r50k_base", "llama3", "qwen2"):
        return pattern, str(_core_tok.pattern_strings(pattern)[0])
    if pattern in ("p50k_base", "gpt2"):
        return "r50k_base", str(_core_tok.pattern_strings("r50k_base")[0])
    return identify_pattern(pattern), pattern


def get_tokenizer(
    name_or_path: str | os.PathLike[str],
    *,
    pattern: str | None = None,
    special_tokens: dict[str, int] | None = None,
) -> Tokenizer:
    """The tokenizer called `name_or_path`, loaded once and cached.

    Names: ``cl100k_base``, ``o200k_base``, ``o200k_harmony`` (always available offline), and
    ``r50k_base``, ``p50k_base``, ``p50k_edit``, ``gpt2`` when their files are on this machine
    (see :func:`list_tokenizers`). A path to a ``*.tiktoken`` rank file (optionally ``.gz``)
    works too: its `pattern` is a scanner name (``"cl100k_base"``, ``"o200k_base"``,
    ``"r50k_base"``, ``"llama3"``, ``"qwen2"``) or any pre-tokenizer regex (the model's
    ``pat_str``; one of the known patterns runs its hand-written scanner, any other is compiled
    with tiktoken's semantics, ``UnsupportedError`` naming a construct outside the dialect), and
    `special_tokens` maps text to id. A file named like a known encoding (``r50k_base.tiktoken``)
    gets that encoding's pattern and special tokens and is checked against its sha256.

    >>> get_tokenizer("cl100k_base").name
    'cl100k_base'
    """
    key: Any
    if isinstance(name_or_path, str) and name_or_path in files.KNOWN:
        if pattern is not None or special_tokens is not None:
            raise InvalidInputError(
                f"{name_or_path} has a fixed pattern and special tokens; pass a file path to "
                "choose them"
            )
        key = name_or_path
    else:
        path = Path(name_or_path)
        if not path.exists():
            if (
                isinstance(name_or_path, str)
                and os.sep not in name_or_path
                and "." not in path.name
            ):
                raise NotFoundError(
                    f"unknown tokenizer {name_or_path!r}; known names: "
                    f"{', '.join(files.KNOWN)}; or pass a path to a *.tiktoken file"
                )
            raise NotFoundError(f"no such tokenizer file: {path}")
        stat = path.stat()
        specials = None if special_tokens is None else tuple(sorted(special_tokens.items()))
        key = (str(path.resolve()), stat.st_mtime_ns, stat.st_size, pattern, specials)
    with _lock:
        tok = _cache.get(key)
        if tok is None:
            if isinstance(key, str):
                tok = _load_known(files.KNOWN[key])
            else:
                tok = _load_path(Path(name_or_path), pattern, special_tokens)
            _cache[key] = tok
    return tok


def _load_known(known: files.Known) -> Tokenizer:
    if known.name == "gpt2":
        data = files.gpt2_ranks()
        source = "gpt2 (vocab.bpe + encoder.json)"
    else:
        path = files.locate(known)
        data = files.read_rank_file(path, expected_sha256=known.sha256, name=known.name)
        source = str(path)
    _, pattern = _pattern_string(known.pattern)
    native = _core_tok.BpeTokenizer.from_tiktoken(
        known.name, data, source, pattern, list(known.special_tokens.items())
    )
    return Tokenizer(native, pattern=pattern)


def _load_path(path: Path, pattern: str | None, special_tokens: dict[str, int] | None) -> Tokenizer:
    if path.is_dir():  # a Hugging Face model folder
        if not (path / "tokenizer.json").is_file():
            raise NotFoundError(f"{path} is a directory without a tokenizer.json")
        path = path / "tokenizer.json"
    name = path.name
    if name.endswith(".json"):
        return JsonTokenizer.from_file(path)
    stem = name.removesuffix(".gz").removesuffix(".tiktoken")
    known = files.KNOWN.get(stem)
    if pattern is None:
        if known is None:
            raise InvalidInputError(
                f"{path}: say which pre-tokenizer pattern this vocabulary uses: "
                "pattern='cl100k_base' (or 'o200k_base', 'r50k_base', 'llama3', 'qwen2', or "
                "the model's regex string, e.g. its tokenizer's pat_str)"
            )
        pattern = known.pattern
    if special_tokens is None:
        special_tokens = dict(known.special_tokens) if known is not None else {}
    for text, token in special_tokens.items():
        if not isinstance(text, str) or not text or not isinstance(token, int) or token < 0:
            raise InvalidInputError(
                f"special_tokens must map non-empty str to non-negative int ids, got "
                f"{text!r}: {token!r}"
            )
    expected = known.sha256 if known is not None and known.name != "gpt2" else ""
    data = files.read_rank_file(path, expected_sha256=expected, name=stem)
    _, pattern_str = _pattern_string(pattern)
    native = _core_tok.BpeTokenizer.from_tiktoken(
        stem, data, str(path), pattern_str, list(special_tokens.items())
    )
    return Tokenizer(native, pattern=pattern_str)


def _reduce(tok: Tokenizer) -> tuple[Any, ...]:
    # A tokenizer pickles as what loads it again: its name (or its file, for tokenizer.json).
    return (get_tokenizer, (tok.name,))


copyreg.pickle(Tokenizer, _reduce)
copyreg.pickle(JsonTokenizer, _reduce)
