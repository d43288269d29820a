"""Needle in a haystack, as RULER defines its variants.

A needle states a key and a value ("The hidden number for brave-otter is 4821937."). RULER's
variants differ in how many keys, values and queries there are and in what the haystack is:

- single: one key, one value;
- multi-key: several keys, one queried (the others are distractors); RULER's multikey_2/3 make
  the whole haystack of distractor needles;
- multi-value: one key with several values, all asked for;
- multi-query: several keys, all asked for.

Keys are adjective-noun words, 7-digit numbers or UUIDs; values are numbers, words or UUIDs.
The wording of needles and questions is ctxengine's own.
"""

from __future__ import annotations

import random
from collections.abc import Iterator

from ... import errors
from .. import _words
from ..filler import load_filler
from ..layout import Insert
from ._base import (
    Plan,
    TaskInput,
    assign_depths,
    check_choice,
    check_positive,
    random_number,
    random_uuid,
)

KINDS = ("words", "numbers", "uuids")
HAYSTACKS = ("filler", "noise", "needles")
_NOUN = {"numbers": "number", "words": "word", "uuids": "code"}


class _Draw:
    """Distinct random keys and values."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.used: set[str] = set()

    def __call__(self, kind: str) -> str:
        for _ in range(10_000):
            if kind == "words":
                value = f"{self.rng.choice(_words.ADJECTIVES)}-{self.rng.choice(_words.NOUNS)}"
            elif kind == "numbers":
                value = random_number(self.rng)
            else:
                value = random_uuid(self.rng)
            if value not in self.used:
                self.used.add(value)
                return value
        raise errors.InternalError("ran out of distinct keys")


def needle_text(key: str, value: str, value_type: str, *, several: bool) -> str:
    noun = _NOUN[value_type]
    if several:
        return f"One of the hidden {noun}s for {key} is {value}."
    return f"The hidden {noun} for {key} is {value}."


def _join(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def niah(
    ti: TaskInput,
    *,
    keys: int = 1,
    values: int = 1,
    queries: int = 1,
    key_type: str = "words",
    value_type: str = "numbers",
    haystack: str = "filler",
) -> Plan:
    """A needle-in-a-haystack plan. Inserts: the queried needles first, then distractors."""
    check_positive("keys", keys)
    check_positive("values", values)
    check_positive("queries", queries)
    check_choice("key_type", key_type, KINDS)
    check_choice("value_type", value_type, KINDS)
    check_choice("haystack", haystack, HAYSTACKS)
    keys = max(keys, queries)  # as in RULER: every queried key has a needle
    rng, draw = ti.rng, _Draw(ti.rng)
    several = values > 1
    key_list = [draw(key_type) for _ in range(keys)]
    value_lists = [[draw(value_type) for _ in range(values)] for _ in key_list]
    queried = sorted(rng.sample(range(keys), queries))
    gold = [
        Insert(needle_text(key_list[k], v, value_type, several=several), 0.0, "needle", v)
        for k in queried
        for v in value_lists[k]
    ]
    others = [
        Insert(needle_text(key_list[k], v, value_type, several=several), 0.0, "distractor", None)
        for k in range(keys)
        if k not in queried
        for v in value_lists[k]
    ]
    inserts = gold + others
    depths = assign_depths(rng, len(inserts), ti.depth)
    inserts = [Insert(i.text, d, i.kind, i.answer) for i, d in zip(inserts, depths, strict=True)]

    noun = _NOUN[value_type]
    asked = _join([key_list[k] for k in queried])
    if len(gold) == 1:
        question = f"What is the hidden {noun} for {asked}?"
        prefix = f"The hidden {noun} for {asked} is"
    else:
        question = f"What are all the hidden {noun}s for {asked}?"
        prefix = f"The hidden {noun}s for {asked} are"
    template = (
        f"Some hidden {noun}s are placed in the text below. Memorize them: you will be asked "
        "about them afterwards.\n\n{context}\n\n{question}"
    )
    if haystack == "needles":
        units: Iterator[str] = _needle_units(draw, key_type, value_type, several)
        filler_name = "needles"
    elif haystack == "noise":
        filler = load_filler("noise")
        units, filler_name = filler.units(), filler.name
    else:
        units, filler_name = ti.filler.units(), ti.filler.name
    return Plan(
        question=question,
        answers=[i.answer for i in gold if i.answer is not None],
        template=template,
        answer_prefix=prefix,
        inserts=inserts,
        units=units,
        filler_name=filler_name,
        meta={
            "keys": keys,
            "values": values,
            "queries": queries,
            "key_type": key_type,
            "value_type": value_type,
            "haystack": haystack,
            "query_keys": [key_list[k] for k in queried],
        },
    )


def _needle_units(draw: _Draw, key_type: str, value_type: str, several: bool) -> Iterator[str]:
    while True:
        yield needle_text(draw(key_type), draw(value_type), value_type, several=several) + "\n"
