"""Tokenizer exactness: ids, counts and decoding against tiktoken itself (cl100k_base,
o200k_base), on real multilingual text, hypothesis-generated Unicode and nasty edge cases."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import corpus
import ctxengine
import tok_oracles

NAMES = ["cl100k_base", "o200k_base"]

# Characters that exercise every branch of the scanners: each whitespace kind, newlines,
# apostrophes and contraction letters (with U+017F, which folds to "s"), letters of every case
# category, marks, digits of every kind, punctuation, '/', emoji with ZWJ and modifiers, NUL.
TRICKY = (
    list(" \t\n\r\x0b\x0c\x85\xa0\u1680\u2000\u2028\u2029\u202f\u205f\u3000")
    + list("'’sStTdDmMlLvVeErRſK")
    + list("aZé\u01c5\u02b0\u00aa中あ한")  # Ll, Lu, Lt (ǅ), Lm (ʰ), Lo
    + list("\u0301\u0903\u20dd")  # Mn, Mc, Me
    + list("09٣²½Ⅻ")
    + list('.,!?-_/\\()[]{}<>|@#$%^&*+=~`"')
    + ["\U0001f600", "\u200d", "\U0001f3fd", "\ufe0f", "\x00", "\x7f", "\ufffd", "\ud800"]
    + ["<|endoftext|>", "'ll", "'VE", "  ", "\r\n", "\n\n"]
)

tricky_text = st.lists(st.sampled_from(TRICKY), max_size=40).map("".join)
any_text = st.text(st.characters(exclude_categories=()), max_size=200)


@pytest.fixture(scope="module", params=NAMES)
def pair(request: pytest.FixtureRequest) -> tuple[ctxengine.Tokenizer, object]:
    return ctxengine.get_tokenizer(request.param), tok_oracles.encoding(request.param)


def real_texts() -> list[tuple[str, str]]:
    return corpus.multilingual()


def test_names_and_sizes(pair) -> None:
    ours, ref = pair
    assert ours.name == ref.name
    assert ours.n_vocab == ref.n_vocab
    assert ours.special_tokens == ref._special_tokens
    assert ours.pattern == ref._pat_str


def test_real_text_matches_tiktoken(pair) -> None:
    ours, ref = pair
    texts = real_texts()
    assert len(texts) > 100
    for name, text in texts:
        expected = ref.encode_ordinary(text)
        got = ours.encode_ordinary(text)
        assert got.dtype == np.uint32
        assert got.tolist() == expected, name
        assert ours.count(text) == len(expected), name


def test_count_many_matches_counts(pair) -> None:
    ours, ref = pair
    texts = [t for _, t in real_texts()]
    expected = [len(ref.encode_ordinary(t)) for t in texts]
    for threads in (1, 2, 7, None):
        got = ours.count_many(texts, threads=threads)
        assert got.dtype == np.int64
        assert got.tolist() == expected


def test_count_many_splits_huge_text_exactly(pair) -> None:
    ours, ref = pair
    text = "\n\n".join(t for _, t in real_texts())
    assert len(text.encode()) > 2_000_000
    expected = len(ref.encode_ordinary(text))
    counts = {threads: int(ours.count_many([text], threads=threads)[0]) for threads in (1, 2, 7)}
    assert counts == {1: expected, 2: expected, 7: expected}


def test_every_seam_is_safe(pair) -> None:
    """At each seam count_many may cut at, the pieces on both sides are the whole text's."""
    ours, ref = pair
    scanner = ctxengine.tokenizer.identify_pattern(ours.pattern)
    text = "\n\n".join(t for _, t in real_texts())
    seams = ours._core.safe_seams(text, 2000).tolist()
    assert len(seams) > 300
    whole = set(split(scanner, text))
    for s in seams:
        assert s in whole
        window = text[max(0, s - 300) : s + 300]
        cut = s - max(0, s - 300)
        left, right = window[:cut], window[cut:]
        assert len(ref.encode_ordinary(left)) + len(ref.encode_ordinary(right)) == len(
            ref.encode_ordinary(window)
        )
        assert split(scanner, left) + [cut + e for e in split(scanner, right)] == [
            e for e in split(scanner, window)
        ]


