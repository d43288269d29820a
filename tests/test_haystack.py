"""Haystack generators: exact token lengths under tiktoken (cl100k_base, o200k_base), gold spans
that point at their text, depths where they were asked for, and gold answers recomputed here
from the generated text alone (not from the generator's internals)."""

from __future__ import annotations

import json
import re
from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import ctxengine
from corpus import cjk_texts, english_prose, message_catalogs
from ctxengine.haystack import (
    TASKS,
    Filler,
    Haystack,
    generate,
    generate_grid,
    load_filler,
    read_jsonl,
    split_units,
    write_jsonl,
)
from eval_support import counter

CL100K = counter("cl100k_base")
O200K = counter("o200k_base")
TOKENIZERS = [CL100K, O200K]
STRUCTURED = {"thread_kv"}  # whole units only: at most one unit short
EXACT_TASKS = [t for t in TASKS if t not in STRUCTURED]


@pytest.fixture(scope="module")
def prose() -> Filler:
    return Filler([text for _, text in english_prose(12)], name="english prose")


@pytest.fixture(scope="module")
def multilingual() -> Filler:
    texts = [text for _, text in cjk_texts()] + [text for _, text in message_catalogs()[:30]]
    return Filler(texts, name="multilingual")


def check_spans(hs: Haystack, tok: object) -> None:
    for s in hs.spans:
        assert hs.context[s.start : s.end] == s.text
        if s.token_start is not None:
            assert s.token_start == tok.count(hs.context[: s.start])  # type: ignore[attr-defined]
        if s.answer is not None and s.kind not in ("occurrence",):
            assert s.answer in s.text


@pytest.mark.parametrize("tok", TOKENIZERS, ids=lambda t: t.name)
@pytest.mark.parametrize("task", EXACT_TASKS)
def test_every_task_hits_the_exact_length(task: str, tok: object, prose: Filler) -> None:
    for length in (3_000, 12_345):
        hs = generate(task, length, tokenizer=tok, filler=prose, seed=7)
        assert tok.count(hs.context) == length == hs.length  # type: ignore[attr-defined]
        assert hs.target_length == length
        check_spans(hs, tok)
        assert hs.answers


@pytest.mark.parametrize("tok", TOKENIZERS, ids=lambda t: t.name)
@settings(max_examples=12, deadline=None)
@given(
    length=st.integers(400, 20_000),
    depth=st.floats(0.0, 1.0),
    seed=st.integers(0, 10**6),
    task=st.sampled_from(["niah", "niah_multikey", "niah_multivalue", "vt", "thread", "bios"]),
)
def test_exact_length_on_multilingual_filler(
    tok: object, multilingual: Filler, length: int, depth: float, seed: int, task: str
) -> None:
    hs = generate(task, length, tokenizer=tok, filler=multilingual, depth=depth, seed=seed)
    assert tok.count(hs.context) == length  # type: ignore[attr-defined]
    check_spans(hs, tok)


@pytest.mark.parametrize("tok", TOKENIZERS, ids=lambda t: t.name)
def test_measure_input_counts_the_whole_prompt(tok: object) -> None:
    for task in ("niah", "cwe", "aggregation"):
        hs = generate(task, 6_000, tokenizer=tok, measure="input", seed=3)
        assert tok.count(hs.input) == 6_000  # type: ignore[attr-defined]
        assert hs.measure == "input"
        start = hs.context_offset
        assert hs.input[start : start + len(hs.context)] == hs.context


def test_large_haystack_from_the_python_docs() -> None:
    docs = english_prose(400)
    filler = Filler([t for _, t in docs], name="docs")
    hs = generate("niah", 200_000, tokenizer=CL100K, filler=filler, depth=0.5, seed=1)
    assert CL100K.count(hs.context) == 200_000
    check_spans(hs, CL100K)


def test_depth_places_the_needle_where_asked(prose: Filler) -> None:
    length = 20_000
    for depth in (0.0, 0.1, 0.25, 0.5, 0.75, 0.9, 1.0):
        hs = generate("niah", length, tokenizer=CL100K, filler=prose, depth=depth, seed=2)
        (needle,) = hs.spans
        tokens = CL100K.count(needle.text)
        # Needles go between sentences: allow a sentence or two of slack around the target.
        assert abs(needle.token_start - depth * (length - tokens)) <= 200
    first = generate("niah", length, tokenizer=CL100K, depth=0.0)
    assert first.spans[0].start == 0
    last = generate("niah", length, tokenizer=CL100K, depth=1.0)
    assert last.context.endswith(last.spans[0].text)


