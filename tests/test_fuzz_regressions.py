"""Regression tests for what the fuzzers and the sanitizer build found (docs/reliability.md,
"What the fuzzers found"). Each input that failed lives in tests/data/fuzz/."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

import ctxengine
from ctxengine.errors import FormatError
from ctxengine.tokenizers.tokenizer_json import JsonTokenizer

DATA = Path(__file__).resolve().parent / "data" / "fuzz"


def test_a_huge_rank_is_refused_not_allocated() -> None:
    # 256 byte tokens and one merge at rank 4,000,000,000: the id-indexed tables would have
    # taken 16 GB for a 3 KB file (the process was killed for memory).
    with pytest.raises(FormatError, match="token id 4000000000 is far beyond the 257 tokens"):
        ctxengine.get_tokenizer(DATA / "huge_rank.tiktoken", pattern="cl100k_base")


def test_a_huge_id_in_a_tokenizer_json_is_refused() -> None:
    spec = {"model": {"type": "WordPiece", "unk_token": "[UNK]", "vocab": {"[UNK]": 0}}}
    spec["model"]["vocab"]["a"] = 3_000_000_000
    with pytest.raises(FormatError, match="token id 3000000000 is far beyond"):
        JsonTokenizer.from_str(json.dumps(spec))


def test_ids_with_reserved_gaps_still_load() -> None:
    # Real files leave gaps (reserved ids, special tokens far past the words): they load.
    spec = {
        "model": {"type": "WordPiece", "unk_token": "[UNK]",
                  "vocab": {"[UNK]": 0, "a": 5000, "<x>": 200_000}},
        "added_tokens": [{"id": 200_000, "content": "<x>", "special": True, "single_word": False,
                          "lstrip": False, "rstrip": False, "normalized": False}],
    }  # fmt: skip
    tok = JsonTokenizer.from_str(json.dumps(spec))
    assert tok.encode("a<x>", allowed_special="all").tolist() == [5000, 200_000]


@pytest.mark.parametrize(
    "current",
    ["v1-ab\0cd " + "0" * 64, "../outside " + "0" * 64, "v1-ab notahash", "v1-ab"],
    ids=["nul-byte", "path-out", "bad-hash", "one-field"],
)
def test_a_damaged_current_file_is_a_format_error(tmp_path: Path, current: str) -> None:
    # fuzz/fuzz_index_load.py: a NUL byte in CURRENT reached the file system as a bare
    # ValueError ("embedded null byte"); a path in it could point outside the index folder.
    # The input it found is tests/data/fuzz/index_load/current_nul_byte.
    index = ctxengine.Index()
    index.add("some text to index")
    index.save(tmp_path / "ix")
    (tmp_path / "ix" / "CURRENT").write_text(current)
    with pytest.raises(FormatError, match="CURRENT is corrupt"):
        ctxengine.Index.load(tmp_path / "ix")


def test_a_damaged_chunk_table_is_a_format_error_without_verify(tmp_path: Path) -> None:
    # fuzz/fuzz_index_load.py: with verify=False a chunk table naming a document or an offset
    # that does not exist loaded, and searches failed later with IndexError / ValueError or
    # returned hits with offsets in the quintillions (inputs: tests/data/fuzz/index_load/chunk_*).
    import numpy as np

    index = ctxengine.Index(max_tokens=8)
    index.add("alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu")
    index.save(tmp_path / "ix")
    (table_file,) = (tmp_path / "ix").glob("v*/chunks.npy")
    table = np.load(table_file)
    for column, value in ((0, 7), (4, 10**6), (1, -1)):  # doc, byte end, str start
        bad = table.copy()
        bad[0, column] = value
        np.save(table_file, bad)
        with pytest.raises(FormatError, match=r"chunks\.npy"):
            ctxengine.Index.load(tmp_path / "ix", verify=False)
    np.save(table_file, table)
    assert ctxengine.Index.load(tmp_path / "ix", verify=False).search("gamma", k=1)[0].start == 0


@pytest.mark.parametrize(
    ("template", "error"),
    [
        ("{{ (messages | length) % 0 }}", "ZeroDivisionError"),
        ("{% set ns = namespace(x='') %}{{ ns - 1 }}", "TypeError"),
        ("{{ messages[0].missing | tojson }}", "TypeError"),
        ("{% set a, b = 'abc' %}{{ a }}", "ValueError"),
        ("{% if 1 != 1e309 (2) %}x{% endif %}", "NameError"),  # Jinja emits inf(2)
    ],
)
def test_a_template_that_fails_while_rendering_is_a_format_error(template: str, error: str) -> None:
    # fuzz/fuzz_chat_template.py: only jinja2.TemplateError became FormatError; errors of the
    # template's own code escaped as they were (inputs: tests/data/fuzz/chat_template/).
    chat = ctxengine.ChatTemplate(template)
    with pytest.raises(FormatError, match=f"failed on these messages: {error}"):
        chat.render([{"role": "user", "content": "hi"}])


@pytest.mark.parametrize(
    "template",
    [
        # Each range is within Jinja's own limit (100,000); their product is not.
        "{% for i in range(100000) %}{% for j in range(100000) %}x{% endfor %}{% endfor %}",
        "{{ 'x' * 1000000000 }}",
        "{{ ([1] * 1000000000) | length }}",
        "{{ 10 ** 100000000 }}",
    ],
)
def test_a_template_asking_for_unbounded_work_is_refused(template: str) -> None:
    chat = ctxengine.ChatTemplate(template)
    with pytest.raises(FormatError, match=r"refused the messages: (.*too large|.*more than)"):
        chat.render([{"role": "user", "content": "hi"}])
    # The budget is per render: ordinary templates still render afterwards.
    small = ctxengine.ChatTemplate("{% for i in range(3) %}{{ i }}{% endfor %}{{ 'ab' * 2 }}")
    assert small.render([]) == "012abab"


def _wordpiece(vocab: dict[str, int], added: list[tuple[str, int]]) -> str:
    token = {"special": True, "single_word": False, "lstrip": False, "rstrip": False,
             "normalized": False}  # fmt: skip
    return json.dumps(
        {
            "model": {"type": "WordPiece", "unk_token": "a", "continuing_subword_prefix": "##",
                      "max_input_chars_per_word": 100, "vocab": vocab},
            "added_tokens": [{"id": i, "content": c, **token} for c, i in added],
        }
    )  # fmt: skip


@pytest.mark.parametrize(
    ("vocab", "added", "want"),
    [
        # The file's id 0 belongs to the vocabulary's "a": HF gives <x> the next free id.
        ({"a": 0, "b": 1}, [("<x>", 0)], {"<x>": 2}),
        # Vocabulary tokens keep their ids; new ones follow the vocabulary's size, not them.
        ({"a": 0, "b": 50}, [("b", 7), ("<x>", 9), ("<y>", 3)], {"b": 50, "<x>": 2, "<y>": 3}),
    ],
)
def test_added_tokens_get_hf_ids(vocab: dict, added: list, want: dict) -> None:
    # fuzz/fuzz_tokenizer_json.py: ctxengine used the file's ids, HF assigns its own (and only
    # warns), so a hand-edited file encoded differently (tests/data/fuzz/tokenizer_json/added_*).
    tokenizers = pytest.importorskip("tokenizers")
    text = _wordpiece(vocab, added)
    hf = tokenizers.Tokenizer.from_str(text)
    assert {t.content: i for i, t in hf.get_added_tokens_decoder().items()} == want
    assert JsonTokenizer.from_str(text).added_tokens == want


def test_a_vocabulary_with_one_id_for_two_tokens_is_refused() -> None:
    with pytest.raises(FormatError, match="gives id 1 to two tokens, 'b' and 'c'"):
        JsonTokenizer.from_str(_wordpiece({"a": 0, "b": 1, "c": 1}, []))


def test_numbers_out_of_range_are_format_errors() -> None:
    spec = json.loads(_wordpiece({"a": 0}, []))
    spec["model"]["max_input_chars_per_word"] = float("inf")
    with pytest.raises(FormatError, match=r"malformed tokenizer\.json"):
        JsonTokenizer.from_str(json.dumps(spec))


def test_a_trimmed_chunk_never_ends_in_whitespace() -> None:
    # fuzz/fuzz_text.py: where trimming raised a character cut's count past the budget
    # (";\n" is one token, ";" after "<|" is not), the chunk kept its newline
    # (tests/data/fuzz/text/trimmed_chunk_ends_in_newline).
    from chunk_checks import check_chunks
    from tiktoken_oracle import counter

    text = '<|endofte_prfix|>a<|;\n}\n\nsfim_middle|>b<|f"im_suffix|><|endofprompt|>'
    chunks = ctxengine.chunk(text, 6, tokenizer="cl100k_base", by="markdown", overlap=1)
    check_chunks(text, chunks, 6, counter("cl100k_base"), overlap=1)
    streamed = ctxengine.chunk_stream(
        io.BytesIO(text.encode()), 6, by="markdown", overlap=1, block_size=3
    )
    assert [c.text for c in streamed] == list(chunks)


def test_token_windows_always_move_past_the_previous_one() -> None:
    # fuzz/fuzz_text.py: after a window ending before a character of many tokens (U+171FA
    # takes 4 in o200k_base), the overlapping next window could not get past it and repeated
    # text inside the previous window (tests/data/fuzz/text/token_window_inside_previous).
    text = (
        "\ufffd/rH\ufffdemoji \U0001f1ef\U0001f1f5\ufffd\u2003x\ufffd\U000171fa\U0001f1f8, "
        "combini~g e\u0301 a\u0308, NBS \u0149 \u01c5"
    )
    chunks = ctxengine.chunk(text, 5, tokenizer="o200k_base", by="tokens", overlap=2)
    assert (chunks.starts[1:] > chunks.starts[:-1]).all()
    assert (chunks.ends[1:] > chunks.ends[:-1]).all()
    assert chunks.starts[0] == 0 and chunks.ends[-1] == len(text)


def test_a_model_without_type_is_read_as_hf_reads_it() -> None:
    # fuzz/fuzz_tokenizer_json.py (atheris): a "model" without "type" and without WordPiece's
    # continuing_subword_prefix is a WordLevel model to HF; ctxengine ran it as WordPiece
    # (tests/data/fuzz/tokenizer_json/untyped_model_is_wordlevel_to_hf).
    spec = {"model": {"unk_token": "[UNK]", "vocab": {"[UNK]": 0, "h": 1, "##i": 2}}}
    with pytest.raises(ctxengine.UnsupportedError, match="WordLevel"):
        JsonTokenizer.from_str(json.dumps(spec))
    spec["model"] |= {"continuing_subword_prefix": "##", "max_input_chars_per_word": 100}
    assert JsonTokenizer.from_str(json.dumps(spec)).encode("hi").tolist() == [1, 2]
