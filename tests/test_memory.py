"""ctxengine.memory: episodes, temporal facts against a plain reference, search against the
Index it is built on, filters against brute force, pack against tiktoken, extraction's
deterministic steps, and the file across processes (WAL readers, a killed writer)."""

from __future__ import annotations

import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import ctxengine
from ctxengine.errors import FormatError, InvalidInputError, NotFoundError, UnsupportedError
from ctxengine.memory import EXTRACTION_SCHEMA, Memory, Weights
from ctxengine.memory.normalize import name_key
from ctxengine.memory.ranking import lexical_query
from package_env import package_env
from tiktoken_oracle import encoding

ROOT = Path(__file__).resolve().parent.parent
T0 = datetime(2023, 1, 1, tzinfo=UTC)
NO_RERANK = Weights(recency=0, present=0, past=0, window=0, speaker=0)


def day(n: float) -> datetime:
    return T0 + timedelta(days=n)


# ---- the temporal layer against a plain reference ----------------------------------------


class Reference:
    """The documented semantics, plainly: distinct assertions in insertion order; the truth
    of (subject, predicate) at t is the assertion with the latest valid_at <= t (ties: the
    last added) when t is before its own invalid_at."""

    def __init__(self) -> None:
        self.rows: list[dict[str, Any]] = []

    def add(self, fid: str, s: str, p: str, o: str, v: float, inv: float | None) -> None:
        if any(r["id"] == fid for r in self.rows):
            return
        self.rows.append(
            {"id": fid, "s": name_key(s), "p": name_key(p), "o": name_key(o), "v": v, "inv": inv}
        )

    def delete(self, fid: str) -> None:
        self.rows = [r for r in self.rows if r["id"] != fid]

    def truth(self, t: float) -> dict[tuple[str, str], str]:
        out = {}
        for key in {(r["s"], r["p"]) for r in self.rows}:
            mine = [(r["v"], i, r) for i, r in enumerate(self.rows) if (r["s"], r["p"]) == key]
            before = [x for x in mine if x[0] <= t]
            if before:
                r = max(before, key=lambda x: (x[0], x[1]))[2]
                if r["inv"] is None or t < r["inv"]:
                    out[key] = r["o"]
        return out


SUBJECTS = ["Alice", "alice ", "Bob", "The Bob"]  # spellings of two entities
PREDICATES = ["lives in", "lives_in", "works at"]
OBJECTS = ["Paris", "paris", "London", "Rome"]

assertion = st.tuples(
    st.sampled_from(SUBJECTS),
    st.sampled_from(PREDICATES),
    st.sampled_from(OBJECTS),
    st.integers(0, 20),
    st.one_of(st.none(), st.integers(1, 8)),
)
step = st.one_of(assertion, st.tuples(st.just("delete"), st.integers(0, 50)))


@settings(max_examples=60)
@given(st.lists(step, min_size=1, max_size=25))
def test_as_of_is_exact_against_a_plain_reference(steps: list[Any]) -> None:
    ref = Reference()
    ids: list[str] = []
    with Memory() as memory:
        for s in steps:
            if s[0] == "delete":
                if ids:
                    fid = ids[s[1] % len(ids)]
                    if any(r["id"] == fid for r in ref.rows):
                        memory.delete(fid)
                        ref.delete(fid)
                    else:
                        with pytest.raises(NotFoundError):
                            memory.delete(fid)
                continue
            subject, predicate, obj, v, length = s
            inv = None if length is None else v + length
            fid = memory.add_fact(
                subject,
                predicate,
                obj,
                valid_at=day(v),
                invalid_at=None if inv is None else day(inv),
            )
            ids.append(fid)
            ref.add(
                fid,
                subject,
                predicate,
                obj,
                day(v).timestamp(),
                None if inv is None else day(inv).timestamp(),
            )
        for t in [x / 2 for x in range(-1, 62)]:
            got = {
                (name_key(f.subject), name_key(f.predicate)): name_key(f.object)
                for f in memory.facts(as_of=day(t))
            }
            assert len(memory.facts(as_of=day(t))) == len(got)  # one object per key
            assert got == ref.truth(day(t).timestamp()), t
        # history holds every distinct assertion, in time order
        for subject in ("alice", "bob"):
            hist = memory.history(subject)
            assert len(hist) == sum(r["s"] == subject for r in ref.rows)
            for p in {name_key(h.predicate) for h in hist}:
                times = [h.valid_at for h in hist if name_key(h.predicate) == p]
                assert times == sorted(times)


