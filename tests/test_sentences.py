"""Sentence segmentation (by="sentences"): the C++ scanner against a plain Python twin of its
rules on real text and generated text, and both against sentences labelled by hand in real
documentation and prose (not only made-up strings)."""

from __future__ import annotations

import itertools
import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import corpus
import ctxengine
from chunk_checks import WHITE_SPACE, repaired
from ctxengine import _core

LOOKAHEAD, LOOKBEHIND = 4096, 64  # bytes, as csrc/chunking/boundary.hpp

# --- the reference: csrc/chunking/sentence.cpp and prose_scanner.cpp, rule for rule ---------

PERIOD, ELLIPSIS, STOP, WIDE = "period", "ellipsis", "stop", "wide"
TERMINATORS = {".": PERIOD, "\u2026": ELLIPSIS}
TERMINATORS |= dict.fromkeys(
    "!?\u037e\u0589\u061f\u06d4\u0964\u0965\u104a\u104b\u1362\u1367\u1368\u166e\u17d4"
    "\u1803\u1809\u203c\u203d\u2047\u2048\u2049\ua4ff",
    STOP,
)
TERMINATORS |= dict.fromkeys("\u3002\uff61\uff01\uff1f\uff0e\ufe12\ufe52\ufe56\ufe57", WIDE)
CLOSERS = set("\"')]}\u00bb\u203a\u2019\u201d\u300d\u300f\u3009\u300b\u3011\u3015\u3017\u3019")
CLOSERS |= set("\u301b\u301e\u301f\uff02\uff07\uff09\uff3d\uff5d")
ABBREVIATIONS = set(
    "Mr Mrs Ms Mx Dr Prof Sr Jr St Mt Rev Gen Col Capt Lt Sgt Hon Gov Sen Rep vs cf al approx "
    "ca viz ibid resp Inc Ltd Co Corp Bros No Nos Nr Vol vols pp p Fig Figs Eq Eqs eq eqn Sec "
    "Ch Art Ed eds Ref Jan Feb Mar Apr Jun Jul Aug Sep Sept Oct Nov Dec Mon Tue Wed Thu Fri "
    "usw bzw".split()
)
LINE_BREAKS = "\n\r\v\f\x85\u2028\u2029"


def is_letter(c: str) -> bool:
    return unicodedata.category(c).startswith("L")


def is_word_char(c: str) -> bool:
    return c == "." or is_letter(c) or unicodedata.category(c).startswith("N")


def is_dotted_abbreviation(word: str) -> bool:
    parts = word.split(".")
    return len(parts) >= 2 and all(0 < len(p) <= 2 and all(map(is_letter, p)) for p in parts)


def sentence_end_at(text: str, offs: list[int], i: int) -> tuple[int, bool]:
    """(end of the terminators and closers at i, whether a sentence ends there)."""
    n = len(text)
    lim_byte = min(offs[n], offs[i] + LOOKAHEAD)
    text_end = lim_byte == offs[n]

    def inside(j: int) -> bool:
        return j < n and offs[j] < lim_byte

    q = i
    kinds = []
    while inside(q) and text[q] in TERMINATORS:
        kinds.append(TERMINATORS[text[q]])
        q += 1
    while inside(q) and text[q] in CLOSERS:
        q += 1
    if not inside(q):
        return q, text_end
    if WIDE in kinds:
        return q, True
    if text[q] not in WHITE_SPACE:
        return q, False
    t = q
    while inside(t):  # UAX #29 SB8: a lowercase letter next means no break
        if is_letter(text[t]):
            if unicodedata.category(text[t]) == "Ll":
                return q, False
            break
        if text[t] in TERMINATORS:
            break
        t += 1
    if STOP in kinds or ELLIPSIS in kinds or kinds.count(PERIOD) > 1:
        return q, True
    lo = max(0, offs[i] - LOOKBEHIND)
    a = i
    while a > 0 and is_word_char(text[a - 1]):
        if offs[a - 1] < lo:
            return q, True  # a word longer than the look-behind
        a -= 1
    word = text[a:i]
    if word:
        initial = len(word) == 1 and unicodedata.category(word) == "Lu"
        enumerator = False
        if word.isascii() and word.isdigit():
            p = a
            while offs[p] > lo and text[p - 1] in " \t":
                p -= 1
            enumerator = offs[p] == 0 or (offs[p] != lo and text[p - 1] in "\n\r")
        if initial or word in ABBREVIATIONS or is_dotted_abbreviation(word) or enumerator:
            return q, False
    return q, True


