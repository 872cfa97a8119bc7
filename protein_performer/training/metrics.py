"""Token-level loss, accuracy and perplexity over predicted positions, with the unigram baseline
scored on exactly the same positions.

Sums (not per-batch means) are accumulated so that the split's loss is the mean over all
predicted tokens however batches are sized, and perplexity is exp of that mean — not a mean of
per-batch perplexities. `torchmetrics` sums the states across processes under DDP.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F
from torchmetrics import Metric

from protein_performer.constants import MASK_ID
from protein_performer.training.baseline import IGNORE_INDEX, UnigramBaseline


@dataclass(frozen=True)
class SplitMetrics:
    """Final numbers of one split; `tokens` is the number of predicted positions."""

    loss: float
    accuracy: float
    perplexity: float
    tokens: int
    baseline_accuracy: float | None = None
    baseline_perplexity: float | None = None

    def to_dict(self) -> dict[str, float | int | None]:
        return asdict(self)


class TokenMetrics(Metric):
    """Accumulates NLL, correct predictions and counts for the model and the unigram baseline."""

    full_state_update = False

    def __init__(self) -> None:
        super().__init__()
        for name in ("nll", "correct", "count", "base_nll", "base_correct", "base_count"):
            self.add_state(
                name, default=torch.zeros((), dtype=torch.float64), dist_reduce_fx="sum"
            )

    def update(
        self,
        logits_NV: torch.Tensor,
        labels_N: torch.Tensor,
        baseline: UnigramBaseline | None = None,
    ) -> None:
        """`logits_NV` and `labels_N` at predicted positions only."""
        # Out-of-place sums: states reset inside validation's inference mode become inference
        # tensors, which may not be updated in place later in training.
        nll = F.cross_entropy(logits_NV.float(), labels_N, reduction="sum")
        self.nll = self.nll + nll.detach().double()
        self.correct = self.correct + (logits_NV.argmax(-1) == labels_N).sum()
        self.count = self.count + labels_N.numel()
        if baseline is not None:
            n_correct, base_nll, n = baseline.score(labels_N)
            self.base_correct = self.base_correct + n_correct
            self.base_nll = self.base_nll + base_nll
            self.base_count = self.base_count + n

    def compute(self) -> dict[str, float | int | None]:
        """Plain dict (torchmetrics refuses frozen dataclasses); see `split_metrics`."""
        count = float(self.count)
        if count == 0:
            nan = float("nan")
            return SplitMetrics(loss=nan, accuracy=nan, perplexity=nan, tokens=0).to_dict()
        loss = float(self.nll) / count
        base_count = float(self.base_count)
        return SplitMetrics(
            loss=loss,
            accuracy=float(self.correct) / count,
            perplexity=math.exp(loss),
            tokens=int(count),
            baseline_accuracy=float(self.base_correct) / base_count if base_count else None,
            baseline_perplexity=math.exp(float(self.base_nll) / base_count)
            if base_count
            else None,
        ).to_dict()

    def split_metrics(self) -> SplitMetrics:
        """The accumulated numbers (summed across processes under DDP) as a `SplitMetrics`."""
        return SplitMetrics(**self.compute())


def scored_labels(
    tokens_BL: torch.Tensor, labels_BL: torch.Tensor, objective: str
) -> torch.Tensor:
    """The labels that metrics score: every labelled position for the causal objective, only
    the `<mask>`ed inputs for MLM (BERT's 80/10/10 keeps 10 % of the selected residues
    unchanged; scoring those would let a model "beat" the unigram baseline by copying its
    input)."""
    if objective != "mlm":
        return labels_BL
    return labels_BL.masked_fill(tokens_BL != MASK_ID, IGNORE_INDEX)


def predicted(
    logits_BLV: torch.Tensor, labels_BL: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """Select the predicted positions: `(logits_NV, labels_N)` where `labels != -100`."""
    keep_BL = labels_BL != IGNORE_INDEX
    return logits_BLV[keep_BL], labels_BL[keep_BL]
