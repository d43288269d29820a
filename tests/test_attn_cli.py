"""`ctxengine attn coverage`: the table and JSON equal the API's numbers; errors are one line."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from ctxengine.attn import coverage, page_meta, quest_scores, select_pages, synthetic
from ctxengine.attn.study import coverage_table
from ctxengine.cli import main


@pytest.fixture(scope="module")
def qk_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, synthetic.Planted]:
    p = synthetic.planted(2048, nq=8, heads=4, kv_heads=2, dim=64, needles=2)
    root = tmp_path_factory.mktemp("attn")
    np.save(root / "Q.npy", p.q)
    np.save(root / "K.npy", p.k)
    return root / "Q.npy", root / "K.npy", p


def test_coverage_json_equals_the_api(qk_files: tuple[Path, Path, synthetic.Planted]) -> None:
    qp, kp, p = qk_files
    args = ["attn", "coverage", str(qp), str(kp), "--method", "quest", "--budget", "1/16"]
    out = CliRunner().invoke(main, [*args, "--json"])
    assert out.exit_code == 0, out.output
    payload = json.loads(out.output)
    assert payload["q_shape"] == [4, 8, 64] and payload["k_shape"] == [2, 2048, 64]
    [row] = payload["rows"]
    # Quest at 1/16 of 2048 keys: 128 keys, 8 pages of 16.
    sel = select_pages(quest_scores(p.q, page_meta(p.k, 16)), 8, page_size=16, nk=2048)
    want = coverage(p.q, p.k, sel).astype(np.float64)
    assert row["method"] == "quest" and row["budget_keys"] == 128
    assert row["mean"] == pytest.approx(float(want.mean()))
    assert row["min"] == pytest.approx(float(want.min()))


def test_coverage_table_lists_every_method_and_budget(
    qk_files: tuple[Path, Path, synthetic.Planted],
) -> None:
    qp, kp, p = qk_files
    out = CliRunner().invoke(main, ["attn", "coverage", str(qp), str(kp), "--page-size", "8"])
    assert out.exit_code == 0, out.output
    lines = out.output.strip().splitlines()
    rows = coverage_table(p.q, p.k, page_size=8)
    assert len(lines) == 2 + len(rows) == 2 + 7 * 3
    for line, row in zip(lines[2:], rows, strict=True):
        cells = [c.strip() for c in line.strip("|").split("|")]
        assert cells[0] == row.method and cells[1] == row.budget
        assert float(cells[3]) == pytest.approx(row.mean, abs=6e-4)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["missing.npy", "K"], "no such file"),
        (["K", "Q"], "multiple of the KV heads"),
        (["Q", "K", "--budget", "3/2"], "in (0, 1]"),
        (["Q", "K", "--budget", "half"], "not a fraction"),
        (["bad", "K"], "not a NumPy .npy file"),
    ],
)
def test_errors_are_one_line(
    qk_files: tuple[Path, Path, synthetic.Planted], tmp_path: Path, args: list[str], message: str
) -> None:
    qp, kp, _ = qk_files
    (tmp_path / "bad").write_text("not an array")
    names = {"Q": str(qp), "K": str(kp), "bad": str(tmp_path / "bad")}
    out = CliRunner().invoke(main, ["attn", "coverage", *[names.get(a, a) for a in args]])
    assert out.exit_code == 1
    assert out.output.count("\n") == 1 and message in out.output


def test_attn_is_listed() -> None:
    out = CliRunner().invoke(main, ["--help"])
    assert "attn" in out.output
