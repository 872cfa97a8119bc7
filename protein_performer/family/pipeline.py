"""The family command's report: the evaluation every scored model gets
(`analysis.family_pipeline`), plus family members sampled from a causal aligned model."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from protein_performer.analysis import family_pipeline
from protein_performer.analysis.family_evaluation import (
    FamilyEvalConfig,
    FamilyEvaluation,
    is_aligned,
)
from protein_performer.constants import ALIGNED_VOCAB
from protein_performer.data.family_alignment import FamilyAlignment


def evaluate_and_report(
    model, datamodule: FamilyAlignment | None, cfg: FamilyEvalConfig, out_dir: Path, *, name: str,
    references: list[str] = (), extra: dict[str, Any] | None = None,
    evaluation: FamilyEvaluation | None = None,
) -> FamilyEvaluation:  # fmt: skip
    """`analysis.family_pipeline.evaluate_and_report`; a causal aligned model also samples
    `cfg.n_samples` family members into `samples.fasta` and the report."""

    def samples(out: Path) -> list[str]:
        if datamodule is None or not (model.config.causal and is_aligned(model)):
            return []
        if not cfg.n_samples:
            return []
        table = _generation(model, datamodule, out, cfg.n_samples)
        return [f"## Sampled family members\n\n{table}\n"]

    return family_pipeline.evaluate_and_report(
        model, datamodule, cfg, out_dir, name=name, references=references, extra=extra,
        evaluation=evaluation, more_sections=samples,
    )  # fmt: skip


def _generation(model, datamodule: FamilyAlignment, out_dir: Path, n_samples: int = 200) -> str:
    """Sample rows, write them as aligned FASTA, and compare them with held-out members."""
    from protein_performer.family.generate import generation_report

    tokens_NC = datamodule.msa.tokens_NC
    report = generation_report(
        model, tokens_NC[datamodule.rows("train")], tokens_NC[datamodule.rows("test")],
        n_samples=n_samples,
    )  # fmt: skip
    lookup = {i: t for t, i in ALIGNED_VOCAB.items()}
    with open(out_dir / "samples.fasta", "w") as handle:
        for k, row in enumerate(report.samples_NC):
            handle.write(f">sample_{k} identity_to_nearest_training_row="
                         f"{report.sample_identity[k]:.3f}\n")  # fmt: skip
            handle.write("".join(lookup[int(t)] for t in row) + "\n")
    return report.table()
