"""RULER's multi-hop tracing and aggregation tasks: variable tracking, common words and
frequent words (Hsieh et al. 2024, "RULER: What's the Real Context Size of Your Long-Context
Language Models?"). The definitions follow the paper; wording is ctxengine's own.

- Variable tracking (``vt``): chains of assignments ``VAR AAAAA = 12345``, ``VAR BBBBB =
  VAR AAAAA``, ... hidden in filler; the answer is every variable the value reaches.
- Common words extraction (``cwe``): a numbered list in which a few words appear
  ``common_freq`` times and all others ``rare_freq`` times; the answer is the common words.
- Frequent words extraction (``fwe``): coded words drawn from a Zipf distribution with
  exponent ``alpha``, the most frequent one replaced by ``...`` as noise; the answer is the
  three most frequent coded words.

Common and frequent words size their own text to the requested length, and their answers are
recounted from the final text (the last item or word may be cut to land on the exact length).
"""

from __future__ import annotations

import random
import re
import string
from collections import Counter
from collections.abc import Iterator

from ...errors import BudgetError, InternalError
from .. import _words
from .._tokens import count_many
from ..filler import load_filler
from ..layout import Insert
from ..record import GoldSpan
from ._base import Plan, TaskInput, chain_depths, check_choice, check_positive

__all__ = ["common_words", "frequent_words", "variable_tracking"]


def _variable(rng: random.Random, used: set[str]) -> str:
    while True:
        name = "".join(rng.choices(string.ascii_uppercase, k=5))
        if name not in used:
            used.add(name)
            return name


def variable_tracking(
    ti: TaskInput, *, chains: int = 1, hops: int = 4, haystack: str = "noise"
) -> Plan:
    """Chains of variable assignments; the first chain is asked about, the others distract."""
    check_positive("chains", chains)
    check_positive("hops", hops)
    check_choice("haystack", haystack, ("noise", "filler"))
    rng = ti.rng
    used: set[str] = set()
    values: set[int] = set()
    inserts: list[Insert] = []
    asked: list[str] = []
    value = ""
    for c in range(chains):
        names = [_variable(rng, used) for _ in range(hops + 1)]
        v = rng.randint(10000, 99999)
        while v in values:
            v = rng.randint(10000, 99999)
        values.add(v)
        statements = [f"VAR {names[0]} = {v}."] + [
            f"VAR {names[j + 1]} = VAR {names[j]}." for j in range(hops)
        ]
        depths = chain_depths(rng, len(statements), ti.depth if c == 0 else None)
        kind = "statement" if c == 0 else "distractor"
        inserts += [
            Insert(text, d, kind, names[j] if c == 0 else None)
            for j, (text, d) in enumerate(zip(statements, depths, strict=True))
        ]
        if c == 0:
            asked, value = names, str(v)
    filler = ti.filler if haystack == "filler" else load_filler("noise")
    return Plan(
        question=f"Question: Which variables are assigned the value {value}, directly or "
        "through other variables?",
        answers=asked,
        template="The text below hides chains of variable assignments. Track every chain.\n\n"
        "{context}\n\n{question}",
        answer_prefix=f"Answer: the variables assigned the value {value} are:",
        inserts=inserts,
        units=filler.units(),
        filler_name=filler.name,
        meta={"chains": chains, "hops": hops, "value": value, "haystack": haystack},
    )


def _pseudo_words(rng: random.Random) -> Iterator[str]:
    """Endless distinct pronounceable made-up words (after the real word list runs out)."""
    consonants, vowels = "bdfgklmnprstvz", "aeiou"
    seen: set[str] = set()
    while True:
        word = "".join(rng.choice(consonants) + rng.choice(vowels) for _ in range(3))
        if word not in seen:
            seen.add(word)
            yield word


def _tokens_per(ti: TaskInput, sample: list[str]) -> float:
    counts = count_many(ti.tokenizer, ["".join(sample)])
    return max(counts[0] / max(len(sample), 1), 0.5)


_ITEM = re.compile(r"(?:^|(?<=\s))(\d+)\. (\S+)")


