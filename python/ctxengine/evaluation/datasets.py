"""Loaders for public long-context datasets, from files the user has, and their prompts at a
budget.

Nothing is downloaded: point a loader at the file you have. Each loader yields
:class:`Example` objects with the long context, the question, the gold answers and — where the
dataset marks its evidence — the evidence as gold spans in the context, so context recall
works on real data too.

Formats (as the datasets publish them):

- LongBench (v1) JSONL: ``input`` (the question), ``context``, ``answers`` (list),
  ``dataset``, ``language``, ``all_classes``, ``length``, ``_id``. LongBench v2 JSON or JSONL:
  ``question``, ``choice_A`` .. ``choice_D``, ``answer`` (a letter), ``context``, ``domain``,
  ``difficulty``, ``length``, ``_id``.
- L-Eval JSONL: ``input`` (the document), ``instructions`` (list of questions), ``outputs``
  (list of answers), ``source``, ``evaluation``. One example per instruction.
- LooGLE JSONL: ``input`` (the document), ``title``, ``qa_pairs`` (a list of ``{"Q", "A",
  "S"}`` — or that list written as a Python literal string, as the release does — where ``S``
  is the evidence), ``output``. One example per question; the evidence sentences become spans.
- LoCoMo JSON: a list of samples ``{"sample_id", "conversation": {"speaker_a", "speaker_b",
  "session_1_date_time", "session_1": [{"speaker", "dia_id", "text"}, ...], ...}, "qa":
  [{"question", "answer", "evidence": ["D1:3", ...], "category"}]}`` (a single sample, or one
  with the conversation fields at the top level, works too). The conversation is rendered as
  text, one line per turn; the turns named as evidence become spans. Adversarial questions
  (category 5) have no ``answer``, only an ``adversarial_answer``; they are kept, with no
  gold answer.
"""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import FormatError, InvalidInputError, NotFoundError
from ..haystack.record import GoldSpan
from .recall import find_fact

__all__ = [
    "FORMATS",
    "Example",
    "load_dataset",
    "load_leval",
    "load_locomo",
    "load_longbench",
    "load_loogle",
]


@dataclass
class Example:
    """One question over one long context, from a dataset file."""

    id: str
    dataset: str
    context: str
    question: str
    answers: list[str]
    evidence: list[GoldSpan] = field(default_factory=list)
    meta: dict[str, Any] = field(default_factory=dict)


