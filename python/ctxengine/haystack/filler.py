"""Filler text for haystacks: the user's files or directories, or a built-in filler.

A :class:`Filler` is an endless stream of *units*: consecutive pieces of the source text (a
sentence or a line, with the whitespace that follows it) that concatenate back to the source.
Needles go between units, and the generator cuts the last unit it uses to land on the exact
token length. Files are read in sorted order and repeated when a haystack needs more text than
they hold.

Built-in fillers (written for ctxengine, free to redistribute):

- ``"noise"``: five plain sentences repeated, in the spirit of the passkey test's filler
  (RULER's ``noise`` haystack);
- ``"prose"`` (the default): seeded synthetic prose from templates and word lists, varied
  enough that retrieval has to work (RULER's ``essay`` haystack uses real essays; pass your own
  files or the Python docs for real text).
"""

from __future__ import annotations

import random
import re
import warnings
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

from ..errors import InvalidInputError, NotFoundError
from . import _words

__all__ = ["Filler", "load_filler", "split_units"]

# A unit ends after sentence punctuation (optionally closed by quotes or brackets) and the
# whitespace after it, or at a blank line; units keep their trailing whitespace. Single line
# breaks do not end a unit: wrapped prose keeps its sentences whole.
_UNIT_END = re.compile(r"[.!?][\"')\]]*\s+|[。！？]+\s*|\n[ \t]*\n\s*")
_MAX_UNIT_CHARS = 600


def split_units(text: str, *, max_chars: int = _MAX_UNIT_CHARS) -> list[str]:
    """Split `text` into units that concatenate back to it: sentences and lines.

    Units longer than `max_chars` (long lines, code) are split further after whitespace, or
    anywhere when a stretch has no whitespace at all.

    >>> split_units("One. Two!  Three\\nfour.\\n\\nFive")
    ['One. ', 'Two!  ', 'Three\\nfour.\\n\\n', 'Five']
    """
    units: list[str] = []
    start = 0
    for m in _UNIT_END.finditer(text):
        _append_unit(units, text[start : m.end()], max_chars)
        start = m.end()
    if start < len(text):
        _append_unit(units, text[start:], max_chars)
    return units


def _append_unit(units: list[str], unit: str, max_chars: int) -> None:
    while len(unit) > max_chars:
        cut = unit.rfind("\n", 0, max_chars) + 1  # prefer a line break, then a space
        if cut <= max_chars // 4:
            cut = unit.rfind(" ", 0, max_chars) + 1
        if cut <= max_chars // 4:
            cut = max_chars
        units.append(unit[:cut])
        unit = unit[cut:]
    if unit:
        units.append(unit)


class Filler:
    """An endless stream of filler units.

    `texts` are the source documents, used in order and repeated; `name` says where they came
    from. Build one with :func:`load_filler`, or directly from strings:

    >>> f = Filler(["Alpha beta. Gamma delta.\\n"], name="mine")
    >>> units = f.units()
    >>> [next(units) for _ in range(3)]
    ['Alpha beta. ', 'Gamma delta.\\n', '\\n\\nAlpha beta. ']
    """

    def __init__(self, texts: Sequence[str], *, name: str = "texts") -> None:
        if isinstance(texts, str):
            raise InvalidInputError("Filler takes a list of texts, not one string: Filler([text])")
        self.texts = list(texts)
        self.name = name
        self._generate: Callable[[], Iterator[str]] | None = None
        self._units: dict[int, list[str]] = {}  # text number -> its units (reused by haystacks)
        if not any(t.strip() for t in self.texts):
            raise InvalidInputError(f"filler {name!r} has no text (only whitespace or empty)")

    @classmethod
    def _generated(cls, name: str, generate: Callable[[], Iterator[str]]) -> Filler:
        filler = cls.__new__(cls)
        filler.texts, filler.name, filler._generate, filler._units = [], name, generate, {}
        return filler

    def __repr__(self) -> str:
        return f"Filler(name={self.name!r})"

    def units(self) -> Iterator[str]:
        """The units of the texts, documents separated by a blank line, repeated forever."""
        if self._generate is not None:
            return self._generate()
        return self._text_units()

    def _text_units(self) -> Iterator[str]:
        first = True
        while True:
            for i, text in enumerate(self.texts):
                if not text.strip():
                    continue
                if i not in self._units:
                    self._units[i] = split_units(text)
                parts = self._units[i]
                if not first:
                    yield "\n\n" + parts[0]
                    yield from parts[1:]
                else:
                    yield from parts
                first = False


