"""The empirical unigram baseline of the paper's Table 2: always predict from the training
split's amino-acid frequencies, whatever the context.

Its accuracy on a set of predicted positions is the frequency, among those labels, of the most
common training residue (leucine in UniProt); its perplexity is exp of the cross-entropy of the
labels under the training unigram distribution. A model that beats both has learned something
beyond composition.

Pure torch, no Lightning: `ProteinLM` builds one from `datamodule.unigram_counts()`.
Shapes: V vocabulary, N predicted positions.
"""

from __future__ import annotations

import numpy as np
import torch

from protein_performer.constants import MASK_ID, PAD_ID, VOCAB_SIZE

IGNORE_INDEX = -100  # label value of positions that are not predicted (PyTorch's default)


def unigram_log_probs(counts_V: torch.Tensor | np.ndarray | list[float]) -> torch.Tensor:
    """log p(token) from training counts, with add-one (Laplace) smoothing.

    Smoothing covers every token that can be a label (all but <pad> and <mask>), so a residue
    never seen in training (e.g. pyrrolysine O) costs a large but finite surprise instead of an
    infinite perplexity; on UniProt-sized counts it moves no probability that matters.
    """
    counts_V = torch.as_tensor(np.asarray(counts_V, dtype=np.float64))
    # The general vocabulary, or a longer one that extends it (the aligned-family gap token).
    if counts_V.ndim != 1 or counts_V.numel() < VOCAB_SIZE:
        raise ValueError(
            f"unigram counts must have shape [V >= {VOCAB_SIZE}], got {tuple(counts_V.shape)}"
        )
    if bool((counts_V < 0).any()):
        raise ValueError("unigram counts must be non-negative")
    smoothed_V = counts_V + 1.0
    smoothed_V[[PAD_ID, MASK_ID]] = 0.0
    return (smoothed_V / smoothed_V.sum()).log().float()


class UnigramBaseline:
    """Predict `argmax_id` everywhere and score labels with `log_probs_V`.

    A plain class rather than a frozen dataclass: torchmetrics walks dataclass arguments of
    `Metric.update` and refuses frozen ones.
    """

    def __init__(self, log_probs_V: torch.Tensor, argmax_id: int) -> None:
        self.log_probs_V = log_probs_V
        self.argmax_id = argmax_id

    @classmethod
    def from_counts(cls, counts_V: torch.Tensor | np.ndarray | list[float]) -> UnigramBaseline:
        counts_V = torch.as_tensor(np.asarray(counts_V, dtype=np.float64))
        log_probs_V = unigram_log_probs(counts_V)
        # The most common *training* token (raw counts, not smoothed).
        return cls(log_probs_V=log_probs_V, argmax_id=int(counts_V.argmax()))

    def score(self, labels: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(number correct, summed NLL in nats, number of predicted positions) over `labels`,
        where positions equal to `IGNORE_INDEX` are skipped."""
        labels_N = labels[labels != IGNORE_INDEX]
        log_probs_V = self.log_probs_V.to(labels_N.device)
        n_correct = (labels_N == self.argmax_id).sum()
        nll = -log_probs_V[labels_N].sum(dtype=torch.float64)
        return n_correct, nll, torch.tensor(labels_N.numel(), device=labels_N.device)
