"""What `make analyze` found, as typed results: computed once by `pipeline.run_analysis`,
then read by the report (`report.md`), the terminal summary and `metrics.json`.

`to_json()` gives the flat JSON layout of `metrics.json` (its keys are what other tools read);
`from_json()` reads it back, so a report can be rendered again from a saved run.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

# dataset -> method -> range ("short", "medium", "long") -> metric ("P@L", ..., "random")
ContactTables = dict[str, dict[str, dict[str, dict[str, float | None]]]]


def finite(value: Any) -> Any:
    """JSON has no NaN: undefined metrics (e.g. a range with no pairs) become None."""
    if isinstance(value, dict):
        return {k: finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [finite(v) for v in value]
    if isinstance(value, float | np.floating):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, np.integer):
        return int(value)
    return value


@dataclass(frozen=True)
class BlosumCorrelation:
    """Correlation of a model's amino-acid similarity with BLOSUM62 (Vig et al. 2021)."""

    pearson: float | None
    spearman: float | None


@dataclass(frozen=True)
class SimilarityProtocol:
    n_sequences: int
    source: str  # where the held-out sequences came from
    threshold: float  # attention threshold θ finally used
    min_head_weight: float
    n_heads_used: int


@dataclass(frozen=True)
class ContactProtocol:
    train: tuple[str, ...]
    test: tuple[str, ...]
    best_head_layer_head_1based: tuple[int, int]
    logistic_regression_C: float
    heads_with_nonzero_weight: int


@dataclass(frozen=True)
class AnalysisResult:
    checkpoint: str
    checkpoint_sha256: str
    model: dict[str, Any]  # PerformerConfig.to_dict()
    attention_vs_blosum62: BlosumCorrelation
    embedding_vs_blosum62: BlosumCorrelation
    similarity: SimilarityProtocol
    contacts: ContactTables
    contact_protocol: ContactProtocol
    bpti_heads: tuple[dict[str, Any], ...]  # HeadSummary.rows()
    seconds: float

    def to_json(self) -> dict[str, Any]:
        return finite(
            {
                "checkpoint": self.checkpoint,
                "checkpoint_sha256": self.checkpoint_sha256,
                "model": self.model,
                "blosum62_pearson_attention": self.attention_vs_blosum62.pearson,
                "blosum62_spearman_attention": self.attention_vs_blosum62.spearman,
                "blosum62_pearson_embedding": self.embedding_vs_blosum62.pearson,
                "blosum62_spearman_embedding": self.embedding_vs_blosum62.spearman,
                "similarity": asdict(self.similarity),
                "contacts": self.contacts,
                "contact_protocol": asdict(self.contact_protocol),
                "bpti_heads": list(self.bpti_heads),
                "seconds": self.seconds,
            }
        )

    @classmethod
    def from_json(cls, values: dict[str, Any]) -> AnalysisResult:
        protocol = dict(values["contact_protocol"])
        protocol["train"], protocol["test"] = tuple(protocol["train"]), tuple(protocol["test"])
        protocol["best_head_layer_head_1based"] = tuple(protocol["best_head_layer_head_1based"])
        return cls(
            checkpoint=values["checkpoint"],
            checkpoint_sha256=values.get("checkpoint_sha256", ""),
            model=values["model"],
            attention_vs_blosum62=BlosumCorrelation(
                values["blosum62_pearson_attention"], values["blosum62_spearman_attention"]
            ),
            embedding_vs_blosum62=BlosumCorrelation(
                values["blosum62_pearson_embedding"], values["blosum62_spearman_embedding"]
            ),
            similarity=SimilarityProtocol(**values["similarity"]),
            contacts=values["contacts"],
            contact_protocol=ContactProtocol(**protocol),
            bpti_heads=tuple(values["bpti_heads"]),
            seconds=values["seconds"],
        )
