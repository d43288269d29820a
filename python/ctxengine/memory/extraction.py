"""Facts from episodes through a caller's model: the JSON schema and prompt ctxengine provides,
and the deterministic steps that run before any call.

An extractor is any callable ``extractor(messages, schema) -> str | dict``: it gets chat
messages (system and user, OpenAI style) and the JSON schema its answer must follow, and
returns the JSON (a string or the parsed object). ctxengine never calls a model itself.

Before a call, :meth:`ctxengine.memory.Memory.extract` drops the episodes that would cost a call
for nothing: exact repeats of an episode already extracted (same words, ignoring case and
punctuation), near-duplicates of one (word 3-shingle Jaccard >= 0.9 with one that search finds),
and repeats within the batch. Names in the answer are normalised
(:func:`ctxengine.memory.normalize.name_key`) and mapped to the spelling memory already has,
and the prompt lists the known names so the model reuses them.

>>> messages = extraction_messages([("e1", "2023-05-08", "Caroline", "I moved to Denver!")])
>>> [m["role"] for m in messages]
['system', 'user']
>>> parse_facts('{"facts": [{"subject": "Caroline", "predicate": "lives in", '
...             '"object": "Denver", "episode": "e1"}]}', {"e1"})[0].object
'Denver'
"""

from __future__ import annotations

import json
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..errors import FormatError
from ._time import to_seconds

__all__ = [
    "EXTRACTION_INSTRUCTIONS",
    "EXTRACTION_SCHEMA",
    "ExtractedFact",
    "Extraction",
    "Extractor",
    "extraction_messages",
    "parse_facts",
]

Extractor = Callable[[list[dict[str, str]], dict[str, Any]], "str | Mapping[str, Any]"]

EXTRACTION_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "facts": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "subject": {"type": "string", "description": "who or what it is about"},
                    "predicate": {
                        "type": "string",
                        "description": "the relation, short and in the present tense "
                        "(lives in, works at, has pet, likes)",
                    },
                    "object": {"type": "string", "description": "the value of the relation"},
                    "valid_at": {
                        "type": ["string", "null"],
                        "description": "ISO 8601 time it became true, if the text says; "
                        "null: the episode's time",
                    },
                    "invalid_at": {
                        "type": ["string", "null"],
                        "description": "ISO 8601 time it stopped being true, if the text says",
                    },
                    "episode": {"type": "string", "description": "the id of the episode"},
                },
                "required": ["subject", "predicate", "object", "episode"],
                "additionalProperties": False,
            },
        }
    },
    "required": ["facts"],
    "additionalProperties": False,
}

EXTRACTION_INSTRUCTIONS = (
    "Extract durable facts about people and things from the conversation turns below: where "
    "someone lives or works, relationships, possessions, preferences, plans and events. One "
    "fact is a subject, a short present-tense predicate and an object. Use the names listed "
    "as known entities when a turn refers to one of them (resolve 'I' and 'my' to the "
    "speaker). Give valid_at only when the text dates the fact; otherwise leave it null and "
    "the turn's time is used. Skip small talk. Answer with JSON that follows this schema:\n"
)


@dataclass(frozen=True)
class ExtractedFact:
    subject: str
    predicate: str
    object: str
    episode: str
    valid_at: float | None
    invalid_at: float | None


@dataclass
class Extraction:
    """What :meth:`ctxengine.memory.Memory.extract` did."""

    facts: list[str] = field(default_factory=list)  # ids of the facts added or confirmed
    calls: int = 0  # extractor calls made
    episodes: int = 0  # episodes sent to the extractor
    duplicates: int = 0  # episodes skipped as exact or near repeats (no call)


def extraction_messages(
    episodes: Sequence[tuple[str, str | None, str | None, str]],
    *,
    entities: Sequence[str] = (),
) -> list[dict[str, str]]:
    """The prompt for a batch of episodes, each ``(id, iso time, speaker, text)``."""
    system = EXTRACTION_INSTRUCTIONS + json.dumps(EXTRACTION_SCHEMA, indent=1)
    lines = []
    if entities:
        lines.append("Known entities: " + "; ".join(entities))
        lines.append("")
    lines.append("Turns (id | time | speaker | text):")
    for eid, when, speaker, text in episodes:
        lines.append(f"{eid} | {when or '-'} | {speaker or '-'} | {' '.join(text.split())}")
    return [{"role": "system", "content": system}, {"role": "user", "content": "\n".join(lines)}]


def parse_facts(
    output: str | Mapping[str, Any], episode_ids: Collection[str]
) -> list[ExtractedFact]:
    """The facts of an extractor's answer, checked against the schema; facts naming an episode
    not in the batch are an error (the model invented an id)."""
    if isinstance(output, str):
        try:
            data = json.loads(output)
        except json.JSONDecodeError as exc:
            raise FormatError(f"the extractor's answer is not JSON: {exc}") from exc
    else:
        data = output
    if not isinstance(data, Mapping) or not isinstance(data.get("facts"), list):
        raise FormatError('the extractor must answer {"facts": [...]} (EXTRACTION_SCHEMA)')
    out = []
    for i, item in enumerate(data["facts"]):
        if not isinstance(item, Mapping):
            raise FormatError(f"fact {i} of the extractor's answer is not an object")
        for key in ("subject", "predicate", "object", "episode"):
            if not isinstance(item.get(key), str) or not item[key].strip():
                raise FormatError(f"fact {i} of the extractor's answer needs a string {key!r}")
        if item["episode"] not in episode_ids:
            raise FormatError(
                f"fact {i} names episode {item['episode']!r}, which was not in the batch"
            )
        out.append(
            ExtractedFact(
                subject=item["subject"],
                predicate=item["predicate"],
                object=item["object"],
                episode=item["episode"],
                valid_at=_time(item.get("valid_at"), i, "valid_at"),
                invalid_at=_time(item.get("invalid_at"), i, "invalid_at"),
            )
        )
    return out


def _time(value: Any, i: int, name: str) -> float | None:
    if value is None or value == "":
        return None
    try:
        return to_seconds(value, name)
    except ValueError as exc:
        raise FormatError(f"fact {i} of the extractor's answer: {exc}") from exc
