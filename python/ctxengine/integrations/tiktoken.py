"""A drop-in for tiktoken, on ctxengine's C++ tokenizer: change one import line.

>>> import ctxengine.integrations.tiktoken as tiktoken
>>> enc = tiktoken.get_encoding("cl100k_base")
>>> enc.encode("hello world")
[15339, 1917]
>>> enc.decode([15339, 1917])
'hello world'
>>> tiktoken.encoding_for_model("gpt-4o").name
'o200k_base'

The module has tiktoken's public API (``get_encoding``, ``encoding_for_model``,
``encoding_name_for_model``, ``list_encoding_names``, ``Encoding``) with tiktoken's semantics:
the same ids, the same special-token checks and ``ValueError`` message, ``KeyError`` for
unknown tokens and models, lists from ``encode``, the UTF-16 repair of lone surrogates,
pickling (registered encodings by name). ``Encoding(name, pat_str=, mergeable_ranks=,
special_tokens=, explicit_n_vocab=)`` builds any byte-level BPE: patterns that ctxengine has a
scanner for (cl100k, o200k, r50k/gpt2, Llama 3, Qwen2) run in C++; any other pattern is split
in Python with ``regex``, as tiktoken's ``_encode_only_native_bpe``, and the pieces are merged
in C++.

Nothing is downloaded. ``cl100k_base``, ``o200k_base`` and ``o200k_harmony`` ship with
ctxengine; ``r50k_base``, ``p50k_base``, ``p50k_edit`` and ``gpt2`` (r50k_base's ranks) are read
where tiktoken users already have them: tiktoken's cache (``TIKTOKEN_CACHE_DIR``,
``DATA_GYM_CACHE_DIR``, ``<tmp>/data-gym-cache``; files named by the SHA-1 of their URL, as
tiktoken names them) or ``CTXENGINE_TIKTOKEN_DIR`` (plain names), checked against the published
sha256. A missing file raises :class:`ctxengine.NotFoundError` (a ``FileNotFoundError``)
that says where to put it.

Not provided: tiktoken's plugin registry (``tiktoken_ext``) and its submodules
(``tiktoken.load`` and so on; :func:`load_tiktoken_bpe` is here for local files).
"""

from __future__ import annotations

import base64
import functools
import threading
from collections.abc import Collection, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import numpy as np

from .._native import core
from ..errors import InvalidInputError
from ..tokenizers import Tokenizer, get_tokenizer
from ..tokenizers import tiktoken_files as _tiktoken_files
from ..tokenizers.surrogates import utf8_safe
from . import _tiktoken_unstable as _unstable
from ._tiktoken_models import encoding_name_for_model

if TYPE_CHECKING:
    import numpy.typing as npt
    import regex

__all__ = [
    "Encoding",
    "encoding_for_model",
    "encoding_name_for_model",
    "get_encoding",
    "list_encoding_names",
    "load_tiktoken_bpe",
]

# The tiktoken release whose API and semantics this module follows (some code reads it).
__version__ = "0.14.0"

AllowedSpecial = Literal["all"] | Collection[str]

# In the order tiktoken lists them.
_NAMES = (
    "gpt2",
    "r50k_base",
    "p50k_base",
    "p50k_edit",
    "cl100k_base",
    "o200k_base",
    "o200k_harmony",
)