def test_per_needle_depths_and_order() -> None:
    hs = generate("niah_multivalue", 10_000, tokenizer=CL100K, depth=[0.9, 0.1, 0.5, 0.3])
    by_depth = {s.depth: s.start for s in hs.spans}
    starts = [by_depth[d] for d in sorted(by_depth)]
    assert starts == sorted(starts)
    with pytest.raises(ctxengine.InvalidInputError, match="one depth for each"):
        generate("niah_multivalue", 10_000, tokenizer=CL100K, depth=[0.1, 0.2])
    with pytest.raises(ctxengine.InvalidInputError, match="between 0 and 1"):
        generate("niah", 10_000, tokenizer=CL100K, depth=1.5)


def test_same_seed_same_haystack_and_seeds_differ() -> None:
    a = generate("niah_multikey", 5_000, tokenizer=CL100K, seed=11)
    b = generate("niah_multikey", 5_000, tokenizer=CL100K, seed=11)
    c = generate("niah_multikey", 5_000, tokenizer=CL100K, seed=12)
    assert a.to_dict() == b.to_dict()
    assert a.context != c.context and a.answers != c.answers


def test_grid_reuses_needles_across_lengths_and_depths() -> None:
    grid = list(generate_grid("niah", [2_000, 4_000], depths=[0.0, 1.0], tokenizer=CL100K))
    assert [h.index for h in grid] == [0, 1, 2, 3]
    assert {h.answers[0] for h in grid} == {grid[0].answers[0]}
    assert [h.length for h in grid] == [2_000, 2_000, 4_000, 4_000]


def test_structured_haystack_is_at_most_one_pair_short() -> None:
    for length in (1_000, 9_000, 30_000):
        hs = generate("thread_kv", length, tokenizer=O200K, seed=4)
        n = O200K.count(hs.context)
        assert n == hs.length <= length
        pair = re.search(r'"[0-9a-f-]{36}": "[0-9a-f-]{36}", ', hs.context)
        assert pair is not None
        assert length - n < O200K.count(pair.group(0))
        assert hs.meta["short_by"] == length - n
        body = json.loads(hs.context)
        key = hs.question.split("key ")[1].split(" ")[0]
        for _ in range(hs.meta["hops"]):
            key = body[key]
        assert [key] == hs.answers


# ---- gold answers recomputed from the text ------------------------------------------------


def test_niah_answers_are_the_values_of_the_asked_keys() -> None:
    for task in (
        "niah_single_1",
        "niah_multikey",
        "niah_multikey_2",
        "niah_multiquery",
        "niah_multivalue",
    ):
        hs = generate(task, 8_000, tokenizer=CL100K, seed=5)
        keys = re.findall(r"for ([\w-]+(?:, [\w-]+)*(?: and [\w-]+)?)\?", hs.question)[0]
        asked = re.split(r", | and ", keys)
        found = []
        for key in asked:
            found += re.findall(rf"hidden \w+ for {re.escape(key)} is ([\w-]+)\.", hs.context)
        assert sorted(found) == sorted(hs.answers)


def test_variable_tracking_answers_follow_the_chain() -> None:
    hs = generate("vt", 6_000, tokenizer=CL100K, chains=3, hops=5, seed=8)
    value = re.search(r"the value (\d+)", hs.question).group(1)
    direct = dict(re.findall(r"VAR ([A-Z]+) = (\d+)\.", hs.context))
    links = dict(re.findall(r"VAR ([A-Z]+) = VAR ([A-Z]+)\.", hs.context))
    reached = {v for v, n in direct.items() if n == value}
    changed = True
    while changed:
        new = {v for v, src in links.items() if src in reached} - reached
        reached |= new
        changed = bool(new)
    assert reached == set(hs.answers)
    assert len(hs.answers) == 6


