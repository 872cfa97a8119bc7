"""Pure sampling functions: temperature, top-k and nucleus (top-p) filtering of next-token logits.

Top-k follows Fan et al. 2018 ("Hierarchical Neural Story Generation"); top-p (nucleus sampling)
follows Holtzman et al. 2020 ("The Curious Case of Neural Text Degeneration", ICLR). Every draw
goes through an explicit `torch.Generator`, so a seed fixes the samples.

Shape legend: B batch, V vocabulary.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from protein_performer.constants import AMINO_ACID_IDS, EOS_ID, GAP_ID, STANDARD_IDS, VOCAB_SIZE


@dataclass(frozen=True)
class SamplingConfig:
    """How the next token is drawn from the model's logits."""

    # Divides the logits; < 1 sharpens, > 1 flattens. 0 means greedy (argmax), which is the
    # limit T -> 0 and is handy for deterministic checks.
    temperature: float = 1.0
    # Keep only the k most likely tokens; None or 0 keeps all.
    top_k: int | None = None
    # Keep the smallest set of tokens whose probability mass reaches p; None or 1.0 keeps all.
    top_p: float | None = None

    def __post_init__(self) -> None:
        if not math.isfinite(self.temperature):
            raise ValueError(f"temperature must be a finite number, got {self.temperature}")
        if self.top_p is not None and not math.isfinite(self.top_p):
            raise ValueError(f"top_p must be in (0, 1], got {self.top_p}")
        if self.temperature < 0:
            raise ValueError(f"temperature must be >= 0, got {self.temperature}")
        if self.top_k is not None and self.top_k < 0:
            raise ValueError(f"top_k must be >= 0, got {self.top_k}")
        if self.top_p is not None and not 0.0 < self.top_p <= 1.0:
            raise ValueError(f"top_p must be in (0, 1], got {self.top_p}")


def allowed_token_mask(
    *,
    allow_eos: bool = True,
    standard_only: bool = True,
    vocab_size: int = VOCAB_SIZE,
    allow_gap: bool = False,
) -> torch.Tensor:
    """Bool [V]: the tokens a generated sequence may contain (amino acids, and EOS to stop).

    PAD, MASK, BOS/CLS and UNK are never sampled, so every sample decodes to a clean FASTA
    sequence even from an under-trained model that still puts mass on special tokens. By
    default only the 20 standard amino acids are: X, B, Z, U and O are ambiguity codes or rare
    residues that a designed protein should not contain (`standard_only=False` allows them).
    `allow_gap` adds the gap `-` of an aligned model's vocabulary (rows over its columns).
    """
    mask_V = torch.zeros(vocab_size, dtype=torch.bool)
    mask_V[list(STANDARD_IDS if standard_only else AMINO_ACID_IDS)] = True
    mask_V[EOS_ID] = allow_eos
    if allow_gap:
        if vocab_size <= GAP_ID:
            raise ValueError("allow_gap needs a model with the aligned vocabulary (gap token)")
        mask_V[GAP_ID] = True
    return mask_V


def top_k_filter(logits_BV: torch.Tensor, k: int | None) -> torch.Tensor:
    """Set every logit below the k-th largest of its row to -inf (ties at the k-th are kept)."""
    if not k or k >= logits_BV.shape[-1]:
        return logits_BV
    kth_B1 = torch.topk(logits_BV, k, dim=-1).values[..., -1:]
    return logits_BV.masked_fill(logits_BV < kth_B1, float("-inf"))


def top_p_filter(logits_BV: torch.Tensor, p: float | None) -> torch.Tensor:
    """Keep the smallest prefix of the sorted distribution whose mass reaches p (nucleus)."""
    if p is None or p >= 1.0:
        return logits_BV
    sorted_BV, order_BV = torch.sort(logits_BV, dim=-1, descending=True)
    probs_BV = torch.softmax(sorted_BV, dim=-1)
    # Mass strictly before each token: a token is dropped once the tokens ahead of it already
    # reach p, which always keeps the most likely token.
    mass_before_BV = torch.cumsum(probs_BV, dim=-1) - probs_BV
    drop_sorted_BV = mass_before_BV >= p
    drop_BV = torch.zeros_like(drop_sorted_BV).scatter(-1, order_BV, drop_sorted_BV)
    return logits_BV.masked_fill(drop_BV, float("-inf"))


def filter_logits(
    logits_BV: torch.Tensor, config: SamplingConfig, allowed_V: torch.Tensor | None = None
) -> torch.Tensor:
    """Logits after masking disallowed tokens, temperature, top-k and top-p (in that order)."""
    logits_BV = (
        logits_BV.float() if logits_BV.dtype in (torch.float16, torch.bfloat16) else logits_BV
    )
    if allowed_V is not None:
        logits_BV = logits_BV.masked_fill(~allowed_V.to(logits_BV.device), float("-inf"))
    if config.temperature > 0:
        logits_BV = logits_BV / config.temperature
    logits_BV = top_k_filter(logits_BV, config.top_k)
    return top_p_filter(logits_BV, config.top_p)


def sample_next(
    logits_BV: torch.Tensor,
    config: SamplingConfig,
    generator: torch.Generator | None,
    allowed_V: torch.Tensor | None = None,
) -> torch.Tensor:
    """Draw one token id per row: int64 [B]."""
    filtered_BV = filter_logits(logits_BV, config, allowed_V)
    if config.temperature == 0:
        return filtered_BV.argmax(dim=-1)
    probs_BV = torch.softmax(filtered_BV, dim=-1)
    return torch.multinomial(probs_BV, 1, generator=generator).squeeze(-1)
