"""Tables, TSV and JSON of a family evaluation, and the published figures beside ours."""

from __future__ import annotations

import csv
import hashlib
import json
from pathlib import Path
from typing import Any

import numpy as np

from protein_performer.analysis.family_evaluation import FamilyEvaluation
from protein_performer.analysis.family_inputs import scan_coverage
from protein_performer.analysis.rank_correlation import Correlation
from protein_performer.paths import PUBLISHED_SCORES


def dms_table(evaluation: FamilyEvaluation) -> str:
    counts = evaluation.counts
    lines = [
        f"Scan {Path(evaluation.scan.path).name} ({evaluation.scan.score_column}): "
        f"{len(evaluation.scan.variants)} variants: {counts['scored']} scored, "
        f"{counts['synonymous']} synonymous (score 0, not in ρ), {counts['unscorable']} "
        f"outside the alignment's columns (not in ρ). Wild type placed by "
        f"{evaluation.column_map.method}.{_potts_line(evaluation)}",
        "",
        "| predictor | Spearman ρ | 95 % CI | n | ρ − ρ(PSSM) [95 % CI] "
        "| ρ − ρ(Potts) [95 % CI] |",
        "|---|---|---|---|---|---|",
    ]
    for p in evaluation.predictors:
        lines.append(
            f"| {p.name} | {p.rho.rho:.3f} | [{p.rho.low:.3f}, {p.rho.high:.3f}] | {p.rho.n} "
            f"| {_difference(p.vs_pssm)} | {_difference(p.vs_potts)} |"
        )
    return "\n".join(lines)


def _difference(vs: Correlation | None) -> str:
    return f"{vs.rho:+.3f} [{vs.low:+.3f}, {vs.high:+.3f}]" if vs is not None else "—"


def _potts_line(evaluation: FamilyEvaluation) -> str:
    fit = evaluation.potts
    if fit is None:
        return ""
    return (
        f" Potts model: {fit.n_columns} columns, Neff {fit.neff:.1f}, {fit.iterations} L-BFGS "
        f"iterations in {fit.seconds:.1f} s."
    )


def published_scores(
    scan_path: str | Path, score_column: str, table: str | Path = PUBLISHED_SCORES
) -> list[dict[str, str]]:
    """Rows of `data/published_scores.csv` for this scan: same content (SHA-256) and column.
    A scan the table does not know has none."""
    digest = hashlib.sha256(Path(scan_path).read_bytes()).hexdigest()
    with open(table, newline="") as handle:
        rows = list(csv.DictReader(handle))
    return [r for r in rows if r["scan_sha256"] == digest and r["score_column"] == score_column]


def published_table(rows: list[dict[str, str]]) -> str:
    sources = sorted({row["source"] for row in rows})
    lines = [f"| method (published: {'; '.join(sources)}) | Spearman ρ |", "|---|---|"]
    lines += [f"| {row['method']} | {float(row['spearman']):.3f} |" for row in rows]
    return "\n".join(lines)


def contacts_table(evaluation: FamilyEvaluation) -> str:
    kinds = evaluation.contact_kinds
    lines = [
        "| method | contact | range | P@L | P@L/2 | P@L/5 | density |",
        "|---|---|---|---|---|---|---|",
    ]
    for method, by_threshold in evaluation.contacts.items():
        for threshold, by_range in by_threshold.items():
            for name in ("long", "medium", "short"):
                row = by_range[name]
                lines.append(
                    f"| {method} | {kinds.get(threshold, '')} < {threshold:g} Å | {name} | "
                    f"{row['P@L']:.3f} | {row['P@L/2']:.3f} | {row['P@L/5']:.3f} | "
                    f"{row['random']:.3f} |"
                )
    return "\n".join(lines)


def summary(evaluation: FamilyEvaluation) -> dict[str, Any]:
    """Plain numbers for JSON: every predictor's ρ and interval, every contact precision."""
    scan = evaluation.scan
    return {
        "scan": scan.path if scan else None,
        "score_column": scan.score_column if scan else None,
        "counts": evaluation.counts if scan else None,
        "coverage": scan_coverage(evaluation.statuses)[2] if scan else None,
        "wild_type_mapping": evaluation.column_map.method if evaluation.column_map else None,
        "contacts_source": evaluation.contacts_source,
        "contact_kinds": {f"{t:g}": kind for t, kind in evaluation.contact_kinds.items()},
        "spearman": {
            p.name: {
                "rho": p.rho.rho,
                "low": p.rho.low,
                "high": p.rho.high,
                "n": p.rho.n,
                **_versus("minus_pssm", p.vs_pssm),
                **_versus("minus_potts", p.vs_potts),
            }
            for p in evaluation.predictors
        },
        **(
            {
                "potts_fit": {
                    "seconds": evaluation.potts.seconds,
                    "iterations": evaluation.potts.iterations,
                    "evaluations": evaluation.potts.evaluations,
                    "objective": evaluation.potts.objective,
                    "neff": evaluation.potts.neff,
                }
            }
            if evaluation.potts is not None
            else {}
        ),
        "contacts": {
            method: {f"{t:g}": by_range for t, by_range in by_threshold.items()}
            for method, by_threshold in evaluation.contacts.items()
        },
    }


def _versus(key: str, vs: Correlation | None) -> dict[str, float]:
    """ρ − ρ(baseline) and its interval under `key`, `key_low`, `key_high`; none without it."""
    if vs is None:
        return {}
    return {key: vs.rho, f"{key}_low": vs.low, f"{key}_high": vs.high}


def write_scores_tsv(evaluation: FamilyEvaluation, path: Path, header: list[str]) -> None:
    """One row per variant: measured value, status, and every predictor's score."""
    names = [p.name for p in evaluation.predictors]
    with open(path, "w") as out:
        for line in header:
            out.write(f"# {line}\n")
        out.write("\t".join(["mutant", "measured", "status", *names]) + "\n")
        for i, variant in enumerate(evaluation.scan.variants):
            scores = []
            for p in evaluation.predictors:
                value = p.scores_N[i]
                # Synonymous variants score 0 by definition (excluded from ρ, kept here).
                value = 0.0 if evaluation.statuses[i] == "synonymous" else value
                scores.append("" if np.isnan(value) else f"{value:.6g}")
            fields = [variant.text, f"{variant.measured:.6g}", evaluation.statuses[i], *scores]
            out.write("\t".join(fields) + "\n")


def write_json(data: dict[str, Any], path: Path) -> None:
    path.write_text(json.dumps(data, indent=2, default=float) + "\n")