def test_common_words_are_the_most_frequent_items() -> None:
    hs = generate("cwe", 9_000, tokenizer=CL100K, seed=9)
    words = re.findall(r"(?:^|\s)\d+\. (\S+)", hs.context)
    freq = Counter(words).most_common()
    top = {w for w, _ in freq[:10]}
    assert top == set(hs.answers)
    assert freq[9][1] > freq[10][1]
    numbers = [int(n) for n in re.findall(r"(?:^|\s)(\d+)\. ", hs.context)]
    assert numbers == list(range(1, len(numbers) + 1))


def test_frequent_words_are_the_most_frequent_coded_words() -> None:
    hs = generate("fwe", 9_000, tokenizer=O200K, seed=10)
    freq = Counter(w for w in hs.context.split() if w != "...").most_common(4)
    assert [w for w, _ in freq[:3]] == hs.answers
    assert freq[2][1] > freq[3][1]


def test_threads_lead_from_the_start_key_to_the_answer() -> None:
    for task, options in (("thread", {"hops": 6}), ("multi_thread", {"direction": "backward"})):
        hs = generate(task, 12_000, tokenizer=CL100K, seed=12, **options)
        links = dict(
            re.findall(r"The key ([0-9a-f-]{36}) leads to the key ([0-9a-f-]{36})\.", hs.context)
        )
        starts = re.findall(r"[0-9a-f]{8}-[0-9a-f-]{27}", hs.question)
        ends = []
        for key in starts:
            while key in links:
                key = links[key]
            ends.append(key)
        assert ends == hs.answers
    forward = generate("thread", 12_000, tokenizer=CL100K, seed=3, direction="forward")
    backward = generate("thread", 12_000, tokenizer=CL100K, seed=3, direction="backward")
    chain_f = [s.answer for s in forward.spans if s.kind == "link"]  # spans are in text order
    chain_b = [s.answer for s in backward.spans if s.kind == "link"]
    assert chain_f[-1] == forward.answers[0]  # forward: the last link is deepest
    assert chain_b[0] == backward.answers[0]  # backward: the last link comes first


_ROW = [
    re.compile(
        r"(?P<name>[A-Z]\w+ [A-Z]\w+) works in (?P<dept>\w+) at the (?P<city>\w+) office, "
        r"joined in (?P<year>\d{4}) and earns \$(?P<salary>[\d,]+) a year\."
    ),
    re.compile(
        r"At the (?P<city>\w+) office, (?P<name>[A-Z]\w+ [A-Z]\w+) of the (?P<dept>\w+) team has "
        r"been on the staff since (?P<year>\d{4}), with a salary of \$(?P<salary>[\d,]+)\."
    ),
    re.compile(
        r"(?P<name>[A-Z]\w+ [A-Z]\w+) \((?P<dept>\w+), (?P<city>\w+) office\) joined in "
        r"(?P<year>\d{4}) and is paid \$(?P<salary>[\d,]+) a year\."
    ),
]


@pytest.mark.parametrize("question", ["count", "max", "min", "filter"])
def test_aggregation_answers_recomputed_from_the_rows(question: str) -> None:
    for seed in range(3):
        hs = generate(
            "aggregation", 10_000, tokenizer=CL100K, question=question, seed=seed, records=30
        )
        rows = [m.groupdict() for p in _ROW for m in p.finditer(hs.context)]
        assert len(rows) == 30
        for r in rows:
            r["year"], r["salary"] = int(r["year"]), int(r["salary"].replace(",", ""))
        if question == "filter":
            city, year = re.search(
                r"of the (\w+) office joined after (\d{4})", hs.question
            ).groups()
            expected = {r["name"] for r in rows if r["city"] == city and r["year"] > int(year)}
            assert set(hs.answers) == expected
            continue
        dept = re.search(r"in (\w+)\?", hs.question).group(1)
        group = [r for r in rows if r["dept"] == dept]
        if question == "count":
            assert hs.answers == [str(len(group))]
        elif question == "max":
            assert hs.answers == [max(group, key=lambda r: r["salary"])["name"]]
        else:
            assert hs.answers == [min(group, key=lambda r: r["salary"])["name"]]
        gold = [s for s in hs.spans if s.kind == "record"]
        assert len(gold) == len(group)


