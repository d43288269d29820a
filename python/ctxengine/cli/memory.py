"""`ctxengine memory`: an agent memory file from the command line (add, search, pack, facts,
history). The file is created by the first `add`; the other commands need it to exist."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from ..errors import InvalidInputError, NotFoundError
from .app import main


def _open(path: Path, *, create: bool = False, embed: str | None = None) -> Any:
    from ..memory import Memory

    if not create and not path.is_file():
        raise NotFoundError(f"no memory file at {path}; create it with `ctxengine memory add`")
    return Memory(path, embedder=embed)


def _echo_json(data: Any) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, indent=1))


_time_options = [
    click.option("--as-of", help="What was said by then, and facts that held then (ISO time)."),
    click.option("--since", help="Only what was said at or after this time (ISO)."),
    click.option("--until", help="Only what was said at or before this time (ISO)."),
    click.option("--session", help="Only this session's episodes."),
    click.option("--speaker", help="Only this speaker's episodes."),
    click.option(
        "--mode",
        type=click.Choice(["hybrid", "bm25", "dense"]),
        default="hybrid",
        show_default=True,
        help="hybrid fuses BM25 and dense (BM25 alone when the file has no embedder).",
    ),
]


def _with_time_options(fn: Any) -> Any:
    for option in reversed(_time_options):
        fn = option(fn)
    return fn


def _search_options(
    as_of: Any, since: Any, until: Any, session: Any, speaker: Any, mode: str
) -> dict[str, Any]:
    return {
        "as_of": as_of,
        "since": since,
        "until": until,
        "session": session,
        "speaker": speaker,
        "mode": mode,
    }


@main.group("memory")
def memory_group() -> None:
    """Agent memory in one SQLite file: episodes, facts that change over time, search, pack."""


@memory_group.command("add")
@click.argument("file", type=click.Path(path_type=Path))
@click.argument("text", nargs=-1)
@click.option("--speaker", help="Who said it.")
@click.option("--time", "when", help="When it was said (ISO; default: now).")
@click.option("--session", help="The session (conversation) it belongs to.")
@click.option("--id", "eid", help="Its id (default: a new one); adding an id again is a no-op.")
@click.option(
    "--jsonl",
    type=click.File("r", encoding="utf-8"),
    help="Add the episodes of a JSON Lines file ('-': stdin), one object per line with text, "
    "id, speaker, time, session, metadata.",
)
@click.option(
    "--fact",
    nargs=3,
    metavar="SUBJECT PREDICATE OBJECT",
    help="Add a fact instead of an episode (with --valid-at).",
)
@click.option("--valid-at", help="When the fact became true (ISO).")
@click.option("--invalid-at", help="When the fact stopped being true (ISO).")
@click.option("--embed", help="Embedder for dense search, set when the file is created.")
@click.option("--json", "as_json", is_flag=True, help="Print the ids as a JSON array.")
def add_command(
    file: Path,
    text: tuple[str, ...],
    speaker: str | None,
    when: str | None,
    session: str | None,
    eid: str | None,
    jsonl: Any,
    fact: tuple[str, str, str] | None,
    valid_at: str | None,
    invalid_at: str | None,
    embed: str | None,
    as_json: bool,
) -> None:
    """Add an episode (TEXT), the episodes of --jsonl, or a --fact to FILE.

    ctxengine memory add chat.db "I moved to Denver" --speaker Caroline --time 2023-05-08
    """
    given = sum([bool(text), jsonl is not None, fact is not None])
    if given != 1:
        raise click.UsageError("give exactly one of TEXT, --jsonl or --fact")
    with _open(file, create=True, embed=embed) as memory:
        if fact is not None:
            if valid_at is None:
                raise click.UsageError("--fact needs --valid-at")
            ids = [memory.add_fact(*fact, valid_at=valid_at, invalid_at=invalid_at)]
        elif jsonl is not None:
            records = []
            for n, line in enumerate(jsonl, 1):
                if not line.strip():
                    continue
                try:
                    records.append(json.loads(line))
                except json.JSONDecodeError as exc:
                    raise InvalidInputError(f"--jsonl line {n} is not JSON: {exc.msg}") from exc
            ids = memory.add_many(records)
        else:
            ids = [memory.add(" ".join(text), id=eid, speaker=speaker, time=when, session=session)]
    if as_json:
        _echo_json(ids)
    else:
        click.echo("\n".join(ids))


@memory_group.command("search")
@click.argument("file", type=click.Path(path_type=Path))
@click.argument("query")
@click.option("-k", "k", default=10, show_default=True, type=click.IntRange(min=1))
@_with_time_options
@click.option("--json", "as_json", is_flag=True, help="Print the hits as a JSON array.")
def search_command(file: Path, query: str, k: int, as_json: bool, **options: Any) -> None:
    """Search FILE for QUERY: episodes and facts, best first."""
    with _open(file) as memory:
        hits = memory.search(query, k, **_search_options(**options))
    if as_json:
        _echo_json([h.to_dict() for h in hits])
        return
    if not hits:
        click.echo("no hits", err=True)
    for rank, h in enumerate(hits, 1):
        when = h.time.isoformat(timespec="minutes") if h.time else "-"
        near = f" (next to {h.neighbor_of})" if h.neighbor_of else ""
        who = h.speaker or h.kind
        click.echo(f"{rank}. {h.score:.4f}  {h.id}  {when}  {who}{near}")
        click.echo(f"   {' '.join(h.text.split())[:300]}")


@memory_group.command("pack")
@click.argument("file", type=click.Path(path_type=Path))
@click.argument("query")
@click.option("--budget", "-b", required=True, type=click.IntRange(min=1), help="Token budget.")
@click.option("--model", "-m", help="Model profile (its tokenizer), e.g. gpt-4o.")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "openai", "anthropic", "chatml"]),
    default="text",
    show_default=True,
)
@click.option(
    "--order",
    type=click.Choice(["relevance", "position", "edges"]),
    default=None,
    help="Source order (position: in time).",
)
@_with_time_options
@click.option("--json", "as_json", is_flag=True, help="Print the packed prompt as JSON.")
def pack_command(
    file: Path,
    query: str,
    budget: int,
    model: str | None,
    fmt: str,
    order: str | None,
    as_json: bool,
    **options: Any,
) -> None:
    """Pack what FILE remembers about QUERY into a prompt of at most --budget tokens."""
    pack_options: dict[str, Any] = {"format": fmt}
    if model:
        pack_options["model"] = model
    if order:
        pack_options["order"] = order
    with _open(file) as memory:
        packed = memory.pack(query, budget, **pack_options, **_search_options(**options))
    if as_json:
        _echo_json(packed.to_dict())
        return
    if fmt == "text" or fmt == "chatml":
        click.echo(packed.text)
    else:
        _echo_json(
            {"system": packed.system, "messages": packed.messages}
            if fmt == "anthropic"
            else packed.messages
        )
    click.echo(f"{packed.tokens} tokens, {len(packed.sources)} sources", err=True)


@memory_group.command("facts")
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--subject", help="Only this subject's facts.")
@click.option("--predicate", help="Only this predicate's facts.")
@click.option("--as-of", help="What held then (ISO; default: now).")
@click.option("--json", "as_json", is_flag=True, help="Print the facts as a JSON array.")
def facts_command(
    file: Path, subject: str | None, predicate: str | None, as_of: str | None, as_json: bool
) -> None:
    """The facts FILE holds true now, or --as-of a time."""
    with _open(file) as memory:
        facts = memory.facts(subject, predicate, as_of=as_of)
    _print_facts(facts, as_json)


@memory_group.command("history")
@click.argument("file", type=click.Path(path_type=Path))
@click.argument("subject")
@click.argument("predicate", required=False)
@click.option("--json", "as_json", is_flag=True, help="Print the facts as a JSON array.")
def history_command(file: Path, subject: str, predicate: str | None, as_json: bool) -> None:
    """How SUBJECT's facts (of PREDICATE) changed over time."""
    with _open(file) as memory:
        facts = memory.history(subject, predicate)
    _print_facts(facts, as_json)


def _print_facts(facts: list[Any], as_json: bool) -> None:
    if as_json:
        _echo_json([f.to_dict() for f in facts])
        return
    if not facts:
        click.echo("no facts", err=True)
    for f in facts:
        until = f.invalid_at.isoformat() if f.invalid_at else "now"
        click.echo(
            f"{f.subject} | {f.predicate} | {f.object} | {f.valid_at.isoformat()} -> {until}"
        )
    sys.stdout.flush()