def _records(path: str | Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line or item number, record) for a JSONL file or a JSON list/object file."""
    p = Path(path)
    if not p.is_file():
        raise NotFoundError(f"dataset file not found: {p}")
    text = p.read_text(encoding="utf-8")
    stripped = text.lstrip()
    if stripped.startswith("["):
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise FormatError(f"{p}: not valid JSON ({exc.msg} at line {exc.lineno})") from exc
        for i, item in enumerate(data, 1):
            yield i, _object(item, p, i)
        return
    lines = [(i, line) for i, line in enumerate(text.splitlines(), 1) if line.strip()]
    if stripped.startswith("{") and len(lines) > 1:
        try:  # one pretty-printed JSON object
            yield 1, _object(json.loads(text), p, 1)
            return
        except json.JSONDecodeError:
            pass  # JSONL
    for i, line in lines:
        try:
            yield i, _object(json.loads(line), p, i)
        except json.JSONDecodeError as exc:
            raise FormatError(f"{p}:{i}: not JSON ({exc.msg})") from exc


def _object(item: Any, path: Path, where: int) -> dict[str, Any]:
    if not isinstance(item, dict):
        raise FormatError(f"{path}:{where}: expected a JSON object, got {type(item).__name__}")
    return item


def _need(record: dict[str, Any], key: str, path: str | Path, where: int) -> Any:
    if key not in record:
        raise FormatError(f"{path}:{where}: missing field {key!r}")
    return record[key]


def _text(value: Any, name: str, path: str | Path, where: int) -> str:
    if not isinstance(value, str):
        raise FormatError(
            f"{path}:{where}: field {name!r} should be text, got {type(value).__name__}"
        )
    return value


def _spans(context: str, evidence: Sequence[str], kind: str = "evidence") -> list[GoldSpan]:
    spans = []
    for text in evidence:
        text = text.strip()
        at = find_fact(context, text) if text else None
        if at is not None:
            spans.append(GoldSpan(at, at + len(text), text, kind))
    return spans


def load_longbench(path: str | Path) -> list[Example]:
    """LongBench v1 (JSONL with ``input``/``context``/``answers``) or v2 (multiple choice)."""
    out = []
    for i, r in _records(path):
        context = _text(_need(r, "context", path, i), "context", path, i)
        if "choice_A" in r:  # v2
            question = _text(_need(r, "question", path, i), "question", path, i)
            choices = "\n".join(f"({c}) {r.get('choice_' + c, '')}" for c in "ABCD")
            answer = str(_need(r, "answer", path, i))
            out.append(
                Example(
                    str(r.get("_id", i)),
                    "longbench_v2",
                    context,
                    f"{question}\nChoices:\n{choices}",
                    [answer, f"({answer})"],
                    meta={
                        k: r[k] for k in ("domain", "sub_domain", "difficulty", "length") if k in r
                    },
                )
            )
            continue
        answers = _need(r, "answers", path, i)
        if not isinstance(answers, list):
            answers = [answers]
        out.append(
            Example(
                str(r.get("_id", i)),
                "longbench/" + str(r.get("dataset", "")),
                context,
                _text(_need(r, "input", path, i), "input", path, i),
                [str(a) for a in answers],
                meta={k: r[k] for k in ("language", "all_classes", "length") if k in r},
            )
        )
    return out


def load_leval(path: str | Path) -> list[Example]:
    """L-Eval: one example per instruction of each document."""
    out = []
    for i, r in _records(path):
        context = _text(_need(r, "input", path, i), "input", path, i)
        instructions = _need(r, "instructions", path, i)
        outputs = _need(r, "outputs", path, i)
        if isinstance(instructions, str):
            instructions = [instructions]
        if isinstance(outputs, str):
            outputs = [outputs]
        if len(instructions) != len(outputs):
            raise FormatError(
                f"{path}:{i}: {len(instructions)} instructions but {len(outputs)} outputs"
            )
        for j, (q, a) in enumerate(zip(instructions, outputs, strict=True)):
            out.append(
                Example(
                    f"{i}.{j}",
                    "leval/" + str(r.get("source", "")),
                    context,
                    str(q),
                    [str(a)],
                    meta={"evaluation": r.get("evaluation")},
                )
            )
    return out


def load_loogle(path: str | Path) -> list[Example]:
    """LooGLE: one example per question; ``S`` evidence sentences become spans."""
    out = []
    for i, r in _records(path):
        context = _text(_need(r, "input", path, i), "input", path, i)
        pairs = _need(r, "qa_pairs", path, i)
        if isinstance(pairs, str):
            if pairs.strip().lower() == "none":
                pairs = []  # summarization: no questions
            else:
                try:
                    pairs = ast.literal_eval(pairs)  # the release writes a Python literal
                except (ValueError, SyntaxError) as exc:
                    raise FormatError(f"{path}:{i}: qa_pairs is not a list of pairs") from exc
        if not isinstance(pairs, list):
            raise FormatError(f"{path}:{i}: qa_pairs should be a list")
        for j, qa in enumerate(pairs):
            if not isinstance(qa, dict) or "Q" not in qa or "A" not in qa:
                raise FormatError(f"{path}:{i}: qa pair {j} needs 'Q' and 'A'")
            evidence = qa.get("S", [])
            if isinstance(evidence, str):
                evidence = [evidence]
            out.append(
                Example(
                    f"{i}.{j}",
                    "loogle",
                    context,
                    str(qa["Q"]),
                    [str(qa["A"])],
                    evidence=_spans(context, [str(e) for e in evidence]),
                    meta={"title": r.get("title"), "type": qa.get("type")},
                )
            )
    return out


_SESSION = re.compile(r"^session_(\d+)$")


def render_conversation(conversation: dict[str, Any]) -> tuple[str, dict[str, GoldSpan]]:
    """A LoCoMo conversation as text (sessions in order, one line per turn) and each turn's
    span by its dialogue id."""
    sessions = sorted((int(m.group(1)), k) for k in conversation if (m := _SESSION.match(k)))
    parts: list[str] = []
    pos = 0
    turns: dict[str, GoldSpan] = {}
    for number, key in sessions:
        when = conversation.get(f"{key}_date_time", "")
        header = f"Session {number}" + (f" ({when})" if when else "") + "\n"
        parts.append(header)
        pos += len(header)
        for turn in conversation[key] or []:
            if not isinstance(turn, dict) or "text" not in turn:
                raise FormatError(f"LoCoMo {key}: each turn needs 'speaker' and 'text'")
            line = f"{turn.get('speaker', '?')}: {turn['text']}"
            if "blip_caption" in turn:
                line += f" [shares a photo: {turn['blip_caption']}]"
            if "dia_id" in turn:
                turns[str(turn["dia_id"])] = GoldSpan(pos, pos + len(line), line, "turn")
            parts.append(line + "\n")
            pos += len(line) + 1
        parts.append("\n")
        pos += 1
    return "".join(parts), turns


def load_locomo(path: str | Path) -> list[Example]:
    """LoCoMo: one example per question; the evidence turns become spans."""
    out = []
    for i, r in _records(path):
        conversation = r.get("conversation", r)
        if not isinstance(conversation, dict) or not any(_SESSION.match(k) for k in conversation):
            raise FormatError(f"{path}:{i}: no LoCoMo conversation (session_1, ...) found")
        context, turns = render_conversation(conversation)
        sample = str(r.get("sample_id", i))
        for j, qa in enumerate(_need(r, "qa", path, i)):
            if not isinstance(qa, dict) or "question" not in qa:
                raise FormatError(f"{path}:{i}: qa {j} needs a 'question'")
            answers = [str(qa["answer"])] if "answer" in qa else []
            evidence = [turns[e] for e in _evidence_ids(qa.get("evidence", [])) if e in turns]
            out.append(
                Example(
                    f"{sample}.{j}",
                    "locomo",
                    context,
                    str(qa["question"]),
                    answers,
                    evidence=evidence,
                    meta={
                        "category": qa.get("category"),
                        "adversarial_answer": qa.get("adversarial_answer"),
                        "speakers": [conversation.get("speaker_a"), conversation.get("speaker_b")],
                    },
                )
            )
    return out


def _evidence_ids(evidence: Any) -> list[str]:
    # Evidence is a list of ids; a few releases pack several ids into one string ("D1:3; D2:5").
    ids: list[str] = []
    for e in evidence if isinstance(evidence, list) else [evidence]:
        ids += re.findall(r"D\d+:\d+", str(e))
    return ids


FORMATS = {
    "longbench": load_longbench,
    "leval": load_leval,
    "loogle": load_loogle,
    "locomo": load_locomo,
}


def load_dataset(path: str | Path, format: str | None = None) -> list[Example]:
    """Examples from a dataset file; the format is recognised from the fields when not given."""
    if format is not None:
        if format not in FORMATS:
            raise InvalidInputError(
                f"unknown dataset format {format!r}; one of {', '.join(FORMATS)}"
            )
        return FORMATS[format](path)
    for _, first in _records(path):
        if "qa_pairs" in first:
            return load_loogle(path)
        if "instructions" in first:
            return load_leval(path)
        if "conversation" in first or "session_1" in first:
            return load_locomo(path)
        if "context" in first:
            return load_longbench(path)
        break
    raise FormatError(
        f"{path}: not a LongBench, L-Eval, LooGLE or LoCoMo file (pass format= to say which)"
    )
