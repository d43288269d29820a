"""Long multi-session conversations for measuring memory: dated sessions between two people,
facts about them that change over time, the turns that state them (evidence), turns that
mention the same things without stating them (distractors), and questions whose evidence
turns are known.

Nothing is drawn from a model: turns are filled from templates and word lists with a seeded
random generator, so a conversation is the same for the same seed. Questions, in the spirit of
LoCoMo's (Maharana et al. 2024):

- ``current``: what holds now ("Where does Caroline live now?"): the latest statement;
- ``as_of``: what held at a date ("Where did Caroline live in May 2023?"): the statement in
  force then;
- ``history``: every value ("Which cities has Caroline lived in?"): all statements;
- ``first``: the earliest value ("What was Caroline's first job here?");
- ``event``: what happened ("What did Mel do at the lake?"): one turn;
- ``when``: when it happened ("When did Caroline adopt Milo?"): one turn.

:meth:`Conversation.to_locomo` writes the LoCoMo JSON layout (sessions with date and time,
turns with ``dia_id``, questions with ``evidence``), and :func:`conversation_from_locomo` reads
a real LoCoMo sample into the same shape, so one evaluation runs on both.

>>> conv = generate_conversation(sessions=6, seed=1)
>>> len(conv.sessions), all(conv.turn(e) for q in conv.questions for e in q.evidence)
(6, True)
"""

from __future__ import annotations

import random
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from ..errors import FormatError

__all__ = [
    "ATTRIBUTES",
    "Conversation",
    "Question",
    "Turn",
    "conversation_from_locomo",
    "generate_conversation",
]


@dataclass(frozen=True)
class Turn:
    id: str  # LoCoMo's dia_id: "D<session>:<n>"
    session: int
    speaker: str
    text: str
    time: datetime


@dataclass(frozen=True)
class Question:
    question: str
    answer: str
    evidence: tuple[str, ...]  # turn ids
    kind: str
    as_of: datetime | None = None


@dataclass(frozen=True)
class TrueFact:
    subject: str
    predicate: str
    object: str
    valid_at: datetime
    turn: str  # the turn that states it


@dataclass
class Conversation:
    speakers: tuple[str, str]
    sessions: list[tuple[datetime, list[Turn]]]
    questions: list[Question]
    facts: list[TrueFact] = field(default_factory=list)
    name: str = "generated"

    @property
    def turns(self) -> list[Turn]:
        return [t for _, turns in self.sessions for t in turns]

    def turn(self, turn_id: str) -> Turn | None:
        for t in self.turns:
            if t.id == turn_id:
                return t
        return None

    def truth(self, subject: str, predicate: str, when: datetime) -> str | None:
        """What the generator made true at `when` (the latest fact stated by then)."""
        stated = [
            f
            for f in self.facts
            if f.subject == subject and f.predicate == predicate and f.valid_at <= when
        ]
        return max(stated, key=lambda f: f.valid_at).object if stated else None

    def text(self) -> str:
        """The conversation as one text: a dated header per session, a line per turn."""
        parts = []
        for i, (when, turns) in enumerate(self.sessions, 1):
            parts.append(f"Session {i} ({_locomo_time(when)})")
            parts += [f"{t.speaker}: {t.text}" for t in turns]
            parts.append("")
        return "\n".join(parts)

    def to_locomo(self) -> dict[str, Any]:
        conversation: dict[str, Any] = {
            "speaker_a": self.speakers[0],
            "speaker_b": self.speakers[1],
        }
        for i, (when, turns) in enumerate(self.sessions, 1):
            conversation[f"session_{i}_date_time"] = _locomo_time(when)
            conversation[f"session_{i}"] = [
                {"speaker": t.speaker, "dia_id": t.id, "text": t.text} for t in turns
            ]
        qa = [
            {
                "question": q.question,
                "answer": q.answer,
                "evidence": list(q.evidence),
                "category": q.kind,
            }
            for q in self.questions
        ]
        return {"sample_id": self.name, "conversation": conversation, "qa": qa}


def _locomo_time(when: datetime) -> str:
    hour = when.hour % 12 or 12
    half = "am" if when.hour < 12 else "pm"
    return f"{hour}:{when.minute:02d} {half} on {when.day} {when:%B}, {when.year}"


_LOCOMO_TIME = re.compile(r"(\d{1,2}):(\d{2})\s*([ap]m)\s+on\s+(\d{1,2})\s+([A-Za-z]+),?\s+(\d{4})")