def split(scanner: str, text: str) -> list[int]:
    return ctxengine._core.tokenizer.split_pieces(scanner, text).tolist()


@given(text=any_text)
def test_hypothesis_unicode(pair, text: str) -> None:
    ours, ref = pair
    expected = ref.encode_ordinary(text)
    assert ours.encode_ordinary(text).tolist() == expected
    assert ours.count(text) == len(expected)


@given(text=tricky_text)
def test_hypothesis_tricky(pair, text: str) -> None:
    ours, ref = pair
    expected = ref.encode_ordinary(text)
    assert ours.encode_ordinary(text).tolist() == expected
    assert ours.count(text) == len(expected)


EDGE_CASES = [
    "",
    " ",
    "\n",
    "a",
    "   leading and trailing   ",
    "tabs\t\tand\t \t mixed \u00a0 spaces \u3000 ideographic",
    "crlf\r\nline\r\n\r\n  \r\n",
    "trailing newline run\n\n\n   ",
    "ends with spaces   ",
    " \n \n ",
    "1234567890 ١٢٣٤٥ ²³ ½ Ⅻ 0.5e-10",
    "don't DON'T Don'T I'm I'M you'll YOU'LL we've WE'VE they're THEY'RE she'd SHE'D",
    "it'ſ x'S 'll 'LL ''s '  's",
    "HelloWorld camelCase XMLHttpRequest ǅungla ʰaʰ",
    "e\u0301\u0301 a\u0903b \u20dd x\u0301.",
    "👨‍👩‍👧‍👦 👍🏽 🏳️‍🌈 ❤️",
    "nul\x00byte\x00\x00",
    "<|endoftext|> and <|fim_prefix|> as text",
    "path/to/file.py // comment /* */ \n/usr/bin",
    "中文文本，没有空格。日本語のテキスト。한국어 텍스트.",
    "\u2028line\u2029para\x85nel\x0bvt\x0cff",
    "a" * 5000,
    " " * 5000,
    "ab" * 3000 + "\n" * 300,
]


@pytest.mark.parametrize("text", EDGE_CASES, ids=range(len(EDGE_CASES)))
def test_edge_cases(pair, text: str) -> None:
    ours, ref = pair
    expected = ref.encode_ordinary(text)
    assert ours.encode_ordinary(text).tolist() == expected
    assert ours.count(text) == len(expected)
    assert ours.decode(expected) == text


def test_lone_surrogates_as_tiktoken(pair) -> None:
    ours, ref = pair
    for text in ["\ud800", "a\udfffb", "\ud83d\ude00 pair", "x \udc00\ud800 y", "\ud800" * 3]:
        expected = ref.encode_ordinary(text)
        assert ours.encode_ordinary(text).tolist() == expected
        assert ours.encode(text).tolist() == ref.encode(text)
        assert ours.count(text) == len(expected)
        assert ours.count_many([text, "ok"]).tolist() == [len(expected), 1]


@given(text=st.text(max_size=300))
def test_decode_roundtrip(pair, text: str) -> None:
    ours, _ = pair
    assert ours.decode(ours.encode_ordinary(text)) == text
    assert ours.decode_bytes(ours.encode_ordinary(text)) == text.encode("utf-8")


def test_decode_like_tiktoken(pair) -> None:
    ours, ref = pair
    ids = ref.encode("héllo wörld 中文 😀", disallowed_special=())
    for k in range(len(ids) + 1):
        assert ours.decode(ids[:k]) == ref.decode(ids[:k])
        assert ours.decode_bytes(ids[:k]) == ref.decode_bytes(ids[:k])
    special = list(ref._special_tokens.values())
    assert ours.decode(special) == ref.decode(special)


