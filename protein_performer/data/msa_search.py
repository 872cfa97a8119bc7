"""From one protein to its family alignment: an iterative profile search (jackhmmer, with
pyhmmer; Eddy 2011) of a sequence database, written as A2M over the query's columns.

The recipe follows EVcouplings' `align` stage (Hopf et al. 2019, Bioinformatics 35:1582):
- inclusion and reporting thresholds are bit scores per query residue (`bitscore` × L), so one
  setting suits queries of any length;
- the columns are the query's residues (its "focus" positions): every hit is placed on them
  through its alignment to the final profile, and what falls elsewhere is kept as a lowercase
  insertion;
- a hit that covers less than `min_coverage` of the columns with residues is dropped (fragments
  teach a model little and distort the sequence weights);
- a column where less than `min_column_coverage` of the rows have a residue becomes lowercase
  in every row: it stays in the unaligned view but is no column of the aligned one.

The query is the first row, named `<query>/<start>-<end>` like the hits, so `family
--eval.query` can name it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from protein_performer.data.fasta import iter_fasta


@dataclass(frozen=True)
class SearchConfig:
    """How the family is collected and filtered (EVcouplings' defaults where it has them)."""

    # jackhmmer rounds: each rebuilds the profile from the hits included so far.
    iterations: int = 5
    # Inclusion (and reporting) threshold in bits per query residue, for sequences and domains.
    bitscore: float = 0.5
    # Keep a hit only if it has residues in at least this share of the query's columns.
    min_coverage: float = 0.5
    # A column with residues in less than this share of the rows becomes an insertion.
    min_column_coverage: float = 0.7
    # Threads for the search (0: all cores).
    cpus: int = 0

    def __post_init__(self) -> None:
        if self.iterations < 1:
            raise ValueError(f"--iterations must be >= 1, got {self.iterations}")
        if self.bitscore <= 0:
            raise ValueError(f"--bitscore must be > 0, got {self.bitscore}")
        for flag, value in (("--min-coverage", self.min_coverage),
                            ("--min-column-coverage", self.min_column_coverage)):  # fmt: skip
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{flag} must be in [0, 1], got {value}")
        if self.cpus < 0:
            raise ValueError(f"--cpus must be >= 0, got {self.cpus}")


@dataclass(frozen=True)
class FamilyAlignment:
    """Rows over the query's columns: `match_NC` upper-case letters or `-` per column, and
    per row the lower-case insertion after each column (index 0: before the first)."""

    names: tuple[str, ...]
    match_NC: np.ndarray  # <U1 [N, L_query]
    inserts_NC1: tuple[tuple[str, ...], ...]  # per row, L_query + 1 insertion strings
    hits: int  # hits the search included, before the coverage filter

    def to_a2m(self, focus_C: np.ndarray) -> str:
        """A2M text with the columns `focus_C` (bool) as match states, the others lowercase."""
        lines = []
        for name, match_C, inserts in zip(self.names, self.match_NC, self.inserts_NC1,
                                          strict=True):  # fmt: skip
            parts = [inserts[0]]
            for c, char in enumerate(match_C):
                if focus_C[c]:
                    parts.append(char)
                elif char != "-":
                    parts.append(char.lower())
                parts.append(inserts[c + 1])
            lines.append(f">{name}\n{''.join(parts)}\n")
        return "".join(lines)


def _digital(name: str, sequence: str, alphabet):
    from pyhmmer import easel

    return easel.TextSequence(name=name.encode(), sequence=sequence).digitize(alphabet)


def read_database(path: str | Path, alphabet):
    """Every record of a FASTA file (optionally .gz) as a pyhmmer `DigitalSequenceBlock`."""
    from pyhmmer import easel

    block = easel.DigitalSequenceBlock(alphabet)
    names = set()
    for record in iter_fasta(path):
        if record.name in names:
            continue  # a repeated entry would only be a duplicate row
        names.add(record.name)
        block.append(_digital(record.name, record.sequence.upper(), alphabet))
    if not len(block):
        raise ValueError(f"--db {path}: no sequences")
    return block


def _place(alignment, query_state_C: np.ndarray, n_columns: int):
    """(match letters over the query's columns, insertions) of one domain alignment."""
    match_C = np.full(n_columns, "-", dtype="<U1")
    inserts = [""] * (n_columns + 1)
    last = 0  # insertions go after the last query column seen
    state = alignment.hmm_from
    for hmm_char, char in zip(alignment.hmm_sequence, alignment.target_sequence, strict=True):
        if hmm_char == ".":  # an insert state of the profile
            if char != "-":
                inserts[last] += char.lower()
            continue
        column = query_state_C[state - 1]
        if column >= 0:
            if char != "-":
                match_C[column] = char.upper()
            last = column + 1
        elif char != "-":  # a profile state the query has no residue in
            inserts[last] += char.lower()
        state += 1
    return match_C, inserts


def search_family(
    query_name: str, query: str, database, cfg: SearchConfig, alphabet
) -> FamilyAlignment:
    """jackhmmer `query` against `database`, then place every included domain on the query's
    residues through the final profile and apply the coverage filter."""
    import pyhmmer

    threshold = cfg.bitscore * len(query)
    query_seq = _digital(query_name, query, alphabet)
    result = next(iter(pyhmmer.hmmer.jackhmmer(
        query_seq, database, max_iterations=cfg.iterations, cpus=cfg.cpus,
        T=threshold, domT=threshold, incT=threshold, incdomT=threshold,
    )))  # fmt: skip
    hmm = result.hmm
    # Which query residue each profile state holds (-1: none), from the query's own alignment.
    placed = pyhmmer.hmmer.hmmalign(hmm, [query_seq], trim=False).alignment[0]
    query_state_C = np.full(hmm.M, -1, dtype=np.int64)
    state = residue = 0
    for char in placed:
        if char == "-":
            state += 1
        elif char == ".":
            continue
        elif char.islower():
            residue += 1
        else:
            query_state_C[state] = residue
            state += 1
            residue += 1
    n_columns = len(query)
    query_match = np.full(n_columns, "-", dtype="<U1")
    on_states = query_state_C[query_state_C >= 0]
    query_match[on_states] = np.array(list(query.upper()))[on_states]
    names = [f"{query_name}/1-{len(query)}"]
    match_rows, insert_rows = [query_match], [tuple([""] * (n_columns + 1))]
    included = 0
    for hit in result.hits:
        if not hit.included:
            continue
        for domain in hit.domains:
            if not domain.included:
                continue
            included += 1
            alignment = domain.alignment
            name = alignment.target_name
            name = name.decode() if isinstance(name, bytes) else name
            if name == query_name:
                continue  # the query itself: already the first row
            match_C, inserts = _place(alignment, query_state_C, n_columns)
            if (match_C != "-").mean() < cfg.min_coverage:
                continue
            names.append(f"{name}/{alignment.target_from}-{alignment.target_to}")
            match_rows.append(match_C)
            insert_rows.append(tuple(inserts))
    return FamilyAlignment(tuple(names), np.stack(match_rows), tuple(insert_rows), included)


def focus_columns(family: FamilyAlignment, min_column_coverage: float) -> np.ndarray:
    """[L_query] bool: columns where enough rows (and the query) have a residue."""
    occupied_C = (family.match_NC != "-").mean(0)
    return (occupied_C >= min_column_coverage) & (family.match_NC[0] != "-")