def test_a_contradiction_closes_the_fact_it_contradicts() -> None:
    with Memory() as memory:
        before = time.time()
        first = memory.add_fact("Caroline", "lives in", "Boston", valid_at="2021-03-01")
        assert memory.facts("caroline", "Lives_In")[0].id == first
        second = memory.add_fact(
            "caroline", "lives in", "Denver", valid_at="2023-05-08", episodes=["e7"]
        )
        old, new = memory.history("Caroline", "lives in")
        assert (old.id, new.id) == (first, second)
        assert old.invalid_at == new.valid_at == datetime(2023, 5, 8, tzinfo=UTC)
        assert old.expired_at is not None and old.expired_at.timestamp() >= before
        assert new.invalid_at is None and new.expired_at is None and new.episodes == ("e7",)
        assert [f.object for f in memory.facts("Caroline", as_of="2022-01-01")] == ["Boston"]
        assert [f.object for f in memory.facts("Caroline")] == ["Denver"]
        assert memory.facts("Caroline", as_of="2020-01-01") == []
        # a restatement is not a contradiction; an earlier fact arriving late ends where the
        # later one begins
        third = memory.add_fact("Caroline", "lives in", "denver", valid_at="2024-01-01")
        assert memory.history("Caroline")[1].expired_at is None
        early = memory.add_fact("Caroline", "lives in", "Austin", valid_at="2019-01-01")
        f = {x.id: x for x in memory.history("Caroline")}
        assert f[early].invalid_at == f[first].valid_at and f[early].expired_at is not None
        # deleting reopens what a fact had closed
        memory.delete(second)
        memory.delete(third)
        assert memory.history("Caroline", "lives in")[-1].invalid_at is None
        assert memory.facts("Caroline")[0].object == "Boston"


def test_fact_ids_are_idempotent_and_bad_facts_are_refused() -> None:
    with Memory() as memory:
        a = memory.add_fact("Bob", "owns", "a cat", valid_at="2022-01-01", episodes=["e1"])
        b = memory.add_fact("bob", "Owns", "A Cat!", valid_at=datetime(2022, 1, 1), episodes=["e2"])
        assert a == b and memory.history("Bob")[0].episodes == ("e1", "e2")
        assert len(memory.history("Bob")) == 1
        with pytest.raises(InvalidInputError, match="later than its valid_at"):
            memory.add_fact("Bob", "owns", "a dog", valid_at="2022-01-02", invalid_at="2022-01-01")
        with pytest.raises(InvalidInputError, match="subject"):
            memory.add_fact("  ", "owns", "x", valid_at="2022-01-01")
        with pytest.raises(InvalidInputError, match="ISO 8601"):
            memory.add_fact("Bob", "owns", "x", valid_at="last tuesday")


# ---- episodes ----------------------------------------------------------------------------


def test_episode_ids_are_idempotent() -> None:
    with Memory() as memory:
        eid = memory.add("hello there", id="t1", speaker="Ann", time="2023-01-01T10:00:00")
        assert memory.add("hello there", id="t1", speaker="Ann", time="2023-01-01T10:00:00") == eid
        assert memory.add("hello there", id="t1", speaker="Ann") == eid  # untimed repeat
        assert len(memory) == 1
        with pytest.raises(InvalidInputError, match="different content"):
            memory.add("goodbye", id="t1", speaker="Ann")
        with pytest.raises(InvalidInputError, match="different content"):
            memory.add("hello there", id="t1", speaker="Ann", time="2024-01-01")
        generated = memory.add_many([{"text": "same"}, {"text": "same"}])
        assert len(set(generated)) == 2 and len(memory) == 3
        # a batch with an invalid record adds nothing
        with pytest.raises(InvalidInputError, match="record 1"):
            memory.add_many([{"text": "fine"}, {"text": ""}])
        with pytest.raises(InvalidInputError, match="unknown keys"):
            memory.add_many([{"text": "x", "when": "2023-01-01"}])
        assert len(memory) == 3
        assert [e.id for e in memory.episodes(limit=1)] == [generated[1]]
        assert memory.episodes(speaker="ann", until="2023-06-01")[0].id == "t1"
        with pytest.raises(InvalidInputError, match="limit"):
            memory.episodes(limit=-1)
        got = memory.get("t1")
        assert (got.text, got.speaker, got.time) == (
            "hello there",
            "Ann",
            datetime(2023, 1, 1, 10, tzinfo=UTC),
        )
        with pytest.raises(NotFoundError):
            memory.get("nope")


