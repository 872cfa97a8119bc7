"""Protein structures for contact evaluation: chains read with `Bio.PDB`, one representative
atom per residue, and the sequence mapping between a PDB chain and its UniProt entry.

The representative atom follows the CASP / Rao et al. 2021 convention: Cβ, or Cα for glycine
(and for the rare residue whose side chain was not modelled).
"""

from __future__ import annotations

import csv
import gzip
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from Bio import SeqIO
from Bio.PDB import MMCIFParser, PDBParser
from Bio.SeqUtils import seq1

from protein_performer.paths import DATA_DIR

BPTI_DIR = DATA_DIR / "bpti"
TS50_DIR = DATA_DIR / "contact_testset"


@dataclass(frozen=True)
class Chain:
    """One protein chain: its sequence and one coordinate per residue."""

    name: str
    sequence: str
    coords_L3: np.ndarray  # Cβ (Cα for Gly) coordinates in Å, one row per residue
    resseq: tuple[int, ...]  # author residue numbers, for labelling figures

    def __post_init__(self) -> None:
        if len(self.sequence) != len(self.coords_L3):
            raise ValueError(
                f"{self.name}: {len(self.sequence)} residues but {len(self.coords_L3)} coordinates"
            )


def _open_text(path: Path):
    # Bio.PDB wants a text handle; structure files are often shipped gzipped.
    return gzip.open(path, "rt") if path.suffix == ".gz" else open(path)


def load_chain(path: str | Path, chain_id: str | None = None, name: str | None = None) -> Chain:
    """Read one chain (the first one when `chain_id` is None) of the first model of a PDB or
    mmCIF file (optionally .gz). Hetero residues and waters are skipped."""
    path = Path(path)
    is_cif = ".cif" in path.suffixes
    parser = MMCIFParser(QUIET=True) if is_cif else PDBParser(QUIET=True)
    with _open_text(path) as handle:
        structure = parser.get_structure(path.stem, handle)
    model = next(iter(structure))
    chains = {c.id: c for c in model}
    if not chains:
        raise ValueError(f"{path}: no chains in the first model")
    if chain_id is None:
        chain_id = next(iter(chains))
    if chain_id not in chains:
        raise ValueError(f"{path}: no chain {chain_id!r} (chains: {sorted(chains)})")
    letters, coords, resseq = [], [], []
    for residue in chains[chain_id]:
        if residue.id[0] != " ":
            continue
        atom = residue["CB"] if "CB" in residue else residue["CA"] if "CA" in residue else None
        if atom is None:
            raise ValueError(
                f"{path}: residue {residue.get_resname()} {residue.id[1]} of "
                f"chain {chain_id} has neither CB nor CA"
            )
        letters.append(seq1(residue.get_resname()))
        coords.append(atom.coord)
        resseq.append(int(residue.id[1]))
    return Chain(
        name=name or f"{path.name.split('.')[0]}{chain_id}",
        sequence="".join(letters),
        coords_L3=np.asarray(coords, dtype=np.float64),
        resseq=tuple(resseq),
    )


def map_onto(fragment: str, reference: str, *, where: str = "<input>") -> int:
    """0-based offset of `fragment` inside `reference` (an exact, unique match is required:
    a PDB chain of a mature protein is a contiguous piece of its UniProt precursor)."""
    start = reference.find(fragment)
    if start < 0:
        raise ValueError(
            f"{where}: sequence of length {len(fragment)} is not a substring of the "
            f"reference (length {len(reference)})"
        )
    if reference.find(fragment, start + 1) >= 0:
        raise ValueError(f"{where}: sequence occurs more than once in the reference")
    return start


@dataclass(frozen=True)
class Bpti:
    """BPT1_BOVIN: the 100-residue precursor, the mature 5PTI chain, and where it sits."""

    precursor: str  # UniProt P00974, 100 aa
    mature: Chain  # 5PTI chain A, 58 residues
    offset: int  # mature residue i (0-based) is precursor residue offset + i (0-based)

    @property
    def uniprot_range(self) -> tuple[int, int]:
        """1-based inclusive UniProt numbering of the mature chain (36, 93)."""
        return self.offset + 1, self.offset + len(self.mature.sequence)


def load_bpti(directory: str | Path = BPTI_DIR) -> Bpti:
    """The BPTI precursor from `P00974.fasta` and the structure from `5PTI.pdb`."""
    directory = Path(directory)
    fasta = directory / "P00974.fasta"
    precursor = str(SeqIO.read(fasta, "fasta").seq)
    mature = load_chain(directory / "5PTI.pdb", "A", name="5PTI_A")
    offset = map_onto(mature.sequence, precursor, where=f"{directory / '5PTI.pdb'} chain A")
    return Bpti(precursor=precursor, mature=mature, offset=offset)


def load_ts50(directory: str | Path = TS50_DIR) -> list[Chain]:
    """The 50 TS50 chains listed in `TS50.tsv`, sorted by id, each checked against the TSV."""
    directory = Path(directory)
    table = directory / "TS50.tsv"
    chains = []
    with open(table, newline="") as handle:
        for line_no, row in enumerate(csv.DictReader(handle, delimiter="\t"), start=2):
            chain = load_chain(
                directory / "TS50_pdb" / f"{row['id']}.pdb.gz", row["chain"], name=row["id"]
            )
            if chain.sequence != row["sequence"]:
                raise ValueError(
                    f"{table}:{line_no}: sequence of {row['id']} differs from its PDB ATOM records"
                )
            chains.append(chain)
    return sorted(chains, key=lambda c: c.name)


@dataclass(frozen=True)
class ChainAtoms:
    """One chain with every heavy atom kept: what contact definitions other than Cβ need."""

    sequence: str
    cb_L3: np.ndarray  # Cβ (Cα for Gly) per residue, as in `Chain`
    heavy: tuple[np.ndarray, ...]  # per residue: [n_atoms, 3] non-hydrogen atom coordinates


def load_chain_atoms(path: str | Path, chain_id: str, *, flag: str = "--structure") -> ChainAtoms:
    """Chain `chain_id` of the first model of a PDB or mmCIF file (optionally .gz), standard
    residues only; an absent chain is a one-line error listing the chains there are."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{flag} {path}: no such structure file")
    is_cif = ".cif" in path.suffixes
    parser = MMCIFParser(QUIET=True) if is_cif else PDBParser(QUIET=True)
    try:
        with _open_text(path) as handle:
            structure = parser.get_structure(path.stem, handle)
        model = next(iter(structure))
    except StopIteration:
        raise ValueError(f"{flag} {path}: not a readable structure (no atom records)") from None
    except (ValueError, KeyError, OSError) as error:
        raise ValueError(f"{flag} {path}: not a readable structure ({error})") from None
    chains = {c.id: c for c in model}
    if chain_id not in chains:
        raise ValueError(f"{flag} {path}: no chain {chain_id!r} (chains: {sorted(chains)})")
    letters, cb, heavy = [], [], []
    for residue in chains[chain_id]:
        atom = residue["CB"] if "CB" in residue else residue["CA"] if "CA" in residue else None
        if residue.id[0] != " " or atom is None:
            continue
        letters.append(seq1(residue.get_resname()))
        cb.append(atom.coord)
        heavy.append(np.array([a.coord for a in residue if a.element != "H"], dtype=np.float64))
    if not letters:
        raise ValueError(f"{flag} {path}: chain {chain_id!r} has no amino-acid residues")
    return ChainAtoms("".join(letters), np.asarray(cb, dtype=np.float64), tuple(heavy))
