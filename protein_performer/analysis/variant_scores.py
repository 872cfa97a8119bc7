"""Zero-shot variant and sequence scores of a language model, and of a site-independent
baseline: the one scoring path of `mutations`, `dms` and `pp.score`.

A `ScoringFrame` is what the model reads for the wild type (tokens with `<cls>` … `<eos>`) and
where each wild-type residue sits in it: the residue's own index for a model of unaligned
sequences, its alignment column for an aligned family model. Every scorer returns one number
per variant: higher means more plausible; 0 for a synonymous variant; NaN where unscorable.

Scores (Meier et al. 2021, "Language models enable zero-shot prediction of the effects of
mutations on protein function"):
- masked marginals, the paper's eq. 1: Σ_{i∈M} log p(x_i = mt | x_{−M}) − log p(x_i = wt |
  x_{−M}), all mutated positions M masked together in one pass. For a single mutant this is
  fair-esm's per-position masking; for a multi-mutant it is what the paper defines (masking
  each position alone would let every mutated residue see the others' wild type);
- wild-type marginals: the same log-odds read from one pass over the unmasked wild type;
- pseudo-log-likelihood ratio: PLL(variant) − PLL(wild type), PLL(x) = Σᵢ log p(xᵢ | x₋ᵢ);
- causal log-likelihood ratio: log p(variant) − log p(wild type), for causal models, with
  log p from `generation.scoring` (residues and `<eos>`, float64), as `protein-performer
  score` reports it.
`sequence_scores` gives the per-sequence number behind the last two (PLL or log p).
The site-independent baseline scores Σ log f_c(mt) − log f_c(wt) with the weighted column
frequencies of `analysis.pssm`.

Shapes: B batch, L tokens, V vocabulary, N variants.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

from protein_performer.analysis.dms import SCORED, SYNONYMOUS, Variant, variant_status
from protein_performer.constants import ALIGNED_VOCAB, MASK_ID
from protein_performer.data.column_order import Direction, framed_columns, token_positions
from protein_performer.data.msa_mapping import ColumnMap
from protein_performer.data.tokenizer import Alphabet
from protein_performer.generation.scoring import sequence_log_likelihoods

SCORE_METHODS: tuple[str, ...] = ("masked-marginals", "wt-marginals", "pll", "causal-llr")


@dataclass(frozen=True)
class ScoringFrame:
    tokens_L: np.ndarray  # int64 model input of the wild type, specials included
    position_of: np.ndarray  # [L_wt] int64 index into tokens_L, -1 where the residue has none


def unaligned_frame(wild_type: str) -> ScoringFrame:
    tokens = Alphabet().encode(wild_type).astype(np.int64)
    return ScoringFrame(tokens, np.arange(len(wild_type), dtype=np.int64) + 1)


def aligned_frame(column_map: ColumnMap, direction: Direction = "forward") -> ScoringFrame:
    """The wild type's aligned row as an aligned model reads it (columns in the reading order
    of `direction`, `data.column_order`), and the token of each residue's column."""
    columns = np.array([ALIGNED_VOCAB[c] for c in column_map.aligned()], dtype=np.int64)
    position_of = token_positions(column_map.residue_to_column, len(columns), direction)
    return ScoringFrame(framed_columns(columns, direction), position_of)


def mutated_tokens(frame: ScoringFrame, variant: Variant) -> np.ndarray:
    tokens = frame.tokens_L.copy()
    for m in variant.mutations:
        tokens[frame.position_of[m.position]] = ALIGNED_VOCAB[m.mutant]
    return tokens


def score_by_status(
    frame: ScoringFrame, variants: list[Variant], score_scored: Callable[[list[Variant]], list]
) -> np.ndarray:
    statuses = [variant_status(v, frame.position_of) for v in variants]
    out = np.full(len(variants), np.nan)
    out[[s == SYNONYMOUS for s in statuses]] = 0.0
    scored = [i for i, s in enumerate(statuses) if s == SCORED]
    if scored:
        out[scored] = score_scored([variants[i] for i in scored])
    return out


@torch.no_grad()
def _log_probs(model, tokens_BL: np.ndarray, batch_size: int = 256) -> np.ndarray:
    """[B, L, V] log-softmax of the model's logits, in batches."""
    model.eval()
    out = []
    for start in range(0, len(tokens_BL), batch_size):
        batch = torch.from_numpy(np.ascontiguousarray(tokens_BL[start : start + batch_size]))
        out.append(torch.log_softmax(model(batch).logits_BLV.float(), -1).numpy())
    return np.concatenate(out)


def _log_odds(logp_LV: np.ndarray, frame: ScoringFrame, variant: Variant) -> float:
    return float(
        sum(
            logp_LV[frame.position_of[m.position], ALIGNED_VOCAB[m.mutant]]
            - logp_LV[frame.position_of[m.position], ALIGNED_VOCAB[m.wild_type]]
            for m in variant.mutations
        )
    )