def test_search_sees_an_add_at_once_and_follows_updates_and_deletes() -> None:
    with Memory() as memory:
        memory.add_many([{"text": f"filler turn number {i}", "time": day(i)} for i in range(50)])
        eid = memory.add("the zebra escaped from the zoo", time=day(51))
        assert memory.search("zebra", 3)[0].id == eid
        memory.update(eid, text="the giraffe escaped from the zoo")
        assert memory.search("zebra", 3, mode="bm25") == []
        assert memory.search("giraffe", 3)[0].text == "the giraffe escaped from the zoo"
        memory.delete(eid)
        assert memory.search("giraffe", 3) == []
        with pytest.raises(NotFoundError):
            memory.delete(eid)


def test_bm25_scores_are_the_index_scores_over_the_same_rows() -> None:
    from corpus import python_docs

    docs = (
        [t for _, t in python_docs(max_files=40)]
        if os.path.isdir("/usr/share/doc/python3.11")
        else []
    )
    paragraphs = [p.strip() for d in docs for p in d.split("\n\n") if len(p.strip()) > 40][:600]
    if not paragraphs:  # the docs are optional on a machine: use the standard library's text
        from corpus import stdlib_sources

        paragraphs = [
            p.strip() for _, t in stdlib_sources() for p in t.split("\n\n") if len(p.strip()) > 40
        ][:600]
    speakers = ["Ann", "Bob", None]
    with Memory(weights=NO_RERANK) as memory:
        memory.add_many(
            [
                {"text": p, "id": f"p{i}", "speaker": speakers[i % 3], "time": day(i)}
                for i, p in enumerate(paragraphs)
            ]
        )
        index = ctxengine.Index(max_tokens=512, stop_words=True, stem=True)
        index.add_many(paragraphs, [f"p{i}" for i in range(len(paragraphs))])
        for query in [
            "how do I open a file",
            "list comprehension syntax",
            "exception handling",
            "thread lock",
            "what is it",
        ]:
            ours = memory.search(query, 10, mode="bm25", neighbors=False)
            theirs = index.search(lexical_query(query), 10)
            assert [(h.id, round(h.score, 9)) for h in ours] == [
                (h.doc_id, round(h.score, 9)) for h in theirs
            ]


records = st.lists(
    st.tuples(
        st.sampled_from(["apples and pears", "apples", "pears and plums", "plums", "apples again"]),
        st.sampled_from(["Ann", "Bob", "ann"]),
        st.sampled_from(["s1", "s2", "s3"]),
        st.integers(0, 30),
    ),
    min_size=1,
    max_size=40,
)


@settings(max_examples=40)
@given(
    records,
    st.integers(0, 30),
    st.integers(0, 30),
    st.sampled_from(["Ann", "Bob", None]),
    st.sampled_from(["s1", "s2", None]),
    st.one_of(st.none(), st.integers(0, 30)),
)
def test_filters_are_exact_against_brute_force(
    rows: list[Any], a: int, b: int, speaker: str | None, session: str | None, as_of: int | None
) -> None:
    since, until = day(min(a, b)), day(max(a, b) + 0.5)
    with Memory(weights=NO_RERANK) as memory:
        ids = memory.add_many(
            [{"text": t, "speaker": s, "session": ss, "time": day(d)} for t, s, ss, d in rows]
        )
        hits = memory.search(
            "apples",
            100,
            mode="bm25",
            since=since,
            until=until,
            speaker=speaker,
            session=session,
            neighbors=False,
            as_of=None if as_of is None else day(as_of),
        )
        limit = until if as_of is None else min(until, day(as_of))
        expected = {
            i
            for i, (t, s, ss, d) in zip(ids, rows, strict=True)
            if "apples" in t
            and since <= day(d) <= limit
            and (speaker is None or s.lower() == speaker.lower())
            and (session is None or ss == session)
        }
        assert {h.id for h in hits} == expected


