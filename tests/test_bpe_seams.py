"""Seams (csrc/tokenizer/bpe_seams.hpp): the BPE engine cuts a piece at character boundaries no
token covers and encodes the parts alone. Checked against tiktoken's own piece encoder
(`_encode_single_piece`) on the cl100k and o200k vocabularies (long CJK, kana, Hangul and mixed
pieces, real CJK text made into one piece), and against the pure-Python reference on random
vocabularies built to have tokens that start or end inside a character, cross between any kinds
of characters, and on pieces that are not valid UTF-8 (which are merged without cutting)."""

from __future__ import annotations

import base64
import random
import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import corpus
import ctxengine
import tok_oracles
import tok_reference

NAMES = ["cl100k_base", "o200k_base"]

# CJK ideographs (common and rare, one outside the BMP), kana, Hangul, Latin with accents, a
# combining mark, full-width punctuation, ASCII letters, space and digits.
CHARS = (
    list(
        "的是不了人我在有他这中大来上国个到说们为子和你地出道也时年得就那要下以生会自着去之过家学对可她里后小么心多天而能好都然没日于起还发成事只作当想看文无开手十用主行方又如前所本见经头面公同三已老从动两长知民样现分将外但身些与高意进把法此实回二理美点月明其种声全工己话儿者向情部正名定女问力机给等几很业最间新什打便位因重被走电四第门相次东政海口使教西再平真听世气信北少关并内加化由却代军产入先山五太水万市眼体别处总才场师书比住员九笑性通目华报立马命张活难神数件安表原车白应路期叫死常提感金何更反合放做系计或司利受光王果亲界及今京务制解各任至清物台象记边共风战干接它许八特觉望直服毛林题建南度统色字请交爱让认算论百吃义科怎元社术结六功指思非流每青管夫连远资队跟带花快条院变联言权往展该领传近留红治决周保达办运武半候七必城父强步完革深区即求品士转量空甚众技轻程告江语英基派满式李息写呢识极令黄德收脸钱党倒未持取设始版双历越史商千片容研像找友孩站广改议形委早房音火际则首单据导影失拿网香似斯专石若兵弟谁校读志飞观争究包组造落视济喜离虽坏兴切眼鑿齉𠀋"
    )
    + list("あいうえおかきくけこさしすせそがぎぐアイウエオカキクケコーッャュョ")
    + list("한국어가나다라마바사아자차카타파하는을를이의에서고")
    + list("éèêàçñöüßøåæ\u0301")
    + list("、。，．！？「」（）：；")
    + list("ab Z09")
)

cjk_piece = st.lists(st.sampled_from(CHARS), min_size=1, max_size=150).map("".join)


@pytest.fixture(scope="module", params=NAMES)
def pair(request: pytest.FixtureRequest) -> tuple[ctxengine.Tokenizer, object]:
    return ctxengine.get_tokenizer(request.param), tok_oracles.encoding(request.param)


@settings(max_examples=300, deadline=None)
@given(text=cjk_piece)
def test_pieces_equal_tiktoken(pair, text: str) -> None:
    ours, ref = pair
    piece = text.encode()
    assert ours._core.encode_piece(piece).tolist() == ref._encode_single_piece(piece)


def test_long_real_cjk_pieces_equal_tiktoken(pair, tmp_path: Path) -> None:
    """Real CJK text with everything but letters removed: pieces of up to 20,000 characters,
    encoded as pieces, and counted and encoded as texts of one piece."""
    ours, ref = pair
    path = (
        tok_oracles.cl100k_path()
        if ours.name == "cl100k_base"
        else tok_oracles.o200k_path(tmp_path)
    )
    one_piece = ctxengine.get_tokenizer(path, pattern=r"[\s\S]+", special_tokens={})
    texts = [t for _, t in corpus.cjk_texts()]
    texts += [
        t for name, t in corpus.message_catalogs() if name.split("/")[0] in {"zh_CN", "ja", "ko"}
    ]
    assert len(texts) >= 3
    for text in texts:
        letters = re.sub(r"[^\w]|[\d_A-Za-z]", "", text)[:20000]
        for size in (7, 40, 300):
            piece = letters[:size].encode()
            assert ours._core.encode_piece(piece).tolist() == ref._encode_single_piece(piece)
        expected = ref._encode_single_piece(letters.encode())
        assert one_piece.count(letters) == len(expected)
        assert one_piece.encode(letters).tolist() == expected