def sentence_boundaries(text: str) -> list[int]:
    """Where by="sentences" may end a chunk: after each sentence end (at the next word, or the
    start of its line after a line break) and at each blank line."""
    offs = [0]
    for c in text:
        offs.append(offs[-1] + len(c.encode("utf-8", "surrogatepass")))
    n, out = len(text), []
    in_ws, newlines, line_start, pending = True, 1, 0, False
    i = 0
    while i < n:
        c = text[i]
        if c in WHITE_SPACE:
            if not in_ws:
                in_ws, newlines = True, 0
            if c in LINE_BREAKS:
                newlines += 2 if c == "\u2029" else 1
                i += 2 if text[i : i + 2] == "\r\n" else 1
                line_start = i
            else:
                i += 1
            continue
        if in_ws:
            in_ws = False
            at = line_start if newlines > 0 else i
            if (pending or newlines >= 2) and at > 0:
                out.append(at)
            pending = False
        if c in TERMINATORS:
            end, is_end = sentence_end_at(text, offs, i)
            if is_end and end < n:
                if text[end] in WHITE_SPACE:
                    pending = True
                else:
                    out.append(end)
            i = end
            continue
        i += 1
    return out


def native_boundaries(text: str) -> list[int]:
    positions, levels = _core.chunking.boundaries(text, "sentences")
    assert set(levels.tolist()) <= {2}
    return positions.tolist()


# --- the C++ scanner against the reference ---------------------------------------------------


@pytest.mark.parametrize(
    "name", ["english_prose", "stdlib_sources", "cjk_texts", "message_catalogs"]
)
def test_scanner_matches_reference_on_real_text(name: str) -> None:
    docs = getattr(corpus, name)()
    for doc_name, text in docs[:60]:
        text = text[:50_000]
        assert native_boundaries(text) == sentence_boundaries(text), doc_name


SENTENCE_PIECES = [
    "Word",
    "word",
    "3",
    "14",
    ".",
    "..",
    "...",
    "\u2026",
    "!",
    "?",
    "?!",
    "\u3002",
    "\uff01",
    "\uff1f",
    "\uff0e",
    "\u0964",
    "\u061f",
    " ",
    "  ",
    "\n",
    "\n\n",
    "\t",
    "\u3000",
    '"',
    "'",
    ")",
    "\u201d",
    "\u300d",
    "(",
    "Dr",
    "e.g",
    "i.e",
    "U.S",
    "Mr",
    "etc",
    "J",
    "1",
    "12",
    "\u65e5\u672c",
    "\u00c9cole",
    "\u00e9t\u00e9",
    "A",
    "a",
    "\u0394",
    "\u03b4",
]


@settings(max_examples=300)
@given(st.lists(st.sampled_from(SENTENCE_PIECES) | st.text(max_size=3), max_size=40))
def test_scanner_matches_reference_on_generated_text(pieces: list[str]) -> None:
    text = repaired("".join(pieces))
    assert native_boundaries(text) == sentence_boundaries(text)


def test_long_words_and_runs_respect_the_look_limits() -> None:
    for text in [
        "x" * 70 + ". Next",
        "Ab" + "c" * 61 + ". Next",
        "é" * 40 + ". Next",
        "Dr" + "." * 5000 + " Next",
        "End." + " " * 5000 + "Next",
    ]:
        assert native_boundaries(text) == sentence_boundaries(text), text[:20]


# --- hand-labelled sentences from real text ---------------------------------------------------

