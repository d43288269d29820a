"""Needle threading (Roberts, Han and Albanie 2024, "Needle Threading: Can LLMs Follow
Threads through Near-Million-Scale Haystacks?").

A thread is a chain of UUID keys: the first key leads to a second, which leads to a third, and
so on; the answer is the key the thread ends at. As in the paper, the thread hides among
distractor links written the same way (by default one per 1,000 tokens of length), so only the
keys tell the thread's links apart. Threads run forward (each link deeper in the
context than the one before), backward, or in random order; multi-threading asks for several
threads at once. The haystack is either filler text with the links written as sentences (exact
length), or, as in the paper, a JSON object of UUID key-value pairs in which the links hide
(``haystack="kv"``: whole pairs only, so the length is at most one pair short).
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Sequence

from ...errors import InvalidInputError
from ..layout import Insert
from ..record import GoldSpan
from ._base import Plan, TaskInput, chain_depths, check_choice, check_positive, random_uuid

__all__ = ["needle_threading"]

DIRECTIONS = ("forward", "backward", "random")


def _link(a: str, b: str) -> str:
    return f"The key {a} leads to the key {b}."


def needle_threading(
    ti: TaskInput,
    *,
    hops: int = 4,
    threads: int = 1,
    direction: str = "forward",
    haystack: str = "filler",
    distractors: int | None = None,
) -> Plan:
    """`threads` threads of `hops` links each, among `distractors` unrelated links written the
    same way (filler haystack; default one per 1,000 tokens of length, so that the thread's
    later links look like any other link and only the keys lead from one to the next)."""
    check_positive("hops", hops)
    check_positive("threads", threads)
    if distractors is None:
        distractors = ti.length // 1000
    check_positive("distractors", distractors, 0)
    check_choice("direction", direction, DIRECTIONS)
    check_choice("haystack", haystack, ("filler", "kv"))
    rng = ti.rng
    used: set[str] = set()

    def key() -> str:
        k = random_uuid(rng)
        while k in used:
            k = random_uuid(rng)
        used.add(k)
        return k

    chains = [[key() for _ in range(hops + 1)] for _ in range(threads)]
    starts = [c[0] for c in chains]
    ends = [c[-1] for c in chains]
    if threads == 1:
        question = (
            f"Start at the key {starts[0]} and follow the thread: each key leads to another "
            "key. Which key does the thread end at?"
        )
    else:
        question = (
            "Follow each of these threads, where each key leads to another key, and give the "
            f"key each thread ends at: {', '.join(starts)}."
        )
    meta = {"hops": hops, "threads": threads, "direction": direction, "haystack": haystack}
    if haystack == "kv":
        return _kv_plan(rng, ti, chains, question, ends, direction, meta, key)
    inserts: list[Insert] = []
    for t, chain in enumerate(chains):
        depths = _thread_depths(rng, hops, direction, ti.depth if t == 0 else None)
        for j in range(hops):
            answer = chain[j + 1]
            inserts.append(Insert(_link(chain[j], chain[j + 1]), depths[j], "link", answer))
    inserts += [Insert(_link(key(), key()), rng.random(), "distractor") for _ in range(distractors)]
    return Plan(
        question=question,
        answers=ends,
        template="The text below contains keys, each leading to another key. Follow the "
        "threads.\n\n{context}\n\n{question}",
        answer_prefix="The thread ends at the key" if threads == 1 else "The threads end at",
        inserts=inserts,
        units=ti.filler.units(),
        filler_name=ti.filler.name,
        meta=meta | {"start_keys": starts, "distractors": distractors},
    )


def _thread_depths(
    rng: random.Random, hops: int, direction: str, requested: float | Sequence[float] | None
) -> list[float]:
    """Depths of a thread's links in thread order: one per link as given, or increasing from
    the requested (or a drawn) start, reversed for backward threads, shuffled for random."""
    if requested is not None and not isinstance(requested, (int, float)):
        if len(requested) != hops:
            raise InvalidInputError(f"give one depth per link ({hops}), not {len(requested)}")
        return chain_depths(rng, hops, requested)
    depths = chain_depths(rng, hops, requested)
    if direction == "backward":
        return depths[::-1]
    if direction == "random":
        rng.shuffle(depths)
    return depths


def _kv_plan(
    rng: random.Random,
    ti: TaskInput,
    chains: list[list[str]],
    question: str,
    ends: list[str],
    direction: str,
    meta: dict[str, object],
    new_key: Callable[[], str],
) -> Plan:
    """The paper's haystack: one JSON object of UUID pairs with the links among them."""
    links: list[tuple[str, str, float]] = []
    for t, chain in enumerate(chains):
        depths = _thread_depths(rng, len(chain) - 1, direction, ti.depth if t == 0 else None)
        links += [(chain[j], chain[j + 1], depths[j]) for j in range(len(chain) - 1)]
    links.sort(key=lambda link: link[2])  # stable: equal depths keep thread order
    noise: list[tuple[str, str]] = []

    def build(n: int) -> tuple[str, list[GoldSpan]]:
        # n noise pairs with the links inserted at their depths.
        while len(noise) < n:
            noise.append((new_key(), new_key()))
        body: list[tuple[str, str, float | None]] = [(a, b, None) for a, b in noise[:n]]
        for k, (a, b, d) in enumerate(links):
            body.insert(round(d * n) + k, (a, b, d))
        parts = ["{"]
        pos = 1
        spans: list[GoldSpan] = []
        for i, (a, b, depth) in enumerate(body):
            item = json.dumps(a) + ": " + json.dumps(b)
            if depth is not None:
                spans.append(GoldSpan(pos, pos + len(item), item, "link", b, depth))
            sep = ", " if i + 1 < len(body) else ""
            parts.append(item + sep)
            pos += len(item) + len(sep)
        parts.append("}")
        return "".join(parts), spans

    return Plan(
        question=question,
        answers=ends,
        template="Below is a JSON object of keys and values. Some values are themselves keys "
        "of other pairs; follow them.\n\n{context}\n\n{question}",
        answer_prefix="The thread ends at the key" if len(chains) == 1 else "The threads end at",
        build=build,
        build_minimum=0,
        build_estimate=max(1, ti.length // 40),
        filler_name="uuid pairs",
        meta=meta,
    )