_AGE = [
    re.compile(r"(?P<n>[A-Z][\w.]* [A-Z]\. [A-Z]\w+) is (?P<a>\d+) years old\."),
    re.compile(r"The age of (?P<n>[A-Z][\w.]* [A-Z]\. [A-Z]\w+) is (?P<a>\d+)\."),
]


def test_bios_answers_recomputed_from_the_biographies() -> None:
    hs = generate("bios", 15_000, tokenizer=CL100K, question="age_difference", seed=4)
    ages = {m["n"]: int(m["a"]) for p in _AGE for m in p.finditer(hs.context)}
    a, b = re.search(r"ages of (.+) and (.+)\?", hs.question).groups()
    assert hs.answers == [str(abs(ages[a] - ages[b]))]
    hs = generate("bios", 15_000, tokenizer=CL100K, question="rank", people=4, seed=5)
    ages = {m["n"]: int(m["a"]) for p in _AGE for m in p.finditer(hs.context)}
    names = hs.question.split(": ")[1].rstrip(".").split(", ")
    assert hs.answers == [", ".join(sorted(names, key=lambda n: ages[n]))]
    hs = generate("bios", 15_000, tokenizer=CL100K, attribute="hobby", similar=1.0, seed=6)
    name = re.search(r"hobby of (.+)\?", hs.question).group(1)
    hobbies = re.findall(
        rf"(?:{re.escape(name)} enjoys|In spare time, {re.escape(name)} practises) ([\w ]+)\.",
        hs.context,
    )
    assert hobbies == hs.answers
    first, last = name.split()[0], name.split()[-1]
    others = set(re.findall(r"biography of ([^.]+ [A-Z]\. \w+)\.", hs.context)) - {name}
    assert any(o.startswith(first + " ") or o.endswith(" " + last) for o in others)


# ---- records, fillers, errors -------------------------------------------------------------


def test_jsonl_round_trip_and_tamper_check(tmp_path) -> None:
    records = list(generate_grid("niah_multikey", [1_500], depths=[0.2, 0.8], tokenizer=CL100K))
    path = tmp_path / "h.jsonl"
    assert write_jsonl(records, path) == 2
    back = read_jsonl(path)
    assert [r.to_dict() for r in back] == [r.to_dict() for r in records]
    line = json.loads(path.read_text().splitlines()[0])
    for field in ("index", "input", "outputs", "length", "answer_prefix", "token_position_answer"):
        assert field in line  # RULER's field names
    answer_at = line["input"].find(line["outputs"][0])
    assert line["token_position_answer"] == CL100K.count(line["input"][:answer_at])
    at = line["gold_spans"][0]["start"]
    line["context"] = line["context"][:at] + "X" + line["context"][at + 1 :]
    path.write_text(json.dumps(line) + "\n")
    with pytest.raises(ctxengine.FormatError, match="does not match"):
        read_jsonl(path)


@settings(max_examples=50, deadline=None)
@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=3000))
def test_split_units_reconstructs_the_text(text: str) -> None:
    units = split_units(text)
    assert "".join(units) == text
    assert all(units)


def test_filler_from_files_and_directories(tmp_path) -> None:
    (tmp_path / "b.txt").write_text("Second file. It has two sentences.\n")
    (tmp_path / "a.txt").write_text("First file.\n")
    (tmp_path / "blob.bin").write_bytes(b"\x00\xff\x00binary")
    (tmp_path / ".hidden").write_text("never read")
    with pytest.warns(UserWarning, match="skipped 1 file"):
        filler = load_filler(tmp_path)
    units = filler.units()
    text = "".join(next(units) for _ in range(3))
    assert text == "First file.\n\n\nSecond file. It has two sentences.\n"
    assert next(units) == "\n\nFirst file.\n"  # the files again, when a haystack needs more
    with pytest.raises(ctxengine.NotFoundError, match="filler not found"):
        load_filler(tmp_path / "missing")
    with pytest.raises(ctxengine.InvalidInputError, match="not UTF-8"):
        load_filler(tmp_path / "blob.bin")
    with pytest.raises(ctxengine.InvalidInputError, match="no text"):
        Filler(["  \n"])


