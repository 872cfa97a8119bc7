"""Amino-acid substitutions of a protein: parsing and applying them.

The scores of a variant (masked marginals, pseudo-log-likelihood ratio, causal log-likelihood
ratio) live in `analysis.variant_scores`, the one definition that `mutations`, `dms` and the
Python API share.

Mutations are written like fair-esm's: `A12G` (wild type, 1-based position, mutant), several
joined by `:`, e.g. `A12G:K15R`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from protein_performer.constants import VOCAB

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
