"""A generated haystack and its gold spans, and their JSONL form.

The JSONL fields follow RULER's where RULER has one (``index``, ``input``, ``outputs``,
``length``, ``answer_prefix``, ``token_position_answer``); the rest are ctxengine's:
``task``, ``context``, ``question``, ``gold_spans`` (str offsets into ``context``),
``measure`` (what ``length`` counts), ``target_length``, ``tokenizer``, ``seed``, ``filler``
and task-specific ``meta``.

One difference from RULER: RULER's ``length`` counts the whole input plus the tokens to
generate, and is at most the requested length. Here ``length`` is the exact token count of what
``measure`` names: ``"context"`` (the haystack alone, the default) or ``"input"`` (the whole
prompt: instructions, haystack and question).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import IO, Any

from ..errors import FormatError

__all__ = ["GoldSpan", "Haystack", "read_jsonl", "write_jsonl"]


@dataclass(frozen=True)
class GoldSpan:
    """A gold fact inside a haystack: ``context[start:end] == text``.

    `kind` says what it is (``"needle"``, ``"statement"``, ``"link"``, ``"record"``,
    ``"fact"``, ``"occurrence"``); `answer` is the gold answer it carries, when it carries one;
    `depth` is the depth (0 = start, 1 = end) it was asked to sit at; `token_start` is the exact
    number of tokens of ``context[:start]`` (None when it was not computed).
    """

    start: int
    end: int
    text: str
    kind: str = "needle"
    answer: str | None = None
    depth: float | None = None
    token_start: int | None = None


@dataclass
class Haystack:
    """One generated long-context example.

    `context` is the haystack; `question` is what the model (or the retriever) is asked;
    `answers` are the gold answers (RULER's ``outputs``); `spans` locate every gold fact in
    `context`. `length` is the exact token count of `context` (or of the whole `input` when
    `measure` is ``"input"``) under `tokenizer`.
    """

    task: str
    context: str
    question: str
    answers: list[str]
    spans: list[GoldSpan]
    length: int
    target_length: int
    tokenizer: str
    seed: int = 0
    index: int = 0
    measure: str = "context"
    template: str = "{context}\n\n{question}"
    answer_prefix: str = ""
    filler: str = ""
    token_position_answer: int | None = None
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def input(self) -> str:
        """The whole prompt: the task's template with the context and the question."""
        return render_template(self.template, self.context, self.question)

    @property
    def context_offset(self) -> int:
        """Where `context` starts inside `input` (add it to a span's offsets)."""
        return self.template.index("{context}")

    def to_dict(self) -> dict[str, Any]:
        """The JSONL record (RULER's field names where they exist)."""
        return {
            "index": self.index,
            "task": self.task,
            "input": self.input,
            "outputs": list(self.answers),
            "length": self.length,
            "measure": self.measure,
            "target_length": self.target_length,
            "answer_prefix": self.answer_prefix,
            "token_position_answer": self.token_position_answer,
            "context": self.context,
            "question": self.question,
            "template": self.template,
            "gold_spans": [asdict(s) for s in self.spans],
            "tokenizer": self.tokenizer,
            "seed": self.seed,
            "filler": self.filler,
            "meta": self.meta,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Haystack:
        """A Haystack from its JSONL record (as written by :meth:`to_dict`)."""
        try:
            spans = [GoldSpan(**s) for s in d["gold_spans"]]
            hs = cls(
                task=d["task"],
                context=d["context"],
                question=d["question"],
                answers=[str(a) for a in d["outputs"]],
                spans=spans,
                length=int(d["length"]),
                target_length=int(d.get("target_length", d["length"])),
                tokenizer=d.get("tokenizer", ""),
                seed=int(d.get("seed", 0)),
                index=int(d.get("index", 0)),
                measure=d.get("measure", "context"),
                template=d.get("template", "{context}\n\n{question}"),
                answer_prefix=d.get("answer_prefix", ""),
                filler=d.get("filler", ""),
                token_position_answer=d.get("token_position_answer"),
                meta=dict(d.get("meta", {})),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise FormatError(f"not a ctxengine haystack record: {exc!r}") from exc
        for s in spans:
            if not (0 <= s.start <= s.end <= len(hs.context)) or hs.context[s.start : s.end] != (
                s.text
            ):
                raise FormatError(
                    f"haystack record {hs.index}: gold span {s.start}:{s.end} does not match "
                    "its text in the context (was the record edited?)"
                )
        return hs


def render_template(template: str, context: str, question: str) -> str:
    """`template` with ``{context}`` and ``{question}`` filled in (each exactly once)."""
    before, mark, after = template.partition("{context}")
    middle, mark2, end = after.partition("{question}")
    if not mark or not mark2:
        raise FormatError("a template needs {context} followed by {question}")
    return before + context + middle + question + end


def write_jsonl(records: Iterable[Haystack], out: str | Path | IO[str]) -> int:
    """Write haystacks as JSONL (one record per line) to a path or an open text file.

    Returns the number of records written.
    """
    if isinstance(out, (str, Path)):
        with open(out, "w", encoding="utf-8") as f:
            return write_jsonl(records, f)
    n = 0
    for r in records:
        out.write(json.dumps(r.to_dict(), ensure_ascii=False) + "\n")
        n += 1
    return n


def read_jsonl(path: str | Path) -> list[Haystack]:
    """Read haystacks written by :func:`write_jsonl`."""
    return list(iter_jsonl(path))


def iter_jsonl(path: str | Path) -> Iterator[Haystack]:
    """Haystacks of a JSONL file, one at a time."""
    with open(path, encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                d = json.loads(line)
            except json.JSONDecodeError as exc:
                raise FormatError(f"{path}:{lineno}: not JSON ({exc.msg})") from exc
            yield Haystack.from_dict(d)
