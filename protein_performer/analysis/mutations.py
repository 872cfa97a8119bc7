"""Zero-shot scoring of amino-acid substitutions with a protein language model.

- Masked marginals (Meier et al. 2021, "Language models enable zero-shot prediction of the
  effects of mutations on protein function", NeurIPS; fair-esm's `predict.py`): mask each
  mutated position in the wild type and sum log p(mutant) − log p(wild type) over them.
- Pseudo-log-likelihood (Salazar et al. 2020; Meier et al. 2021): Σᵢ log p(xᵢ | x₋ᵢ), each
  position masked in turn; a variant scores PLL(variant) − PLL(wild type).
- For causal models, masking has no meaning: a variant scores its sequence log-likelihood
  Σₜ log p(xₜ | x₍<ₜ₎) minus the wild type's.

Mutations are written like fair-esm's: `A12G` (wild type, 1-based position, mutant), several
joined by `:`, e.g. `A12G:K15R`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import torch

from protein_performer.constants import MASK_ID, STANDARD_AMINO_ACIDS, VOCAB
from protein_performer.data.tokenizer import Alphabet

_MUTATION = re.compile(r"^([A-Z])(\d+)([A-Z])$")


@dataclass(frozen=True)
class Mutation:
    wild_type: str
    position: int  # 0-based index into the sequence
    mutant: str

    def __str__(self) -> str:
        return f"{self.wild_type}{self.position + 1}{self.mutant}"


def parse_mutations(
    text: str, sequence: str, *, offset: int = 1, allow_synonymous: bool = False
) -> tuple[Mutation, ...]:
    """Parse `A12G:K15R`; positions are numbered from `offset` (1 = first residue). The wild
    type letter must match the sequence, so a numbering mistake fails loudly.

    With `allow_synonymous`, a part such as `I2I` (common in deep mutational scans) is checked
    and then dropped: it changes nothing, so a wholly synonymous variant parses to `()`."""
    out = []
    for part in text.strip().split(":"):
        match = _MUTATION.match(part.strip())
        if not match:
            raise ValueError(f"mutation {part!r}: expected <wt><position><mutant>, e.g. A12G")
        wt, pos, mt = match.group(1), int(match.group(2)) - offset, match.group(3)
        if not 0 <= pos < len(sequence):
            raise ValueError(
                f"mutation {part}: position outside the sequence (length {len(sequence)})"
            )
        if sequence[pos] != wt:
            raise ValueError(
                f"mutation {part}: sequence has {sequence[pos]!r} at position "
                f"{pos + offset}, not {wt!r}"
            )
        if mt == wt and allow_synonymous:
            continue
        if mt not in VOCAB or mt == wt:
            raise ValueError(f"mutation {part}: mutant {mt!r} is not a different amino acid")
        out.append(Mutation(wt, pos, mt))
    if len({m.position for m in out}) != len(out):
        raise ValueError(f"mutations {text!r}: a position is mutated twice")
    return tuple(out)


def apply_mutations(sequence: str, mutations: tuple[Mutation, ...]) -> str:
    chars = list(sequence)
    for m in mutations:
        chars[m.position] = m.mutant
    return "".join(chars)


def _tokens(sequence: str) -> torch.Tensor:
    ids = Alphabet(unknown="x").encode(sequence)
    return torch.from_numpy(ids.astype(np.int64))[None]


def _require_mlm(model, what: str) -> None:
    if model.config.objective != "mlm":
        raise ValueError(
            f"{what} needs a masked-LM model; this one is {model.config.objective!r}"
            f" (score causal models with sequence_log_likelihood)"
        )


@torch.no_grad()
def masked_log_probs(
    model, sequence: str, positions: list[int] | None = None, batch_size: int = 32
) -> np.ndarray:
    """[L, V] log-probabilities at each residue when that residue alone is masked (rows of
    positions not asked for are NaN)."""
    _require_mlm(model, "masked marginals")
    model.eval()
    tokens_1L = _tokens(sequence)
    positions = list(range(len(sequence))) if positions is None else positions
    out = np.full((len(sequence), model.config.vocab_size), np.nan)
    for start in range(0, len(positions), batch_size):
        chunk = positions[start : start + batch_size]
        batch_BL = tokens_1L.repeat(len(chunk), 1)
        rows = torch.arange(len(chunk))
        batch_BL[rows, torch.tensor(chunk) + 1] = MASK_ID  # residue i is token i + 1
        logits_BLV = model(batch_BL).logits_BLV.float()
        logp_BV = torch.log_softmax(logits_BLV[rows, torch.tensor(chunk) + 1], dim=-1)
        out[chunk] = logp_BV.numpy()
    return out


def masked_marginal_score(logp_LV: np.ndarray, mutations: tuple[Mutation, ...]) -> float:
    """Σ log p(mutant) − log p(wild type) at the mutated positions, each masked once."""
    return float(
        sum(
            logp_LV[m.position, VOCAB[m.mutant]] - logp_LV[m.position, VOCAB[m.wild_type]]
            for m in mutations
        )
    )


def pseudo_log_likelihood(model, sequence: str, batch_size: int = 32) -> float:
    """Σᵢ log p(xᵢ | x₋ᵢ) over all residues (L masked forward passes, batched)."""
    logp_LV = masked_log_probs(model, sequence, batch_size=batch_size)
    ids = Alphabet(unknown="x").encode(sequence, add_special=False).astype(np.int64)
    return float(logp_LV[np.arange(len(sequence)), ids].sum())


@torch.no_grad()
def sequence_log_likelihood(model, sequence: str) -> float:
    """Σₜ log p(xₜ | x₍<ₜ₎) over the residues and <eos>, for causal models."""
    if model.config.objective != "causal":
        raise ValueError("sequence_log_likelihood needs a causal model")
    model.eval()
    tokens_1L = _tokens(sequence)
    logp_LV = torch.log_softmax(model(tokens_1L).logits_BLV.float()[0, :-1], dim=-1)
    return float(logp_LV.gather(-1, tokens_1L[0, 1:, None]).sum())


def single_mutant_scan(logp_LV: np.ndarray, sequence: str) -> np.ndarray:
    """[L, 20] masked-marginal scores of every single substitution (0 for the wild type),
    columns in `STANDARD_AMINO_ACIDS` order."""
    standard = [VOCAB[a] for a in STANDARD_AMINO_ACIDS]
    wt_ids = Alphabet(unknown="x").encode(sequence, add_special=False).astype(np.int64)
    return logp_LV[:, standard] - logp_LV[np.arange(len(sequence)), wt_ids][:, None]
