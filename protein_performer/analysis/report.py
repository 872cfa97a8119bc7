"""`report.md` of `make analyze`: the `AnalysisResult` as tables, with the figures."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from protein_performer.analysis.contact_benchmark import METHODS
from protein_performer.analysis.contact_precision import TOP_K
from protein_performer.analysis.contacts import RANGES
from protein_performer.analysis.results import AnalysisResult

CONTACT_SETS = {
    "ts50_test": "TS50 test (30 chains)",
    "bpti": "BPTI, model run on the 100-aa P00974 precursor (mature residues 36–93 scored)",
    "bpti_mature": "BPTI, model run on the 58-residue mature 5PTI chain",
}


def _fmt(value: Any) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def contact_table(results: dict[str, dict[str, dict[str, float]]]) -> list[str]:
    """Markdown table: one row per method and range, P@L, P@L/2, P@L/5 and random."""
    header = ["method", "range", *TOP_K, "random"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for method in (m for m in METHODS if m in results):
        for name in RANGES:
            row = results[method][name]
            cells = [method, name, *(_fmt(row[k]) for k in (*TOP_K, "random"))]
            lines.append("| " + " | ".join(cells) + " |")
    return lines


def render_report(result: AnalysisResult, figures: Sequence[str]) -> str:
    sim = result.similarity
    protocol = result.contact_protocol
    layer, head = protocol.best_head_layer_head_1based
    model = result.model
    lines = [
        "# Analysis report",
        "",
        f"Checkpoint: `{result.checkpoint}` (sha256 `{result.checkpoint_sha256}`)  ",
        f"Model: {model['attention']} attention, {model['objective']}, {model['n_layers']} "
        f"layers × {model['n_heads']} heads, d_model {model['d_model']}. "
        f"Analysis took {result.seconds:.0f} s.",
        "",
        "## BPT1_BOVIN attention (Performer paper, App. C.4)",
        "",
        "![attention grid](bpti_attention_grid.png)",
        "",
        "![head summary](bpti_head_summary.png)",
        "",
        "| layer | head | kind | entropy | mean distance | top residue (share) |",
        "|---|---|---|---|---|---|",
    ]
    for row in result.bpti_heads:
        lines.append(
            f"| {row['layer'] + 1} | {row['head'] + 1} | {row['kind']} | {row['entropy']:.2f} "
            f"| {row['mean_distance']:.1f} | {row['top_residue']} "
            f"({row['top_residue_share']:.2f}) |"
        )
    lines += [
        "",
        "## Amino-acid similarity vs BLOSUM62 (Vig et al. 2021)",
        "",
        f"{sim.n_sequences} held-out sequences ({sim.source}); attention threshold "
        f"θ = {sim.threshold:g}, {sim.n_heads_used} heads with at least "
        f"{sim.min_head_weight:g} of attention weight above it.",
        "",
        "| similarity | Pearson r | Spearman ρ |",
        "|---|---|---|",
        f"| attention | {_fmt(result.attention_vs_blosum62.pearson)} | "
        f"{_fmt(result.attention_vs_blosum62.spearman)} |",
        f"| input embedding | {_fmt(result.embedding_vs_blosum62.pearson)} | "
        f"{_fmt(result.embedding_vs_blosum62.spearman)} |",
        "",
        "![attention similarity](similarity_attention.png)",
        "",
        "![embedding similarity](similarity_embedding.png)",
        "",
        "![scatter](similarity_scatter.png)",
        "",
        "## Contacts (Rao et al. 2021)",
        "",
        f"Cβ–Cβ < 8 Å (Cα for Gly), separation ≥ 6. Best single head: layer {layer}, head "
        f"{head}, chosen on the {len(protocol.train)} training chains (first TS50 ids in "
        f"sorted order); the L1 logistic regression (C = {protocol.logistic_regression_C}) "
        f"keeps {protocol.heads_with_nonzero_weight} heads.",
        "",
    ]
    for key, title in CONTACT_SETS.items():
        lines += [f"### {title}", "", *contact_table(result.contacts[key]), ""]
    lines += [
        "![BPTI contact map](bpti_contact_map.png)",
        "",
        "![precision TS50](precision_ts50_test.png)",
        "",
        "![precision BPTI](precision_bpti.png)",
        "",
    ]
    missing = sorted(
        set(figures) - {ln.split("(")[-1].rstrip(")") for ln in lines if ln.startswith("![")}
    )
    lines += [f"![{name}]({name})" for name in missing]
    return "\n".join(lines) + "\n"


def write_report(result: AnalysisResult, figures: Sequence[str], path: str | Path) -> Path:
    path = Path(path)
    path.write_text(render_report(result, figures))
    return path
