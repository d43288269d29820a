"""Results of an evaluation grid: the recall table and the NIAH heatmap.

Every row is one haystack seen through one pipeline at one budget: its task, length, depth,
budget, recall, answer recall, tokens used and (with a model) the model's score. The table
averages rows per length (rows) and depth (columns); the heatmap draws the same grid the way
the NIAH pressure test made familiar: context length across, depth down, colour = recall.
"""

from __future__ import annotations

import json
import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ..errors import InvalidInputError, UnsupportedError

__all__ = ["Report", "Row"]


@dataclass
class Row:
    """One haystack, one pipeline, one budget."""

    pipeline: str
    task: str
    length: int
    depth: float | None
    budget: int | None
    recall: float | None
    answer_recall: float | None
    tokens: int | None
    found: int = 0
    facts: int = 0
    score: float | None = None  # the model's RULER-style score (0..1), with a model
    prediction: str | None = None
    index: int = 0
    token_offsets: list[int | None] = field(default_factory=list)


def _mean(values: Iterable[float | None]) -> float | None:
    vals = [v for v in values if v is not None and not math.isnan(v)]
    return sum(vals) / len(vals) if vals else None


def _fmt(v: float | None, digits: int = 3) -> str:
    return "-" if v is None else f"{v:.{digits}f}"


def _depth_label(d: float | None) -> str:
    return "random" if d is None else f"{100 * d:g}%"


def _length_label(n: int) -> str:
    if n >= 1_000_000 and n % 1_000_000 == 0:
        return f"{n // 1_000_000}M"
    if n >= 1000 and n % 1000 == 0:
        return f"{n // 1000}K"
    return str(n)


