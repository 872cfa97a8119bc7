"""Markdown tables of docs/RESULTS.md, in the paper's layout, with the paper's numbers beside
ours. Pure functions of `RunRecord`s: tested on synthetic run directories.

Paper numbers: Choromanski et al. 2021, Table 2 (36 layers, TrEMBL, L = 1024), in percent.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from protein_performer.experiments.run_records import RunRecord

# (setting, model) -> (paper accuracy %, paper perplexity or None)
PAPER_TABLE2: dict[tuple[str, str], tuple[float, float | None]] = {
    ("bidirectional, test", "Performer-ReLU"): (36.09, 8.36),
    ("bidirectional, test", "Performer-Softmax"): (33.00, 9.24),
    ("bidirectional, test", "Transformer"): (33.32, 9.22),
    ("bidirectional, OOD", "Transformer"): (25.07, None),
    ("bidirectional, OOD", "Performer-ReLU"): (24.10, None),
    ("unidirectional, test", "Performer-ReLU"): (31.58, None),
    ("unidirectional, test", "Transformer"): (30.80, None),
    ("unigram baseline, test", "-"): (9.92, 17.80),
}
# Our run for each (objective, model) of the table.
TABLE2_RUNS: dict[tuple[str, str], str] = {
    ("bidirectional", "Performer-ReLU"): "t2_mlm_favor_relu",
    ("bidirectional", "Performer-Softmax"): "t2_mlm_favor_softmax",
    ("bidirectional", "Transformer"): "t2_mlm_exact",
    ("unidirectional", "Performer-ReLU"): "t2_causal_favor_relu",
    ("unidirectional", "Transformer"): "t2_causal_exact",
}
SPLIT_OF = {"test": "test", "OOD": "ood"}


def standard_error(accuracy: float, n: int) -> float:
    """Binomial standard error of an accuracy measured on `n` predicted tokens."""
    return math.sqrt(max(accuracy * (1 - accuracy), 0.0) / n) if n > 0 else math.nan


def _pct(value: float | None, se: float | None = None) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    return f"{100 * value:.2f}" + (f" ± {100 * se:.2f}" if se is not None else "")


def _num(value: float | None, digits: int = 2) -> str:
    return "—" if value is None else f"{value:.{digits}f}"


def table2_rows(runs: Mapping[str, RunRecord]) -> list[dict]:
    """One dict per row of the paper-layout table: ours (fraction) and the paper's (percent)."""
    rows = []
    for objective in ("bidirectional", "unidirectional"):
        for split_label in ("test", "OOD"):
            for (obj, model), name in TABLE2_RUNS.items():
                if obj != objective or name not in runs:
                    continue
                split = runs[name].split(SPLIT_OF[split_label])
                setting = f"{objective}, {split_label}"
                paper = PAPER_TABLE2.get((setting, model), (None, None))
                rows.append(
                    {
                        "setting": setting,
                        "model": model,
                        "run": name,
                        "ours": split,
                        "paper_acc": paper[0],
                        "paper_ppl": paper[1],
                    }
                )
    for objective, name in (
        ("bidirectional", "t2_mlm_exact"),
        ("unidirectional", "t2_causal_exact"),
    ):
        if name in runs and runs[name].split("test"):
            split = runs[name].split("test")
            ours = {
                "accuracy": split.get("baseline_accuracy"),
                "tokens": split["tokens"],
                "perplexity": split.get("baseline_perplexity"),
            }
            paper = (
                PAPER_TABLE2[("unigram baseline, test", "-")]
                if objective == "bidirectional"
                else (None, None)
            )
            rows.append(
                {
                    "setting": f"unigram baseline, test ({objective} positions)",
                    "model": "—",
                    "run": name,
                    "ours": ours,
                    "paper_acc": paper[0],
                    "paper_ppl": paper[1],
                }
            )
    return rows


def table2_markdown(runs: Mapping[str, RunRecord]) -> str:
    head = (
        "| setting | model | our accuracy (%) | our perplexity | paper accuracy (%) "
        "| paper perplexity | run |\n|---|---|---|---|---|---|---|"
    )
    lines = [head]
    for row in table2_rows(runs):
        ours = row["ours"]
        acc = ours.get("accuracy") if ours else None
        se = standard_error(acc, int(ours["tokens"])) if ours and acc is not None else None
        lines.append(
            f"| {row['setting']} | {row['model']} | {_pct(acc, se)} | "
            f"{_num(ours.get('perplexity') if ours else None)} | "
            f"{_num(row['paper_acc'])} | {_num(row['paper_ppl'])} | `{row['run']}` |"
        )
    return "\n".join(lines)


