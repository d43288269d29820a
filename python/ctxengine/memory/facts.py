"""The temporal layer: facts as (subject, predicate, object) with the time they held, and the
rule that keeps them consistent (as Graphiti's entity edges; Rasmussen et al. 2025, "Zep: a
temporal knowledge graph architecture for agent memory").

A subject and predicate have at most one object at any time: a new fact that contradicts the
one holding at its ``valid_at`` closes it there (``invalid_at`` = the new ``valid_at``,
``expired_at`` = now). Precisely, with the facts of a subject and predicate in order of
``valid_at`` (then of insertion), each one ends at its own asserted ``invalid_at`` or where the
next one begins, whichever is first; so facts may arrive out of order, and deleting one reopens
what it had closed. The truth at time t is the fact with the latest ``valid_at <= t`` when t is
before its end; :func:`facts_at` answers that from the rows.

An exact repeat (same names, object and times) adds nothing and returns the first one's id (its
episodes are merged). A restatement of the same object at a later time is a fact of its own:
the earlier one ends where it begins, without being marked contradicted (``expired_at`` stays
None), so ``history`` shows when the object was stated again.

Names and objects are compared by :func:`ctxengine.memory.normalize.name_key`.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Iterable, Sequence
from typing import Any

from ..errors import InvalidInputError
from ._time import to_datetime
from .normalize import name_key
from .records import Fact
from .store import FACT_COLUMNS

__all__ = ["add_fact", "fact_id", "facts_at", "history", "row_to_fact"]


def fact_id(s_key: str, p_key: str, o_key: str, valid_at: float, invalid_at: float | None) -> str:
    """The id of an assertion: equal assertions get equal ids (adding is idempotent)."""
    raw = json.dumps([s_key, p_key, o_key, repr(valid_at), repr(invalid_at)])
    return "f-" + hashlib.sha1(raw.encode("utf-8", "surrogatepass")).hexdigest()[:20]


def _check_name(value: Any, name: str) -> str:
    if not isinstance(value, str) or not name_key(value):
        raise InvalidInputError(f"a fact's {name} must be a non-empty name, got {value!r}")
    return " ".join(value.split())


def add_fact(
    db: sqlite3.Connection,
    subject: str,
    predicate: str,
    obj: str,
    *,
    valid_at: float,
    invalid_at: float | None,
    episodes: Sequence[str],
    now: float,
) -> tuple[str, list[str]]:
    """Adds one fact inside the caller's write transaction; returns its id and the ids of every
    fact row written (itself, merged or closed ones)."""
    subject = _check_name(subject, "subject")
    predicate = _check_name(predicate, "predicate")
    obj = _check_name(obj, "object")
    if invalid_at is not None and invalid_at <= valid_at:
        raise InvalidInputError("a fact's invalid_at must be later than its valid_at")
    s_key, p_key, o_key = name_key(subject), name_key(predicate), name_key(obj)
    new_id = fact_id(s_key, p_key, o_key, valid_at, invalid_at)
    episodes = list(dict.fromkeys(episodes))
    same = db.execute("SELECT id, episodes FROM facts WHERE id=?", (new_id,)).fetchone()
    if same is not None:
        return new_id, _merge_episodes(db, same[0], same[1], episodes)
    db.execute(
        f"INSERT INTO facts({FACT_COLUMNS}) VALUES(NULL,?,?,?,?,?,?,?,?,?,?,?,?,?)",
        (
            new_id,
            subject,
            s_key,
            predicate,
            p_key,
            obj,
            o_key,
            valid_at,
            invalid_at,
            invalid_at,
            now,
            None,
            json.dumps(episodes),
        ),
    )
    written = retime(db, s_key, p_key, now)
    return new_id, list(dict.fromkeys([new_id, *written]))


def retime(db: sqlite3.Connection, s_key: str, p_key: str, now: float) -> list[str]:
    """Recomputes when each fact of a subject and predicate ends: at its asserted end or where
    the next fact (by valid_at, then insertion) begins, whichever is first. A fact cut short by
    a next one with another object was contradicted (``expired_at`` = now, or kept when it
    already was); one followed by a restatement of its object just continues there. Returns
    the ids whose row changed."""
    rows = db.execute(
        "SELECT id, valid_at, invalid_at, asserted_invalid_at, expired_at, object_key FROM facts "
        "WHERE subject_key=? AND predicate_key=? ORDER BY valid_at, seq",
        (s_key, p_key),
    ).fetchall()
    changed = []
    for i, (fid, _v, stored, asserted, expired, obj) in enumerate(rows):
        nxt = rows[i + 1] if i + 1 < len(rows) else None
        cut = nxt is not None and (asserted is None or nxt[1] < asserted)
        end = nxt[1] if cut and nxt is not None else asserted
        contradicted = cut and nxt is not None and nxt[5] != obj
        new_expired = (
            (expired if expired is not None and stored == end else now) if contradicted else None
        )
        if end != stored or new_expired != expired:
            db.execute(
                "UPDATE facts SET invalid_at=?, expired_at=? WHERE id=?", (end, new_expired, fid)
            )
            changed.append(fid)
    return changed


def _merge_episodes(db: sqlite3.Connection, fid: str, stored: str, new: list[str]) -> list[str]:
    old = json.loads(stored)
    merged = list(dict.fromkeys([*old, *new]))
    if merged == old:
        return []
    db.execute("UPDATE facts SET episodes=? WHERE id=?", (json.dumps(merged), fid))
    return [fid]


def row_to_fact(row: Sequence[Any]) -> Fact:
    (
        _seq,
        fid,
        subject,
        _sk,
        predicate,
        _pk,
        obj,
        _ok,
        v,
        inv,
        _asserted,
        created,
        expired,
        eps,
    ) = row
    valid = to_datetime(v)
    created_at = to_datetime(created)
    assert valid is not None and created_at is not None
    return Fact(
        id=fid,
        subject=subject,
        predicate=predicate,
        object=obj,
        valid_at=valid,
        invalid_at=to_datetime(inv),
        created_at=created_at,
        expired_at=to_datetime(expired),
        episodes=tuple(json.loads(eps)),
    )


def _where(subject: str | None, predicate: str | None) -> tuple[list[str], list[Any]]:
    clauses: list[str] = []
    args: list[Any] = []
    for column, value, name in (
        ("subject_key", subject, "subject"),
        ("predicate_key", predicate, "predicate"),
    ):
        if value is not None:
            if not isinstance(value, str):
                raise InvalidInputError(f"{name} must be a str, got {type(value).__name__}")
            clauses.append(f"{column}=?")
            args.append(name_key(value))
    return clauses, args


def facts_at(
    db: sqlite3.Connection, subject: str | None, predicate: str | None, when: float
) -> list[Fact]:
    """The facts that held at `when` (``valid_at <= when < invalid_at``)."""
    clauses, args = _where(subject, predicate)
    clauses += ["valid_at <= ?", "(invalid_at IS NULL OR invalid_at > ?)"]
    args += [when, when]
    rows = db.execute(
        f"SELECT {FACT_COLUMNS} FROM facts WHERE {' AND '.join(clauses)} "
        "ORDER BY subject_key, predicate_key, valid_at, seq",
        args,
    ).fetchall()
    return [row_to_fact(r) for r in rows]


def history(db: sqlite3.Connection, subject: str, predicate: str | None) -> list[Fact]:
    """Every fact of a subject (and predicate), closed ones included, in time order."""
    clauses, args = _where(subject, predicate)
    rows = db.execute(
        f"SELECT {FACT_COLUMNS} FROM facts WHERE {' AND '.join(clauses)} "
        "ORDER BY predicate_key, valid_at, seq",
        args,
    ).fetchall()
    return [row_to_fact(r) for r in rows]


def facts_by_id(db: sqlite3.Connection, ids: Iterable[str]) -> dict[str, Fact]:
    ids = list(ids)
    out: dict[str, Fact] = {}
    for i in range(0, len(ids), 500):
        part = ids[i : i + 500]
        rows = db.execute(
            f"SELECT {FACT_COLUMNS} FROM facts WHERE id IN ({','.join('?' * len(part))})", part
        ).fetchall()
        out.update((r[1], row_to_fact(r)) for r in rows)
    return out
