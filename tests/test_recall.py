"""Context recall, the evaluation grid and its report: recall is 1.0 for the whole haystack and
0.0 once the needles are cut out; token offsets equal tiktoken's count of the text before each
fact; a reference retrieval pipeline written here runs through the grid."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import ctxengine
from ctxengine.evaluation import (
    Report,
    context_recall,
    evaluate,
    find_fact,
    get_pipeline,
    run_haystack,
    score,
    string_match_all,
    string_match_part,
)
from ctxengine.haystack import GoldSpan, generate
from eval_support import counter

CL100K = counter("cl100k_base")
TASKS_WITH_FACTS = ["niah", "niah_multikey", "niah_multivalue", "vt", "thread", "multi_thread",
                    "aggregation", "bios", "cwe", "thread_kv"]  # fmt: skip


def without_needles(hs: ctxengine.haystack.Haystack) -> str:
    """The context with every gold fact removed (cut out, not replaced)."""
    text = hs.context
    for s in sorted(hs.spans, key=lambda s: s.start, reverse=True):
        text = text[: s.start] + text[s.end :]
    return text


@pytest.mark.parametrize("task", TASKS_WITH_FACTS)
def test_recall_is_one_for_the_full_haystack_and_zero_without_needles(task: str) -> None:
    hs = generate(task, 6_000, tokenizer=CL100K, seed=21)
    full = context_recall(hs.context, hs, tokenizer=CL100K)
    assert full.recall == 1.0
    assert full.tokens == 6_000 or task == "thread_kv"
    assert full.tokens == CL100K.count(hs.context)
    for fact in full.facts:
        assert fact.found
        assert hs.context[fact.offset : fact.offset + len(fact.text)] == fact.text
        assert fact.token_offset == CL100K.count(hs.context[: fact.offset])
    gone = context_recall(without_needles(hs), hs, tokenizer=CL100K)
    assert gone.recall == 0.0
    assert not any(f.found for f in gone.facts)


def test_recall_of_a_prompt_reports_positions_in_the_prompt() -> None:
    hs = generate("niah_multivalue", 8_000, tokenizer=CL100K, seed=3)
    facts = [s for s in hs.spans if s.kind == "needle"]
    prompt = "Context:\n" + facts[2].text + "\n...\n" + facts[0].text + "\nEnd."
    r = context_recall(prompt, hs, tokenizer=CL100K)
    found = {f.text: f for f in r.facts}
    assert r.recall == 0.5
    assert found[facts[2].text].offset == len("Context:\n")
    at = found[facts[0].text].offset
    assert found[facts[0].text].token_offset == CL100K.count(prompt[:at])
    assert r.tokens == CL100K.count(prompt)
    assert r.answer_recall == 0.5


def test_recall_takes_packed_objects_and_plain_strings() -> None:
    class Packed:
        text = "x The code is 42. y"
        tokens = 9

    r = context_recall(Packed(), ["The code is 42.", "Gone."])
    assert (r.recall, r.tokens, r.found) == (0.5, 9, 1)
    assert context_recall("", []).recall is None
    with pytest.raises(ctxengine.InvalidInputError):
        context_recall(42, ["x"])
    with pytest.raises(ctxengine.InvalidInputError):
        context_recall("abc", "abc")  # type: ignore[arg-type]


def reference_find(prompt: str, text: str) -> int | None:
    """Plain reference for find_fact: the first whole occurrence, then whitespace-insensitive."""

    def whole(i: int, j: int, fact: str) -> bool:
        ok_left = i == 0 or not (fact[0].isalnum() and prompt[i - 1].isalnum())
        ok_right = j == len(prompt) or not (fact[-1].isalnum() and prompt[j].isalnum())
        return ok_left and ok_right

    for i in range(len(prompt) - len(text) + 1):
        if prompt[i : i + len(text)] == text and whole(i, i + len(text), text):
            return i
    words = text.split()
    if not words:
        return None
    for m in re.finditer(r"\s+".join(map(re.escape, words)), prompt):
        if whole(m.start(), m.end(), text.strip()):
            return m.start()
    return None


@settings(max_examples=200, deadline=None)
@given(
    prompt=st.text(alphabet="ab1 .\n", max_size=40),
    text=st.text(alphabet="ab1 .\n", min_size=1, max_size=6),
)
def test_find_fact_matches_the_reference(prompt: str, text: str) -> None:
    if not text.strip():
        return
    assert find_fact(prompt, text) == reference_find(prompt, text)


def test_find_fact_edges() -> None:
    assert find_fact("112. crown and 12. crown", "12. crown") == 15
    assert find_fact("112. crown", "12. crown") is None
    assert find_fact("The   code\n is 7.", "The code is 7.") == 0
    assert find_fact("anything", "") is None


# ---- scoring --------------------------------------------------------------------------------


def ruler_all(preds: list[str], refs: list[list[str]]) -> float:
    # RULER's string_match_all, as its paper defines it (as a fraction, not a percentage).
    return sum(
        sum(r.lower() in p.lower() for r in ref) / len(ref)
        for p, ref in zip(preds, refs, strict=True)
    ) / len(preds)


def ruler_part(preds: list[str], refs: list[list[str]]) -> float:
    return sum(
        max(float(r.lower() in p.lower()) for r in ref) for p, ref in zip(preds, refs, strict=True)
    ) / len(preds)


@settings(max_examples=100, deadline=None)
@given(
    prediction=st.text(alphabet="abAB 12", max_size=20),
    answers=st.lists(st.text(alphabet="abAB12", min_size=1, max_size=3), min_size=1, max_size=4),
)
def test_scores_match_rulers_metrics(prediction: str, answers: list[str]) -> None:
    assert string_match_all(prediction, answers) == pytest.approx(
        ruler_all([prediction], [answers])
    )
    assert string_match_part(prediction, answers) == ruler_part([prediction], [answers])
    assert score("niah", prediction, answers) == string_match_all(prediction, answers)
    assert score("longbench/hotpotqa", prediction, answers) == string_match_part(
        prediction, answers
    )
    with pytest.raises(ctxengine.InvalidInputError):
        string_match_all(prediction, [])


# ---- the grid -------------------------------------------------------------------------------


def overlap_pipeline(question: str, context: str, budget: int) -> str:
    """A reference retrieval pipeline: sentences ranked by words shared with the question,
    taken best first while the prompt stays within the budget (counted with tiktoken)."""
    words = set(re.findall(r"[\w-]+", question.lower()))
    sentences = re.split(r"(?<=[.!?])\s+", context)
    ranked = sorted(
        range(len(sentences)),
        key=lambda i: -len(words & set(re.findall(r"[\w-]+", sentences[i].lower()))),
    )
    chosen: list[int] = []
    for i in ranked:
        candidate = "\n".join(sentences[j] for j in sorted([*chosen, i]))
        if CL100K.count(candidate) > budget:
            break
        chosen.append(i)
    return "\n".join(sentences[j] for j in sorted(chosen))


def test_evaluate_grid_with_reference_pipelines() -> None:
    seen = []
    report = evaluate(
        [overlap_pipeline, "full"],
        tasks=["niah_single", "thread"],
        lengths=[2_000, 6_000],
        depths=[0.0, 0.5, 1.0],
        budgets=[300, 1_000],
        tokenizer=CL100K,
        on_row=seen.append,
    )
    assert len(report.rows) == 2 * 2 * 3 * 2 * 2 == len(seen)
    for row in report.rows:
        if row.pipeline == "full":
            assert row.recall == 1.0 and row.tokens == row.length
        else:
            assert row.tokens is not None and row.tokens <= row.budget
            assert 0.0 <= row.recall <= 1.0
    niah = [r for r in report.rows if r.task == "niah_single" and r.pipeline == "overlap_pipeline"]
    assert all(r.recall == 1.0 for r in niah)  # the key is in the question: overlap finds it
    table = report.table()
    assert "niah_single · overlap_pipeline · budget 300" in table
    assert "| 2K | 1.000 | 1.000 | 1.000 | 1.000 |" in table
    assert "thread · full · budget 1,000" in table
    summary = report.summary()
    assert {s["pipeline"] for s in summary} == {"overlap_pipeline", "full"}
    assert "overlap_pipeline" in report.overview()
    assert '"rows"' in report.to_json()


def test_heatmap_png(tmp_path) -> None:
    pytest.importorskip("matplotlib")
    report = evaluate(
        overlap_pipeline, lengths=[1_000, 3_000], depths=[0.0, 0.5, 1.0], budgets=[200],
        tokenizer=CL100K,
    )  # fmt: skip
    path = report.heatmap(tmp_path / "niah.png")
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 5_000
    with pytest.raises(ctxengine.InvalidInputError, match="no results"):
        report.heatmap(tmp_path / "x.png", pipeline="nope")


def test_pipelines_by_name_and_errors() -> None:
    assert get_pipeline("full").name == "full"
    assert get_pipeline(overlap_pipeline).name == "overlap_pipeline"
    with pytest.raises(ctxengine.InvalidInputError, match="unknown pipeline"):
        get_pipeline("magic")
    with pytest.raises(ctxengine.InvalidInputError, match="at least one"):
        evaluate("full", lengths=[], tokenizer=CL100K)
    hs = generate("niah", 1_000, tokenizer=CL100K)
    rows = run_haystack(hs, get_pipeline(lambda q, c, b: ""), [100], tokenizer=CL100K)
    assert rows[0].recall == 0.0 and rows[0].tokens == 0
    assert Report(rows).table().count("\n") > 2


def test_gold_spans_given_directly() -> None:
    spans = [GoldSpan(0, 5, "alpha", "fact"), GoldSpan(6, 10, "beta", "distractor")]
    r = context_recall("alpha beta", spans)
    assert r.recall == 1.0 and len(r.facts) == 2  # a plain list is taken as given