def parse_locomo_time(text: str) -> datetime:
    """LoCoMo's session times ("1:56 pm on 8 May, 2023") as UTC datetimes."""
    m = _LOCOMO_TIME.search(text or "")
    if not m:
        raise FormatError(f"not a LoCoMo date and time: {text!r}")
    hour = int(m[1]) % 12 + (12 if m[3].lower() == "pm" else 0)
    month = datetime.strptime(m[5][:3], "%b").month
    return datetime(int(m[6]), month, int(m[4]), hour, int(m[2]), tzinfo=UTC)


def conversation_from_locomo(record: Mapping[str, Any]) -> Conversation:
    """A LoCoMo sample (its ``conversation`` and ``qa``) as a :class:`Conversation`; each
    turn's time is its session's time plus a minute per turn. Questions without evidence
    are skipped."""
    conv = record.get("conversation", record)
    if not isinstance(conv, Mapping):
        raise FormatError("a LoCoMo sample needs a 'conversation' object")
    numbers = sorted(int(m[1]) for k in conv if (m := re.fullmatch(r"session_(\d+)", k)))
    sessions = []
    for n in numbers:
        start = parse_locomo_time(str(conv.get(f"session_{n}_date_time", "")))
        turns = []
        for j, t in enumerate(conv[f"session_{n}"] or []):
            text = str(t.get("text", ""))
            if "blip_caption" in t:
                text += f" [shares a photo: {t['blip_caption']}]"
            turns.append(
                Turn(
                    str(t.get("dia_id", f"D{n}:{j + 1}")),
                    n,
                    str(t.get("speaker", "?")),
                    text,
                    start + timedelta(minutes=j),
                )
            )
        sessions.append((start, turns))
    questions = []
    for q in record.get("qa", []):
        evidence = tuple(re.findall(r"D\d+:\d+", " ".join(map(str, q.get("evidence", [])))))
        if evidence:
            questions.append(
                Question(
                    str(q.get("question", "")),
                    str(q.get("answer", "")),
                    evidence,
                    str(q.get("category", "")),
                )
            )
    speakers = (str(conv.get("speaker_a", "A")), str(conv.get("speaker_b", "B")))
    return Conversation(speakers, sessions, questions, [], str(record.get("sample_id", "locomo")))


# ---- what people talk about -----------------------------------------------------------------

NAMES = [
    "Caroline",
    "Melanie",
    "Jordan",
    "Priya",
    "Tomas",
    "Aiko",
    "Nadia",
    "Samuel",
    "Lena",
    "Marcus",
    "Ines",
    "Kofi",
    "Greta",
    "Rafael",
    "Yusuf",
    "Hannah",
]
CITIES = [
    "Denver",
    "Boston",
    "Lisbon",
    "Austin",
    "Toronto",
    "Seattle",
    "Porto",
    "Chicago",
    "Valencia",
    "Portland",
    "Montreal",
    "Edinburgh",
    "Kyoto",
    "Dublin",
]
JOBS = [
    ("nurse", "St. Mary's hospital"),
    ("graphic designer", "a small studio downtown"),
    ("data analyst", "a logistics company"),
    ("teacher", "Lincoln Middle School"),
    ("barista", "a cafe called Bean There"),
    ("software tester", "a games company"),
    ("paralegal", "a law firm"),
    ("sous chef", "an Italian restaurant"),
    ("librarian", "the public library"),
    ("physiotherapist", "a sports clinic"),
]
PETS = [
    ("puppy", "Milo"),
    ("kitten", "Luna"),
    ("rabbit", "Biscuit"),
    ("parrot", "Kiwi"),
    ("corgi", "Waffles"),
    ("tabby cat", "Pepper"),
    ("hamster", "Nugget"),
]
HOBBIES = [
    "pottery",
    "rock climbing",
    "salsa dancing",
    "the violin",
    "Spanish",
    "watercolor",
    "running",
    "chess",
    "baking sourdough",
    "photography",
    "the guitar",
    "yoga",
]
BOOKS = [
    "The Night Circus",
    "Educated",
    "Project Hail Mary",
    "Circe",
    "The Overstory",
    "Pachinko",
    "Klara and the Sun",
    "Piranesi",
    "The Midnight Library",
]
PLACES = [
    "the lake",
    "the farmers market",
    "the art museum",
    "the beach",
    "the mountains",
    "the botanical garden",
    "a jazz bar",
    "the science center",
    "the county fair",
    "a pottery fair",
    "the old harbor",
    "a comedy club",
]
EVENT_DETAILS = [
    "we rented a canoe and paddled until sunset",
    "I bought a hand-painted bowl from a local artist",
    "the kids loved the dinosaur exhibit",
    "we watched the fireworks from the pier",
    "I finally tried the famous lemon tart",
    "we hiked to the waterfall and had a picnic",
    "a street band played old soul songs all afternoon",
    "I won a stuffed giraffe at the ring toss",
    "we took a sunrise photo walk along the cliffs",
    "my friend convinced me to try stand-up for two minutes",
    "we found a tiny bookshop selling first editions",
    "we got caught in the rain and laughed the whole way back",
]

