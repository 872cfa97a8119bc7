import numpy as np
import pytest

from protein_performer.analysis.contacts import true_contacts
from protein_performer.analysis.structures import load_bpti, load_ts50, map_onto


def test_5pti_maps_onto_p00974_residues_36_to_93():
    bpti = load_bpti()
    assert len(bpti.precursor) == 100 and len(bpti.mature.sequence) == 58
    assert bpti.uniprot_range == (36, 93)
    assert bpti.precursor[35:93] == bpti.mature.sequence
    assert bpti.mature.sequence.startswith("RPDFCLEPPY")
    # the paper's "C85" counts from 0: precursor residue 86 (1-based), mature C51
    assert bpti.precursor[85] == "C" and bpti.mature.sequence[85 - bpti.offset] == "C"
    assert bpti.offset == 35
    assert bpti.mature.coords_L3.shape == (58, 3)
    assert bpti.mature.resseq[0] == 1 and bpti.mature.resseq[-1] == 58


def test_bpti_disulfides_are_contacts():
    bpti = load_bpti()
    contacts = true_contacts(bpti.mature.coords_L3)
    # the three BPTI disulfides (mature numbering): C5-C55, C14-C38, C30-C51
    for a, b in ((5, 55), (14, 38), (30, 51)):
        assert contacts[a - 1, b - 1]


def test_map_onto_errors():
    assert map_onto("CDE", "ABCDEF") == 2
    with pytest.raises(ValueError, match="not a substring"):
        map_onto("XYZ", "ABCDEF", where="x.pdb")
    with pytest.raises(ValueError, match="more than once"):
        map_onto("AB", "ABAB")


def test_ts50_loads_fifty_sorted_chains():
    chains = load_ts50()
    assert len(chains) == 50
    names = [c.name for c in chains]
    assert names == sorted(names) and names[0] == "1ahsA"
    assert all(len(c.sequence) == len(c.coords_L3) for c in chains)
    assert all(np.isfinite(c.coords_L3).all() for c in chains)
