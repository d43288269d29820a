"""The evaluation commands: `ctxengine haystack`, `ctxengine eval`, `ctxengine bench`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from ctxengine.cli import bench as bench_cli
from ctxengine.cli import main
from eval_support import counter

CL100K = counter("cl100k_base")
O200K = counter("o200k_base")


def run(*args: str) -> object:
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def test_haystack_writes_exact_jsonl(tmp_path: Path) -> None:
    filler = tmp_path / "docs"
    filler.mkdir()
    (filler / "a.md").write_text("Tides rise twice a day. The moon pulls the sea.\n\n" * 40)
    out = tmp_path / "niah.jsonl"
    result = run(
        "haystack", "--task", "niah", "--length", "3000,5k", "--tokenizer", "o200k_base",
        "--filler", str(filler), "--depth", "0,50%", "--seed", "4", "-o", str(out),
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["length"] for r in records] == [3000, 3000, 5000, 5000]
    for r in records:
        assert O200K.count(r["context"]) == r["length"]
        (span,) = r["gold_spans"]
        assert r["context"][span["start"] : span["end"]] == span["text"]
        assert r["outputs"][0] in span["text"]
        assert r["tokenizer"] == "o200k_base" and "Tides rise" in r["context"]
    assert [r["gold_spans"][0]["depth"] for r in records] == [0.0, 0.5, 0.0, 0.5]
    assert not list(tmp_path.glob("*.part"))


def test_haystack_options_and_stdout() -> None:
    result = run("haystack", "-t", "thread", "-n", "2000", "-O", "hops=3", "--needle-depths",
                 "0.9,0.5,0.1", "-o", "-")  # fmt: skip
    assert result.exit_code == 0
    record = json.loads(result.stdout.splitlines()[0])
    links = [s for s in record["gold_spans"] if s["kind"] == "link"]
    assert record["meta"]["hops"] == 3 and len(links) == 3
    start_key = record["meta"]["start_keys"][0]
    first = next(s for s in links if s["text"].startswith(f"The key {start_key} "))
    assert first["depth"] == 0.9  # depths are given per link, in thread order
    assert [s["depth"] for s in links] == [0.1, 0.5, 0.9]  # spans are in text order
    assert record["meta"]["distractors"] == 2  # one per 1,000 tokens by default
    assert CL100K.count(record["context"]) == 2000
    listing = run("haystack", "--list-tasks")
    assert "niah_multikey_3" in listing.output and "bios" in listing.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["haystack", "-t", "nope", "-n", "100", "-o", "-"], "unknown task 'nope'"),
        (["haystack", "-n", "ten", "-o", "-"], "not a length"),
        (["haystack", "-n", "100", "--depth", "2", "-o", "-"], "between 0 and 1"),
        (["haystack", "-n", "100", "-O", "hops", "-o", "-"], "KEY=VALUE"),
        (["haystack", "-n", "100", "--filler", "/no/such/dir", "-o", "-"], "filler not found"),
        (["haystack", "-n", "100", "--tokenizer", "nope_base", "-o", "-"], "nope_base"),
        (["haystack", "-t", "niah_multiquery", "-n", "30", "-o", "-"], "ask for at least"),
        (["eval", "-p", "magic"], "unknown pipeline 'magic'"),
        (["eval", "-t", "nope"], "unknown task 'nope'"),
    ],
)
def test_user_errors_are_one_line_and_exit_1(args: list[str], message: str) -> None:
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 1, result.output
    lines = [line for line in result.stderr.splitlines() if line.startswith("ctxengine: error")]
    assert len(lines) == 1 and message in lines[0]


def test_failed_haystack_leaves_no_file(tmp_path: Path) -> None:
    out = tmp_path / "x.jsonl"
    result = CliRunner().invoke(
        main, ["haystack", "-t", "niah_multiquery", "-n", "30", "-o", str(out)]
    )
    assert result.exit_code == 1
    assert not out.exists() and not list(tmp_path.iterdir())


def test_eval_prints_the_table_and_draws_the_heatmap(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    png, js = tmp_path / "h.png", tmp_path / "r.json"
    result = run("eval", "-p", "full", "-t", "niah_single,vt", "-n", "1k,2k", "-d", "0,1",
                 "-b", "500", "--heatmap", str(png), "--json", str(js))  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "niah_single · full · budget 500" in result.stdout
    assert "| 2K | 1.000 | 1.000 | 1.000 | 2,000 |" in result.stdout
    assert png.read_bytes()[:4] == b"\x89PNG"
    data = json.loads(js.read_text())
    assert len(data["rows"]) == 8 and all(r["recall"] == 1.0 for r in data["rows"])


def test_eval_on_a_dataset_file(tmp_path: Path) -> None:
    path = tmp_path / "lb.jsonl"
    path.write_text(
        json.dumps({"input": "Who?", "context": "Ada did it.", "answers": ["Ada"]}) + "\n"
    )
    result = run("eval", "--dataset", str(path), "-p", "full", "-b", "100")
    assert result.exit_code == 0, result.output
    assert "| longbench/ | full | 100 | 1 |" in result.stdout


def test_bench_finds_the_checkout_runner(monkeypatch: pytest.MonkeyPatch) -> None:
    runner = bench_cli.find_bench_runner()
    assert runner is not None and runner.name == "run.py" and runner.parent.name == "bench"
    listing = run("bench", "--list")
    assert "topk" in listing.output.split()
    monkeypatch.setattr(bench_cli, "find_bench_runner", lambda start=None: None)
    result = CliRunner().invoke(main, ["bench", "--quick"])
    assert result.exit_code == 1
    assert "source checkout" in result.stderr and result.stderr.count("\n") == 1


def test_eval_on_haystacks_made_before(tmp_path: Path) -> None:
    out = tmp_path / "h.jsonl"
    made = run("haystack", "-t", "niah_multikey", "-n", "1500,3k", "--depth", "0,1", "-o", str(out))
    assert made.exit_code == 0
    result = run("eval", "--haystacks", str(out), "-p", "full", "-b", "1k")
    assert result.exit_code == 0, result.output
    assert "niah_multikey · full · budget 1,000" in result.stdout
    assert "| 3K | 1.000 | 1.000 | 1.000 | 3,000 |" in result.stdout


def test_every_cpp_benchmark_is_documented() -> None:
    root = Path(__file__).resolve().parent.parent
    readme = (root / "README.md").read_text()
    page = (root / "docs" / "evaluation.md").read_text()
    for source in sorted((root / "csrc" / "bench").glob("*.cpp")):
        assert f"`{source.stem}`" in readme, f"{source.name} is not described in the README"
        assert f"| `{source.stem}` |" in page, f"{source.name} is not in docs/evaluation.md"
        head = source.read_text().splitlines()[0]
        assert head.startswith(f"// {source.stem}:"), f"{source.name} needs a header comment"


def test_unknown_task_option_is_a_user_error() -> None:
    result = CliRunner().invoke(
        main, ["haystack", "-t", "thread", "-n", "900", "-O", "hopz=3", "-o", "-"]
    )
    assert result.exit_code == 1
    assert "task thread has no option 'hopz'" in result.stderr