class Encoding:
    """A byte-level BPE encoding with tiktoken's interface (see the module's docstring).

    >>> enc = get_encoding("cl100k_base")
    >>> enc.encode("<|endoftext|>", allowed_special="all")
    [100257]
    >>> enc.decode_with_offsets(enc.encode("hello world"))
    ('hello world', [0, 5])
    """

    name: str
    max_token_value: int
    _pat_str: str
    _special_tokens: dict[str, int]
    _special_token_values: set[int]
    _tok: Tokenizer
    _regex: regex.Pattern[str] | None

    def __init__(
        self,
        name: str,
        *,
        pat_str: str,
        mergeable_ranks: dict[bytes, int],
        special_tokens: dict[str, int],
        explicit_n_vocab: int | None = None,
    ) -> None:
        if not mergeable_ranks:
            raise InvalidInputError("mergeable_ranks is empty: an encoding needs its tokens")
        self.name = name
        self._pat_str = pat_str
        self.__dict__["_mergeable_ranks"] = mergeable_ranks
        self._special_tokens = special_tokens
        self.max_token_value = max(
            max(mergeable_ranks.values()), max(special_tokens.values(), default=0)
        )
        if explicit_n_vocab:
            n = len(mergeable_ranks) + len(special_tokens)
            if n != explicit_n_vocab or self.max_token_value != explicit_n_vocab - 1:
                raise InvalidInputError(
                    f"explicit_n_vocab={explicit_n_vocab}, but there are {n} tokens and the "
                    f"largest id is {self.max_token_value}"
                )
        self._special_token_values = set(special_tokens.values())
        scanner = str(core.tokenizer.identify_pattern(pat_str))
        native = core.tokenizer.BpeTokenizer.from_vocab(
            name,
            list(mergeable_ranks.items()),
            None,
            True,
            # Without a scanner for the pattern, the native tokenizer only merges the pieces
            # that `regex` splits in Python (any scanner will do for that).
            pat_str if scanner != "custom" else "r50k_base",
            list(special_tokens.items()),
            f"Encoding({name!r})",
        )
        self._tok = Tokenizer(native, pattern=pat_str)
        self._regex = _compile(pat_str) if scanner == "custom" else None

    @classmethod
    def _registered(cls, name: str) -> Encoding:
        """A registered encoding, sharing ctxengine's cached tokenizer; its ranks are read
        only when ``_mergeable_ranks`` is used."""
        tok = get_tokenizer(name)  # NotFoundError (FileNotFoundError) says where to put a file
        self = cls.__new__(cls)
        self.name = name
        self._pat_str = tok.pattern
        self._special_tokens = dict(_tiktoken_files.KNOWN[name].special_tokens)
        self._special_token_values = set(self._special_tokens.values())
        self.max_token_value = tok.n_vocab - 1
        self._tok = tok
        self._regex = None
        return self

    @functools.cached_property
    def _mergeable_ranks(self) -> dict[bytes, int]:
        """Token bytes -> rank (for registered encodings, read from the rank file on first
        use; an Encoding built by hand has the dict it was given)."""
        known = _tiktoken_files.KNOWN[self.name]
        if known.name == "gpt2":
            data = _tiktoken_files.gpt2_ranks()
        else:
            path = _tiktoken_files.locate(known)
            data = _tiktoken_files.read_rank_file(path, expected_sha256=known.sha256)
        return _parse_ranks(data)

    def __repr__(self) -> str:
        return f"<Encoding {self.name!r}>"

    # ---- encoding ----------------------------------------------------------------------------

    def encode_ordinary(self, text: str) -> list[int]:
        """Token ids of `text`, special-token text encoded as plain text.

        >>> get_encoding("cl100k_base").encode_ordinary("<|endoftext|>")
        [27, 91, 8862, 728, 428, 91, 29]
        """
        if self._regex is not None:
            return self._encode_split(text, [])
        return self._tok.encode_ordinary(text).tolist()

    def encode(
        self,
        text: str,
        *,
        allowed_special: AllowedSpecial = frozenset(),
        disallowed_special: AllowedSpecial = "all",
    ) -> list[int]:
        """Token ids of `text`. Text that spells a special token raises ValueError unless the
        token is in `allowed_special` (then it is that token) or left out of
        `disallowed_special` (then it is plain text), exactly as tiktoken.

        >>> enc = get_encoding("cl100k_base")
        >>> enc.encode("hello <|endoftext|>", allowed_special="all")
        [15339, 220, 100257]
        """
        return self.encode_to_numpy(
            text, allowed_special=allowed_special, disallowed_special=disallowed_special
        ).tolist()

    def encode_to_numpy(
        self,
        text: str,
        *,
        allowed_special: AllowedSpecial = frozenset(),
        disallowed_special: AllowedSpecial = "all",
    ) -> npt.NDArray[np.uint32]:
        """:meth:`encode` as a uint32 NumPy array (no list is built)."""
        if self._regex is None:
            return self._tok.encode(
                text, allowed_special=allowed_special, disallowed_special=disallowed_special
            )
        allowed = self._tok._allowed(allowed_special)
        self._tok._check_disallowed(text, allowed, disallowed_special)
        return np.array(self._encode_split(text, allowed), dtype=np.uint32)

    def encode_ordinary_batch(self, text: list[str], *, num_threads: int = 8) -> list[list[int]]:
        """:meth:`encode_ordinary` of each text, on `num_threads` threads."""
        with ThreadPoolExecutor(num_threads) as pool:
            return list(pool.map(self.encode_ordinary, text))

    def encode_batch(
        self,
        text: list[str],
        *,
        num_threads: int = 8,
        allowed_special: AllowedSpecial = frozenset(),
        disallowed_special: AllowedSpecial = "all",
    ) -> list[list[int]]:
        """:meth:`encode` of each text, on `num_threads` threads."""
        encode = functools.partial(
            self.encode, allowed_special=allowed_special, disallowed_special=disallowed_special
        )
        with ThreadPoolExecutor(num_threads) as pool:
            return list(pool.map(encode, text))

    def encode_with_unstable(
        self,
        text: str,
        *,
        allowed_special: AllowedSpecial = frozenset(),
        disallowed_special: AllowedSpecial = "all",
    ) -> tuple[list[int], list[list[int]]]:
        """``(stable tokens, completions)``: the tokens of `text` that no continuation can
        change, and every token sequence that can follow them for a text starting with `text`
        (tiktoken's API of the same name; the order of completions is unspecified, as there)."""
        allowed = self._tok._allowed(allowed_special)
        self._tok._check_disallowed(text, allowed, disallowed_special)
        return _unstable.encode_with_unstable(self, text, allowed)

    def encode_single_token(self, text_or_bytes: str | bytes) -> int:
        """The id of the one token (special tokens included) spelled by `text_or_bytes`;
        KeyError when it is not a single token.

        >>> get_encoding("cl100k_base").encode_single_token("hello")
        15339
        """
        data = text_or_bytes.encode("utf-8") if isinstance(text_or_bytes, str) else text_or_bytes
        ids = self._tok._core.encode_piece(bytes(data)) if data else []
        # A piece that is a token comes back as that token (whole-piece lookup, as tiktoken).
        if len(ids) == 1:
            return int(ids[0])
        try:
            return self._special_tokens[bytes(data).decode("utf-8")]
        except (UnicodeDecodeError, KeyError):
            raise KeyError(bytes(data)) from None

    # ---- decoding ----------------------------------------------------------------------------

    def decode_bytes(self, tokens: Sequence[int]) -> bytes:
        """The bytes the tokens spell; KeyError for an id that is not in the vocabulary."""
        try:
            return self._tok.decode_bytes(tokens)
        except InvalidInputError as exc:
            raise KeyError(str(exc)) from None

    def decode(self, tokens: Sequence[int], errors: str = "replace") -> str:
        """The text the tokens spell (bytes that are not UTF-8 handled by `errors`, "replace"
        by default as in tiktoken)."""
        return self.decode_bytes(tokens).decode("utf-8", errors=errors)

    def decode_single_token_bytes(self, token: int) -> bytes:
        """The bytes of one token (special tokens included); KeyError for an unknown id.

        >>> get_encoding("cl100k_base").decode_single_token_bytes(15339)
        b'hello'
        """
        try:
            return self._tok.decode_bytes([token])
        except InvalidInputError:
            raise KeyError(str(token)) from None

    def decode_tokens_bytes(self, tokens: Sequence[int]) -> list[bytes]:
        """The bytes of each token."""
        return [self.decode_single_token_bytes(t) for t in tokens]

    def decode_with_offsets(self, tokens: Sequence[int]) -> tuple[str, list[int]]:
        """``(text, offsets)``: the decoded text (strict UTF-8, as tiktoken) and the index of
        the character where each token starts; a token that starts inside a character (byte
        BPE can split one) gets that character's index."""
        pieces = self.decode_tokens_bytes(tokens)
        offsets, chars = [], 0
        for piece in pieces:
            continuations = sum(0x80 <= b < 0xC0 for b in piece)
            starts_inside = bool(piece) and 0x80 <= piece[0] < 0xC0
            offsets.append(max(0, chars - starts_inside))
            chars += len(piece) - continuations
        return b"".join(pieces).decode("utf-8", errors="strict"), offsets

    def decode_batch(
        self, batch: Sequence[Sequence[int]], *, errors: str = "replace", num_threads: int = 8
    ) -> list[str]:
        """:meth:`decode` of each token list, on `num_threads` threads."""
        decode = functools.partial(self.decode, errors=errors)
        with ThreadPoolExecutor(num_threads) as pool:
            return list(pool.map(decode, batch))

    def decode_bytes_batch(
        self, batch: Sequence[Sequence[int]], *, num_threads: int = 8
    ) -> list[bytes]:
        """:meth:`decode_bytes` of each token list, on `num_threads` threads."""
        with ThreadPoolExecutor(num_threads) as pool:
            return list(pool.map(self.decode_bytes, batch))

    # ---- the vocabulary ----------------------------------------------------------------------

    def token_byte_values(self) -> list[bytes]:
        """The bytes of every mergeable token, sorted."""
        return list(self._sorted_token_bytes())

    @property
    def eot_token(self) -> int:
        """The id of ``<|endoftext|>``."""
        return self._special_tokens["<|endoftext|>"]

    @functools.cached_property
    def special_tokens_set(self) -> set[str]:
        """The special tokens' texts."""
        return set(self._special_tokens)

    def is_special_token(self, token: int) -> bool:
        """Whether `token` is the id of a special token."""
        if not isinstance(token, int):
            raise TypeError(f"token must be an int, got {type(token).__name__}")
        return token in self._special_token_values

    @property
    def n_vocab(self) -> int:
        """One more than the largest id (``max_token_value + 1``)."""
        return self.max_token_value + 1

    @property
    def tokenizer(self) -> Tokenizer:
        """The :class:`ctxengine.Tokenizer` behind this encoding (its ``count``, ``count_many``,
        ``truncate`` and span counts are exact in the same ids)."""
        if self._regex is not None:
            raise InvalidInputError(
                f"{self.name} has a pre-tokenizer pattern that ctxengine has no scanner for, "
                "so it has no ctxengine Tokenizer; use this Encoding's methods"
            )
        return self._tok

    # ---- tiktoken's private methods that code uses ---------------------------------------------

    def _encode_single_piece(self, text_or_bytes: str | bytes) -> list[int]:
        """BPE of one piece without pre-tokenization (special-token text is plain text)."""
        data = text_or_bytes.encode("utf-8") if isinstance(text_or_bytes, str) else text_or_bytes
        return self._tok._core.encode_piece(bytes(data)).tolist() if data else []

    def _encode_only_native_bpe(self, text: str) -> list[int]:
        """Pre-tokenize with `regex` in Python, then BPE each piece (tiktoken's slow path)."""
        pattern = self._regex if self._regex is not None else _compile(self._pat_str)
        out: list[int] = []
        for piece in pattern.findall(text):
            out.extend(self._encode_single_piece(piece))
        return out

    def _encode_bytes(self, text: bytes) -> list[int]:
        """Tokens of bytes that need not be UTF-8 (tiktoken's ``_encode_bytes``)."""
        return _unstable.encode_bytes(self, bytes(text))

    def _sorted_token_bytes(self) -> list[bytes]:
        cached: list[bytes] | None = self.__dict__.get("_sorted_bytes")
        if cached is None:
            cached = self.__dict__["_sorted_bytes"] = sorted(self._mergeable_ranks)
        return cached

    def _pieces(self, segment: str) -> list[str]:
        """The pre-token pieces of `segment` (no special tokens in it)."""
        if self._regex is not None:
            return self._regex.findall(segment)
        ends = core.tokenizer.split_pieces(self._tok._core.pretokenizer, segment).tolist()
        return [segment[a:b] for a, b in zip([0, *ends[:-1]], ends, strict=True)]

    def _segments(self, text: str, allowed: list[str]) -> tuple[list[tuple[str, str]], str]:
        """`text` cut at its allowed special tokens: ``[(plain text, special), ...]`` and the
        plain text after the last one."""
        parts = []
        while allowed:
            found = self._tok._core.find_special(text, allowed)
            if found is None:
                break
            at, special = int(found[0]), str(found[1])
            parts.append((text[:at], special))
            text = text[at + len(special) :]
        return parts, text

    def _encode_split(self, text: str, allowed: list[str]) -> list[int]:
        """Encoding for a pattern without a scanner: pieces from `regex`, merged in C++."""
        text = utf8_safe(text)  # as tiktoken: surrogate pairs joined, lone ones U+FFFD
        parts, tail = self._segments(text, allowed)
        out: list[int] = []
        for plain, special in [*parts, (tail, "")]:
            for piece in self._pieces(plain):
                out.extend(self._encode_single_piece(piece))
            if special:
                out.append(self._special_tokens[special])
        return out

    def _encode_tracking(self, text: str, allowed: list[str]) -> tuple[list[int], int]:
        """(tokens, number of tokens of the last pre-token piece; 0 when the text ends with a
        special token or is empty), as tiktoken's core ``encode`` returns them."""
        text = utf8_safe(text)
        if self._regex is not None:
            tokens = self._encode_split(text, allowed)
        else:
            tokens = self._tok._core.encode(text, allowed).tolist()
        _, tail = self._segments(text, allowed)
        pieces = self._pieces(tail) if tail else []
        return tokens, len(self._encode_single_piece(pieces[-1])) if pieces else 0

    # ---- pickling (registered encodings by name, as tiktoken) ---------------------------------

    def __getstate__(self) -> object:
        if ENCODINGS.get(self.name) is self:
            return self.name
        return {
            "name": self.name,
            "pat_str": self._pat_str,
            "mergeable_ranks": self._mergeable_ranks,
            "special_tokens": self._special_tokens,
        }

    def __setstate__(self, value: object) -> None:
        if isinstance(value, str):
            self.__dict__ = get_encoding(value).__dict__
            return
        if not isinstance(value, dict):
            raise InvalidInputError(f"cannot unpickle an Encoding from {type(value).__name__}")
        self.__init__(**value)  # type: ignore[misc]


