"""by="code": functions and classes stay whole wherever they fit, with Python's own parser (ast)
as the oracle on the standard library's sources, and with generated C-like code whose
functions are known by construction (braces inside strings, comments and char literals, Rust
lifetimes, Allman braces); languages named or guessed from file names."""

from __future__ import annotations

import ast

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import corpus
import ctxengine
from chunk_checks import check_chunks
from ctxengine import InvalidInputError, _core
from tiktoken_oracle import counter

CL100K = counter("cl100k_base")


def line_starts(text: str) -> list[int]:
    starts, pos = [0], 0
    for line in text.splitlines(keepends=True):
        pos += len(line)
        starts.append(pos)
    return starts


def python_definitions(source: str) -> list[tuple[int, int, str]]:
    """[start, end) str offsets of every function and class, decorators included, trimmed."""
    starts = line_starts(source)
    out = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            first = min([node.lineno] + [d.lineno for d in node.decorator_list])
            a = starts[first - 1]
            b = starts[node.end_lineno] if node.end_lineno < len(starts) else len(source)
            piece = source[a:b]
            a += len(piece) - len(piece.lstrip())
            b -= len(piece) - len(piece.rstrip())
            out.append((a, b, node.name))
    return out


def assert_whole_where_they_fit(
    text: str, chunks: ctxengine.Chunks, spans: list[tuple[int, int, str]], max_tokens: int
) -> int:
    edges = list(zip(chunks.starts.tolist(), chunks.ends.tolist(), strict=True))
    kept = 0
    for a, b, name in spans:
        if CL100K(text[a:b]) <= max_tokens:
            assert any(s <= a and b <= e for s, e in edges), f"{name} was split"
            kept += 1
    return kept


@pytest.mark.parametrize(("max_tokens", "overlap"), [(128, 0), (512, 0), (300, 60)])
def test_python_functions_stay_whole_where_they_fit(max_tokens: int, overlap: int) -> None:
    kept = 0
    for _name, source in corpus.stdlib_sources(40)[::3]:
        chunks = ctxengine.chunk(source, max_tokens, by="code", language="python", overlap=overlap)
        check_chunks(source, chunks, max_tokens, CL100K, overlap=overlap)
        kept += assert_whole_where_they_fit(source, chunks, python_definitions(source), max_tokens)
    assert kept > 100


@st.composite
def brace_program(draw: st.DrawFn) -> tuple[str, list[tuple[int, int, str]]]:
    """C-like source with the [start, end) offsets of each top-level function."""
    noise = st.sampled_from(
        [
            'printf("{ not a brace }");',
            "char c = '{';",
            "char d = '\\'';",
            "// a comment with { a brace",
            "/* a block comment }\n   spanning { lines */",
            "let r: &'a str = s; // a Rust lifetime",
            "x = f(a,\n      b);",
            "s = `template ${ {a: 1} }`;",
            "value.method()\n    .chain();",
        ]
    )
    statement = st.one_of(noise, st.sampled_from(["i++;", "return x * y;", "call(1, 2, 3);"]))

    def block(depth: int) -> st.SearchStrategy[str]:
        pad = "    " * depth
        body = st.lists(statement, min_size=1, max_size=6).map(
            lambda lines: "\n".join(pad + "    " + ln for ln in lines)
        )
        if depth >= 2:
            return body
        nested = st.tuples(body, block(depth + 1)).map(
            lambda t: t[0] + "\n" + pad + "    if (x) {\n" + t[1] + "\n" + pad + "    }"
        )
        return st.one_of(body, nested)

    text, spans = "#include <stdio.h>\n\n", []
    for i in range(draw(st.integers(1, 8))):
        allman = draw(st.booleans())
        head = f"int function_{i}(int x, int y)" + ("\n{\n" if allman else " {\n")
        func = head + draw(block(0)) + "\n}"
        if draw(st.booleans()):
            func = f"/* Function {i}. */\n" + func
        spans.append((len(text), len(text) + len(func), f"function_{i}"))
        text += func + ("\n\n" if draw(st.booleans()) else "\n")
    return text, spans


@settings(max_examples=60)
@given(program=brace_program(), max_tokens=st.integers(20, 200), overlap=st.integers(0, 15))
def test_braced_functions_stay_whole_where_they_fit(
    program: tuple[str, list[tuple[int, int, str]]], max_tokens: int, overlap: int
) -> None:
    text, spans = program
    for language in ("c", "rust", "javascript"):
        chunks = ctxengine.chunk(text, max_tokens, by="code", language=language, overlap=overlap)
        check_chunks(text, chunks, max_tokens, CL100K, overlap=overlap)
        assert_whole_where_they_fit(text, chunks, spans, max_tokens)


def test_python_levels_follow_depth() -> None:
    source = (
        "import os\n\n\nclass A:\n    x = 1\n\n    def f(self):\n        return (1,\n"
        "  2)\n\n    # about g\n    def g(self):\n        '''doc\nstring'''\n        pass\n"
    )
    positions, levels = _core.chunking.boundaries(source, "code", "python")
    at = dict(zip(positions.tolist(), levels.tolist(), strict=True))

    def level(line: str) -> int:
        return at[source.index(line)]

    assert level("class A") > level("    x = 1") > level("        return")
    assert level("    def f") > level("    x = 1")  # a blank line before it
    assert level("    # about g") == level("    def f")  # a comment goes with what follows
    assert level("  2)") == level("string'''") == 3  # inside brackets, inside a string


@pytest.mark.parametrize(
    ("name", "family"),
    [
        ("python", "python"),
        ("Python", "python"),
        ("c++", "braces"),
        ("rust", "braces"),
        ("typescript", "braces"),
        ("go", "braces"),
        ("yaml", "indent"),
        ("sql", "indent"),
    ],
)
def test_language_names(name: str, family: str) -> None:
    assert _core.chunking.code_family(name) == family


@pytest.mark.parametrize(
    ("path", "family"),
    [
        ("src/main.rs", "braces"),
        ("lib/module.py", "python"),
        ("kernel.cu", "braces"),
        ("C:\\code\\App.java", "braces"),
        ("config.yml", "indent"),
        ("Makefile", "indent"),
        ("notes", "indent"),
    ],
)
def test_languages_guessed_from_file_names(path: str, family: str) -> None:
    assert _core.chunking.code_family("", path) == family


def test_unknown_language_is_a_clear_error() -> None:
    with pytest.raises(InvalidInputError, match="unknown code language 'brainfuck'; use a name"):
        ctxengine.chunk("x", 10, by="code", language="brainfuck")