# attribute -> (predicate, statement templates, distractor templates, question templates)
ATTRIBUTES: dict[str, dict[str, Any]] = {
    "city": {
        "predicate": "lives in",
        "values": CITIES,
        "say": [
            "I finally moved into my new place in {v}!",
            "We just got settled in {v}, the apartment is tiny but cozy.",
            "Big change: I packed everything up and moved to {v} last weekend.",
            "Living in {v} now, and I already love the neighborhood.",
        ],
        "distract": [
            "My cousin lives in {v} and keeps asking me to visit.",
            "I'd love to spend a summer in {v} someday.",
            "Have you ever been to {v}? I hear the food is great.",
            "A coworker just got back from a trip to {v}.",
        ],
        "current": "Where does {s} live now?",
        "as_of": "Where did {s} live in {month}?",
        "history": "Which cities has {s} lived in?",
        "first": "Which city did {s} first mention living in?",
    },
    "job": {
        "predicate": "works as",
        "values": [f"{j} at {c}" for j, c in JOBS],
        "say": [
            "I started a new job as a {v} this week.",
            "Big news: I'm now working as a {v}!",
            "I accepted the offer, so I'm a {v} from Monday.",
            "First week as a {v} done, exhausting but fun.",
        ],
        "distract": [
            "My sister is thinking about becoming a {v}.",
            "I read an article about what it's like to be a {v}.",
            "A friend of mine interviewed for a {v} position.",
        ],
        "current": "What is {s}'s job now?",
        "as_of": "What was {s}'s job in {month}?",
        "history": "What jobs has {s} had?",
        "first": "What was the first job {s} mentioned having?",
    },
    "pet": {
        "predicate": "has pet",
        "values": [f"{a} named {n}" for a, n in PETS],
        "say": [
            "We adopted a {v} from the shelter!",
            "Say hi to our new family member, a {v}.",
            "I brought home a {v} yesterday, it's so tiny.",
        ],
        "distract": [
            "My neighbor has a {v} that barks at everyone.",
            "I saw the cutest {v} at the park today.",
        ],
        "current": "What pet does {s} have now?",
        "as_of": "What pet did {s} have in {month}?",
        "history": "Which pets has {s} had?",
        "first": "What was {s}'s first pet?",
    },
    "hobby": {
        "predicate": "is learning",
        "values": HOBBIES,
        "say": [
            "I signed up for {v} classes on Tuesday evenings.",
            "My new obsession is {v}, I practice every day.",
            "I've started learning {v} and I'm terrible but happy.",
        ],
        "distract": [
            "My brother tried {v} once and gave up after a week.",
            "There's a {v} group that meets near my office.",
        ],
        "current": "What is {s} learning these days?",
        "as_of": "What was {s} learning in {month}?",
        "history": "What hobbies has {s} picked up?",
        "first": "What was the first hobby {s} took up?",
    },
    "book": {
        "predicate": "is reading",
        "values": BOOKS,
        "say": [
            "I'm halfway through {v} and can't put it down.",
            "Just started reading {v} on my commute.",
            "My book club picked {v}, so that's what I'm reading now.",
        ],
        "distract": [
            "Someone at work recommended {v} to me.",
            "I saw {v} in a shop window and almost bought it.",
        ],
        "current": "What book is {s} reading now?",
        "as_of": "What book was {s} reading in {month}?",
        "history": "Which books has {s} read?",
        "first": "What was the first book {s} mentioned reading?",
    },
}