def ordering_checks(runs: Mapping[str, RunRecord]) -> list[tuple[str, str, str, bool | None]]:
    """(setting, paper order, our order, agrees) for each setting with two or more models.
    Orders are by accuracy, best first; `agrees` is None when a run is missing."""
    checks = []
    for setting in ("bidirectional, test", "bidirectional, OOD", "unidirectional, test"):
        objective, split_label = setting.split(", ")
        models = [m for (s, m) in PAPER_TABLE2 if s == setting]
        paper = sorted(models, key=lambda m: -PAPER_TABLE2[(setting, m)][0])
        ours_acc = {}
        for model in models:
            name = TABLE2_RUNS[(objective, model)]
            split = runs[name].split(SPLIT_OF[split_label]) if name in runs else None
            if split:
                ours_acc[model] = split["accuracy"]
        if len(ours_acc) < len(models):
            checks.append((setting, " > ".join(paper), "incomplete", None))
            continue
        ours = sorted(models, key=lambda m: -ours_acc[m])
        checks.append((setting, " > ".join(paper), " > ".join(ours), ours == paper))
    return checks


def spread(runs: Mapping[str, RunRecord], setting: str) -> tuple[float, float] | None:
    """(best − worst accuracy, its standard error) in a setting, as fractions. The error treats
    the two measurements as independent, which is conservative: every run of a setting is
    scored on the same positions."""
    objective, split_label = setting.split(", ")
    values = []
    for (obj, _), name in TABLE2_RUNS.items():
        split = runs[name].split(SPLIT_OF[split_label]) if name in runs else None
        if obj == objective and split:
            values.append((split["accuracy"], standard_error(split["accuracy"], split["tokens"])))
    if len(values) < 2:
        return None
    (hi, se_hi), (lo, se_lo) = max(values), min(values)
    return hi - lo, math.hypot(se_hi, se_lo)


def ordering_markdown(runs: Mapping[str, RunRecord]) -> str:
    lines = [
        "| setting | paper's order (accuracy) | our order | agrees | our best − worst |",
        "|---|---|---|---|---|",
    ]
    for setting, paper, ours, agrees in ordering_checks(runs):
        verdict = "—" if agrees is None else ("yes" if agrees else "**no**")
        gap = spread(runs, setting)
        gap_text = (
            "—"
            if gap is None
            else (f"{100 * gap[0]:.2f} pts = {gap[0] / gap[1]:.1f} σ" if gap[1] else "—")
        )
        lines.append(f"| {setting} | {paper} | {ours} | {verdict} | {gap_text} |")
    return "\n".join(lines)


def runs_markdown(runs: Mapping[str, RunRecord], names: list[str]) -> str:
    """Provenance: command, commit, date, steps, tokens and wall-clock of each run."""
    lines = [
        "| run | config | steps | training tokens | train wall-clock (s) | command | commit "
        "| date (UTC) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name in names:
        if name not in runs:
            continue
        r = runs[name]
        runner = r.runner or {}
        command = (
            runner.get("command")
            or f"protein-performer train --config configs/experiments/{name}.yaml"
        )
        lines.append(
            f"| `{name}` | `configs/experiments/{name}.yaml` | {r.steps_done} | "
            f"{r.tokens_seen / 1e6:.2f} M | {_num(r.train_seconds, 0)} | `{command}` | "
            f"{runner.get('commit', '—')} | {runner.get('start_utc', '—')} |"
        )
    return "\n".join(lines)


def long_context_markdown(runs: Mapping[str, RunRecord], names: list[str]) -> str:
    lines = [
        "| run | attention | steps in budget | tokens/s (train) | peak RSS (MiB) "
        "| valid acc (%) | test acc (%) | OOD acc (%) | test ppl |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for name in names:
        if name not in runs:
            continue
        r = runs[name]
        rate = r.tokens_seen / r.train_seconds if r.train_seconds else None
        split = {s: r.split(s) or {} for s in ("valid", "test", "ood")}
        lines.append(
            f"| `{name}` | {r.config['model']['attention']} | {r.steps_done} | {_num(rate, 0)} | "
            f"{_num((r.runner or {}).get('peak_rss_mb'), 0)} | "
            f"{_pct(split['valid'].get('accuracy'))} | {_pct(split['test'].get('accuracy'))} | "
            f"{_pct(split['ood'].get('accuracy'))} | {_num(split['test'].get('perplexity'))} |"
        )
    return "\n".join(lines)


def metrics_markdown(record: RunRecord) -> str:
    """All final splits of one run against the unigram baseline."""
    lines = [
        "| split | predicted tokens | accuracy (%) | perplexity | unigram acc (%) | unigram ppl |",
        "|---|---|---|---|---|---|",
    ]
    for split, m in (record.metrics or {}).get("splits", {}).items():
        lines.append(
            f"| {split} | {m['tokens']} | {_pct(m['accuracy'])} | {_num(m['perplexity'])} | "
            f"{_pct(m.get('baseline_accuracy'))} | {_num(m.get('baseline_perplexity'))} |"
        )
    return "\n".join(lines)