@dataclass
class Report:
    """Rows of an evaluation, with summaries as text, JSON and a heatmap."""

    rows: list[Row] = field(default_factory=list)

    def groups(self) -> dict[tuple[str, str, int | None], list[Row]]:
        """Rows per (pipeline, task, budget), in first-seen order."""
        out: dict[tuple[str, str, int | None], list[Row]] = {}
        for r in self.rows:
            out.setdefault((r.pipeline, r.task, r.budget), []).append(r)
        return out

    def summary(self) -> list[dict[str, Any]]:
        """Per (pipeline, task, budget, length): mean recall, answer recall, tokens, score."""
        cells: dict[tuple[str, str, int | None, int], list[Row]] = defaultdict(list)
        for r in self.rows:
            cells[(r.pipeline, r.task, r.budget, r.length)].append(r)
        return [
            {
                "pipeline": p,
                "task": t,
                "budget": b,
                "length": n,
                "haystacks": len(rows),
                "recall": _mean(r.recall for r in rows),
                "answer_recall": _mean(r.answer_recall for r in rows),
                "tokens": _mean(r.tokens for r in rows),
                "score": _mean(r.score for r in rows),
            }
            for (p, t, b, n), rows in cells.items()
        ]

    def table(self, value: str = "recall") -> str:
        """The grid as text: one block per (pipeline, task, budget), lengths down, depths
        across, the mean of `value` in each cell, then the row mean and the mean tokens used.

        `value` is ``"recall"``, ``"answer_recall"`` or ``"score"``.
        """
        if value not in ("recall", "answer_recall", "score"):
            raise InvalidInputError(f"value must be recall, answer_recall or score, not {value!r}")
        blocks = []
        for (pipeline, task, budget), rows in self.groups().items():
            depths = sorted({r.depth for r in rows}, key=lambda d: (d is None, d or 0.0))
            lengths = sorted({r.length for r in rows})
            head = f"{task} · {pipeline}" + (f" · budget {budget:,}" if budget else "")
            labels = [_depth_label(d) for d in depths]
            lines = [
                head,
                "| length | " + " | ".join(labels) + f" | mean {value} | tokens used |",
                "|---:|" + "---:|" * len(labels) + "---:|---:|",
            ]
            for n in lengths:
                at = [r for r in rows if r.length == n]
                cells = [_fmt(_mean(getattr(r, value) for r in at if r.depth == d)) for d in depths]
                mean = _fmt(_mean(getattr(r, value) for r in at))
                tokens = _mean(r.tokens for r in at)
                used = "-" if tokens is None else f"{tokens:,.0f}"
                lines.append(
                    f"| {_length_label(n)} | " + " | ".join(cells) + f" | {mean} | {used} |"
                )
            blocks.append("\n".join(lines))
        return "\n\n".join(blocks) + "\n"

    def overview(self) -> str:
        """One line per (task, pipeline, budget): examples and mean recall, answer recall,
        tokens used and score."""
        lines = [
            "| task | pipeline | budget | n | recall | answer recall | tokens used | score |",
            "|---|---|---:|---:|---:|---:|---:|---:|",
        ]
        for (pipeline, task, budget), rows in self.groups().items():
            tokens = _mean(r.tokens for r in rows)
            used = "-" if tokens is None else f"{tokens:,.0f}"
            lines.append(
                f"| {task} | {pipeline} | {'-' if budget is None else f'{budget:,}'} | "
                f"{len(rows)} | {_fmt(_mean(r.recall for r in rows))} | "
                f"{_fmt(_mean(r.answer_recall for r in rows))} | {used} | "
                f"{_fmt(_mean(r.score for r in rows))} |"
            )
        return "\n".join(lines) + "\n"

    def to_json(self) -> str:
        return json.dumps(
            {"rows": [asdict(r) for r in self.rows], "summary": self.summary()}, indent=1
        )

    def heatmap(
        self,
        path: str | Path,
        *,
        value: str = "recall",
        pipeline: str | None = None,
        task: str | None = None,
        budget: int | None = None,
        title: str | None = None,
    ) -> Path:
        """Draw the NIAH heatmap of one (pipeline, task, budget) group to a PNG.

        Needs matplotlib (``pip install 'ctxengine[plot]'``). With several groups, pick one with
        `pipeline`, `task` and `budget`, or each group gets its own panel (three per row).
        """
        try:
            import matplotlib

            matplotlib.use("Agg")
            import matplotlib.pyplot as plt
            from matplotlib.colors import LinearSegmentedColormap
        except ImportError as exc:
            raise UnsupportedError(
                "the heatmap needs matplotlib: pip install 'ctxengine[plot]'"
            ) from exc
        groups = {
            k: v
            for k, v in self.groups().items()
            if (pipeline is None or k[0] == pipeline)
            and (task is None or k[1] == task)
            and (budget is None or k[2] == budget)
        }
        if not groups:
            raise InvalidInputError("no results to draw (check pipeline, task and budget)")
        cmap = LinearSegmentedColormap.from_list("niah", ["#d7301f", "#fdcc8a", "#1a9850"])
        cols = min(3, len(groups))
        nrows = -(-len(groups) // cols)
        fig, axes = plt.subplots(
            nrows, cols, figsize=(6.5 * cols, 4.8 * nrows), squeeze=False, layout="constrained"
        )
        flat = list(axes.flat)
        for ax in flat[len(groups) :]:
            ax.set_visible(False)
        image = None
        for ax, ((p, t, b), rows) in zip(flat, groups.items(), strict=False):
            grid, lengths, depths = _grid(rows, value)
            image = ax.imshow(grid, cmap=cmap, vmin=0.0, vmax=1.0, aspect="auto")
            ax.set_xticks(range(len(lengths)), [_length_label(n) for n in lengths])
            ax.set_yticks(range(len(depths)), [_depth_label(d) for d in depths])
            ax.set_xlabel("context length (tokens)")
            ax.set_ylabel("depth")
            for i in range(len(depths)):
                for j in range(len(lengths)):
                    v = grid[i][j]
                    if not math.isnan(v):
                        ax.text(j, i, f"{v:.2f}", ha="center", va="center", fontsize=8)
            ax.set_title(title or f"{t} · {p}" + (f" · {b:,} tokens" if b else ""))
        if image is not None:
            fig.colorbar(image, ax=flat[: len(groups)], label=value.replace("_", " "))
        out = Path(path)
        fig.savefig(out, dpi=120)
        plt.close(fig)
        return out


def _grid(
    rows: Sequence[Row], value: str
) -> tuple[list[list[float]], list[int], list[float | None]]:
    lengths = sorted({r.length for r in rows})
    depths = sorted({r.depth for r in rows}, key=lambda d: (d is None, d or 0.0))
    grid = []
    for d in depths:
        line = []
        for n in lengths:
            m = _mean(getattr(r, value) for r in rows if r.length == n and r.depth == d)
            line.append(float("nan") if m is None else m)
        grid.append(line)
    return grid, lengths, depths
