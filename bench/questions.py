"""Real questions about the Python docs, with the documents (and sections) that answer them.

``bench/data/python_docs_questions.tsv`` holds 372 questions written for this project by hand,
in the words a user types into a search box (8-15 words, lower case, no quotes), each about one
task or concept the Python 3.11 docs cover. Each names the documents that answer it (paths
under ``html/_sources`` without ``.rst.txt``; several where the tutorial and the library
reference both do) and, where one section answers it, that section's title. The judgment was
made by reading the documents: the relevant document is the one a person would be sent to.

A retrieved chunk is relevant at the document level when it comes from a relevant document,
and at the section level when its text overlaps the named section of one of them (the section
runs from its title to the next title of the same or a higher level).

>>> qs = load_questions()
>>> len(qs) >= 300 and all(8 <= len(q.text.split()) <= 15 for q in qs)
True
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

HERE = Path(__file__).resolve().parent
QUESTIONS = HERE / "data" / "python_docs_questions.tsv"
DOCS_DIR = Path("/usr/share/doc/python3.11/html/_sources")

_ADORNMENT = re.compile(r"^([=\-~^*#\"+`'.:_])\1{2,}\s*$")


@dataclass(frozen=True)
class Question:
    text: str
    docs: tuple[str, ...]
    section: str


def load_questions(path: Path = QUESTIONS) -> list[Question]:
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        text, docs, section = line.split("\t")
        out.append(Question(text, tuple(docs.split(";")), section))
    return out


def doc_id(path: Path) -> str:
    return str(path.relative_to(DOCS_DIR))[: -len(".rst.txt")]


@cache
def documents() -> dict[str, str]:
    """The Python docs: document id -> text, in sorted path order."""
    if not DOCS_DIR.is_dir():
        raise SystemExit(
            "this bench needs the Python 3.11 docs as text: apt-get install python3.11-doc"
        )
    return {doc_id(p): p.read_text(encoding="utf-8") for p in sorted(DOCS_DIR.rglob("*.rst.txt"))}


def _normal(title: str) -> str:
    title = re.sub(r":[\w:+-]+:", "", title)
    title = title.replace("()", "")
    title = re.sub(r"[^\w\s]", " ", title.lower())
    return " ".join(title.split())


@cache
def sections(doc: str) -> list[tuple[str, int, int]]:
    """(normalised title, start, end) str offsets of each section of a document."""
    text = documents()[doc]
    lines = text.splitlines(keepends=True)
    starts, pos = [], 0
    for line in lines:
        starts.append(pos)
        pos += len(line)
    heads: list[tuple[int, str, tuple[str, bool]]] = []  # (offset, title, style)
    for i in range(1, len(lines)):
        m = _ADORNMENT.match(lines[i])
        title = lines[i - 1].strip()
        if not m or not title or _ADORNMENT.match(lines[i - 1]):
            continue
        over = i >= 2 and lines[i - 2].strip() == lines[i].strip()
        heads.append((starts[i - 2] if over else starts[i - 1], title, (m.group(1), over)))
    styles: list[tuple[str, bool]] = []
    for _, _, style in heads:
        if style not in styles:
            styles.append(style)
    out = []
    for j, (start, title, style) in enumerate(heads):
        level = styles.index(style)
        end = len(text)
        for later, _, s2 in heads[j + 1 :]:
            if styles.index(s2) <= level:
                end = later
                break
        out.append((_normal(title), start, end))
    return out


def section_span(q: Question) -> tuple[str, int, int] | None:
    """(document, start, end) of the question's section, or None (none named, or not found)."""
    if not q.section:
        return None
    want = _normal(q.section)
    for doc in q.docs:
        for title, start, end in sections(doc):
            if title == want:
                return doc, start, end
    return None


def relevant_doc(q: Question, doc: str) -> bool:
    return doc in q.docs


def relevant_section(q: Question, doc: str, start: int, end: int) -> bool:
    span = section_span(q)
    if span is None:
        return relevant_doc(q, doc)
    d, s, e = span
    return doc == d and start < e and end > s
