"""Dataset loaders on small files written here in each dataset's published format (LongBench
v1/v2, L-Eval, LooGLE, LoCoMo): fields mapped, evidence located as spans, bad files refused."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import ctxengine
from ctxengine.evaluation import (
    evaluate_examples,
    load_dataset,
    load_leval,
    load_locomo,
    load_longbench,
    load_loogle,
)
from eval_support import counter

CL100K = counter("cl100k_base")
DOC = (
    "Early life. Ada Ravenscroft was born in Bergen on 3 May 1911. Her father kept bees.\n\n"
    "Career. She built tide clocks in Oslo and later taught mechanics in Uppsala."
)


def jsonl(path: Path, records: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records))
    return path


def test_longbench_v1_and_v2(tmp_path: Path) -> None:
    v1 = jsonl(
        tmp_path / "hotpotqa.jsonl",
        [
            {
                "input": "Where was Ada born?",
                "context": DOC,
                "answers": ["Bergen"],
                "length": 31,
                "dataset": "hotpotqa",
                "language": "en",
                "all_classes": None,
                "_id": "abc",
            }
        ],
    )
    (ex,) = load_longbench(v1)
    assert (ex.id, ex.dataset, ex.question, ex.answers) == (
        "abc",
        "longbench/hotpotqa",
        "Where was Ada born?",
        ["Bergen"],
    )
    assert ex.context == DOC and ex.meta["language"] == "en"
    v2 = tmp_path / "data.json"
    v2.write_text(
        json.dumps(
            [
                {
                    "_id": "q1",
                    "domain": "Single-Document QA",
                    "sub_domain": "bio",
                    "difficulty": "easy",
                    "length": "short",
                    "question": "What did Ada build?",
                    "choice_A": "Ships",
                    "choice_B": "Tide clocks",
                    "choice_C": "Bridges",
                    "choice_D": "Looms",
                    "answer": "B",
                    "context": DOC,
                }
            ],
            indent=2,
        )
    )
    (ex,) = load_longbench(v2)
    assert ex.dataset == "longbench_v2" and ex.answers == ["B", "(B)"]
    assert "(B) Tide clocks" in ex.question and ex.meta["difficulty"] == "easy"
    assert load_dataset(v1)[0].id == "abc"


def test_leval_one_example_per_instruction(tmp_path: Path) -> None:
    path = jsonl(
        tmp_path / "coursera.jsonl",
        [
            {
                "instructions": ["Where was Ada born?\nA. Oslo\nB. Bergen", "Where did she teach?"],
                "outputs": ["B", "Uppsala"],
                "input": DOC,
                "source": "coursera",
                "evaluation": "exam",
            }
        ],
    )
    a, b = load_leval(path)
    assert a.question.startswith("Where was Ada born?") and a.answers == ["B"]
    assert b.answers == ["Uppsala"] and b.dataset == "leval/coursera" and b.context == DOC
    assert len(load_dataset(path)) == 2
    bad = jsonl(
        tmp_path / "bad.jsonl", [{"instructions": ["a", "b"], "outputs": ["x"], "input": DOC}]
    )
    with pytest.raises(ctxengine.FormatError, match="2 instructions but 1 outputs"):
        load_leval(bad)


def test_loogle_python_literal_pairs_and_evidence_spans(tmp_path: Path) -> None:
    pairs = [
        {
            "Q": "Where was Ada born?",
            "A": "Bergen",
            "S": "Ada Ravenscroft was born in Bergen on 3 May 1911.",
        },
        {
            "Q": "What did she build?",
            "A": "Tide clocks",
            "S": ["She built tide clocks in Oslo", "not in the text"],
        },
    ]
    path = jsonl(
        tmp_path / "shortdep_qa.jsonl",
        [
            {"input": DOC, "title": "Ada", "qa_pairs": repr(pairs), "output": "none"},
            {"input": DOC, "title": "Summary only", "qa_pairs": "none", "output": "none"},
        ],
    )
    a, b = load_loogle(path)
    assert a.answers == ["Bergen"] and a.meta["title"] == "Ada"
    (span,) = a.evidence
    assert DOC[span.start : span.end] == span.text == pairs[0]["S"]
    assert [s.text for s in b.evidence] == ["She built tide clocks in Oslo"]
    assert ctxengine.evaluation.context_recall(DOC, a.evidence).recall == 1.0
    broken = jsonl(tmp_path / "broken.jsonl", [{"input": DOC, "qa_pairs": "[{'Q': "}])
    with pytest.raises(ctxengine.FormatError, match="qa_pairs"):
        load_loogle(broken)


LOCOMO = {
    "sample_id": "conv-1",
    "conversation": {
        "speaker_a": "Caro",
        "speaker_b": "Mel",
        "session_2_date_time": "1:14 pm on 25 May, 2023",
        "session_2": [
            {"speaker": "Mel", "dia_id": "D2:1", "text": "I ran a charity race last Saturday."},
            {
                "speaker": "Caro",
                "dia_id": "D2:2",
                "text": "That is great!",
                "blip_caption": "a medal",
            },
        ],
        "session_1_date_time": "1:56 pm on 8 May, 2023",
        "session_1": [
            {"speaker": "Caro", "dia_id": "D1:1", "text": "Hey Mel! I joined a support group."},
            {"speaker": "Mel", "dia_id": "D1:2", "text": "Good for you."},
        ],
    },
    "qa": [
        {
            "question": "When did Mel run the race?",
            "answer": "20 May 2023",
            "evidence": ["D2:1"],
            "category": 2,
        },
        {
            "question": "What did Caro join?",
            "answer": 2023,
            "evidence": ["D1:1; D2:2"],
            "category": 1,
        },
        {
            "question": "What did Mel paint?",
            "evidence": ["D1:2"],
            "category": 5,
            "adversarial_answer": "a lake",
        },
    ],
}


def test_locomo_conversation_turns_and_evidence(tmp_path: Path) -> None:
    path = tmp_path / "locomo10.json"
    path.write_text(json.dumps([LOCOMO]))
    race, joined, adversarial = load_locomo(path)
    assert race.context.index("Session 1") < race.context.index("Session 2")  # sessions in order
    assert "Session 2 (1:14 pm on 25 May, 2023)" in race.context
    (turn,) = race.evidence
    assert race.context[turn.start : turn.end] == "Mel: I ran a charity race last Saturday."
    assert [s.text.split(":")[0] for s in joined.evidence] == ["Caro", "Caro"]
    assert "[shares a photo: a medal]" in joined.evidence[1].text
    assert joined.answers == ["2023"]
    assert adversarial.answers == [] and adversarial.meta["adversarial_answer"] == "a lake"
    flat = tmp_path / "26.json"  # the multimodal release: conversation fields at the top level
    flat.write_text(json.dumps({**LOCOMO["conversation"], "qa": LOCOMO["qa"]}))
    assert [e.question for e in load_dataset(flat)] == [
        e.question for e in (race, joined, adversarial)
    ]


def test_bad_files(tmp_path: Path) -> None:
    with pytest.raises(ctxengine.NotFoundError):
        load_dataset(tmp_path / "missing.jsonl")
    junk = tmp_path / "junk.jsonl"
    junk.write_text('{"input": "x", "context": "y", "answers": []}\nnot json\n')
    with pytest.raises(ctxengine.FormatError, match=r"junk.jsonl:2"):
        load_longbench(junk)
    other = jsonl(tmp_path / "other.jsonl", [{"text": "hello"}])
    with pytest.raises(ctxengine.FormatError, match="not a LongBench"):
        load_dataset(other)
    with pytest.raises(ctxengine.FormatError, match="missing field 'context'"):
        load_longbench(other)
    with pytest.raises(ctxengine.InvalidInputError, match="unknown dataset format"):
        load_dataset(other, "squad")


def test_examples_through_pipelines(tmp_path: Path) -> None:
    path = tmp_path / "locomo10.json"
    path.write_text(json.dumps([LOCOMO]))
    examples = load_locomo(path)

    def last_lines(question: str, context: str, budget: int) -> str:
        lines = context.splitlines()
        while lines and CL100K.count("\n".join(lines)) > budget:
            lines.pop(0)
        return "\n".join(lines)

    report = evaluate_examples(examples, ["full", last_lines], budgets=[30], tokenizer=CL100K)
    assert len(report.rows) == 6
    full = [r for r in report.rows if r.pipeline == "full"]
    assert all(r.recall == 1.0 and r.length == CL100K.count(examples[0].context) for r in full)
    cut = [r for r in report.rows if r.pipeline == "last_lines"]
    assert all(r.tokens is not None and r.tokens <= 30 for r in cut)
    assert cut[0].recall == 1.0 and cut[2].recall == 0.0  # session 2 is last, session 1 is cut
    assert "locomo" in report.overview()
