"""BPT1_BOVIN side by side: a general model and a Kunitz family model against 5PTI.

`compare_on_bpti(models, out_dir)` scores every model's attention and categorical-Jacobian
contacts on the same residues (those on the family model's columns; `analysis.bpti_contacts`),
draws each model's attention maps of every layer and head with 5PTI's contacts overlaid, and
writes one table of P@L, P@L/2 and P@L/5 by range against random, with the amino-acid
similarity of each model against BLOSUM62 (Vig et al. 2021).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from protein_performer.analysis.bpti_contacts import (
    BPTI_NAME,
    BptiContacts,
    BptiReading,
    aligned_reading,
    bpti_contacts,
    general_reading,
)
from protein_performer.analysis.contact_precision import TOP_K
from protein_performer.analysis.contacts import RANGES
from protein_performer.analysis.placement import is_aligned_model, place
from protein_performer.analysis.structures import Bpti, load_bpti
from protein_performer.plots import attention as attention_plots
from protein_performer.plots import contacts as contact_plots
from protein_performer.plots.style import save

READOUT_LABELS = {
    "attention_apc_mean": "attention APC (mean of heads)",
    "best_head": "best single head, chosen on 5PTI itself (an upper bound)",
    "categorical_jacobian": "categorical Jacobian",
    "position_attention": "position-attention couplings (factored layers)",
}


@dataclass(frozen=True)
class NamedModel:
    name: str
    model: object
    # A sentence on the model's training data that the report repeats (e.g. whether
    # BPT1_BOVIN's own row was in training).
    note: str = ""


@dataclass(frozen=True)
class BptiComparison:
    results: list[BptiContacts]
    residues_P: np.ndarray  # 0-based mature-chain residues scored for every model
    figures: list[Path]

    def table_rows(self) -> list[dict]:
        """One row per (model, read-out): precision by range, and the random baseline."""
        rows = []
        for result in self.results:
            layer, head = result.best_head
            for readout, precision in result.precision.items():
                rows.append({"model": result.name, "readout": READOUT_LABELS[readout],
                             **_flatten(precision)})  # fmt: skip
            rows.append({
                "model": result.name,
                "readout": f"{READOUT_LABELS['best_head']} (layer {layer + 1}, head {head + 1})",
                "long P@L/5": float(result.head_precision_NH[layer, head]),
            })  # fmt: skip
        return rows


def _flatten(precision: dict[str, dict[str, float]]) -> dict[str, float]:
    return {f"{r} {k}": precision[r][k] for r in RANGES for k in (*TOP_K, "random")}


def bpti_reading(model, bpti: Bpti, residues_P: np.ndarray | None) -> BptiReading:
    """How `model` reads BPTI: placed on its columns (aligned models; refused in one line when
    its profile cannot place it), else the precursor."""
    if is_aligned_model(model):
        return aligned_reading(bpti, place(model, bpti.precursor, name=BPTI_NAME))
    if residues_P is None:
        residues_P = np.arange(len(bpti.mature.sequence))
    return general_reading(bpti, residues_P)


def compare_on_bpti(
    models: Sequence[NamedModel], out_dir: str | Path, *, jacobian: bool = True
) -> BptiComparison:
    """Score every model on BPT1_BOVIN over the same residues; figures into `out_dir`. The
    residues scored are those on the columns of the first aligned model (all of the mature
    chain without one)."""
    out_dir = Path(out_dir)
    bpti = load_bpti()
    readings = {}
    residues_P = None
    for entry in sorted(models, key=lambda m: not is_aligned_model(m.model)):
        readings[entry.name] = bpti_reading(entry.model, bpti, residues_P)
        if residues_P is None:
            residues_P = readings[entry.name].residues_P
    out_dir.mkdir(parents=True, exist_ok=True)  # only once every model could read BPTI
    results, figures = [], []
    offset = int(residues_P[0])  # residue numbers on the axes are 5PTI's (1-based)
    sequence = "".join(bpti.mature.sequence[i] for i in residues_P)
    for entry in models:
        result = bpti_contacts(entry.model, entry.name, bpti, readings[entry.name],
                               jacobian=jacobian)  # fmt: skip
        results.append(result)
        n_layers, n_heads = result.maps_NHPP.shape[:2]
        titles = [f"L{n + 1}H{h + 1} P@L/5 {result.head_precision_NH[n, h]:.2f}"
                  for n in range(n_layers) for h in range(n_heads)]  # fmt: skip
        figures.append(save(
            attention_plots.attention_grid(
                result.maps_NHPP, sequence, layers=range(n_layers), title=(
                    f"{entry.name}: BPT1_BOVIN attention, 5PTI contacts (Cβ 8 Å) as squares"),
                contacts_LL=result.contacts_PP, offset=offset, panel_titles=titles,
            ),
            out_dir / f"{entry.name}_attention_grid.png",
        ))  # fmt: skip
        for readout, scores_PP in result.scores.items():
            figures.append(save(
                contact_plots.contact_map(
                    result.contacts_PP, scores_PP, offset=offset,
                    title=f"{entry.name}: {READOUT_LABELS[readout]}, top-L vs 5PTI",
                ),
                out_dir / f"{entry.name}_{readout}.png",
            ))  # fmt: skip
    return BptiComparison(results, residues_P, figures)


def markdown_table(comparison: BptiComparison) -> str:
    """The side-by-side table: long, medium and short range, with the random baseline."""
    head = ["model", "read-out"]
    for r in ("long", "medium", "short"):
        head += [f"{r} P@L", f"{r} P@L/2", f"{r} P@L/5"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]

    def cell(row, key):
        value = row.get(key)
        return "" if value is None or not np.isfinite(value) else f"{value:.3f}"

    rows = comparison.table_rows()
    for row in rows:
        values = [row["model"], row["readout"]]
        for r in ("long", "medium", "short"):
            values += [cell(row, f"{r} {k}") for k in TOP_K]
        lines.append("| " + " | ".join(values) + " |")
    first = next(r for r in rows if "long random" in r)
    random = ["random (contact density)", ""]
    for r in ("long", "medium", "short"):
        random += [cell(first, f"{r} random")] * 3
    lines.append("| " + " | ".join(random) + " |")
    return "\n".join(lines)


def write_comparison(
    comparison: BptiComparison, models: Sequence[NamedModel], out_dir: str | Path,
    similarity: dict[str, dict[str, float]] | None = None, extra: dict | None = None,
) -> str:  # fmt: skip
    """`report.md` and `metrics.json` in `out_dir`; returns the markdown."""
    out_dir = Path(out_dir)
    residues = comparison.residues_P
    lines = [
        "# BPT1_BOVIN: contacts and attention, side by side",
        "",
        f"Scored on 5PTI chain A residues {residues[0] + 1}–{residues[-1] + 1} "
        f"({len(residues)} residues: those on the Kunitz family model's columns), "
        "contacts Cβ–Cβ < 8 Å (Cα for glycine), ranges short 6–11, medium 12–23, long ≥ 24.",
        "",
    ]
    for entry, result in zip(models, comparison.results, strict=True):
        lines.append(f"- **{entry.name}** reads {result.reading.how}. {entry.note}".rstrip())
    lines += ["", markdown_table(comparison), ""]
    if similarity:
        lines += ["Amino-acid similarity against BLOSUM62 (Pearson r; Vig et al. 2021):", "",
                  "| model | attention | input embedding |", "|---|---|---|"]  # fmt: skip
        for name, values in similarity.items():
            att, emb = values.get("attention"), values.get("embedding")
            lines.append(f"| {name} | {_num(att)} | {_num(emb)} |")
        lines.append("")
    lines += ["Figures: " + ", ".join(f"`{f.name}`" for f in comparison.figures), ""]
    text = "\n".join(lines)
    (out_dir / "report.md").write_text(text)
    metrics = {
        "residues_1based": [int(i) + 1 for i in residues],
        "models": {
            r.name: {
                "reading": r.reading.how,
                "precision": r.precision,
                "head_long_p_at_l5": r.head_precision_NH.round(4).tolist(),
                "best_head_1based": [i + 1 for i in r.best_head],
            }
            for r in comparison.results
        },
        "similarity_vs_blosum62": similarity or {},
        **(extra or {}),
    }
    (out_dir / "metrics.json").write_text(json.dumps(metrics, indent=1))
    return text


def _num(value) -> str:
    return "n/a" if value is None or not np.isfinite(value) else f"{value:.3f}"
