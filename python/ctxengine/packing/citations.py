"""Checking an answer's citations against the sources of a pack.

A packed prompt numbers its sources ``[1]``, ``[2]``, ... and ``Packed.sources`` maps each
number to a document and str offsets. ``check_citations`` reads the ``[n]`` markers of an answer
(also ``[1, 3]``, ``[2-4]`` and ``[1][2]``), says which numbers exist, which do not, which
sources were never cited, which sentence cites what, and, given the documents, whether every
cited source's offsets still reconstruct its text. This is the structural half of L-CiteEval's
citation check (Tang et al. 2024); whether a cited passage entails its sentence needs a model.
A cheap lexical proxy is given per sentence: the share of its content words found in the cited
sources.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ..errors import InvalidInputError

__all__ = ["CitationCheck", "CitedSentence", "check_citations", "parse_citations"]

_MARKER = re.compile(r"\[(\s*\d+\s*(?:(?:[,;]|[-–])\s*\d+\s*)*)\]")
_SENTENCE = re.compile(r"[^.!?。！？\n]*(?:[.!?。！？]+|\n|$)(?:\s*\[[\d\s,;\-–]+\])*")
_WORD = re.compile(r"\w{4,}")
_MAX_RANGE = 1000  # "[1-1000000]" is not a citation worth expanding


@dataclass(frozen=True)
class CitedSentence:
    """One sentence of the answer with the source numbers it cites."""

    text: str
    numbers: tuple[int, ...]
    support: float  # share of its content words (4+ letters) found in the cited sources' text


@dataclass(frozen=True)
class CitationCheck:
    """What an answer cites, checked against a pack's sources."""

    cited: tuple[int, ...]  # distinct numbers in order of first citation
    valid: tuple[int, ...]  # cited numbers that name a source
    unknown: tuple[int, ...]  # cited numbers that name no source
    uncited: tuple[int, ...]  # sources never cited
    sentences: tuple[CitedSentence, ...]  # sentences that cite something
    mismatched: tuple[int, ...]  # cited sources whose offsets do not reconstruct their text
    sources: Mapping[int, Any]  # number -> Source, for the valid numbers

    @property
    def ok(self) -> bool:
        """Something is cited, and every citation names a source that checks out."""
        return bool(self.cited) and not self.unknown and not self.mismatched


def parse_citations(text: str) -> list[int]:
    """The source numbers cited in `text`, in order, with repeats.

    >>> parse_citations("Lists are mutable [1][3]; tuples are not [2-4, 6].")
    [1, 3, 2, 3, 4, 6]
    """
    out: list[int] = []
    for m in _MARKER.finditer(text):
        for part in re.split(r"[,;]", m.group(1)):
            bounds = [int(x) for x in re.split(r"[-–]", part.strip())]
            if len(bounds) == 2 and 0 <= bounds[1] - bounds[0] <= _MAX_RANGE:
                out.extend(range(bounds[0], bounds[1] + 1))
            else:
                out.extend(bounds)
    return out


def check_citations(
    answer: str,
    sources: Any,
    *,
    documents: Mapping[Any, str] | Callable[[Any], str | None] | None = None,
) -> CitationCheck:
    """Check the ``[n]`` citations of `answer` against `sources` (a :class:`Packed` or its
    ``sources`` list). With `documents` (doc_id -> text, or a function), each cited source is
    also checked to be ``document[start:end]``.

    >>> from ctxengine.packing import Source
    >>> srcs = [Source(1, "a", 0, (0,), 0, 9, 1.0, 3, "Lists are"), Source(2, "b", 0, (0,), 0, 6,
    ...         0.5, 2, "Tuples")]
    >>> check = check_citations("Lists are mutable [1]. Sets are fast [3].", srcs)
    >>> check.valid, check.unknown, check.uncited
    ((1,), (3,), (2,))
    """
    if not isinstance(answer, str):
        raise InvalidInputError(f"answer must be a str, got {type(answer).__name__}")
    items = getattr(sources, "sources", sources)
    if not isinstance(items, Sequence):
        raise InvalidInputError("sources must be a Packed or a list of Source")
    by_number = {s.number: s for s in items if s.number is not None}
    cited: list[int] = []
    for n in parse_citations(answer):
        if n not in cited:
            cited.append(n)
    valid = tuple(n for n in cited if n in by_number)
    unknown = tuple(n for n in cited if n not in by_number)
    uncited = tuple(sorted(n for n in by_number if n not in cited))
    sentences = []
    for m in _SENTENCE.finditer(answer):
        text = m.group(0).strip()
        numbers = tuple(dict.fromkeys(parse_citations(text)))
        if not text or not numbers:
            continue
        words = {w.lower() for w in _WORD.findall(_MARKER.sub(" ", text))}
        cited_text = " ".join(by_number[n].text for n in numbers if n in by_number).lower()
        found = sum(1 for w in words if w in cited_text)
        sentences.append(CitedSentence(text, numbers, found / len(words) if words else 0.0))
    mismatched = []
    if documents is not None:
        read = documents if callable(documents) else documents.get
        for n in valid:
            s = by_number[n]
            doc = read(s.doc_id)
            if s.start is None or s.end is None or doc is None or doc[s.start : s.end] != s.text:
                mismatched.append(n)
    return CitationCheck(
        cited=tuple(cited),
        valid=valid,
        unknown=unknown,
        uncited=uncited,
        sentences=tuple(sentences),
        mismatched=tuple(mismatched),
        sources={n: by_number[n] for n in valid},
    )