def test_errors_say_what_to_do() -> None:
    with pytest.raises(ctxengine.InvalidInputError, match="unknown task"):
        generate("nope", 1000, tokenizer=CL100K)
    with pytest.raises(ctxengine.BudgetError, match="ask for at least"):
        generate("niah_multiquery", 40, tokenizer=CL100K)
    with pytest.raises(ctxengine.InvalidInputError, match="positive integer"):
        generate("niah", 0, tokenizer=CL100K)
    with pytest.raises(ctxengine.InvalidInputError, match="keys must be"):
        generate("niah", 1000, tokenizer=CL100K, keys=0)
    with pytest.raises(ctxengine.InvalidInputError, match=r"no option 'hopz'.*hops"):
        generate("thread", 1000, tokenizer=CL100K, hopz=1)
    with pytest.raises(ctxengine.InvalidInputError, match="count"):
        generate("niah", 1000, tokenizer=object())  # type: ignore[arg-type]


class Words:
    """A tokenizer that counts whitespace-separated words: not additive at seams either."""

    name = "words"

    def count(self, text: str) -> int:
        return len(text.split())


class Bytes:
    name = "bytes"

    def count(self, text: str) -> int:
        return len(text.encode("utf-8"))


@settings(max_examples=25, deadline=None)
@given(
    tok=st.sampled_from([Words(), Bytes()]),
    length=st.integers(60, 6_000),
    depth=st.one_of(st.none(), st.floats(0.0, 1.0)),
    task=st.sampled_from(["niah", "niah_multikey", "vt", "thread", "aggregation", "bios"]),
)
def test_any_counter_gets_its_exact_length(
    tok: object, length: int, depth: float | None, task: str
) -> None:
    try:
        hs = generate(task, length, tokenizer=tok, depth=depth, seed=length)
    except ctxengine.BudgetError:
        return  # too small for the task's gold facts: said so
    assert tok.count(hs.context) == length  # type: ignore[attr-defined]
    for s in hs.spans:
        assert hs.context[s.start : s.end] == s.text


# Cases that once ended in "could not assemble exactly N tokens": every cut of the last unit
# jumped over the target because of the text before it (a byte counter after a needle).
@pytest.mark.parametrize(
    ("task", "length", "depth"),
    [("bios", 504, 1.0), ("niah", 550, 1.0), ("niah_multikey", 648, None), ("vt", 200, 0.0)],
)
def test_layout_escapes_the_cut_trap(task: str, length: int, depth: float | None) -> None:
    tok = Bytes()
    hs = generate(task, length, tokenizer=tok, depth=depth, seed=length)
    assert tok.count(hs.context) == length
    for s in hs.spans:
        assert hs.context[s.start : s.end] == s.text


def test_every_small_length_lands_exactly_with_a_byte_counter() -> None:
    """A dense sweep of small lengths (where one unit is a large share of the text) with the
    needle last: each lands exactly or says it is too small."""
    tok = Bytes()
    for task in ("niah", "niah_multikey", "vt", "thread", "aggregation", "bios"):
        for length in range(60, 1200, 7):
            try:
                hs = generate(task, length, tokenizer=tok, depth=1.0, seed=length)
            except ctxengine.BudgetError:
                continue
            assert tok.count(hs.context) == length, (task, length)


@pytest.mark.parametrize("name", ["cl100k_base", "o200k_base"])
def test_by_name_with_ctxengines_tokenizer(name: str, prose: Filler) -> None:
    """Tokenizer names go to ctxengine.get_tokenizer; tiktoken still sees the exact length, and
    the token offsets (from the tokenizer's span counter) equal tiktoken's prefix counts."""
    oracle = counter(name)
    for task, length in (("niah_multikey", 9_000), ("thread", 30_000), ("cwe", 7_000)):
        hs = generate(task, length, tokenizer=name, filler=prose, seed=2)
        assert oracle.count(hs.context) == length == hs.length
        assert hs.tokenizer == name
        check_spans(hs, oracle)
        assert all(s.token_start is not None for s in hs.spans)  # span counter: no cap
    hs = generate("niah", 5_000, tokenizer=name, measure="input")
    assert oracle.count(hs.input) == 5_000