def common_words(
    ti: TaskInput, *, common: int = 10, common_freq: int = 30, rare_freq: int = 3
) -> Plan:
    """A numbered word list: `common` words appear `common_freq` times, the rest
    `rare_freq` times; the answer is the common words."""
    check_positive("common", common)
    check_positive("rare_freq", rare_freq)
    check_positive("common_freq", common_freq, rare_freq + 1)
    rng = ti.rng
    real = list(_words.COMMON_WORDS)
    rng.shuffle(real)
    chosen, rare_pool = real[:common], real[common:]
    pseudo = _pseudo_words(rng)
    extra: list[str] = []  # rare words drawn so far, in order (reused when resizing)

    def rare(i: int) -> str:
        while len(extra) <= i:
            word = rare_pool.pop() if rare_pool else next(pseudo)
            while word in chosen:
                word = next(pseudo)
            extra.append(word)
        return extra[i]

    def render(rare_count: int) -> list[str]:
        listed = chosen * common_freq + [
            rare(i) for i in range(rare_count) for _ in range(rare_freq)
        ]
        random.Random(f"cwe/{rare_count}/{seed}").shuffle(listed)
        return listed

    # Size the list to the length: guess from a sample, then correct with whole counts (rare
    # made-up words take more tokens than real ones, so one guess is not enough).
    seed = rng.random()
    sample = [f"{i}. {w} " for i, w in enumerate(rng.choices(real, k=400), start=3000)]
    per_item = _tokens_per(ti, sample)
    rare_count = max(1, int((ti.length / per_item - common * common_freq) / rare_freq))
    for _ in range(4):
        words = render(rare_count)
        total = count_many(ti.tokenizer, ["".join(_items(words))])[0]
        if abs(total - ti.length) <= ti.length // 100:
            break
        per_item = total / len(words)
        rare_count = max(1, int((ti.length / per_item - common * common_freq) / rare_freq))
    if common * common_freq * per_item > ti.length:
        need = int(common * common_freq * per_item) + 1
        raise BudgetError(
            f"cwe with {common} x {common_freq} common items needs about {need} tokens"
        )
    words = render(rare_count)
    next_rare = rare_count

    def units() -> Iterator[str]:
        yield from _items(words)
        k, n = next_rare, len(words)
        while True:  # more than planned: keep adding rare words
            for _ in range(rare_freq):
                n += 1
                yield f"{n}. {rare(k)} "
            k += 1

    def finish(context: str, spans: list[GoldSpan]) -> tuple[list[str], list[GoldSpan]]:
        found = [(m.start(), m.end(), m.group(2)) for m in _ITEM.finditer(context)]
        freq = Counter(w for _, _, w in found)
        ranked = freq.most_common()
        top = {w for w, _ in ranked[:common]}
        if top != set(chosen) or (
            len(ranked) > common and ranked[common][1] >= ranked[common - 1][1]
        ):
            raise InternalError("cwe: the common words are not the most frequent after sizing")
        gold = [GoldSpan(s, e, context[s:e], "occurrence", w) for s, e, w in found if w in top]
        return sorted(chosen, key=lambda w: (-freq[w], w)), gold

    return Plan(
        question=f"Question: What are the {common} most common words in the list above?",
        answers=chosen,
        template="Below is a numbered list of words. Some words appear more often than others; "
        "remember which.\n\n{context}\n\n{question}",
        answer_prefix=f"Answer: the {common} most common words in the list are:",
        units=units(),
        finish=finish,
        filler_name="words",
        meta={"common": common, "common_freq": common_freq, "rare_freq": rare_freq},
    )


def _items(words: list[str]) -> Iterator[str]:
    return (f"{i}. {w} " for i, w in enumerate(words, 1))


def _zeta(alpha: float, terms: int = 100_000) -> float:
    head = sum(k**-alpha for k in range(1, terms + 1))
    return head + terms ** (1 - alpha) / (alpha - 1)  # integral tail


def frequent_words(
    ti: TaskInput, *, alpha: float = 2.0, word_length: int = 6, top: int = 3
) -> Plan:
    """Coded words with Zipf(`alpha`) frequencies; the answer is the `top` most frequent (the
    most frequent of all is ``...``, noise to be ignored)."""
    if not alpha > 1.0:
        raise BudgetError(f"fwe needs alpha > 1 (a Zipf exponent), got {alpha}")
    check_positive("word_length", word_length, 2)
    check_positive("top", top)
    rng = ti.rng
    vocab_size = max(top + 8, ti.length // 50)  # RULER sizes the vocabulary by the length
    vocab: list[str] = []
    seen: set[str] = set()
    while len(vocab) < vocab_size:
        w = "".join(rng.choices(string.ascii_lowercase, k=word_length))
        if w not in seen:
            seen.add(w)
            vocab.append(w)
    vocab[0] = "..."
    per_word = _tokens_per(ti, [w + " " for w in rng.choices(vocab[1:], k=400)])
    n = int(ti.length / per_word * 1.02) + 1
    z = _zeta(alpha)
    words = [w for k, w in enumerate(vocab, 1) for _ in range(int(n * k**-alpha / z))]
    rng.shuffle(words)
    answers = vocab[1 : top + 1]

    rarest = vocab[len(vocab) // 2 :]

    def units() -> Iterator[str]:
        yield from (w + " " for w in words)
        while True:  # more than planned: the rarest words, which cannot change the top
            yield rng.choice(rarest) + " "

    def finish(context: str, spans: list[GoldSpan]) -> tuple[list[str], list[GoldSpan]]:
        freq = Counter(w for w in context.split() if w != "...")
        ranked = freq.most_common(top + 1)
        if len(ranked) <= top or ranked[top - 1][1] <= ranked[top][1]:
            raise BudgetError(
                f"fwe: at {ti.length} tokens the {top} most frequent words are not distinct; "
                "ask for a longer length"
            )
        return [w for w, _ in ranked[:top]], []

    return Plan(
        question=f"Question: Ignoring the dots, what are the {top} most frequent coded words "
        "in the text above?",
        answers=answers,
        template="Read the coded text below and keep track of how often each coded word "
        "appears.\n\n{context}\n\n{question}",
        answer_prefix=f"Answer: the {top} most frequent coded words are:",
        units=units(),
        finish=finish,
        filler_name="coded words",
        meta={"alpha": alpha, "word_length": word_length, "vocabulary": vocab_size},
    )