def test_time_aware_ranking_and_neighbour_turns() -> None:
    with Memory() as memory:
        memory.add_many(
            [
                {
                    "text": "Where did you move to?",
                    "speaker": "Mel",
                    "session": "a",
                    "time": day(1),
                },
                {
                    "text": "Boston, last week.",
                    "speaker": "Caroline",
                    "session": "a",
                    "time": day(1) + timedelta(minutes=1),
                },
                {
                    "text": "I moved to a new apartment in Boston",
                    "speaker": "Caroline",
                    "session": "a",
                    "time": day(1) + timedelta(minutes=2),
                },
                {
                    "text": "I moved to a new apartment in Denver",
                    "speaker": "Caroline",
                    "session": "b",
                    "time": day(300),
                },
                {
                    "text": "My sister moved to a new apartment in Austin",
                    "speaker": "Mel",
                    "session": "b",
                    "time": day(301),
                },
            ]
        )
        now = memory.search("where does Caroline live now? which apartment did she move to", 2)
        assert now[0].text.endswith("Denver")
        first = memory.search("in which city was the first apartment of Caroline", 1)
        assert first[0].text.endswith("Boston")
        # the question that a short reply answers comes with it
        hits = memory.search("Boston last week", 1)
        assert [h.text for h in hits] == ["Boston, last week.", "Where did you move to?"]
        assert hits[1].neighbor_of == hits[0].id and hits[1].score == hits[0].score / 2
        facts_too = memory.add_fact("Caroline", "lives in", "Denver", valid_at=day(300))
        assert facts_too in [h.id for h in memory.search("Caroline lives Denver", 5)]
        assert facts_too not in [
            h.id for h in memory.search("Caroline lives Denver", 5, as_of=day(2))
        ]


def test_search_refuses_bad_input() -> None:
    with Memory() as memory:
        memory.add("something")
        bad_options: list[tuple[dict[str, Any], str]] = [
            ({"k": 0}, "k must"),
            ({"mode": "fuzzy"}, "mode must"),
            ({"kinds": ["note"]}, "kinds"),
            ({"since": "2024-01-02", "until": "2024-01-01"}, "since"),
        ]
        for bad, match in bad_options:
            with pytest.raises(InvalidInputError, match=match):
                memory.search("something", **bad)
        with pytest.raises(InvalidInputError, match="empty"):
            memory.search("   ")
        with pytest.raises(UnsupportedError, match="embedder"):
            memory.search("something", mode="dense")
    with pytest.raises(InvalidInputError, match="closed"):
        memory.search("something")


# ---- pack --------------------------------------------------------------------------------


@pytest.mark.parametrize("budget", [120, 300, 1000])
@pytest.mark.parametrize("fmt", ["text", "chatml", "openai"])
def test_pack_is_exact_against_tiktoken(budget: int, fmt: str) -> None:
    enc = encoding("cl100k_base")
    with Memory() as memory:
        ids = memory.add_many(
            [
                {
                    "text": f"On day {i} we talked about the garden, the roses and plan {i % 7}.",
                    "speaker": "Ann" if i % 2 else "Bob",
                    "session": f"s{i // 10}",
                    "time": day(i),
                }
                for i in range(200)
            ]
        )
        packed = memory.pack("what did we plan for the roses in the garden?", budget, format=fmt)
        if fmt == "openai":
            real = 3 + sum(
                3 + len(enc.encode(m["role"])) + len(enc.encode(m["content"]))
                for m in packed.messages
            )
        elif fmt == "chatml":
            real = len(enc.encode(packed.text, allowed_special="all"))
        else:
            real = len(enc.encode(packed.text, disallowed_special=()))
        assert packed.tokens == real <= budget
        assert bool(packed.sources) or budget < 300  # 120 leaves chat formats no room
        assert {s.doc_id for s in packed.sources} <= set(ids)
        for s in packed.sources:
            assert memory.get(s.doc_id).text.startswith(s.text)
        in_time = memory.pack("roses garden plan", 600, order="position")
        times = [s.metadata["time"] for s in in_time.sources]
        assert times == sorted(times)


# ---- extraction --------------------------------------------------------------------------


