"""The tiktoken drop-in (ctxengine.integrations.tiktoken) against tiktoken itself.

The oracle is the real tiktoken package, its encodings built offline (tests/tok_oracles.py), on
real text, hypothesis-drawn text and bytes, and the edge cases its API is known for. tiktoken's
own test suite runs against the drop-in in tests/test_tiktoken_upstream.py.
"""

from __future__ import annotations

import hashlib
import pickle
import subprocess
import sys
from pathlib import Path

import pytest
import tiktoken
from hypothesis import given, settings
from hypothesis import strategies as st

import ctxengine
import ctxengine.integrations.tiktoken as dropin
import tok_oracles
from corpus import cjk_texts, english_prose, multilingual, stdlib_sources
from ctxengine.tokenizers import registry
from ctxengine.tokenizers import tiktoken_files as files
from package_env import package_env

NAMES = ["cl100k_base", "o200k_base", "o200k_harmony"]


def _texts() -> list[str]:
    out = [t[:20_000] for _, t in english_prose(8) + stdlib_sources(6) + cjk_texts()[:4]]
    out += [t[:5_000] for _, t in multilingual()[:20]]
    return out


EDGES = [
    "",
    " ",
    "\n\n\n",
    "hello world",
    "  leading and trailing  ",
    "today\n \n",
    "'s 'S 'll 'LL",
    "a\u0300\u0301 e\u0301",
    "👍 \ud83d\udc4d \ud83d lone",
    "x" * 5000,
    " \x850",
    "<|endoftext|> <|fim_prefix|><|endofprompt|>",
    "\r\n\t\u3000\u00a0\u2028",
]


@pytest.mark.parametrize("name", NAMES)
def test_encode_decode_equal_tiktoken_on_real_text(name: str) -> None:
    ref, enc = tok_oracles.encoding(name), dropin.get_encoding(name)
    for text in _texts() + EDGES:
        ids = enc.encode(text, disallowed_special=())
        assert ids == ref.encode(text, disallowed_special=())
        assert isinstance(ids, list) and all(type(i) is int for i in ids[:5])
        assert enc.encode_ordinary(text) == ref.encode_ordinary(text)
        assert enc.encode(text, allowed_special="all") == ref.encode(text, allowed_special="all")
        assert enc.decode(ids) == ref.decode(ids)
        assert enc.decode_bytes(ids) == ref.decode_bytes(ids)
    assert enc.encode_to_numpy("hello world").tolist() == ref.encode("hello world")


@pytest.mark.parametrize("name", NAMES)
def test_vocabulary_attributes_equal_tiktoken(name: str) -> None:
    ref, enc = tok_oracles.encoding(name), dropin.get_encoding(name)
    assert enc.name == ref.name
    assert enc.n_vocab == ref.n_vocab
    assert enc.max_token_value == ref.max_token_value
    assert enc.eot_token == ref.eot_token
    assert enc.special_tokens_set == ref.special_tokens_set
    assert enc._special_tokens == ref._special_tokens
    assert enc._pat_str == ref._pat_str
    assert enc._mergeable_ranks == ref._mergeable_ranks
    assert enc.token_byte_values() == ref.token_byte_values()
    assert repr(enc) == repr(ref)
    for token in (0, 1000, ref.eot_token, ref.max_token_value):
        assert enc.is_special_token(token) == ref.is_special_token(token)


def test_single_tokens_equal_tiktoken() -> None:
    ref, enc = tok_oracles.encoding("o200k_harmony"), dropin.get_encoding("o200k_harmony")
    for token in [*range(0, ref.n_vocab, 97), *sorted(ref._special_tokens.values())]:
        try:
            want = ref.decode_single_token_bytes(token)
        except KeyError:
            with pytest.raises(KeyError):
                enc.decode_single_token_bytes(token)
            continue
        assert enc.decode_single_token_bytes(token) == want
        assert enc.encode_single_token(want) == ref.encode_single_token(want)
    for missing in (b"", b"not one token at all", "<|not special|>"):
        with pytest.raises(KeyError):
            ref.encode_single_token(missing)
        with pytest.raises(KeyError):
            enc.encode_single_token(missing)
    with pytest.raises(KeyError):
        enc.decode_single_token_bytes(ref.n_vocab + 5)
    with pytest.raises(KeyError):
        enc.decode([1, ref.n_vocab + 5])
    assert enc.decode_tokens_bytes([15339, 1917]) == ref.decode_tokens_bytes([15339, 1917])


