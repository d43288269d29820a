"""HoloBench-style aggregation (Maekawa, Iso and Bhutani 2024, "Holistic Reasoning with
Long-Context LMs: A Benchmark for Database Operations on Massive Textual Data").

Rows of a small table are written as sentences and spread through filler; a question asks for
a database operation over them — a count, a maximum, a minimum or a filter — and the gold
answer is computed from the rows. The rows a question needs (the ones its condition selects)
are the gold spans; the other rows are distractors. `placement` controls where the rows sit:
spread evenly through the context, or gathered at its beginning, middle or end (HoloBench's
merge strategies).
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from .. import _words
from ..layout import Insert
from ._base import Plan, TaskInput, assign_depths, check_choice, check_positive

__all__ = ["QUESTIONS", "Employee", "aggregation", "render_employee"]

QUESTIONS = ("count", "max", "min", "filter")
PLACEMENTS = ("uniform", "begin", "middle", "end", "random")
_BANDS = {"begin": (0.0, 0.25), "middle": (0.375, 0.625), "end": (0.75, 1.0)}


@dataclass(frozen=True)
class Employee:
    """One row of the table."""

    name: str
    department: str
    city: str
    year: int
    salary: int


def render_employee(e: Employee, style: int) -> str:
    """A row as one sentence, in one of three phrasings."""
    if style == 0:
        return (
            f"{e.name} works in {e.department} at the {e.city} office, joined in {e.year} "
            f"and earns ${e.salary:,} a year."
        )
    if style == 1:
        return (
            f"At the {e.city} office, {e.name} of the {e.department} team has been on the staff "
            f"since {e.year}, with a salary of ${e.salary:,}."
        )
    return (
        f"{e.name} ({e.department}, {e.city} office) joined in {e.year} and is paid "
        f"${e.salary:,} a year."
    )


def _table(rng: random.Random, n: int) -> list[Employee]:
    names: set[str] = set()
    salaries: set[int] = set()
    rows: list[Employee] = []
    departments = rng.sample(_words.DEPARTMENTS, min(4, len(_words.DEPARTMENTS)))
    cities = rng.sample(_words.CITIES, 4)
    while len(rows) < n:
        name = f"{rng.choice(_words.FIRST_NAMES)} {rng.choice(_words.LAST_NAMES)}"
        salary = rng.randrange(40_000, 160_001, 250)
        if name in names or salary in salaries:  # distinct: max and min have one answer
            continue
        names.add(name)
        salaries.add(salary)
        rows.append(
            Employee(
                name, rng.choice(departments), rng.choice(cities), rng.randint(2005, 2023), salary
            )
        )
    return rows


def aggregation(
    ti: TaskInput, *, records: int = 40, question: str = "count", placement: str = "uniform"
) -> Plan:
    """`records` employee rows in filler and one aggregation `question` about them."""
    check_positive("records", records, 2)
    check_choice("question", question, QUESTIONS)
    check_choice("placement", placement, PLACEMENTS)
    rng = ti.rng
    rows = _table(rng, records)
    pivot = rng.choice(rows)
    if question == "filter":
        year = pivot.year - 1 - rng.randrange(3)
        selected = [r for r in rows if r.city == pivot.city and r.year > year]
        q = f"Which employees of the {pivot.city} office joined after {year}?"
        answers = [r.name for r in selected]
        noun = "employees"
    else:
        selected = [r for r in rows if r.department == pivot.department]
        if question == "count":
            q = f"How many employees work in {pivot.department}?"
            answers = [str(len(selected))]
        elif question == "max":
            q = f"Who has the highest salary in {pivot.department}?"
            answers = [max(selected, key=lambda r: r.salary).name]
        else:
            q = f"Who has the lowest salary in {pivot.department}?"
            answers = [min(selected, key=lambda r: r.salary).name]
        noun = "answer"
    if placement == "uniform":
        depths = [(i + 0.5) / records for i in range(records)]
    elif placement == "random":
        depths = sorted(rng.random() for _ in range(records))
    else:
        lo, hi = _BANDS[placement]
        depths = [lo + (hi - lo) * (i + 0.5) / records for i in range(records)]
    if ti.depth is not None:
        depths = assign_depths(
            rng, records, ti.depth if not isinstance(ti.depth, float) else [ti.depth] * records
        )
    chosen = set(selected)
    inserts = [
        Insert(
            render_employee(r, rng.randrange(3)),
            d,
            "record" if r in chosen else "distractor",
            r.name if r in chosen else None,
        )
        for r, d in zip(rows, depths, strict=True)
    ]
    return Plan(
        question=f"Question: {q}",
        answers=answers,
        template="The text below mentions employees of a company, with their department, "
        "office, start year and salary. Consider all of them.\n\n{context}\n\n{question}",
        answer_prefix=f"Answer: the {noun} is" if noun == "answer" else "Answer: the employees are",
        inserts=inserts,
        units=ti.filler.units(),
        filler_name=ti.filler.name,
        meta={
            "records": records,
            "question": question,
            "placement": placement,
            "selected": len(selected),
        },
    )