FILLER = [
    "How was your weekend?",
    "Pretty quiet, I mostly caught up on sleep.",
    "Haha, I know that feeling.",
    "Work has been a bit crazy lately.",
    "I tried a new recipe last night, it was a disaster.",
    "That sounds like so much fun!",
    "The weather has been so gloomy this week.",
    "Did you watch the game on Sunday?",
    "I'm so proud of you, honestly.",
    "We should grab coffee sometime soon.",
    "My back has been killing me since the move.",
    "I've been trying to drink more water.",
    "The kids have a school play next month.",
    "I binge-watched a whole season this weekend.",
    "Thanks, that means a lot to me.",
    "Totally, I feel the same way.",
    "I can't believe it's already {month}.",
    "My phone screen cracked again, ugh.",
    "We're thinking about repainting the living room.",
    "Traffic this morning was unreal.",
    "I finally cleaned out my closet.",
    "Do you have any plans for the holidays?",
    "I've been listening to a great podcast about history.",
    "That's hilarious!",
    "I need a vacation so badly.",
    "My mom called and we talked for two hours.",
    "I went for a long walk to clear my head.",
    "Yeah, it's been a rough couple of weeks.",
    "Oh wow, tell me more!",
    "I made pancakes for everyone this morning.",
    "The new cafe on the corner has amazing croissants.",
    "I'm trying to read more this year.",
    "Our internet was down all day yesterday.",
    "I'm really looking forward to the weekend.",
    "What have you been up to?",
    "Not much, just the usual routine.",
    "That's such a good idea.",
    "I keep forgetting to call the dentist.",
    "We had friends over for dinner on Friday.",
    "I spilled coffee all over my notes today.",
    "Honestly, I'm just glad the week is over.",
    "How's your family doing?",
    "Everyone is doing well, thanks for asking.",
    "I started journaling again.",
    "I've been feeling a lot more energetic lately.",
    "Ha, classic.",
    "I'm thinking about taking a short trip next month.",
    "Fingers crossed it works out!",
]
AFTERTHOUGHTS = [
    "Anyway, enough about that.",
    "Not sure why I'm telling you this.",
    "It's the little things, right?",
    "I'll tell you more next time.",
    "Life has been a lot lately.",
    "Remind me to show you pictures.",
    "Maybe I'm overthinking it.",
    "We'll see how it goes.",
    "I laughed way too hard at that.",
    "It reminded me of our road trip.",
]
REPLIES = [
    "That's amazing, congrats!",
    "No way, that's huge!",
    "Wow, how do you like it so far?",
    "I'm so happy for you!",
    "That sounds wonderful.",
    "Oh, I didn't see that coming!",
    "How exciting, tell me everything.",
]