def test_extraction_skips_repeats_before_any_call_and_normalises_names() -> None:
    calls: list[list[dict[str, str]]] = []

    def extractor(messages: list[dict[str, str]], schema: dict[str, Any]) -> str:
        assert schema == EXTRACTION_SCHEMA
        calls.append(messages)
        facts = []
        for line in messages[1]["content"].splitlines():
            m = re.match(r"(\S+) \| (\S+) \| (\S+) \| I live in (\w+)", line)
            if m:
                who = m[3].upper() if m[3] == "caroline" else m[3]  # a sloppy model
                facts.append(
                    {
                        "subject": who,
                        "predicate": "lives in",
                        "object": m[4],
                        "episode": m[1],
                        "valid_at": None,
                    }
                )
        return json.dumps({"facts": facts})

    with Memory(extractor=extractor) as memory:
        memory.add("I live in Boston", speaker="Caroline", time="2022-01-01", session="a")
        assert len(calls) == 1 and memory.facts("Caroline")[0].object == "Boston"
        memory.add("I live in Boston", speaker="Caroline", time="2022-02-01", session="b")
        memory.add("i live in boston!!", speaker="Caroline", time="2022-03-01", session="c")
        memory.add(
            "I live in Boston, I live in Boston, I live in Boston, I live in Boston too",
            speaker="Caroline",
            time="2022-03-02",
        )
        assert len(calls) == 2  # exact repeats are free; the long one is new text
        memory.add("I live in Denver", speaker="caroline", time="2023-05-08")
        assert len(calls) == 3
        assert "Known entities: Caroline" in calls[-1][1]["content"]
        hist = memory.history("Caroline", "lives in")
        assert [f.object for f in hist][-1] == "Denver" and {f.subject for f in hist} == {
            "Caroline"
        }
        report = memory.extract()
        assert report.calls == 0
    with Memory() as memory, pytest.raises(InvalidInputError, match="extractor"):
        memory.extract()
    with Memory() as memory:
        memory.add("x", id="e1")
        with pytest.raises(FormatError, match="not in the batch"):
            memory.extract(
                lambda m, s: {
                    "facts": [{"subject": "a", "predicate": "b", "object": "c", "episode": "zz"}]
                }
            )


# ---- the file across processes -----------------------------------------------------------


def _python(code: str) -> list[str]:
    return [sys.executable, "-c", textwrap.dedent(code)]


def _env() -> dict[str, str]:
    return package_env()


def test_a_reader_in_another_process_sees_committed_writes(tmp_path: Path) -> None:
    path = tmp_path / "memory.db"
    writer = Memory(path)
    writer.add("the first note about kiwis", id="a")
    reader = subprocess.Popen(
        _python(f"""
            import sys, json
            from ctxengine.memory import Memory
            m = Memory({str(path)!r})
            for line in sys.stdin:
                hits = m.search(line.strip(), 10, neighbors=False)
                print(json.dumps(sorted(h.id for h in hits)), len(m), flush=True)
        """),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=_env(),
    )
    assert reader.stdin is not None and reader.stdout is not None

    def ask(query: str) -> str:
        reader.stdin.write(query + "\n")  # type: ignore[union-attr]
        reader.stdin.flush()  # type: ignore[union-attr]
        return reader.stdout.readline().strip()  # type: ignore[union-attr]

    try:
        assert ask("kiwis") == '["a"] 1'
        writer.add("a second note about kiwis", id="b")
        assert ask("kiwis") == '["a", "b"] 2'
        writer.update("a", text="the first note about mangos")
        assert ask("kiwis") == '["b"] 2'
        assert ask("mangos") == '["a"] 2'
        writer.delete("b")
        assert ask("kiwis") == "[] 1"
    finally:
        reader.stdin.close()
        reader.wait(timeout=60)
        reader.stdout.close()
        writer.close()


def test_a_killed_writer_loses_nothing_committed(tmp_path: Path) -> None:
    path = tmp_path / "memory.db"
    writer = subprocess.Popen(
        _python(f"""
            from ctxengine.memory import Memory
            m = Memory({str(path)!r})
            i = 0
            while True:
                m.add_many([{{"text": f"note {{i}} part {{j}} " + "x" * 500, "id": f"n{{i}}.{{j}}"}}
                            for j in range(20)])
                m.add_fact("counter", "is", str(i), valid_at=f"2023-01-01T00:00:{{i % 60:02d}}")
                print(i, flush=True)
                i += 1
        """),
        stdout=subprocess.PIPE,
        text=True,
        env=_env(),
    )
    assert writer.stdout is not None
    committed = -1
    for line in writer.stdout:
        committed = int(line)
        if committed >= 30:
            break
    writer.send_signal(signal.SIGKILL)  # mid-write: it is adding the next batch
    writer.wait(timeout=60)
    writer.stdout.close()
    assert committed >= 30
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    with Memory(path) as memory:
        for i in range(committed + 1):
            for j in range(20):
                assert memory.get(f"n{i}.{j}").text.startswith(f"note {i} part {j} ")
        assert len(memory) % 20 == 0 and len(memory) >= 20 * (committed + 1)
        assert memory.search("note 7 part 3", 1, neighbors=False)[0].id == "n7.3"
        memory.add("after the crash")  # and it is writable


