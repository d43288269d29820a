"""RULER-style scoring of a model's answer by string match.

RULER scores its synthetic tasks with ``string_match_all`` (the share of gold answers that
appear in the prediction, case-insensitively) and its QA tasks with ``string_match_part``
(1 when any gold answer appears). The same two metrics are used here, per task.
"""

from __future__ import annotations

from collections.abc import Sequence

from ..errors import InvalidInputError

__all__ = ["METRICS", "score", "string_match_all", "string_match_part", "task_metric"]


def string_match_all(prediction: str, answers: Sequence[str]) -> float:
    """The share of `answers` that appear in `prediction` (case-insensitive).

    >>> string_match_all("The numbers are 12 and 7.", ["12", "7", "9"])
    0.6666666666666666
    """
    if not answers:
        raise InvalidInputError("no gold answers to score against")
    p = prediction.lower()
    return sum(a.lower() in p for a in answers) / len(answers)


def string_match_part(prediction: str, answers: Sequence[str]) -> float:
    """1.0 when any of `answers` appears in `prediction` (case-insensitive), else 0.0.

    >>> string_match_part("It was Paris.", ["paris", "Lyon"])
    1.0
    """
    if not answers:
        raise InvalidInputError("no gold answers to score against")
    p = prediction.lower()
    return float(any(a.lower() in p for a in answers))


METRICS = {"all": string_match_all, "part": string_match_part}

# Tasks whose gold answers are alternatives (any one is right) rather than a set to recall.
_PART_TASKS = ("qa", "longbench", "leval", "loogle", "locomo")


def task_metric(task: str) -> str:
    """The metric RULER uses for `task`: ``"part"`` for question answering, else ``"all"``."""
    return "part" if task.startswith(_PART_TASKS) else "all"


def score(task: str, prediction: str, answers: Sequence[str]) -> float:
    """Score `prediction` against the gold `answers` with `task`'s metric (0..1)."""
    return METRICS[task_metric(task)](prediction, answers)