def _noise_units() -> Iterator[str]:
    sentences = _words.NOISE_SENTENCES
    while True:
        for i, s in enumerate(sentences):
            yield s + ("\n" if i == len(sentences) - 1 else " ")


_VERBS = (
    "watched carried painted followed found mended sold counted hid admired described "
    "measured polished guarded remembered sketched traded borrowed gathered noticed"
).split()
_PREPS = "across beside under near behind toward beyond above along around".split()
_TIMES = "morning evening spring winter summer autumn night afternoon".split()
_PLACES = "attic cellar garden kitchen harbour library market orchard square workshop".split()


def _prose_sentence(rng: random.Random) -> str:
    a, a2 = rng.choice(_words.ADJECTIVES), rng.choice(_words.ADJECTIVES)
    n, n2 = rng.choice(_words.NOUNS), rng.choice(_words.NOUNS)
    v, p = rng.choice(_VERBS), rng.choice(_PREPS)
    name, city = rng.choice(_words.FIRST_NAMES), rng.choice(_words.CITIES)
    form = rng.randrange(8)
    if form == 0:
        return f"The {a} {n} {v} the {a2} {n2} {p} the {rng.choice(_PLACES)}."
    if form == 1:
        return f"Every {rng.choice(_TIMES)}, {name} {v} a {a} {n} in {city}."
    if form == 2:
        return f"Nobody could say why the {n} by the {n2} looked so {a}."
    if form == 3:
        return f"{name} kept a {a} {n} in the {rng.choice(_PLACES)} for {rng.randint(2, 40)} years."
    if form == 4:
        return f"In {city} the {n} was {a} and the {n2} was {a2}."
    if form == 5:
        return f"It was a {a} {rng.choice(_TIMES)} when the {n} {v} the {n2}."
    if form == 6:
        return f"Some say the {a} {n} still waits {p} the {a2} {n2}."
    return f"{name} wrote that the {n} of {city} was {a}, {a2} and very old."


def _prose_units(seed: int) -> Iterator[str]:
    rng = random.Random(f"prose:{seed}")
    while True:
        count = rng.randint(3, 7)
        for i in range(count):
            yield _prose_sentence(rng) + ("\n\n" if i == count - 1 else " ")


BUILTIN_FILLERS = ("prose", "noise")

FillerSpec = Filler | str | Path | Sequence[str | Path] | None


def load_filler(spec: FillerSpec = None, *, seed: int = 0) -> Filler:
    """A :class:`Filler` from a spec.

    - ``None`` or ``"prose"``: the built-in synthetic prose (seeded); ``"noise"``: the built-in
      repeated sentences;
    - a path to a file or a directory (walked recursively; hidden entries skipped), or a list of
      paths: their text, in sorted path order. Files in a directory that are not UTF-8 text are
      skipped with a warning; a file named explicitly must be UTF-8 text.
    - a :class:`Filler`: returned as is.

    >>> load_filler("noise").name
    'noise'
    """
    if isinstance(spec, Filler):
        return spec
    if spec is None:
        spec = "prose"
    if spec == "noise":
        return Filler._generated("noise", _noise_units)
    if spec == "prose":
        return Filler._generated("prose", lambda: _prose_units(seed))
    paths = [spec] if isinstance(spec, (str, Path)) else list(spec)
    if not paths:
        raise InvalidInputError("filler: no paths given")
    texts: list[str] = []
    skipped: list[str] = []
    for p in paths:
        path = Path(p)
        if path.is_dir():
            for f in sorted(q for q in path.rglob("*") if q.is_file() and not _hidden(q, path)):
                text = _read_text(f)
                if text is None:
                    skipped.append(str(f))
                elif text.strip():
                    texts.append(text)
        elif path.is_file():
            text = _read_text(path)
            if text is None:
                raise InvalidInputError(f"filler file is not UTF-8 text: {path}")
            texts.append(text)
        else:
            raise NotFoundError(
                f"filler not found: {p} (give a file, a directory, or one of "
                f"{', '.join(BUILTIN_FILLERS)})"
            )
    if skipped:
        warnings.warn(
            f"filler: skipped {len(skipped)} file(s) that are not UTF-8 text, e.g. {skipped[0]}",
            stacklevel=2,
        )
    name = str(paths[0]) if len(paths) == 1 else f"{paths[0]} (+{len(paths) - 1} more)"
    if not any(t.strip() for t in texts):
        raise InvalidInputError(f"filler {name} holds no text")
    return Filler(texts, name=name)


def _hidden(path: Path, root: Path) -> bool:
    return any(part.startswith(".") for part in path.relative_to(root).parts)


def _read_text(path: Path) -> str | None:
    data = path.read_bytes()
    if b"\0" in data:
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None