def test_special_token_policy_equals_tiktoken() -> None:
    ref, enc = tok_oracles.encoding("cl100k_base"), dropin.get_encoding("cl100k_base")
    text = "a <|endoftext|> b <|fim_prefix|> c"
    cases = [
        {},
        {"disallowed_special": ()},
        {"allowed_special": "all"},
        {"allowed_special": {"<|fim_prefix|>"}},
        {"allowed_special": {"<|fim_prefix|>"}, "disallowed_special": ()},
        {"allowed_special": "all", "disallowed_special": {"<|endoftext|>"}},
        {"disallowed_special": {"<|fim_prefix|>"}},
        {"disallowed_special": {" b "}},  # any string may be disallowed, special or not
        {"allowed_special": {"not special"}, "disallowed_special": ()},
    ]
    for kwargs in cases:
        try:
            want = ref.encode(text, **kwargs)
        except ValueError as exc:
            with pytest.raises(ValueError) as got:
                enc.encode(text, **kwargs)
            assert str(got.value) == str(exc), kwargs
            continue
        assert enc.encode(text, **kwargs) == want, kwargs


@settings(max_examples=150)
@given(text=st.text())
def test_hypothesis_text_equals_tiktoken(text: str) -> None:
    ref, enc = tok_oracles.encoding("cl100k_base"), dropin.get_encoding("cl100k_base")
    assert enc.encode(text, disallowed_special=()) == ref.encode(text, disallowed_special=())


@settings(max_examples=150)
@given(data=st.binary(max_size=40))
def test_encode_bytes_equals_tiktoken(data: bytes) -> None:
    for name in ("cl100k_base", "o200k_base"):
        ref, enc = tok_oracles.encoding(name), dropin.get_encoding(name)
        assert enc._encode_bytes(data) == ref._encode_bytes(data)


@pytest.mark.parametrize(
    "data",
    [b" \xec\x8b\xa4\xed", b"hello \xff", b"\n\n \xe4\xbd", b"abc   \x80", b"\x80" * 7, b"x"],
)
def test_encode_bytes_edges(data: bytes) -> None:
    ref, enc = tok_oracles.encoding("cl100k_base"), dropin.get_encoding("cl100k_base")
    assert enc._encode_bytes(data) == ref._encode_bytes(data)
    assert enc.decode_bytes(enc._encode_bytes(data)) == data


@pytest.mark.parametrize(
    "text",
    ["hello fanta", "hello ", "hello\n", "x = 1\n\n", "我非常", "a <|endoftext|>", "", "  ", "é"],
)
def test_encode_with_unstable_equals_tiktoken(text: str) -> None:
    ref, enc = tok_oracles.encoding("cl100k_base"), dropin.get_encoding("cl100k_base")
    want_stable, want = ref.encode_with_unstable(text, allowed_special="all")
    got_stable, got = enc.encode_with_unstable(text, allowed_special="all")
    assert got_stable == want_stable
    assert sorted(map(tuple, got)) == sorted(map(tuple, want))
    with pytest.raises(ValueError):
        enc.encode_with_unstable("<|endoftext|>")


def test_offsets_equal_tiktoken() -> None:
    ref, enc = tok_oracles.encoding("o200k_base"), dropin.get_encoding("o200k_base")
    for text in [*EDGES[:8], "நடிகர் சூர்யா", " Ġ除", *(t[:3000] for t in _texts()[:6])]:
        ids = ref.encode(text, disallowed_special=())
        try:
            want = ref.decode_with_offsets(ids)
        except UnicodeDecodeError:
            with pytest.raises(UnicodeDecodeError):
                enc.decode_with_offsets(ids)
            continue
        assert enc.decode_with_offsets(ids) == want


def test_batches_equal_tiktoken() -> None:
    ref, enc = tok_oracles.encoding("cl100k_base"), dropin.get_encoding("cl100k_base")
    texts = [*_texts()[:12], "", "hello <|endoftext|>"]
    assert enc.encode_ordinary_batch(texts) == ref.encode_ordinary_batch(texts)
    encoded = enc.encode_batch(texts, allowed_special="all", num_threads=2)
    assert encoded == ref.encode_batch(texts, allowed_special="all")
    assert enc.decode_batch(encoded) == ref.decode_batch(encoded)
    assert enc.decode_bytes_batch(encoded) == ref.decode_bytes_batch(encoded)
    with pytest.raises(ValueError):
        enc.encode_batch(["fine", "<|endoftext|>"])