def masked_marginals(model, frame: ScoringFrame, variants: list[Variant]) -> np.ndarray:
    """Singles share one masked pass per position; a multi-mutant masks all its positions."""

    def score(batch: list[Variant]) -> list[float]:
        masks = sorted({tuple(sorted(frame.position_of[m.position] for m in v.mutations))
                        for v in batch})  # fmt: skip
        inputs = np.repeat(frame.tokens_L[None], len(masks), 0)
        for row, positions in enumerate(masks):
            inputs[row, list(positions)] = MASK_ID
        logp = dict(zip(masks, _log_probs(model, inputs), strict=True))
        return [
            _log_odds(logp[tuple(sorted(frame.position_of[m.position] for m in v.mutations))],
                      frame, v)
            for v in batch
        ]  # fmt: skip

    return score_by_status(frame, variants, score)


def wildtype_marginals(model, frame: ScoringFrame, variants: list[Variant]) -> np.ndarray:
    logp_LV = _log_probs(model, frame.tokens_L[None])[0]
    return score_by_status(
        frame, variants, lambda batch: [_log_odds(logp_LV, frame, v) for v in batch]
    )


def pseudo_log_likelihoods(
    model, tokens_BL: np.ndarray, positions: np.ndarray, batch_size: int = 512
) -> np.ndarray:
    """[B] Σ over `positions` of log p(token | the rest), each position masked in turn
    (Salazar et al. 2020)."""
    n, k = len(tokens_BL), len(positions)
    masked = np.repeat(tokens_BL, k, 0)
    rows = np.arange(n * k)
    cols = np.tile(positions, n)
    truth = masked[rows, cols].copy()
    masked[rows, cols] = MASK_ID
    total = np.zeros(n * k)
    for start in range(0, n * k, batch_size):
        sl = slice(start, start + batch_size)
        logp_BLV = _log_probs(model, masked[sl], batch_size)
        total[sl] = logp_BLV[np.arange(len(logp_BLV)), cols[sl], truth[sl]]
    return total.reshape(n, k).sum(1)


def pseudo_log_likelihood_ratio(
    model, frame: ScoringFrame, variants: list[Variant], batch_size: int = 512
) -> np.ndarray:
    """L masked passes per variant: the most faithful masked-LM score, and the slowest."""
    positions = np.arange(1, len(frame.tokens_L) - 1)

    def score(batch: list[Variant]) -> np.ndarray:
        inputs = np.stack([frame.tokens_L] + [mutated_tokens(frame, v) for v in batch])
        pll = pseudo_log_likelihoods(model, inputs, positions, batch_size)
        return pll[1:] - pll[0]

    return score_by_status(frame, variants, score)


def causal_log_likelihood_ratio(model, frame: ScoringFrame, variants: list[Variant]) -> np.ndarray:
    """log p(variant) − log p(wild type) under a causal model, `<eos>` included."""
    if model.config.objective != "causal":
        raise ValueError("causal-llr needs a causal model; use masked-marginals for an MLM")

    def score(batch: list[Variant]) -> np.ndarray:
        inputs = [frame.tokens_L] + [mutated_tokens(frame, v) for v in batch]
        ll_B = sequence_log_likelihoods(model, inputs)
        return ll_B[1:] - ll_B[0]

    return score_by_status(frame, variants, score)


def sequence_scores(model, framed: list[np.ndarray], batch_size: int = 32) -> np.ndarray:
    """[N] log p(x) of each framed `<cls> … <eos>` token array under a causal model, or its
    pseudo-log-likelihood Σᵢ log p(xᵢ | x₋ᵢ) over every position between the specials under a
    masked model (for an aligned model: every column, gaps included)."""
    if model.config.causal:
        return sequence_log_likelihoods(model, framed, batch_size=batch_size)
    return np.array([
        pseudo_log_likelihoods(model, np.asarray(t, dtype=np.int64)[None],
                               np.arange(1, len(t) - 1), batch_size)[0]
        for t in framed
    ])  # fmt: skip


def score_variants(model, frame: ScoringFrame, variants: list[Variant], method: str):
    """Dispatch on `method`, one of `SCORE_METHODS`."""
    if method in ("masked-marginals", "wt-marginals", "pll") and model.config.causal:
        raise ValueError(f"{method} needs a masked-LM model; use causal-llr for a causal one")
    scorers = {
        "masked-marginals": masked_marginals,
        "wt-marginals": wildtype_marginals,
        "pll": pseudo_log_likelihood_ratio,
        "causal-llr": causal_log_likelihood_ratio,
    }
    if method not in scorers:
        raise ValueError(f"method must be one of {SCORE_METHODS}, got {method!r}")
    return scorers[method](model, frame, variants)
