"""A checked tokenizer.json and its C++ pipeline (``_JsonCore``), and exact span counts over it
(``_JsonSpans``): what :class:`~ctxengine.tokenizers.tokenizer_json.JsonTokenizer` runs on.
docs/tokenizer_json.md lists what is supported."""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Callable, Collection, Iterable
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import regex

from .._native import core
from ..errors import BudgetError, FormatError, InvalidInputError, NotFoundError, UnsupportedError
from .byte_alphabet import BYTE_OF_CHAR
from .json_regex import GPT2_PATTERN, _regex_step, _RegexStep, _utf8, compile_pattern

_tj = core.tokenizer_json


_BEHAVIORS = {"Removed", "Isolated", "MergedWithPrevious", "MergedWithNext", "Contiguous"}
# HF's Whitespace pre-tokenizer (the Rust regex crate's semantics: the compiled "tiktoken" flavor).
_WHITESPACE = r"\w+|[^\w\s]+"
_MAX_REPEAT = 100_000  # Oniguruma's and the compiled path's limit
_REPEAT_COUNT = regex.compile(r"\{(\d+)(?:,(\d*))?\}|\{,(\d+)\}")


class _JsonSpans:
    """Exact span counts of one text for a tokenizer.json: each count re-encodes the span
    (O(span)), and fit / fit_start bisect over token starts, then characters, keeping the
    invariant of the core's SpanCounter::fit. Correct for every pipeline; the prefix-sum
    shortcut of tiktoken-family tokenizers is not implemented for tokenizer.json files."""

    def __init__(self, core_: _JsonCore, text: str) -> None:
        text.encode("utf-8")  # lone surrogates: UnicodeEncodeError, and the caller repairs
        self._core = core_
        self._text = text
        self.total = core_.count(text, ())

    def __len__(self) -> int:
        return len(self._text)

    def count(self, start: int, end: int) -> int:
        return self._core.count(self._text[start:end], ())

    def count_many(self, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
        return np.array(
            [self.count(int(a), int(b)) for a, b in zip(starts, ends, strict=True)], np.int64
        )

    def _token_starts(self, start: int, end: int) -> list[int]:
        """Where each token of text[start:end] starts, in token order (str offsets)."""
        _, off = self._core.token_offsets(self._text[start:end], ())
        return [start + int(x) for x in off[:, 0]]

    def fit(self, start: int, end: int, limit: int) -> int:
        if self.count(start, end) <= limit:
            return end
        lo, hi = start, end  # count(start, lo) <= limit < count(start, hi)
        starts = self._token_starts(start, end)
        # First guess: the text before the first token past the limit; it nearly always fits
        # and one more character nearly always does not.
        if limit < len(starts) and lo < starts[limit] < hi:
            guess = starts[limit]
            if self.count(start, guess) <= limit:
                lo = guess
                if self.count(start, guess + 1) > limit:
                    return guess
            else:
                hi = guess
        lo, hi = _narrow(lo, hi, starts, lambda x: self.count(start, x) <= limit)
        return lo

    def fit_start(self, start: int, end: int, limit: int) -> int:
        if self.count(start, end) <= limit:
            return start
        lo, hi = start, end  # count(lo, end) > limit >= count(hi, end)
        starts = self._token_starts(start, end)
        if 0 < limit <= len(starts) and lo < starts[len(starts) - limit] < hi:
            guess = starts[len(starts) - limit]  # where the last `limit` tokens start
            if self.count(guess, end) <= limit:
                hi = guess
                if self.count(guess - 1, end) > limit:
                    return guess
            else:
                lo = guess
        lo, hi = _narrow(lo, hi, starts, lambda x: self.count(x, end) > limit)
        return hi


def _narrow(lo: int, hi: int, marks: Iterable[int], low: Callable[[int], bool]) -> tuple[int, int]:
    """Bisection between lo < hi, where low(lo) holds and low(hi) does not: first over the
    marks strictly between them (token starts: few counts), then over every offset, down to
    hi == lo + 1."""
    inner = sorted({x for x in marks if lo < x < hi})
    a, b = -1, len(inner)
    while b - a > 1:
        mid = (a + b) // 2
        if low(inner[mid]):
            a, lo = mid, inner[mid]
        else:
            b, hi = mid, inner[mid]
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if low(mid):
            lo = mid
        else:
            hi = mid
    return lo, hi


class _JsonCore:
    """A checked tokenizer.json and its C++ pipeline, with the methods that
    :class:`ctxengine.tokenizer.Tokenizer` calls on its native object (special tokens in
    `allowed` are recognized, the others are plain text; the policy lives in Tokenizer)."""

    def __init__(
        self, spec: dict[str, Any], *, name: str, scanners: bool = True, parsed: Any = None
    ) -> None:
        self.name = name
        self._parsed = parsed  # the BPE vocab and merges parsed in C++ (large files), or None
        self.pattern = ""  # the Split regex when there is exactly one
        self._scanners = scanners  # False: every regex step takes the general path (tests)
        self._pipe = _tj.Pipeline()
        self._steps: list[_RegexStep | None] = []  # None: a native step
        # What decides whether a BpeTokenizer twin counts like the pipeline (see _twin).
        self._normalizer_kinds: list[str] = []
        self._pre_plan: list[str] = []  # per step: "scanner:<name>", "bytelevel" or "other"
        # () -> (tokens, ids, left, right, ignore_merges) of a byte-level BPE model, or None
        self._bpe_arrays: Callable[[], tuple[list[str], Any, Any, Any, bool]] | None = None
        self._added: list[dict[str, Any]] = []
        self._build(spec)
        self._pipe.finalize()
        self._all_on = np.ones(len(self._added), dtype=np.uint8)
        self.special_tokens: dict[str, int] = {
            t["content"]: int(t["id"]) for t in self._added if t["special"]
        }
        self.added_tokens: dict[str, int] = {t["content"]: int(t["id"]) for t in self._added}

    # ---- construction ------------------------------------------------------------------------

    @classmethod
    def from_file(cls, path: str | os.PathLike[str]) -> _JsonCore:
        """Read and check a ``tokenizer.json``; errors name the file."""
        p = Path(path)
        try:
            raw = p.read_bytes()
        except FileNotFoundError:
            raise NotFoundError(f"no such tokenizer file: {p}") from None
        except IsADirectoryError:
            raise InvalidInputError(f"{p} is a directory, not a tokenizer.json file") from None
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise FormatError(f"{p}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
        return cls._from_text(text, raw, name=str(p))

    @classmethod
    def from_str(cls, text: str, *, name: str = "tokenizer.json") -> _JsonCore:
        """Build from the JSON text of a ``tokenizer.json``; `name` is used in error messages."""
        return cls._from_text(text, text.encode("utf-8", "surrogatepass"), name=name)

    @classmethod
    def _from_text(cls, text: str, raw: bytes, *, name: str) -> _JsonCore:
        # A BPE model's vocab and merges (most of a large file) are parsed in C++; Python's json
        # reads the rest. Anything the C++ reader does not take (malformed JSON, odd merges)
        # goes through json alone, which words the error.
        parsed = None
        try:
            parsed = _tj.parse_bpe_json(raw, name)
            if parsed is not None:
                text = parsed.rest
        except (FormatError, UnicodeDecodeError):  # e.g. a str with lone surrogates
            parsed = None
        try:
            spec = json.loads(text)
        except json.JSONDecodeError as exc:
            raise FormatError(
                f"{name}: not valid JSON ({exc.msg} at line {exc.lineno} column {exc.colno}); "
                "the file may be truncated"
            ) from None
        if not isinstance(spec, dict):
            raise FormatError(f"{name}: a tokenizer.json holds a JSON object at the top level")
        try:
            return cls(spec, name=name, parsed=parsed)
        except (KeyError, TypeError, ValueError, AttributeError, OverflowError) as exc:
            if isinstance(exc, (FormatError, UnsupportedError, InvalidInputError)):
                raise
            raise FormatError(f"{name}: malformed tokenizer.json ({_describe(exc)})") from None

    def _fail(self, what: str) -> FormatError:
        return FormatError(f"{self.name}: {what}")

    def _unsupported(self, component: str, detail: str = "") -> UnsupportedError:
        more = f" ({detail})" if detail else ""
        return UnsupportedError(
            f"{self.name}: {component} is not supported{more}; ctxengine reproduces HF "
            "tokenizers exactly only for the components listed in docs/tokenizer_json.md"
        )

    def _build(self, spec: dict[str, Any]) -> None:
        model = spec.get("model")
        if not isinstance(model, dict):
            raise self._fail("no 'model' object")
        self._build_normalizer(spec.get("normalizer"))
        byte_level = self._build_pre_tokenizer(spec.get("pre_tokenizer"))
        self._build_model(model, byte_level)
        self._build_added_tokens(spec.get("added_tokens") or [])
        self._build_post_processor(spec.get("post_processor"))
        self._build_decoder(spec.get("decoder"))

    def _build_normalizer(self, node: Any) -> None:
        for n in _flatten(node, "normalizers", self):
            kind = _type(n, "normalizer", self)
            self._normalizer_kinds.append(kind)
            if kind == "BertNormalizer":
                lowercase = bool(n.get("lowercase", True))
                strip = n.get("strip_accents")
                self._pipe.add_normalizer(
                    kind,
                    clean_text=bool(n.get("clean_text", True)),
                    handle_chinese_chars=bool(n.get("handle_chinese_chars", True)),
                    strip_accents=lowercase if strip is None else bool(strip),
                    lowercase=lowercase,
                )
            elif kind in ("Lowercase", "NFD", "NFKD", "NFC", "NFKC", "StripAccents"):
                self._pipe.add_normalizer(kind)
            elif kind == "Strip":
                self._pipe.add_normalizer(
                    kind, left=bool(n["strip_left"]), right=bool(n["strip_right"])
                )
            elif kind == "Replace":
                pattern = n["pattern"]
                if "String" not in pattern:
                    raise self._unsupported("the Replace normalizer with a regex", str(pattern))
                self._pipe.add_normalizer(
                    kind, pattern=str(pattern["String"]), content=str(n["content"])
                )
            elif kind == "Prepend":
                self._pipe.add_normalizer(kind, content=str(n["prepend"]))
            else:
                raise self._unsupported(f"the {kind} normalizer")

    def _build_pre_tokenizer(self, node: Any) -> bool:
        """Adds the steps; returns whether a ByteLevel step makes the vocabulary byte-level."""
        byte_level = metaspace = False
        for n in _flatten(node, "pretokenizers", self):
            kind = _type(n, "pre_tokenizer", self)
            self._pre_plan.append("other")  # refined below for the steps a twin can follow
            # After ByteLevel the text is GPT-2's byte alphabet, one character per byte; the
            # steps that split it (Falcon's Digits and Split) run on that text.
            if metaspace or (byte_level and kind not in ("Digits", "Punctuation", "Split")):
                before = "ByteLevel" if byte_level else "Metaspace"
                raise self._unsupported(
                    f"a {kind} pre-tokenizer after {before}",
                    "after ByteLevel only Digits, Punctuation and Split are" if byte_level else "",
                )
            if kind in ("BertPreTokenizer", "WhitespaceSplit"):
                self._pipe.add_pre_tokenizer(kind)
                self._steps.append(None)
            elif kind == "ByteLevel":
                byte_level = True
                prefix = bool(n.get("add_prefix_space", True))
                if n.get("use_regex", True) and self._scanners:
                    self._pipe.add_pre_tokenizer(
                        "Scanner", add_prefix_space=prefix, scanner="r50k_base"
                    )
                    self._steps.append(None)
                    if not prefix:
                        self._pre_plan[-1] = "scanner:r50k_base"
                elif n.get("use_regex", True):
                    step = _RegexStep(compile_pattern(GPT2_PATTERN), "Isolated", False, prefix)
                    self._pipe.add_pre_tokenizer("External")
                    self._steps.append(step)
                else:
                    self._pipe.add_pre_tokenizer(kind, add_prefix_space=prefix)
                    self._steps.append(None)
                    if not prefix:
                        self._pre_plan[-1] = "bytelevel"
            elif kind == "Digits":
                behavior = "Isolated" if n.get("individual_digits", False) else "Contiguous"
                self._pipe.add_pre_tokenizer(kind, behavior=behavior, byte_level=byte_level)
                self._steps.append(None)
            elif kind == "Punctuation":
                behavior = str(n.get("behavior", "Isolated"))
                if behavior not in _BEHAVIORS:
                    raise self._fail(f"unknown Punctuation behavior {behavior!r}")
                self._pipe.add_pre_tokenizer(kind, behavior=behavior, byte_level=byte_level)
                self._steps.append(None)
            elif kind == "Whitespace":
                # HF: the matches of \w+|[^\w\s]+ (the Rust regex crate), the rest removed.
                if self._scanners:
                    self._pipe.add_pre_tokenizer(
                        "Regex", pattern=_WHITESPACE, behavior="Removed", invert=True,
                        flavor="tiktoken",
                    )  # fmt: skip
                    self._steps.append(None)
                else:
                    step = _RegexStep(compile_pattern(_WHITESPACE), "Removed", True)
                    self._pipe.add_pre_tokenizer("External")
                    self._steps.append(step)
            elif kind == "Metaspace":
                metaspace = True
                self._pipe.add_pre_tokenizer(
                    kind,
                    prepend_scheme=_prepend_scheme(n),
                    split=bool(n.get("split", True)),
                    replacement=_replacement(n, self),
                )
                self._steps.append(None)
            elif kind == "Split":
                behavior = str(n["behavior"])
                if behavior not in _BEHAVIORS:
                    raise self._fail(f"unknown Split behavior {behavior!r}")
                pattern = n["pattern"]
                if "Regex" in pattern:
                    source = str(pattern["Regex"])
                elif "String" in pattern:
                    source = regex.escape(str(pattern["String"]))
                else:
                    raise self._fail(f"a Split pattern needs 'String' or 'Regex': {pattern}")
                invert = bool(n.get("invert", False))
                scanner = core.tokenizer.identify_pattern(source)
                hand_written = not byte_level and scanner != "custom"  # they read raw UTF-8
                if self._scanners and behavior == "Isolated" and not invert and hand_written:
                    self._pipe.add_pre_tokenizer("Scanner", scanner=scanner)
                    self._steps.append(None)
                    self._pre_plan[-1] = f"scanner:{scanner}"
                elif self._scanners and self._add_compiled(source, behavior, invert, byte_level):
                    self._steps.append(None)
                else:
                    self._check_repetitions(source)
                    try:
                        compiled = compile_pattern(source)
                    except regex.error as exc:
                        raise self._unsupported("the Split pattern", f"{source!r}: {exc}") from None
                    self._pipe.add_pre_tokenizer("External")
                    self._steps.append(
                        _RegexStep(compiled, behavior, invert, byte_level=byte_level)
                    )
                self.pattern = source if not self.pattern else ""
            else:
                raise self._unsupported(f"the {kind} pre-tokenizer")
        return byte_level

    def _add_compiled(self, source: str, behavior: str, invert: bool, byte_level: bool) -> bool:
        """Adds the Split step compiled in C++; False when the pattern is outside the compiled
        dialect (the general path takes it). A pattern that asks for unbounded work (a
        repetition count over 100,000, say) refuses the file."""
        try:
            self._pipe.add_pre_tokenizer(
                "Regex", pattern=source, behavior=behavior, invert=invert, flavor="oniguruma",
                byte_level=byte_level,
            )  # fmt: skip
        except (UnsupportedError, FormatError):
            return False
        except BudgetError as exc:
            raise self._unsupported("the Split pattern", str(exc)) from None
        return True

    def _check_repetitions(self, source: str) -> None:
        """The general path's guard against patterns whose compilation alone takes unbounded
        time (`regex` expands a{99999999}): the compiled path's repetition limit, checked
        lexically."""
        for match in _REPEAT_COUNT.finditer(source):
            count = max(int(x) for x in match.groups() if x)
            if count > _MAX_REPEAT:
                raise self._unsupported(
                    "the Split pattern",
                    f"a repetition count of {count} is over the limit of {_MAX_REPEAT}",
                )

    def _build_model(self, m: dict[str, Any], byte_level: bool) -> None:
        kind = m.get("type") or _untyped_model(m)
        if kind not in ("BPE", "WordPiece"):
            raise self._unsupported(f"the {kind} model", "only BPE and WordPiece are")
        if self._parsed is not None and kind == "BPE":
            return self._build_parsed_bpe(m, byte_level)
        vocab = m.get("vocab")
        if not isinstance(vocab, dict) or not vocab:
            raise self._fail(f"the {kind} model has no 'vocab' object")
        tokens = list(vocab)
        try:
            ids = np.array([vocab[t] for t in tokens], dtype=np.int64)
        except (TypeError, ValueError, OverflowError):
            raise self._fail("vocabulary ids must be integers") from None
        if ids.min() < 0 or ids.max() >= 2**32 - 1:
            raise self._fail("vocabulary ids must be in [0, 2**32 - 1)")
        self._check_unique_ids(ids, tokens)
        self._max_id = int(ids.max())
        self._model_vocab: Any = vocab
        self._vocab_size = len(vocab)
        if kind == "WordPiece":
            unk = str(m.get("unk_token", "[UNK]"))
            if unk not in vocab:
                raise self._fail(f"the WordPiece unk_token {unk!r} is not in the vocabulary")
            self._pipe.set_wordpiece(
                tokens,
                ids.astype(np.uint32),
                unk_id=int(vocab[unk]),
                continuing_subword_prefix=str(m.get("continuing_subword_prefix", "##")),
                max_input_chars_per_word=int(m.get("max_input_chars_per_word", 100)),
            )
        else:
            self._build_bpe(m, vocab, tokens, ids, byte_level)

    def _build_bpe(
        self, m: dict[str, Any], vocab: dict[str, int], tokens: list[str], ids: Any, bl: bool
    ) -> None:
        if m.get("dropout") not in (None, 0, 0.0):
            raise self._unsupported("BPE dropout", "it makes tokenization random")
        merges = m.get("merges")
        if not isinstance(merges, list):
            raise self._fail("the BPE model has no 'merges' list")
        left = np.empty(len(merges), dtype=np.uint32)
        right = np.empty(len(merges), dtype=np.uint32)
        merged = np.empty(len(merges), dtype=np.uint32)
        prefix = str(m.get("continuing_subword_prefix") or "")
        for i, entry in enumerate(merges):
            if isinstance(entry, str):
                parts = entry.split(" ")
            elif isinstance(entry, list):
                parts = entry
            else:
                raise self._fail(f"merge {i} is neither 'a b' nor ['a', 'b']: {entry!r}")
            if len(parts) != 2:
                raise self._fail(f"merge {i} does not have two parts: {entry!r}")
            a, b = parts
            joined = a + (b[len(prefix) :] if prefix and b.startswith(prefix) else b)
            try:
                left[i], right[i], merged[i] = vocab[a], vocab[b], vocab[joined]
            except KeyError as exc:
                raise self._fail(f"merge {i} ({entry!r}) uses {exc} not in the vocab") from None
        unk = m.get("unk_token")
        if unk is not None and unk not in vocab:
            raise self._fail(f"the BPE unk_token {unk!r} is not in the vocabulary")
        if bl and not prefix and not m.get("end_of_word_suffix"):
            arrays = (tokens, ids, left, right, bool(m.get("ignore_merges", False)))
            self._bpe_arrays = lambda: arrays

        def raw(s: str) -> bytes:
            if not bl:
                return s.encode("utf-8")
            return bytes(BYTE_OF_CHAR[c] for c in s)

        self._pipe.set_bpe(
            tokens,
            ids.astype(np.uint32),
            left,
            right,
            merged,
            byte_level=bl,
            ignore_merges=bool(m.get("ignore_merges", False)),
            byte_fallback=bool(m.get("byte_fallback", False)),
            fuse_unk=bool(m.get("fuse_unk", False)),
            unk_id=-1 if unk is None else int(vocab[unk]),
            continuing_subword_prefix=raw(prefix),
            end_of_word_suffix=raw(str(m.get("end_of_word_suffix") or "")),
        )

    def _check_unique_ids(self, ids: np.ndarray, tokens: list[str] | None) -> None:
        unique, counts = np.unique(ids, return_counts=True)
        if (counts > 1).any():  # HF would decode such an id to either token, by hash order
            dup = int(unique[counts > 1][0])
            which = ""
            if tokens is not None:
                a, b = [t for t, i in zip(tokens, ids.tolist(), strict=True) if i == dup][:2]
                which = f", {a!r} and {b!r}"
            raise self._fail(f"the vocabulary gives id {dup} to two tokens{which}")

    def _build_parsed_bpe(self, m: dict[str, Any], bl: bool) -> None:
        """_build_bpe over the vocab and merges the C++ reader parsed (the same checks)."""
        p = self._parsed
        if p.size == 0:
            raise self._fail("the BPE model has no 'vocab' object")
        if p.min_id < 0 or p.max_id >= 2**32 - 1:
            raise self._fail("vocabulary ids must be in [0, 2**32 - 1)")
        if m.get("dropout") not in (None, 0, 0.0):
            raise self._unsupported("BPE dropout", "it makes tokenization random")
        self._check_unique_ids(np.asarray(p.ids(), dtype=np.int64), None)
        tokens = p.tokens()
        if len(set(tokens)) != len(tokens):  # JSON would keep the last; refuse, as ids above
            dup = next(t for t, n in Counter(tokens).items() if n > 1)
            raise self._fail(f"the vocabulary lists the token {dup!r} twice")
        self._max_id = int(p.max_id)
        self._model_vocab = _ParsedVocab(p)
        self._vocab_size = int(p.size)
        prefix = str(m.get("continuing_subword_prefix") or "")
        suffix = str(m.get("end_of_word_suffix") or "")
        unk = m.get("unk_token")
        unk_id = None if unk is None else p.id_of(str(unk))
        if unk is not None and unk_id is None:
            raise self._fail(f"the BPE unk_token {unk!r} is not in the vocabulary")
        ignore_merges = bool(m.get("ignore_merges", False))

        def raw(s: str) -> bytes:
            return bytes(BYTE_OF_CHAR[c] for c in s) if bl else s.encode("utf-8")

        self._pipe.set_bpe_parsed(
            p,
            byte_level=bl,
            ignore_merges=ignore_merges,
            byte_fallback=bool(m.get("byte_fallback", False)),
            fuse_unk=bool(m.get("fuse_unk", False)),
            unk_id=-1 if unk_id is None else int(unk_id),
            prefix=prefix,
            continuing_subword_prefix=raw(prefix),
            end_of_word_suffix=raw(suffix),
            source=self.name,
        )
        if bl and not prefix and not suffix:

            def arrays() -> tuple[list[str], Any, Any, Any, bool]:
                left, right = p.merge_ids()
                return p.tokens(), p.ids(), left, right, ignore_merges

            self._bpe_arrays = arrays

    def _build_added_tokens(self, added: Any) -> None:
        if not isinstance(added, list):
            raise self._fail("'added_tokens' must be a list")
        for t in added:
            if not isinstance(t, dict) or "content" not in t or "id" not in t:
                raise self._fail(f"an added token needs 'content' and 'id': {t!r}")
            content = str(t["content"])
            if not content:
                continue  # HF ignores empty added tokens
            if t.get("single_word"):
                raise self._unsupported(f"the single_word flag of added token {content!r}")
            special = bool(t.get("special", False))
            token_id = self._added_token_id(content, t["id"])
            self._pipe.add_token(
                content,
                token_id,
                special=special,
                lstrip=bool(t.get("lstrip", False)),
                rstrip=bool(t.get("rstrip", False)),
                normalized=bool(t.get("normalized", not special)),
            )
            self._added.append({"content": content, "id": token_id, "special": special})

    def _added_token_id(self, content: str, file_id: Any) -> int:
        """The id HF gives an added token, which is not always the file's: the id of the same
        content added before, else the model vocabulary's id for it, else the next id after the
        vocabulary and the added tokens it does not hold (as tokenizers 0.23 assigns them). HF
        only warns when the file says otherwise; a hand-edited file can (found by
        fuzz/fuzz_tokenizer_json.py)."""
        if not isinstance(file_id, int) or isinstance(file_id, bool) or file_id < 0:
            raise self._fail(f"added token {content!r} has id {file_id!r}, not an integer >= 0")
        for a in self._added:
            if a["content"] == content:
                return int(a["id"])
        model_id = self._model_vocab.get(content)
        if model_id is not None:
            return int(model_id)
        beyond = [a["id"] for a in self._added if self._model_vocab.get(a["content"]) is None]
        return max([self._vocab_size, *(i + 1 for i in beyond)])

    def _build_post_processor(self, node: Any) -> None:
        prefix: list[int] = []
        suffix: list[int] = []
        for n in _flatten(node, "processors", self):
            kind = _type(n, "post_processor", self)
            if kind == "TemplateProcessing":
                specials = n.get("special_tokens") or {}
                seen_sequence = False
                for item in n["single"]:
                    if "Sequence" in item:
                        seen_sequence = True
                        continue
                    name = item["SpecialToken"]["id"]
                    if name not in specials:
                        raise self._fail(
                            f"post_processor token {name!r} has no special_tokens entry"
                        )
                    (suffix if seen_sequence else prefix).extend(
                        int(i) for i in specials[name]["ids"]
                    )
            elif kind in ("BertProcessing", "RobertaProcessing"):
                prefix.append(int(n["cls"][1]))
                suffix.append(int(n["sep"][1]))
            elif kind != "ByteLevel":  # ByteLevel only trims offsets
                raise self._unsupported(f"the {kind} post-processor")
        self.special_prefix: tuple[int, ...] = tuple(prefix)
        self.special_suffix: tuple[int, ...] = tuple(suffix)
        self._pipe.set_post_processor(np.array(prefix, np.uint32), np.array(suffix, np.uint32))

    def _build_decoder(self, node: Any) -> None:
        for n in _flatten(node, "decoders", self):
            kind = _type(n, "decoder", self)
            if kind == "ByteLevel" or kind in ("ByteFallback", "Fuse"):
                self._pipe.add_decoder(kind)
            elif kind == "WordPiece":
                self._pipe.add_decoder(
                    kind, text=str(n.get("prefix", "##")), cleanup=bool(n.get("cleanup", True))
                )
            elif kind == "BPEDecoder":
                self._pipe.add_decoder(kind, text=str(n.get("suffix", "</w>")))
            elif kind == "Strip":
                self._pipe.add_decoder(
                    kind, text=str(n["content"]), start=int(n["start"]), stop=int(n["stop"])
                )
            elif kind == "Metaspace":
                self._pipe.add_decoder(
                    kind, text=_replacement(n, self), cleanup=_prepend_scheme(n) != "never"
                )
            elif kind == "Replace":
                pattern = n["pattern"]
                if "String" not in pattern:
                    raise self._unsupported("the Replace decoder with a regex", str(pattern))
                self._pipe.add_decoder(kind, text=str(pattern["String"]), content=str(n["content"]))
            else:
                raise self._unsupported(f"the {kind} decoder")

    # ---- the native protocol of ctxengine.tokenizer.Tokenizer ------------------------------

    @property
    def n_vocab(self) -> int:
        """One more than the largest id (model vocabulary and added tokens)."""
        largest = max([self._max_id, *self.added_tokens.values()])
        return int(largest) + 1

    def _mask(self, allowed: Collection[str]) -> np.ndarray:
        if not self._added:
            return self._all_on
        allowed_set = set(allowed)
        return np.array(
            [(not t["special"]) or t["content"] in allowed_set for t in self._added], np.uint8
        )

    def encode(self, text: str, allowed: Collection[str]) -> np.ndarray:
        """Ids of `text` with the special tokens in `allowed` recognized (others are text)."""
        data = _utf8(text)
        mask = self._mask(allowed)
        if self._pipe.has_external_steps:
            return self._encode_general(data, mask, False)  # type: ignore[no-any-return]
        return self._pipe.encode(data, mask, add_special=False)  # type: ignore[no-any-return]

    def token_offsets(self, text: str, allowed: Collection[str]) -> tuple[np.ndarray, np.ndarray]:
        """Ids and, per token, the ``(start, end)`` str offsets of the text it came from."""
        data = _utf8(text)
        mask = self._mask(allowed)
        if self._pipe.has_external_steps:
            ids, off = self._encode_general(data, mask, True)
        else:
            ids, off = self._pipe.encode(data, mask, add_special=False, offsets=True)
        flat = core.text.char_offsets(data, np.ascontiguousarray(off.reshape(-1)))
        return ids, flat.reshape(-1, 2)

    def encode_with_offsets(self, text: str, allowed: Collection[str]) -> tuple[Any, Any]:
        ids, off = self.token_offsets(text, allowed)
        return ids, np.ascontiguousarray(off[:, 0])

    def count(self, text: str, allowed: Collection[str]) -> int:
        data = _utf8(text)
        mask = self._mask(allowed)
        if self._pipe.has_external_steps:
            return len(self._encode_general(data, mask, False))
        return int(self._pipe.count(data, mask, add_special=False))

    def count_many(self, texts: list[str], allowed: Collection[str], threads: int) -> np.ndarray:
        mask = self._mask(allowed)
        datas = [_utf8(t) for t in texts]
        if self._pipe.has_external_steps:
            counts = [len(self._encode_general(d, mask, False)) for d in datas]
            return np.array(counts, dtype=np.int64)
        return self._pipe.count_many(datas, mask, add_special=False, threads=threads)  # type: ignore[no-any-return]

    def decode_bytes(self, ids: np.ndarray, skip_special: bool = False) -> bytes:
        return str(self._pipe.decode(ids, skip_special=skip_special)).encode("utf-8")

    def find_special(self, text: str, known: Collection[str]) -> tuple[int, str] | None:
        """The first special token of `known` in `text`, as (str offset, token), or None."""
        wanted = set(known)
        check = np.array([t["content"] in wanted for t in self._added], np.uint8)
        data = _utf8(text)
        pos, index = self._pipe.find_token(data, check)
        if index < 0:
            return None
        start = int(core.text.char_offsets(data, np.array([pos], dtype=np.int64))[0])
        return start, str(self._added[index]["content"])

    # ---- span counting ------------------------------------------------------------------------

    @cached_property
    def span_counting(self) -> Any | None:
        """The native span counting of this pipeline (``None`` when Python runs one of its
        pre-tokenizer steps): chunking takes it as its tokenizer."""
        if self._pipe.has_external_steps:
            return None
        return _tj.SpanCounting(self._pipe, self._twin())

    def _twin(self) -> Any | None:
        """A BpeTokenizer that encodes every text exactly as this pipeline does when no added
        token is matched and the normalizer changes nothing (checked per text by
        SpanCounting.twin_applies), or None when the pipeline is not of that shape: a byte-level
        BPE model without subword affixes, one native scanner (a Split of a known pattern
        before ByteLevel without its regex, or ByteLevel's own regex) and no prefix space, and
        no normalizer or one whose identity on a text holds on its substrings."""
        plan = self._pre_plan
        if plan == ["scanner:r50k_base"]:
            scanner = "r50k_base"
        elif len(plan) == 2 and plan[0].startswith("scanner:") and plan[1] == "bytelevel":
            scanner = plan[0].removeprefix("scanner:")
        else:
            return None
        if self._bpe_arrays is None or not set(self._normalizer_kinds) <= _SUBSTRING_CLOSED:
            return None
        if len(self._normalizer_kinds) > 1:  # identity of a sequence is not checked per step
            return None
        tokens, ids, left, right, ignore_merges = self._bpe_arrays()
        byte_tokens: list[tuple[bytes, int]] = []
        for token, token_id in zip(tokens, ids.tolist(), strict=True):
            try:
                byte_tokens.append((bytes(BYTE_OF_CHAR[c] for c in token), token_id))
            except KeyError:
                continue  # not spelled in the byte alphabet: BPE on bytes never makes it
        known = {i for _, i in byte_tokens}
        merges = [
            (a, b)
            for a, b in zip(left.tolist(), right.tolist(), strict=True)
            if a in known and b in known
        ]
        try:
            return core.tokenizer.BpeTokenizer.from_vocab(
                self.name, byte_tokens, merges, ignore_merges, scanner, [], self.name
            )
        except (FormatError, InvalidInputError, UnsupportedError):
            return None  # e.g. a byte without a token: the pipeline counts alone

    def _twin_for(self, text: str) -> Any | None:
        """The twin when it counts every span of `text` exactly, else None."""
        counting = self.span_counting
        if counting is None or counting.twin is None:
            return None
        return counting.twin if counting.twin_applies(_utf8(text)) else None

    def spans(self, text: str) -> Any:
        twin = self._twin_for(text)
        return twin.spans(text) if twin is not None else _JsonSpans(self, text)

    def count_until(self, text: str, limit: int) -> tuple[int, int]:
        twin = self._twin_for(text)
        if twin is not None:
            tokens, end = twin.count_until(text, limit)
            return int(tokens), int(end)
        spans = _JsonSpans(self, text)
        end = spans.fit(0, len(text), limit)
        return spans.count(0, end), end

    def _encode_general(self, data: bytes, mask: np.ndarray, offsets: bool) -> Any:
        prepared = self._pipe.prepare(data, mask, alignment=offsets)
        segs = prepared.segments
        pieces = np.zeros((len(segs), 4), dtype=np.int64)
        pieces[:, :3] = segs
        text = prepared.text
        for index, step in enumerate(self._steps):
            if step is None:
                pieces = self._pipe.run_step(index, prepared, pieces)
            else:
                pieces = _regex_step(step, text, pieces)
        return self._pipe.encode_pieces(prepared, pieces, add_special=False, offsets=offsets)


# Normalizers whose output equals their input on a text only if it does on every substring of
# it (Lowercase works per character; a substring of a Unicode-normalized string is normalized).
_SUBSTRING_CLOSED = frozenset({"Lowercase", "NFC", "NFD", "NFKC", "NFKD"})


class _ParsedVocab:
    """The `get` of a vocab dict, over the C++ parsed vocabulary."""

    def __init__(self, parsed: Any) -> None:
        self._parsed = parsed

    def get(self, token: str) -> int | None:
        found = self._parsed.id_of(token)
        return None if found is None else int(found)


def _flatten(node: Any, key: str, owner: _JsonCore) -> list[dict[str, Any]]:
    """A component and its Sequence children, in order; [] for null."""
    if node is None:
        return []
    if not isinstance(node, dict):
        raise owner._fail(f"a component must be a JSON object or null, got {node!r}")
    if node.get("type") == "Sequence":
        children = node.get(key)
        if not isinstance(children, list):
            raise owner._fail(f"a Sequence needs a '{key}' list")
        out: list[dict[str, Any]] = []
        for child in children:
            out.extend(_flatten(child, key, owner))
        return out
    return [node]


def _type(node: dict[str, Any], component: str, owner: _JsonCore) -> str:
    kind = node.get("type")
    if not isinstance(kind, str):
        raise owner._fail(f"the {component} has no 'type': {node!r}")
    return kind


def _prepend_scheme(node: dict[str, Any]) -> str:
    """Metaspace's prepend_scheme; files written before it existed say add_prefix_space."""
    scheme = node.get("prepend_scheme")
    if scheme is None:
        return "always" if node.get("add_prefix_space", True) else "never"
    return str(scheme)


def _replacement(node: dict[str, Any], owner: _JsonCore) -> str:
    replacement = str(node.get("replacement", "\u2581"))
    if len(replacement) != 1:
        raise owner._fail(f"a Metaspace replacement must be one character: {replacement!r}")
    return replacement


def _describe(exc: BaseException) -> str:
    if isinstance(exc, KeyError):
        return f"missing field {exc}"
    return str(exc) or type(exc).__name__


def _untyped_model(m: dict[str, Any]) -> str:
    """The model HF reads from a "model" without "type": the first of BPE, WordPiece and
    WordLevel whose fields are all there (found by fuzz/fuzz_tokenizer_json.py: a WordPiece
    without its continuing_subword_prefix is a WordLevel model to HF)."""
    if "merges" in m:
        return "BPE"
    if "continuing_subword_prefix" in m and "max_input_chars_per_word" in m:
        return "WordPiece"
    return "WordLevel" if "unk_token" in m else "untyped"