def test_private_helpers_equal_tiktoken() -> None:
    ref, enc = tok_oracles.encoding("cl100k_base"), dropin.get_encoding("cl100k_base")
    for piece in ["helloqqqq", " the", "<|endoftext|>", "ﬁ😀"]:
        assert enc._encode_single_piece(piece) == ref._encode_single_piece(piece)
        assert enc._encode_single_piece(piece.encode()) == ref._encode_single_piece(piece.encode())
    text = english_prose(1)[0][1][:4000]
    assert enc._encode_only_native_bpe(text) == ref._encode_only_native_bpe(text)


CUSTOM_PATTERNS = [
    r"\S+|\s+",  # no scanner: split in Python with `regex`
    r"""'(?:[sdmt]|ll|ve|re)| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+|(?<=x)y""",
    tok_oracles.pattern("cl100k_base"),  # a scanner: runs in C++
]


@pytest.mark.parametrize("pattern", CUSTOM_PATTERNS)
def test_hand_built_encoding_equals_tiktoken(pattern: str) -> None:
    ranks = tok_oracles.ranks("cl100k_base")
    specials = {"<|a|>": 100300, "<|bb|>": 100301}
    ref = tiktoken.Encoding("mine", pat_str=pattern, mergeable_ranks=ranks, special_tokens=specials)
    enc = dropin.Encoding("mine", pat_str=pattern, mergeable_ranks=ranks, special_tokens=specials)
    assert enc.n_vocab == ref.n_vocab == 100302
    for text in [*_texts()[:6], *EDGES, "x<|a|>y <|bb|><|a|>", "<|bb|>"]:
        assert enc.encode(text, allowed_special="all") == ref.encode(text, allowed_special="all")
        assert enc.encode_ordinary(text) == ref.encode_ordinary(text)
    for kwargs in ({}, {"allowed_special": {"<|a|>"}}):
        with pytest.raises(ValueError) as want:
            ref.encode("x <|bb|>", **kwargs)  # type: ignore[arg-type]
        with pytest.raises(ValueError) as got:
            enc.encode("x <|bb|>", **kwargs)  # type: ignore[arg-type]
        assert str(got.value) == str(want.value)
    stable = "hello world, fanta"
    assert enc.encode_with_unstable(stable)[0] == ref.encode_with_unstable(stable)[0]
    assert enc.decode(enc.encode("x<|a|>", allowed_special="all")) == "x<|a|>"


def test_hand_built_encoding_checks_its_arguments() -> None:
    ranks = tok_oracles.ranks("cl100k_base")
    pat = tok_oracles.pattern("cl100k_base")
    eot = {"<|e|>": 100256}
    enc = dropin.Encoding(
        "n", pat_str=pat, mergeable_ranks=ranks, special_tokens=eot, explicit_n_vocab=100257
    )
    assert enc.n_vocab == 100257
    with pytest.raises(ValueError, match="explicit_n_vocab=99"):
        dropin.Encoding(
            "n", pat_str=pat, mergeable_ranks=ranks, special_tokens={}, explicit_n_vocab=99
        )
    with pytest.raises(ValueError, match="mergeable_ranks is empty"):
        dropin.Encoding("n", pat_str=pat, mergeable_ranks={}, special_tokens={})
    with pytest.raises(ValueError, match="not a valid regular expression"):
        dropin.Encoding("n", pat_str="(unclosed", mergeable_ranks=ranks, special_tokens={})


def test_pickling_as_tiktoken() -> None:
    enc = dropin.get_encoding("cl100k_base")
    blob = pickle.dumps(enc)
    assert len(blob) < 200  # registered encodings travel by name
    again = pickle.loads(blob)
    assert again.encode("hello world") == [15339, 1917]
    ranks = tok_oracles.ranks("cl100k_base")
    mine = dropin.Encoding(
        "mine", pat_str=r"\S+|\s+", mergeable_ranks=ranks, special_tokens={"<|p|>": 100_000}
    )
    copy = pickle.loads(pickle.dumps(mine))
    assert copy.encode("a <|p|>", allowed_special="all") == mine.encode(
        "a <|p|>", allowed_special="all"
    )
    assert copy.encode("a <|p|>", allowed_special="all")[-1] == 100_000


