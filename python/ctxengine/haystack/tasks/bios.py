"""LongBioBench-style synthetic biographies (Yang et al. 2025, "A Controllable Examination for
Long-Context Language Models").

The haystack is nothing but biographies: a few target people and many distractors, some of
whom share a first or last name with a target (`similar` sets the share). Each attribute is one
sentence that names the person, in one of two phrasings. Questions:

- ``attribute``: one attribute of one person;
- ``multi``: the same attribute of several people (all must be answered);
- ``age_difference``: the difference between two people's ages;
- ``rank``: several people ordered from youngest to oldest.

The gold spans are the attribute sentences the question needs.
"""

from __future__ import annotations

import random
import string
from collections.abc import Iterator
from dataclasses import dataclass

from ...errors import InternalError, InvalidInputError
from .. import _words
from ..layout import Insert
from ..record import GoldSpan
from ._base import Plan, TaskInput, assign_depths, check_choice, check_positive

__all__ = ["ATTRIBUTES", "Person", "biographies", "render_bio"]

ATTRIBUTES = (
    "birthday",
    "age",
    "birthplace",
    "hobby",
    "university",
    "major",
    "employer",
    "work_city",
)
QUESTIONS = ("attribute", "multi", "age_difference", "rank")
_MONTHS = (
    "January February March April May June July August September October November December"
).split()

_PHRASES: dict[str, tuple[str, str]] = {
    "birthday": ("{n} was born on {v}.", "{n} celebrates a birthday every {v}."),
    "age": ("{n} is {v} years old.", "The age of {n} is {v}."),
    "birthplace": ("{n} was born in {v}.", "The hometown of {n} is {v}."),
    "hobby": ("{n} enjoys {v}.", "In spare time, {n} practises {v}."),
    "university": ("{n} studied at {v}.", "{n} graduated from {v}."),
    "major": ("{n} majored in {v}.", "The field of study of {n} was {v}."),
    "employer": ("{n} works for {v}.", "{n} is employed by {v}."),
    "work_city": ("{n} works in the city of {v}.", "The office of {n} is in {v}."),
}
_ASK: dict[str, str] = {
    "birthday": "On which day of the year was {n} born?",
    "age": "How old is {n}?",
    "birthplace": "Where was {n} born?",
    "hobby": "What is the hobby of {n}?",
    "university": "Which university did {n} attend?",
    "major": "What did {n} major in?",
    "employer": "Which company does {n} work for?",
    "work_city": "In which city does {n} work?",
}


@dataclass(frozen=True)
class Person:
    name: str
    attributes: dict[str, str]


def _person(rng: random.Random, name: str) -> Person:
    return Person(
        name,
        {
            "birthday": f"{rng.choice(_MONTHS)} {rng.randint(1, 28)}",
            "age": str(rng.randint(21, 80)),
            "birthplace": rng.choice(_words.CITIES),
            "hobby": rng.choice(_words.HOBBIES),
            "university": rng.choice(_words.UNIVERSITIES),
            "major": rng.choice(_words.MAJORS),
            "employer": rng.choice(_words.COMPANIES),
            "work_city": rng.choice(_words.CITIES),
        },
    )


def render_bio(person: Person, rng: random.Random) -> list[tuple[str, str]]:
    """The bio as (attribute, sentence) pairs, the first being the heading ("", ...)."""
    order = list(ATTRIBUTES)
    rng.shuffle(order)
    out = [("", f"This is the biography of {person.name}.")]
    for a in order:
        phrase = _PHRASES[a][rng.randrange(2)]
        out.append((a, phrase.format(n=person.name, v=person.attributes[a])))
    return out


def _bio_text(sentences: list[tuple[str, str]]) -> str:
    return " ".join(s for _, s in sentences)