def test_bad_paths_and_files() -> None:
    with pytest.raises(InvalidInputError, match="directory"):
        Memory(ROOT)
    with pytest.raises(ctxengine.StorageError, match="does not exist"):
        Memory(ROOT / "no" / "such" / "folder" / "m.db")


def test_a_file_that_is_not_memory_is_a_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "notes.txt"
    bad.write_bytes(b"this is not a database" * 100)
    with pytest.raises(FormatError, match="not a ctxengine memory file"):
        Memory(bad)


class CountingEmbedder:
    """A deterministic toy embedder (bag of hashed words) that counts the texts it embeds."""

    name = "toy-hash-64"

    def __init__(self, fail: bool = False) -> None:
        self.texts = 0
        self.fail = fail

    def __call__(self, texts: list[str]) -> Any:
        import numpy as np

        if self.fail:
            raise ValueError("the embedder is down")
        self.texts += len(texts)
        out = np.zeros((len(texts), 64), dtype=np.float32)
        for i, t in enumerate(texts):
            for w in re.findall(r"\w+", t.lower()):
                out[i, hash(w) % 64] += 1.0
        return out


def test_dense_and_hybrid_search_and_the_vector_cache(tmp_path: Path) -> None:
    path = tmp_path / "dense.db"
    emb = CountingEmbedder()
    with Memory(path, embedder=emb) as memory:
        memory.add_many([{"text": f"note {i} about river boats", "id": f"n{i}"} for i in range(20)])
        memory.add("the same words again", id="a")
        memory.add("the same words again", id="b")  # same text: embedded once
        assert emb.texts == 21
        dense = memory.search("river boats note 3", 3, mode="dense", neighbors=False)
        hybrid = memory.search("river boats note 3", 3, neighbors=False)
        assert dense and hybrid[0].id == "n3"
    again = CountingEmbedder()
    with Memory(path, embedder=again) as memory:  # reopening embeds nothing but queries
        assert again.texts == 0
        assert memory.search("note 3", 1, mode="dense", neighbors=False)
        assert again.texts == 1
    with pytest.raises(InvalidInputError, match="built with embedder"):
        Memory(path, embedder="all-MiniLM-L6-v2")
    broken = CountingEmbedder(fail=True)
    broken.name = "toy-hash-64"
    with Memory(path, embedder=broken) as memory:
        with pytest.raises(ValueError, match="down"):
            memory.add("something new to embed", id="new")
        with pytest.raises(NotFoundError):  # nothing was written
            memory.get("new")


def test_the_named_speakers_turns_fill_in_when_matches_run_out() -> None:
    with Memory() as memory:
        memory.add_many(
            [
                {
                    "text": f"turn {i}",
                    "speaker": "Ann" if i % 2 else "Bob",
                    "time": day(i),
                    "session": "s",
                }
                for i in range(20)
            ]
        )
        memory.add("Ann likes kayaks", speaker="Bob", time=day(3))
        hits = memory.search("what is Ann into now?", 4, neighbors=False)
        assert hits[0].text == "Ann likes kayaks"  # the match first, then Ann's latest turns
        assert [h.text for h in hits[1:]] == ["turn 19", "turn 17", "turn 15"]
        assert all(h.score < hits[0].score for h in hits[1:])
        early = memory.search("what did Ann do at first?", 3, neighbors=False)
        assert [h.text for h in early][1:] == ["turn 1", "turn 3"]
        window = memory.search("what was Ann up to?", 3, neighbors=False, until=day(10))
        assert [h.text for h in window][1:] == ["turn 9", "turn 7"]
        assert memory.search("anything from Zed?", 3) == []