def test_model_names_equal_tiktoken() -> None:
    import tiktoken.model as model

    names = list(model.MODEL_TO_ENCODING)
    names += [p + "x-2025" for p in model.MODEL_PREFIX_TO_ENCODING]
    names += ["gpt-4o-2024-05-13", "ft:gpt-4o-mini:org", "gpt-4-32k", "gpt-5.1-mini", "o1-pro"]
    for name in names:
        assert dropin.encoding_name_for_model(name) == model.encoding_name_for_model(name), name
    assert dropin.encoding_for_model("gpt-4o").name == "o200k_base"
    for unknown in ("llama-3", "", "GPT-4"):
        with pytest.raises(KeyError):
            model.encoding_name_for_model(unknown)
        with pytest.raises(KeyError, match="get_encoding"):
            dropin.encoding_for_model(unknown)


def test_registry_names_and_errors() -> None:
    import tiktoken_ext.openai_public as public  # OpenAI's encodings (other plugins may add more)

    assert dropin.list_encoding_names() == list(public.ENCODING_CONSTRUCTORS)
    assert dropin.get_encoding("cl100k_base") is dropin.get_encoding("cl100k_base")
    with pytest.raises(ValueError, match="Unknown encoding nope"):
        dropin.get_encoding("nope")
    with pytest.raises(ValueError, match="Expected a string"):
        dropin.get_encoding(5)  # type: ignore[arg-type]


def test_missing_rank_files_say_where_to_put_them(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(files.tempfile, "gettempdir", lambda: str(tmp_path))
    for var in ("CTXENGINE_TIKTOKEN_DIR", "TIKTOKEN_CACHE_DIR", "DATA_GYM_CACHE_DIR"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setattr(dropin, "ENCODINGS", {})
    monkeypatch.setattr(registry, "_cache", {})
    for name in ("r50k_base", "p50k_base", "p50k_edit", "gpt2"):
        with pytest.raises(ctxengine.NotFoundError, match="never downloads") as info:
            dropin.get_encoding(name)
        assert "CTXENGINE_TIKTOKEN_DIR" in str(info.value)


def test_a_corrupt_cached_file_is_refused(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """A file in tiktoken's cache under the SHA-1 of r50k_base's URL, with the wrong content."""
    key = hashlib.sha1(files.KNOWN["r50k_base"].url.encode()).hexdigest()
    (tmp_path / key).write_bytes(b"IQ== 0\n")
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(dropin, "ENCODINGS", {})
    monkeypatch.setattr(registry, "_cache", {})
    for name in ("r50k_base", "gpt2"):
        with pytest.raises(ctxengine.FormatError, match="sha256"):
            dropin.get_encoding(name)


def test_the_ctxengine_tokenizer_behind_it() -> None:
    enc = dropin.get_encoding("cl100k_base")
    text = english_prose(1)[0][1][:5000]
    assert enc.tokenizer.count(text) == len(enc.encode_ordinary(text))
    mine = dropin.Encoding(
        "m", pat_str=r"\S+|\s+", mergeable_ranks=tok_oracles.ranks("cl100k_base"), special_tokens={}
    )
    with pytest.raises(ValueError, match="no scanner"):
        _ = mine.tokenizer


def test_load_tiktoken_bpe_reads_local_files_only() -> None:
    path = tok_oracles.cl100k_path()
    ranks = dropin.load_tiktoken_bpe(path, expected_hash=tok_oracles.CL100K_SHA)
    assert ranks == tok_oracles.ranks("cl100k_base")
    with pytest.raises(ctxengine.FormatError, match="sha256"):
        dropin.load_tiktoken_bpe(path, expected_hash="0" * 64)
    with pytest.raises(ValueError, match="never downloads"):
        dropin.load_tiktoken_bpe("https://example.invalid/cl100k_base.tiktoken")


def test_importing_ctxengine_imports_no_framework() -> None:
    """`import ctxengine` imports neither the integrations nor any framework; the drop-in
    imports neither tiktoken nor `regex` until a pattern without a scanner needs it."""
    prog = (
        "import sys, ctxengine\n"
        "bad = [m for m in ('ctxengine.integrations', 'langchain_core', 'llama_index', "
        "'haystack', 'chonkie', 'fastapi', 'tiktoken') if m in sys.modules]\n"
        "assert not bad, bad\n"
        "import ctxengine.integrations.tiktoken as t\n"
        "t.get_encoding('cl100k_base').encode('hi')\n"
        "assert 'tiktoken' not in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", prog], check=True, env=_env())


def _env() -> dict[str, str]:
    return package_env()