def random_rank_file(seed: int, folder: Path) -> tuple[Path, dict[bytes, int]]:
    """All 256 bytes, then slices of random strings over a mixed alphabet (1-4 byte
    characters), cut at any byte: tokens that begin or end inside a character and cross
    between every kind of character, ranked in random order."""
    rng = random.Random(seed)
    alphabet = ["a", "b", " ", "é", "ß", "中", "文", "ア", "\u0800", "\uffee", "😀", "\U00010000"]
    ranks = {bytes([b]): b for b in range(256)}
    while len(ranks) < 700:
        s = "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 4))).encode()
        i = rng.randrange(len(s))
        j = rng.randint(i + 2, len(s) + 1) if i + 2 <= len(s) else len(s)
        token = s[i:j]
        if len(token) >= 2 and token not in ranks:
            ranks[token] = len(ranks)
    path = folder / f"toy{seed}.tiktoken"
    path.write_text("".join(f"{base64.b64encode(t).decode()} {r}\n" for t, r in ranks.items()))
    return path, ranks


@pytest.mark.parametrize("seed", range(6))
def test_random_vocabularies_equal_reference(seed: int, tmp_path: Path) -> None:
    path, ranks = random_rank_file(seed, tmp_path)
    tok = ctxengine.get_tokenizer(path, pattern=r"[\s\S]+", special_tokens={})
    alphabet = ["a", "b", " ", "é", "ß", "中", "文", "ア", "\u0800", "\uffee", "😀", "\U00010000"]
    rng = random.Random(seed)
    for _ in range(300):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 60)))
        piece = text.encode()
        expected = tok_reference.bpe_ranks(ranks, piece)
        assert tok._core.encode_piece(piece).tolist() == expected, piece
        assert tok.encode(text).tolist() == expected, text
        assert tok.count(text) == len(expected), text
        # not valid UTF-8: a character cut off, a stray continuation byte
        bad = piece[: rng.randrange(1, len(piece) + 1)] + bytes([rng.choice([0x80, 0xE4, 0xF0])])
        bad += piece
        assert tok._core.encode_piece(bad).tolist() == tok_reference.bpe_ranks(ranks, bad), bad


@pytest.mark.parametrize("seed", range(3))
def test_random_merge_lists_equal_reference(seed: int) -> None:
    """HF merge semantics (priority = position in the merges list) over multi-byte characters."""
    rng = random.Random(seed)
    vocab = {bytes([b]): b for b in range(256)}
    merges: list[tuple[bytes, bytes]] = []
    text = "中文ア éß😀".encode()
    parts = [text[i : i + 1] for i in range(len(text))]
    tokens = list(dict.fromkeys(parts))
    while len(merges) < 80:
        a, b = rng.choice(tokens), rng.choice(tokens)
        if a + b in vocab or len(a + b) > 9:
            continue
        merges.append((a, b))
        vocab[a + b] = len(vocab)
        tokens.append(a + b)
    make = ctxengine._core.tokenizer.BpeTokenizer.from_vocab
    tok = make(
        "toy", list(vocab.items()), [(vocab[a], vocab[b]) for a, b in merges], False,
        "cl100k_base", [], "toy",
    )  # fmt: skip
    chars = list("中文ア éß😀")
    for _ in range(300):
        piece = "".join(rng.choice(chars) for _ in range(rng.randint(1, 40))).encode()
        expected = tok_reference.bpe_merges(vocab, merges, piece, False)
        assert tok.encode_piece(piece).tolist() == expected, piece