# Paragraphs from the Python docs and from prose in several languages, each split into its
# sentences by hand ("|" marks each sentence end; the splitter must find exactly those).
LABELLED = [
    # Python Tutorial, 3.1.2 and 9.
    "Python strings cannot be changed — they are immutable. |Therefore, assigning to an "
    "indexed position in the string results in an error: If you need a different string, "
    "you should create a new one.",
    "Compared with other programming languages, Python's class mechanism adds classes with a "
    "minimum of new syntax and semantics. |It is a mixture of the class mechanisms found in C++ "
    "and Modula-3. |Python classes provide all the standard features of Object Oriented "
    "Programming: the class inheritance mechanism allows multiple base classes, a derived class "
    "can override any methods of its base class or classes, and a method can call the method "
    "of a base class with the same name.",
    # Library reference: decimals, abbreviations, versions, e.g./i.e.
    "The default precision is 28 places, e.g. 1.1 + 2.2 gives 3.3000000000000003 with floats. "
    "|New in version 3.11. |See PEP 8, i.e. the style guide, for details.",
    "Dr. Smith met Mr. Jones at 3 p.m. on Jan. 5. |They talked about U.S. policy. |Then they left.",
    "J. R. R. Tolkien wrote it. |It was published in 1954.",
    "Wait... what happened? |Nobody knows! |\u201cReally?\u201d she asked. |He nodded.",
    "See the list:\n1. Install the package.\n|2. Run the tests. |Done.",
    # Not handled, and so not listed: German ordinals ("am 3. Mai" ends a sentence after "3.").
    # Chinese and Japanese: fullwidth terminators, no spaces.
    "\u6211\u4eec\u660e\u5929\u89c1\u3002|\u4f60\u597d\u5417\uff1f|\u592a\u597d\u4e86\uff01|",
    "\u4eca\u65e5\u306f\u6674\u308c\u3067\u3059\u3002|\u300c\u884c\u304d\u307e\u3057\u3087"
    "\u3046\u3002\u300d|\u5f7c\u306f\u8a00\u3063\u305f\u3002|",
    # French, German, Russian, Greek, Hindi, Arabic.
    "Il fait beau aujourd'hui. |Nous irons au parc \u00e0 15 h 30. |\u00c7a te va\u202f?",
    "Das ist z.B. ein Test. |Er kam am Montag. |Wir gehen, bzw. fahren.",
    "\u042d\u0442\u043e \u043f\u0435\u0440\u0432\u043e\u0435 "
    "\u043f\u0440\u0435\u0434\u043b\u043e\u0436\u0435\u043d\u0438\u0435. |\u0410 \u044d\u0442"
    "\u043e \u0432\u0442\u043e\u0440\u043e\u0435!",
    "\u0393\u03b5\u03b9\u03b1 \u03c3\u03bf\u03c5. |\u03a4\u03b9 \u03ba\u03ac\u03bd\u03b5\u03b9"
    "\u03c2\u037e |\u039a\u03b1\u03bb\u03ac.",
    "\u092f\u0939 \u090f\u0915 \u0935\u093e\u0915\u094d\u092f \u0939\u0948\u0964 |\u092f\u0939 "
    "\u0926\u0942\u0938\u0930\u093e \u0939\u0948\u0964",
    "\u0643\u064a\u0641 \u062d\u0627\u0644\u0643\u061f |\u0623\u0646\u0627 \u0628\u062e\u064a"
    "\u0631.",
]


def labelled_spans(labelled: str) -> tuple[str, list[str]]:
    parts = labelled.split("|")
    return "".join(parts), [p.strip() for p in parts if p.strip()]


@pytest.mark.parametrize("labelled", LABELLED)
def test_hand_labelled_sentences(labelled: str) -> None:
    text, want = labelled_spans(labelled)
    assert native_boundaries(text) == sentence_boundaries(text)
    # The boundaries are exactly the labelled sentence starts.
    starts, pos = [], 0
    for sentence in want[1:]:
        pos = text.index(sentence, pos)
        starts.append(pos)
    assert [b for b in native_boundaries(text) if b < len(text)] == starts


# Real prose: the Chinese, Japanese and Korean texts of CPython's codec tests, each split into
# sentences by hand (the first characters of each sentence, in order).
LABELLED_REAL = {
    "gb2312-utf8.txt": ["Python（派森）", "这种语言具有", "这种语言简单", "目前，基于"],
    "euc_jp-utf8.txt": [
        "Python の開発",
        "開発者の",
        "このため",
        "このような",
        "多くの",
        "言語自体",
    ],
    "euc_kr-utf8.txt": [
        "◎ 파이썬(Python)",
        "파이썬은\n효율적인",
        "파이썬의 우아",
        "☆첫가끝",
        "뜽금없이",
        "뷁.",
        "그런거",
    ],
}


@pytest.mark.parametrize("name", sorted(LABELLED_REAL))
def test_hand_labelled_real_cjk_prose(name: str) -> None:
    text = dict(corpus.cjk_texts())[name]
    cuts = [0, *native_boundaries(text), len(text)]
    sentences = [text[a:b].strip() for a, b in itertools.pairwise(cuts) if text[a:b].strip()]
    assert len(sentences) == len(LABELLED_REAL[name])
    for sentence, start in zip(sentences, LABELLED_REAL[name], strict=True):
        assert sentence.startswith(start), (sentence[:20], start)
    assert native_boundaries(text) == sentence_boundaries(text)


def test_sentences_pack_to_the_budget() -> None:
    text = "One two three. Four five. Six seven eight nine. Ten."
    chunks = ctxengine.chunk(text, 6, tokenizer=lambda s: len(s.split()), by="sentences")
    assert list(chunks) == ["One two three. Four five.", "Six seven eight nine. Ten."]
