"""Turn `runs/experiments/*` into the tables and figures of `docs/RESULTS.md`.

    python -m protein_performer.experiments.collect [--runs-dir runs/experiments] [--out docs]

`RESULTS.md` is hand-written prose around generated blocks: everything between
`<!-- auto:KEY -->` and `<!-- /auto:KEY -->` is replaced on every collect, the rest is kept.
A missing file is created with every block, so a fresh checkout can regenerate it.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping
from pathlib import Path

from protein_performer import command_line
from protein_performer.experiments import plan
from protein_performer.experiments.run_records import RunRecord, load_runs
from protein_performer.experiments.tables import (
    long_context_markdown,
    metrics_markdown,
    ordering_markdown,
    runs_markdown,
    table2_markdown,
)
from protein_performer.markdown_blocks import update_file
from protein_performer.paths import SHIPPED_CHECKPOINT
from protein_performer.plots.experiments import Curve, Panel, plot_panels

FIGURES = "figures"
# `protein-performer analyze --checkpoint checkpoints/protein_performer_default.ckpt` writes here.
ANALYSIS = Path("reports/analyze") / SHIPPED_CHECKPOINT.stem / "metrics.json"


def _curve(record: RunRecord, x: str, label: str | None = None, dashed: bool = False) -> Curve:
    points = [p for p in record.curve if getattr(p, x) is not None]
    scale = {"tokens": 1e-6, "seconds": 1 / 60, "steps": 1}[x]
    return Curve(
        label or record.name,
        tuple(getattr(p, x) * scale for p in points),
        tuple(p.accuracy for p in points),
        dashed,
    )


def _baseline(runs: Mapping[str, RunRecord], names: list[str]) -> float | None:
    """Unigram accuracy on the valid positions of the first of `names` that has one (the
    same positions for every run of a group: same data, masking seed and evaluation set)."""
    for name in names:
        split = runs[name].split("valid") if name in runs else None
        if split and split.get("baseline_accuracy") is not None:
            return split["baseline_accuracy"]
    return None


def _label(name: str) -> str:
    return next((e.label for e in plan.ALL if e.name == name), name)


def write_figures(runs: Mapping[str, RunRecord], figures: Path) -> list[Path]:
    """The learning-curve figures whose runs exist; returns the files written."""
    written = []
    groups = {
        "MLM (bidirectional)": [e.name for e in plan.TABLE2 if "_mlm_" in e.name],
        "causal (unidirectional)": [e.name for e in plan.TABLE2 if "_causal_" in e.name],
    }
    for x, xlabel, file in (
        ("tokens", "training tokens (M)", "table2_accuracy_vs_tokens.png"),
        ("seconds", "wall-clock (min)", "table2_accuracy_vs_time.png"),
    ):
        panels = [
            Panel(
                title,
                tuple(_curve(runs[n], x, _label(n)) for n in names if n in runs),
                _baseline(runs, names),
            )
            for title, names in groups.items()
        ]
        if any(p.curves for p in panels):
            written.append(plot_panels(panels, xlabel, figures / file))
    lc = [e.name for e in plan.LONG_CONTEXT if e.name in runs]
    if lc:
        panel = Panel(
            "concatenated proteins, L = 8192",
            tuple(_curve(runs[n], "seconds", _label(n)) for n in lc),
            _baseline(runs, lc),
        )
        written.append(plot_panels([panel], "wall-clock (min)", figures / "long_context.png"))
    bc = plan.BACKCOMPAT[0].name
    if bc in runs:
        curves = [_curve(runs[bc], "steps", "exact weights → Performer-ReLU (fine-tune)")]
        for name, label, dashed in (
            ("t2_mlm_exact", "Transformer's own curve", True),
            ("t2_mlm_favor_relu", "Performer-ReLU from scratch", True),
        ):
            if name in runs:
                curves.append(_curve(runs[name], "steps", label, dashed))
        panel = Panel("backward compatibility (paper §4.3)", tuple(curves), _baseline(runs, [bc]))
        written.append(plot_panels([panel], "optimizer steps", figures / "backcompat.png"))
    return written


def backcompat_markdown(runs: Mapping[str, RunRecord]) -> str:
    bc = runs.get(plan.BACKCOMPAT[0].name)
    if bc is None:
        return "_not run yet_"
    lines = ["| model | steps | valid accuracy (%) | valid perplexity |", "|---|---|---|---|"]
    source = runs.get("t2_mlm_exact")
    if source and source.curve:
        best = max(source.curve, key=lambda p: p.accuracy)
        lines.append(
            f"| Transformer (exact), source of the weights, best validation | "
            f"{best.steps} | {100 * best.accuracy:.2f} | {best.perplexity:.2f} |"
        )
    for p in bc.curve:
        what = (
            "Performer-ReLU with the exact weights, no fine-tuning"
            if p.steps == 0
            else ("Performer-ReLU with the exact weights, fine-tuned")
        )
        lines.append(f"| {what} | {p.steps} | {100 * p.accuracy:.2f} | {p.perplexity:.2f} |")
    return "\n".join(lines)


def analysis_markdown(path: Path) -> str:
    """BLOSUM62 correlations and contact precision of `make analyze` on the shipped model."""
    if not path.is_file():
        return f"_no analysis yet ({path})_"
    import json

    from protein_performer.analysis.report import CONTACT_SETS, contact_table

    metrics = json.loads(path.read_text())

    def r(key: str) -> str:
        value = metrics.get(key)
        return "n/a" if value is None else f"{value:.3f}"

    lines = [
        f"Checkpoint `{metrics.get('checkpoint')}`, "
        f"analysed in {metrics.get('seconds', 0):.0f} s.",
        "",
        "| BLOSUM62 vs model | Pearson r | Spearman rho |",
        "|---|---|---|",
        f"| attention (Vig et al. 2021) | {r('blosum62_pearson_attention')} "
        f"| {r('blosum62_spearman_attention')} |",
        f"| embedding cosine | {r('blosum62_pearson_embedding')} "
        f"| {r('blosum62_spearman_embedding')} |",
    ]
    for key, title in CONTACT_SETS.items():
        if key in metrics.get("contacts", {}):
            lines += ["", f"**{title}**", "", *contact_table(metrics["contacts"][key])]
    return "\n".join(lines)


def blocks(runs: Mapping[str, RunRecord], out: Path) -> dict[str, str]:
    """Generated markdown by block key."""
    figures = write_figures(runs, out / FIGURES)
    names = [e.name for e in plan.ALL]
    shipped = runs.get(plan.SHIPPED[0].name)
    return {
        "table2": table2_markdown(runs),
        "ordering": ordering_markdown(runs),
        "long_context": long_context_markdown(runs, [e.name for e in plan.LONG_CONTEXT]),
        "backcompat": backcompat_markdown(runs),
        "shipped": metrics_markdown(shipped) if shipped and shipped.metrics else "_not run yet_",
        "analysis": analysis_markdown(ANALYSIS),
        "runs": runs_markdown(runs, names),
        "figures": "\n".join(f"![{p.stem}]({FIGURES}/{p.name})" for p in figures),
    }


def write_report(runs_dir: Path, out: Path, cache_dir: Path | None = None) -> Path:
    runs = load_runs(runs_dir, cache_dir)
    path = out / "RESULTS.md"
    return update_file(path, blocks(runs, out), title="Results")


PROG = "python -m protein_performer.experiments.collect"


def main(argv: list[str] | None = None) -> int:
    parser = command_line.ArgumentParser(prog=PROG, description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs-dir", type=Path, default=Path("runs/experiments"))
    parser.add_argument("--out", type=Path, default=Path("docs"))
    args = parser.parse_args(argv)
    return command_line.run(PROG, lambda: _collect(args))


def _collect(args: argparse.Namespace) -> int:
    print(f"wrote {write_report(args.runs_dir, args.out)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
