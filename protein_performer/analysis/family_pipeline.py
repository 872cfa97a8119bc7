"""Evaluate a model on its family with its baselines, print the tables and write the files:
what `protein-performer dms` and `protein-performer family` report (the latter adds its
sampled family members through `more_sections`)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from protein_performer.analysis.family_evaluation import (
    BASELINES,
    FamilyEvalConfig,
    FamilyEvaluation,
    add_contacts,
    add_ensemble,
    add_ensemble_contacts,
    add_model,
    add_potts,
    add_potts_contacts,
    add_products_of_experts,
    add_pssm,
    fit_family_potts,
    is_product_of_experts,
    setup_evaluation,
)
from protein_performer.analysis.family_report import (
    contacts_table,
    dms_table,
    published_scores,
    published_table,
    summary,
    write_json,
    write_scores_tsv,
)
from protein_performer.analysis.potts import PottsConfig
from protein_performer.data.family_alignment import FamilyAlignment
from protein_performer.model.io import checkpoint_sha256, provenance


def evaluate(
    model, datamodule: FamilyAlignment | None, cfg: FamilyEvalConfig, *, name: str,
    references: list[str] = (), members: Sequence[tuple[str, object]] = (),
    evaluation: FamilyEvaluation | None = None,
) -> FamilyEvaluation:  # fmt: skip
    """The PSSM and the Potts model first (every other row is compared with both), the model
    and its product of experts with the Potts model, then each reference; then contacts.
    `members`: further (name, model) pairs ensembled with `model` (`analysis.ensemble`): each
    gets its own rows and contact read-outs, named after it, and the ensemble gets its row, its
    product of experts and the mean of the members' read-outs. `evaluation`: inputs already
    read and checked by `setup_evaluation`."""
    from protein_performer.model.io import load_model

    if evaluation is None:
        evaluation = setup_evaluation(datamodule, cfg)
    ensemble = [(name, model), *members]
    if evaluation.scan is not None:
        if datamodule is not None:
            add_pssm(evaluation, datamodule, cfg.n_boot)
            _potts(evaluation, datamodule, cfg)
        first_rows = []
        for member_name, member in ensemble:
            rows = add_model(evaluation, member, member_name, cfg.methods, cfg.n_boot)
            add_products_of_experts(evaluation, rows, cfg.n_boot)
            first_rows.append(rows[0])
        if members:
            row = add_ensemble(evaluation, first_rows, cfg.n_boot)
            add_products_of_experts(evaluation, [row], cfg.n_boot)
        for path in references:
            reference = load_model(path)
            add_model(evaluation, reference, Path(path).stem, None, cfg.n_boot)
    if evaluation.truths:
        if members:
            prefixes = [f"{member_name} " for member_name, _ in ensemble]
            methods_M = [
                add_contacts(evaluation, member, prefix)
                for (_, member), prefix in zip(ensemble, prefixes, strict=True)
            ]
            add_ensemble_contacts(evaluation, prefixes, methods_M)
        else:
            add_contacts(evaluation, model)
        if datamodule is not None and cfg.potts_iterations > 0:
            if evaluation.potts is None:
                config = PottsConfig(max_iterations=cfg.potts_iterations)
                fit_family_potts(evaluation, datamodule, config)
            add_potts_contacts(evaluation)
    return evaluation


def _potts(evaluation: FamilyEvaluation, datamodule: FamilyAlignment, cfg: FamilyEvalConfig):
    if cfg.potts_iterations > 0:
        add_potts(evaluation, datamodule, cfg.n_boot,
                  PottsConfig(max_iterations=cfg.potts_iterations))  # fmt: skip
        fit = evaluation.potts
        print(f"Potts model: {fit.iterations} L-BFGS iterations ({fit.evaluations} evaluations) "
              f"in {fit.seconds:.1f} s", flush=True)  # fmt: skip


def evaluate_and_report(
    model, datamodule: FamilyAlignment | None, cfg: FamilyEvalConfig, out_dir: Path, *, name: str,
    references: list[str] = (), members: Sequence[tuple[str, object]] = (),
    extra: dict[str, Any] | None = None, evaluation: FamilyEvaluation | None = None,
    more_sections: Callable[[Path], list[str]] | None = None,
) -> FamilyEvaluation:  # fmt: skip
    """`evaluate`, then `evaluation.json`, `scores.tsv`, `report.md` and the figures in
    `out_dir`. `more_sections(out_dir)` may write more files there and returns the report's
    further sections (Markdown)."""
    evaluation = evaluate(model, datamodule, cfg, name=name, references=references,
                          members=members, evaluation=evaluation)  # fmt: skip
    out_dir.mkdir(parents=True, exist_ok=True)
    meta: dict[str, Any] = {"model": name, **(extra or {})}
    if "checkpoint" in meta:
        meta.update(provenance(meta["checkpoint"]).as_dict())
    if datamodule is not None:
        meta.update(alignment=datamodule.config.msa, rows=datamodule.msa.depth,
                    columns=datamodule.msa.width, neff=round(datamodule.neff, 1))  # fmt: skip
    meta["references"] = {p: checkpoint_sha256(p) for p in references}
    header = [f"{k}: {v}" for k, v in meta.items()]
    write_json({**meta, **summary(evaluation)}, out_dir / "evaluation.json")
    sections = []
    scan = evaluation.scan
    if scan is not None:
        write_scores_tsv(evaluation, out_dir / "scores.tsv", header)
        sections.append(f"## Variant effects\n\n{dms_table(evaluation)}\n")
        published = published_scores(scan.path, scan.score_column)
        if published:
            sections.append(
                f"Published on the same scan, for comparison (not run here):\n\n"
                f"{published_table(published)}\n"
            )
    if evaluation.contacts:
        sections.append(
            f"## Contacts ({evaluation.contacts_source})\n\n{contacts_table(evaluation)}\n"
        )
    if more_sections is not None:
        sections += more_sections(out_dir)
    text = "\n".join(sections) or "No evaluation inputs (--eval.scan, --eval.contacts, ...).\n"
    title = " + ".join([name, *(member_name for member_name, _ in members)])
    (out_dir / "report.md").write_text(f"# Family evaluation: {title}\n\n{text}")
    _figures(evaluation, out_dir)
    print(f"\n{text}\n(written to {out_dir})", flush=True)
    return evaluation


def _figures(evaluation: FamilyEvaluation, out_dir: Path) -> None:
    from protein_performer.plots.contacts import contact_map
    from protein_performer.plots.dms import dms_scatter
    from protein_performer.plots.style import save

    if evaluation.predictors:
        best = max(
            (
                p
                for p in evaluation.predictors
                if p.name not in BASELINES and not is_product_of_experts(p.name)
            ),
            key=lambda p: p.rho.rho,
            default=evaluation.predictors[0],
        )
        fig = dms_scatter(
            best.scores_N, evaluation.scan.measured, evaluation.scan.first_positions,
            label=best.name, rho=best.rho.rho,
            measured_label=evaluation.scan.score_column,
        )  # fmt: skip
        save(fig, out_dir / "dms.png")
    truth = next((t for t in evaluation.truths if t.threshold == 8.0), None)
    if evaluation.contact_maps and truth is not None:
        contacts_CC = np.nan_to_num(truth.dist_CC, nan=np.inf) < truth.threshold
        for method, scores in evaluation.contact_maps.items():
            fig = contact_map(
                contacts_CC, scores, title=f"{method} vs {truth.kind} 8 Å column contacts"
            )
            save(fig, out_dir / f"contacts_{method}.png")