def biographies(
    ti: TaskInput,
    *,
    question: str = "attribute",
    people: int = 1,
    attribute: str | None = None,
    similar: float = 0.5,
) -> Plan:
    """Biographies of `people` targets among distractors, and one question about them."""
    check_choice("question", question, QUESTIONS)
    check_positive("people", people)
    if attribute is not None:
        check_choice("attribute", attribute, ATTRIBUTES)
    if not 0.0 <= similar <= 1.0:
        raise InvalidInputError(f"similar must be between 0 and 1, got {similar}")
    if question == "age_difference":
        people = 2
    elif question in ("multi", "rank"):
        people = max(people, 2)
    rng = ti.rng
    used: set[str] = set()

    def fresh_name(first: str | None = None, last: str | None = None) -> str:
        # A name not used yet; with `first` or `last` when one is still free (a few tries),
        # else any name (there are about 200,000).
        for attempt in range(10_000):
            keep = attempt < 50
            name = (
                f"{first if keep and first else rng.choice(_words.FIRST_NAMES)} "
                f"{rng.choice(string.ascii_uppercase)}. "
                f"{last if keep and last else rng.choice(_words.LAST_NAMES)}"
            )
            if name not in used:
                used.add(name)
                return name
        raise InternalError("ran out of distinct names for biographies")

    targets = [_person(rng, fresh_name()) for _ in range(people)]
    if question == "rank":
        ages = rng.sample(range(21, 81), people)  # distinct ages: one order
        targets = [
            Person(p.name, p.attributes | {"age": str(a)})
            for p, a in zip(targets, ages, strict=True)
        ]
    attr = "age" if question in ("age_difference", "rank") else attribute or rng.choice(ATTRIBUTES)

    names = [p.name for p in targets]
    if question == "attribute" and people == 1:
        q = _ASK[attr].format(n=names[0])
        answers = [targets[0].attributes[attr]]
    elif question in ("attribute", "multi"):
        q = " ".join(f"Question {i + 1}: " + _ASK[attr].format(n=n) for i, n in enumerate(names))
        answers = [p.attributes[attr] for p in targets]
    elif question == "age_difference":
        q = f"What is the difference in years between the ages of {names[0]} and {names[1]}?"
        a0, a1 = (int(p.attributes["age"]) for p in targets)
        answers = [str(abs(a0 - a1))]
    else:
        q = "Order these people from youngest to oldest: " + ", ".join(names) + "."
        ordered = sorted(targets, key=lambda p: int(p.attributes["age"]))
        answers = [", ".join(p.name for p in ordered)]

    bios = [render_bio(p, rng) for p in targets]
    depths = assign_depths(rng, people, ti.depth)
    inserts = [Insert(_bio_text(b), d, "bio") for b, d in zip(bios, depths, strict=True)]
    # bio text -> (the sentence the question needs, its value)
    facts = {
        _bio_text(b): (next(s for a, s in b if a == attr), p.attributes[attr])
        for b, p in zip(bios, targets, strict=True)
    }

    def distractors() -> Iterator[str]:
        while True:
            if rng.random() < similar:
                t = rng.choice(targets).name.split()
                name = fresh_name(first=t[0]) if rng.random() < 0.5 else fresh_name(last=t[-1])
            else:
                name = fresh_name()
            sentences = render_bio(_person(rng, name), rng)
            for i, (_, s) in enumerate(sentences):
                yield s + ("\n\n" if i == len(sentences) - 1 else " ")

    def finish(context: str, spans: list[GoldSpan]) -> tuple[list[str], list[GoldSpan]]:
        gold: list[GoldSpan] = []
        for span in spans:
            fact, value = facts[span.text]
            at = span.start + span.text.index(fact)
            gold.append(GoldSpan(at, at + len(fact), fact, "fact", value, span.depth))
        return answers, gold

    return Plan(
        question=f"{q}",
        answers=answers,
        template="Below are biographies of many people. Answer using only what they say.\n\n"
        "{context}\n\n{question}",
        answer_prefix="Answer:",
        inserts=inserts,
        units=distractors(),
        finish=finish,
        filler_name="biographies",
        meta={"question": question, "people": people, "attribute": attr, "similar": similar},
    )