def test_decode_rejects_bad_ids(pair) -> None:
    ours, _ = pair
    with pytest.raises(ctxengine.InvalidInputError, match="not in"):
        ours.decode([ours.n_vocab + 5])
    with pytest.raises(ctxengine.InvalidInputError, match="out of range"):
        ours.decode([-1])
    with pytest.raises(ctxengine.InvalidInputError, match="integers"):
        ours.decode([1.5])
    assert ours.decode(np.array([], dtype=np.int64)) == ""
    assert ours.decode(iter([15339])) == ours.decode([15339])


def test_special_tokens_like_tiktoken(pair) -> None:
    ours, ref = pair
    specials = sorted(ref._special_tokens)
    text = f"a{specials[0]}b {specials[-1]}\n{specials[0]}"
    # Default: text that spells a special token is an error, with tiktoken's message.
    with pytest.raises(ValueError) as mine:
        ours.encode(text)
    with pytest.raises(ValueError) as theirs:
        ref.encode(text)
    assert str(mine.value) == str(theirs.value)
    for allowed, disallowed in [
        ("all", "all"),
        ({specials[0]}, ()),
        (set(), ()),
        ({specials[0], "not-special"}, ()),
        ({specials[0]}, {"zz"}),
    ]:
        expected = ref.encode(text, allowed_special=allowed, disallowed_special=disallowed)
        got = ours.encode(text, allowed_special=allowed, disallowed_special=disallowed)
        assert got.tolist() == expected
        assert ours.count(text, allowed_special=allowed, disallowed_special=disallowed) == len(
            expected
        )
    # A disallowed string that is not a special token is searched for too (tiktoken does).
    with pytest.raises(ValueError, match="'b '"):
        ours.encode(text, allowed_special="all", disallowed_special={"b "})
    with pytest.raises(ValueError, match="'b '"):
        ref.encode(text, allowed_special="all", disallowed_special={"b "})
    # count() treats special-token text as plain text by default, and never raises.
    assert ours.count(text) == len(ref.encode_ordinary(text))


def test_encode_with_offsets(pair) -> None:
    ours, ref = pair
    for _, text in real_texts()[::25]:
        ids, starts = ours.encode_with_offsets(text)
        assert ids.tolist() == ref.encode_ordinary(text)
        _, expected = ref.decode_with_offsets(ref.encode_ordinary(text))
        assert starts.tolist() == expected
    text = "a <|endoftext|> b"
    ids, starts = ours.encode_with_offsets(text, allowed_special="all")
    assert ids.tolist() == ref.encode(text, allowed_special="all")
    assert starts.tolist() == ref.decode_with_offsets(ids.tolist())[1]


def test_bad_arguments(pair) -> None:
    ours, _ = pair
    with pytest.raises(ctxengine.InvalidInputError):
        ours.count(b"bytes")  # type: ignore[arg-type]
    with pytest.raises(ctxengine.InvalidInputError):
        ours.count_many(["ok", 3])  # type: ignore[list-item]
    with pytest.raises(ctxengine.InvalidInputError):
        ours.count_many(["ok"], threads=0)
    with pytest.raises(ctxengine.InvalidInputError):
        ours.encode("x", allowed_special="none")  # type: ignore[arg-type]


def test_concurrent_calls_from_python_threads(pair) -> None:
    """The GIL is released and caches are per thread: concurrent calls give the same answers."""
    from concurrent.futures import ThreadPoolExecutor

    ours, ref = pair
    texts = [t for _, t in real_texts()[::9]]
    expected = [len(ref.encode_ordinary(t)) for t in texts]

    def work(k: int) -> list[int]:
        order = texts[k:] + texts[:k]
        counts = [ours.count(t) for t in order]
        encoded = [len(ours.encode_ordinary(t)) for t in order]
        assert counts == encoded
        return counts[len(texts) - k :] + counts[: len(texts) - k]

    with ThreadPoolExecutor(4) as pool:
        for result in pool.map(work, range(8)):
            assert result == expected
