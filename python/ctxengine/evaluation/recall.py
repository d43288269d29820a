"""Context recall: which gold facts survived into a prompt, where, and at what token cost.

A gold fact survives when its text appears whole in the prompt: first as an exact substring
(not glued to a longer word or number: "12. crown" is not found inside "112. crown"), else with
whitespace runs allowed to differ (a packer may re-wrap text). A fact cut in two by a chunk
boundary has not survived. For each fact that survived, the prompt's str offset and its exact
token offset (the token count of the prompt before it) are reported.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from ..errors import InvalidInputError
from ..haystack._tokens import TokenCounter, resolve_tokenizer
from ..haystack.positions import token_offsets
from ..haystack.record import GoldSpan, Haystack

__all__ = ["FactRecall", "Recall", "context_recall", "find_fact", "gold_facts"]


@dataclass(frozen=True)
class FactRecall:
    """One gold fact: whether it survived, and where it sits in the prompt."""

    text: str
    found: bool
    offset: int | None = None  # str offset in the prompt
    token_offset: int | None = None  # tokens of the prompt before it
    depth: float | None = None  # the depth it had in the haystack
    kind: str = "needle"


@dataclass
class Recall:
    """Context recall of one prompt against one set of gold facts.

    `recall` is the fraction of gold facts that survived (None when there are none);
    `answer_recall` the fraction of gold answers whose text appears in the prompt; `tokens`
    the exact token count of the prompt (when a tokenizer was given or the prompt knew it).
    """

    facts: list[FactRecall]
    recall: float | None
    answer_recall: float | None
    tokens: int | None
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def found(self) -> int:
        return sum(f.found for f in self.facts)


def gold_facts(gold: Haystack | Sequence[GoldSpan | str]) -> list[GoldSpan]:
    """The gold facts of a haystack (every span but its distractors), or the given spans or
    strings as spans."""
    if isinstance(gold, Haystack):
        return [s for s in gold.spans if s.kind != "distractor"]
    if isinstance(gold, str):
        raise InvalidInputError("gold must be a Haystack or a list of spans or strings, not a str")
    out = []
    for g in gold:
        if isinstance(g, GoldSpan):
            out.append(g)
        elif isinstance(g, str):
            out.append(GoldSpan(0, len(g), g))
        else:
            raise InvalidInputError(f"gold facts are GoldSpans or strings, got {type(g).__name__}")
    return out


def find_fact(prompt: str, text: str) -> int | None:
    """Where `text` appears whole in `prompt` (see the module doc), or None.

    >>> find_fact("item 112. crown and 12. crown", "12. crown")
    20
    >>> find_fact("The hidden  number\\nis 7.", "The hidden number is 7.")
    0
    """
    if not text:
        return None
    start = prompt.find(text)
    while start >= 0:
        if _whole(prompt, start, start + len(text), text):
            return start
        start = prompt.find(text, start + 1)
    words = text.split()
    if not words:
        return None
    pattern = r"\s+".join(re.escape(w) for w in words)
    for m in re.finditer(pattern, prompt):
        if _whole(prompt, m.start(), m.end(), text.strip()):
            return m.start()
    return None


def _whole(prompt: str, start: int, end: int, text: str) -> bool:
    before = start > 0 and text[0].isalnum() and prompt[start - 1].isalnum()
    after = end < len(prompt) and text[-1].isalnum() and prompt[end].isalnum()
    return not (before or after)


def context_recall(
    prompt: Any,
    gold: Haystack | Sequence[GoldSpan | str],
    *,
    tokenizer: str | TokenCounter | None = None,
    answers: Sequence[str] | None = None,
) -> Recall:
    """Which gold facts of `gold` survived into `prompt`, where, and how many tokens it used.

    `prompt` is a string or anything with a ``.text`` (a ``Packed`` prompt; its ``.tokens``
    is used as the token count when no tokenizer is given). `gold` is a :class:`Haystack`
    (its gold spans and answers) or a list of spans or fact strings. With a `tokenizer`, the
    prompt's exact token count and each surviving fact's token offset are computed.

    >>> from ctxengine.haystack import GoldSpan
    >>> r = context_recall("... The code is 42. ...", ["The code is 42.", "Missing fact."])
    >>> r.recall, [f.offset for f in r.facts]
    (0.5, [4, None])
    """
    text = prompt if isinstance(prompt, str) else getattr(prompt, "text", None)
    if not isinstance(text, str):
        raise InvalidInputError(
            f"prompt must be a string or have a .text string, got {type(prompt).__name__}"
        )
    facts = gold_facts(gold)
    if answers is None and isinstance(gold, Haystack):
        answers = gold.answers
    offsets = [find_fact(text, f.text) for f in facts]
    tokens: int | None = None
    token_at: dict[int, int] = {}
    if tokenizer is not None:
        tok = resolve_tokenizer(tokenizer)
        found = [o for o in offsets if o is not None]
        counts = token_offsets(tok, text, [*found, len(text)])
        tokens = counts[-1]
        token_at = dict(zip(found, counts[:-1], strict=True))
    elif not isinstance(prompt, str) and isinstance(getattr(prompt, "tokens", None), int):
        tokens = prompt.tokens
    results = [
        FactRecall(
            f.text,
            o is not None,
            o,
            token_at.get(o) if o is not None else None,
            f.depth,
            f.kind,
        )
        for f, o in zip(facts, offsets, strict=True)
    ]
    recall = sum(r.found for r in results) / len(results) if results else None
    answer_recall = None
    if answers:
        answer_recall = sum(find_fact(text, a) is not None for a in answers) / len(answers)
    return Recall(results, recall, answer_recall, tokens)