@functools.lru_cache(maxsize=16)
def _compile(pattern: str) -> regex.Pattern[str]:
    import regex  # a core dependency; imported here, as only custom patterns need it

    try:
        return regex.compile(pattern)
    except regex.error as exc:
        raise InvalidInputError(f"pat_str is not a valid regular expression: {exc}") from exc


def _parse_ranks(data: bytes) -> dict[bytes, int]:
    ranks = {}
    for line in data.splitlines():
        if line:
            token, rank = line.split()
            ranks[base64.b64decode(token)] = int(rank)
    return ranks


def load_tiktoken_bpe(path: str | Path, expected_hash: str | None = None) -> dict[bytes, int]:
    """The ranks of a local ``.tiktoken`` file (``.gz`` too), checked against `expected_hash`
    (sha256) when given, for ``Encoding(mergeable_ranks=...)``. Unlike tiktoken's function of
    this name it never downloads: pass a path, not a URL."""
    if "://" in str(path):
        raise InvalidInputError(
            f"{path} is a URL; ctxengine never downloads: download it once and pass its path"
        )
    data = _tiktoken_files.read_rank_file(Path(path), expected_sha256=expected_hash or "")
    return _parse_ranks(data)


# ---- the registry ----------------------------------------------------------------------------

_lock = threading.RLock()
ENCODINGS: dict[str, Encoding] = {}


def list_encoding_names() -> list[str]:
    """Every encoding name :func:`get_encoding` knows (the four older ones need their rank
    files on this machine; see the module's docstring)."""
    return list(_NAMES)


def get_encoding(encoding_name: str) -> Encoding:
    """The registered encoding `encoding_name`, made once and shared.

    >>> get_encoding("o200k_base").n_vocab
    200019
    """
    if not isinstance(encoding_name, str):
        raise ValueError(f"Expected a string in get_encoding, got {type(encoding_name)}")
    enc = ENCODINGS.get(encoding_name)
    if enc is not None:
        return enc
    if encoding_name not in _NAMES:
        raise ValueError(f"Unknown encoding {encoding_name}. Known encodings: {', '.join(_NAMES)}")
    with _lock:
        enc = ENCODINGS.get(encoding_name)
        if enc is None:
            enc = ENCODINGS[encoding_name] = Encoding._registered(encoding_name)
    return enc


def encoding_for_model(model_name: str) -> Encoding:
    """The encoding of an OpenAI model (``"gpt-4o"`` -> o200k_base); KeyError when unknown."""
    return get_encoding(encoding_name_for_model(model_name))