def generate_conversation(
    *,
    sessions: int = 24,
    turns_per_session: tuple[int, int] = (18, 30),
    seed: int = 0,
    start: datetime = datetime(2023, 1, 9, tzinfo=UTC),
    changes: tuple[int, int] = (2, 4),
    events: int = 10,
    distractors: float = 0.12,
) -> Conversation:
    """A conversation of `sessions` dated sessions between two people. Each person has the
    attributes of :data:`ATTRIBUTES`, each changing `changes` times (stated in a turn of a
    session); `events` one-off events are told; `distractors` is the share of turns that
    mention an attribute's words without stating a fact about the speaker."""
    rng = random.Random(seed)
    first, second = rng.sample(NAMES, 2)
    speakers = (first, second)
    when = start
    dates = []
    for _ in range(sessions):
        when = when + timedelta(days=rng.randint(4, 26), hours=rng.randint(-3, 3))
        dates.append(when.replace(hour=rng.randint(8, 21), minute=rng.choice([0, 15, 30, 45])))
    # which session states which change
    plan: dict[int, list[tuple[str, str, str]]] = {i: [] for i in range(sessions)}
    for s in speakers:
        for attr, spec in ATTRIBUTES.items():
            n = rng.randint(*changes)
            values = rng.sample(spec["values"], n)
            where = sorted(rng.sample(range(sessions), n))
            for session, value in zip(where, values, strict=True):
                plan[session].append((s, attr, value))
    event_plan: dict[int, list[tuple[str, str, str]]] = {i: [] for i in range(sessions)}
    places = rng.sample(PLACES, min(events, len(PLACES)))
    details = rng.sample(EVENT_DETAILS, len(places))
    for place, detail in zip(places, details, strict=True):
        event_plan[rng.randrange(sessions)].append((rng.choice(speakers), place, detail))

    out_sessions: list[tuple[datetime, list[Turn]]] = []
    facts: list[TrueFact] = []
    event_turns: list[tuple[str, str, str, Turn]] = []
    for i, date in enumerate(dates):
        n_turns = rng.randint(*turns_per_session)
        placed: list[tuple[str, Any]] = [("filler", None)] * n_turns
        for item in event_plan[i]:
            placed.insert(rng.randrange(len(placed) + 1), ("event", item))
        for item in plan[i]:
            placed.insert(rng.randrange(len(placed) + 1), ("fact", item))
        turns: list[Turn] = []
        speaker = rng.randrange(2)
        for j, (kind, item) in enumerate(placed):
            t = date + timedelta(minutes=j)
            tid = f"D{i + 1}:{len(turns) + 1}"
            if kind == "fact":
                s, attr, value = item
                text = rng.choice(ATTRIBUTES[attr]["say"]).format(v=value)
                turns.append(Turn(tid, i + 1, s, text, t))
                facts.append(TrueFact(s, ATTRIBUTES[attr]["predicate"], value, t, tid))
                other = speakers[1 - speakers.index(s)]
                turns.append(
                    Turn(
                        f"D{i + 1}:{len(turns) + 1}",
                        i + 1,
                        other,
                        rng.choice(REPLIES),
                        t + timedelta(seconds=30),
                    )
                )
                continue
            if kind == "event":
                s, place, detail = item
                text = f"We went to {place} on Saturday, {detail}."
                turn = Turn(tid, i + 1, s, text, t)
                turns.append(turn)
                event_turns.append((s, place, detail, turn))
                continue
            who = speakers[speaker]
            speaker = 1 - speaker if rng.random() < 0.85 else speaker
            if rng.random() < distractors:
                attr = rng.choice(list(ATTRIBUTES))
                spec = ATTRIBUTES[attr]
                text = rng.choice(spec["distract"]).format(v=rng.choice(spec["values"]))
            else:
                text = rng.choice(FILLER).format(month=f"{date:%B}")
                if rng.random() < 0.35:
                    text += " " + rng.choice(AFTERTHOUGHTS)
            turns.append(Turn(tid, i + 1, who, text, t))
        out_sessions.append((date, turns))

    questions = _questions(rng, speakers, facts, event_turns, dates)
    return Conversation(speakers, out_sessions, questions, facts, f"generated-{seed}")


def _questions(
    rng: random.Random,
    speakers: Sequence[str],
    facts: list[TrueFact],
    events: list[tuple[str, str, str, Turn]],
    dates: list[datetime],
) -> list[Question]:
    out: list[Question] = []
    for s in speakers:
        for spec in ATTRIBUTES.values():
            mine = sorted(
                (f for f in facts if f.subject == s and f.predicate == spec["predicate"]),
                key=lambda f: f.valid_at,
            )
            if not mine:
                continue
            out.append(
                Question(spec["current"].format(s=s), mine[-1].object, (mine[-1].turn,), "current")
            )
            out.append(
                Question(spec["first"].format(s=s), mine[0].object, (mine[0].turn,), "first")
            )
            out.append(
                Question(
                    spec["history"].format(s=s),
                    ", ".join(f.object for f in mine),
                    tuple(f.turn for f in mine),
                    "history",
                )
            )
            # a month when the first value held and a later one did (if any)
            for f, nxt in zip(mine, [*mine[1:], None], strict=True):
                end = nxt.valid_at if nxt is not None else dates[-1] + timedelta(days=20)
                months = _months_within(f.valid_at, end)
                if months:
                    month = rng.choice(months)
                    out.append(
                        Question(
                            spec["as_of"].format(s=s, month=f"{month:%B %Y}"),
                            f.object,
                            (f.turn,),
                            "as_of",
                            month,
                        )
                    )
    for s, place, detail, turn in events:
        out.append(Question(f"What did {s} do at {place}?", detail, (turn.id,), "event"))
        out.append(
            Question(f"When did {s} go to {place}?", f"{turn.time:%d %B %Y}", (turn.id,), "when")
        )
    return out


def _months_within(start: datetime, end: datetime) -> list[datetime]:
    """First days of the months wholly inside [start, end)."""
    out: list[datetime] = []
    m = datetime(start.year + (start.month == 12), start.month % 12 + 1, 1, tzinfo=UTC)
    while True:
        following = datetime(m.year + (m.month == 12), m.month % 12 + 1, 1, tzinfo=UTC)
        if following > end:
            return out
        out.append(m)
        m = following
