"""Real text for oracle tests, from files every machine of this kind has.

- the Python standard library's sources (always present next to the interpreter);
- Python's CJK codec test texts (``test/cjkencodings/*-utf8.txt``: Chinese, Japanese, Korean);
- Debian's translated message catalogs (``/usr/share/locale/*/LC_MESSAGES/*.mo``: 100+
  languages, many scripts);
- the Python 3.11 docs as reStructuredText (``apt-get install python3.11-doc``) when installed.

Each loader is deterministic (sorted paths, fixed caps) and returns ``(name, text)`` pairs.
"""

from __future__ import annotations

import gettext
import sysconfig
from functools import cache
from pathlib import Path

DOCS_DIR = Path("/usr/share/doc/python3.11/html/_sources")
LOCALE_DIR = Path("/usr/share/locale")


def stdlib_dir() -> Path:
    return Path(sysconfig.get_paths()["stdlib"])


@cache
def stdlib_sources(max_files: int = 60, max_bytes: int = 4_000_000) -> list[tuple[str, str]]:
    """Python source files of the standard library (code: indentation, operators, docstrings)."""
    out, total = [], 0
    for path in sorted(stdlib_dir().glob("*.py"))[:max_files]:
        text = path.read_text(encoding="utf-8", errors="replace")
        out.append((path.name, text))
        total += len(text)
        if total > max_bytes:
            break
    return out


@cache
def cjk_texts() -> list[tuple[str, str]]:
    """Chinese, Japanese and Korean prose from CPython's codec tests."""
    folder = stdlib_dir() / "test" / "cjkencodings"
    return [(p.name, p.read_text(encoding="utf-8")) for p in sorted(folder.glob("*-utf8.txt"))]


@cache
def message_catalogs(max_languages: int = 120, per_language: int = 3) -> list[tuple[str, str]]:
    """Translated UI strings of Debian packages, one text per catalog, many languages."""
    out = []
    if not LOCALE_DIR.is_dir():
        return out
    for lang_dir in sorted(LOCALE_DIR.iterdir())[:max_languages]:
        for mo in sorted(lang_dir.glob("LC_MESSAGES/*.mo"))[:per_language]:
            try:
                with mo.open("rb") as f:
                    catalog = gettext.GNUTranslations(f)
            except (OSError, UnicodeDecodeError):
                continue
            messages = [m for m in catalog._catalog.values() if isinstance(m, str)]  # type: ignore[attr-defined]
            text = "\n".join(messages)
            if text.strip():
                out.append((f"{lang_dir.name}/{mo.name}", text))
    return out


@cache
def python_docs(max_files: int | None = None) -> list[tuple[str, str]]:
    """The Python 3.11 docs as text (empty when python3.11-doc is not installed)."""
    if not DOCS_DIR.is_dir():
        return []
    paths = sorted(DOCS_DIR.rglob("*.rst.txt"))
    if max_files is not None:
        paths = paths[:max_files]
    return [(str(p.relative_to(DOCS_DIR)), p.read_text(encoding="utf-8")) for p in paths]


@cache
def english_prose(max_files: int = 40) -> list[tuple[str, str]]:
    """English technical prose: the Python docs when installed, else stdlib sources."""
    docs = python_docs(max_files)
    return docs if docs else stdlib_sources(max_files=max_files)


def multilingual() -> list[tuple[str, str]]:
    """Everything above, mixed: the corpus for exactness tests."""
    return [*english_prose(20), *stdlib_sources(20), *cjk_texts(), *message_catalogs()]
