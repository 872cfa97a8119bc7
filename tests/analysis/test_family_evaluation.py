"""Unit tests of the family evaluation (`analysis.family_evaluation`) on a hand-written eight-row
alignment and four-variant scan: the config's checks, which frame and scores a model gets, the
PSSM row and the masking and pairing every row gets. The end-to-end runs (trained models, the
shipped PDZ family, the Potts baseline) are in tests/family."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
import torch

from protein_performer.analysis.family_evaluation import (
    POTTS_NAME,
    PSSM_NAME,
    WITH_POTTS,
    FamilyEvalConfig,
    _add,
    add_model,
    add_products_of_experts,
    add_pssm,
    default_methods,
    frame_for,
    is_aligned,
    is_product_of_experts,
    setup_evaluation,
)
from protein_performer.analysis.family_inputs import identity_map
from protein_performer.constants import ALIGNED_VOCAB_SIZE, VOCAB_SIZE
from protein_performer.data.family_alignment import FamilyAlignment, FamilyDataConfig
from protein_performer.model.config import preset
from protein_performer.model.performer import ProteinPerformer

WILD_TYPE = "MKTAYI"
# Column 2 is mostly K, sometimes R, never W; column 3 mostly T, sometimes S, never P.
ROWS = {
    "WT_HUMAN/1-6": "MKTAYI",
    "A_MOUSE/1-6": "MKTAYV",
    "B_YEAST/1-6": "MKSAYI",
    "C_ECOLI/1-6": "MRTAFI",
    "D_BOVIN/1-6": "MKTGYI",
    "E_RAT/1-6": "LKTAYI",
    "F_PIG/1-6": "MRSAYI",
    "G_FLY/1-6": "MKTAW-",
}
SCAN = "mutant,DMS_score\nK2R,1.0\nK2W,-1.0\nT3S,0.5\nT3P,-0.5\n"


@pytest.fixture
def files(tmp_path):
    msa = tmp_path / "family.fasta"
    msa.write_text("".join(f">{name}\n{row}\n" for name, row in ROWS.items()))
    scan = tmp_path / "scan.csv"
    scan.write_text(SCAN)
    wild_type = tmp_path / "wt.fasta"
    wild_type.write_text(f">wt\n{WILD_TYPE}\n")
    return SimpleNamespace(msa=msa, scan=scan, wild_type=wild_type, cache=tmp_path / "cache")


def _alignment(files) -> FamilyAlignment:
    config = FamilyDataConfig(msa=str(files.msa), weights=False, valid_fraction=0.0,
                              test_fraction=0.0, cache_dir=str(files.cache))  # fmt: skip
    return FamilyAlignment(config)


def _config(files, **changes) -> FamilyEvalConfig:
    settings = {
        "scan": str(files.scan),
        "score_column": "DMS_score",
        "wild_type": str(files.wild_type),
        "query": "WT_HUMAN/1-6",
        "n_boot": 10,
    }
    return FamilyEvalConfig(**{**settings, **changes})


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"min_coverage": 1.5}, r"eval.min_coverage must be in \[0, 1\], got 1.5"),
        ({"n_boot": 0}, "eval.n_boot must be an integer >= 1, got 0"),
        ({"n_boot": True}, "eval.n_boot must be an integer >= 1, got True"),
        ({"n_samples": -1}, "eval.n_samples must be >= 0, got -1"),
        ({"contacts": "c.dat", "structure": "s.pdb", "chain": "A"}, "give one contact source"),
        ({"structure": "s.pdb"}, "eval.structure needs eval.chain"),
        ({"potts_iterations": -1}, "eval.potts_iterations must be >= 0, got -1"),
    ],
    ids=["coverage", "n-boot-0", "n-boot-bool", "n-samples", "two-sources", "chain", "potts"],
)
def test_the_config_refuses_a_bad_setting_in_one_line(changes, message):
    with pytest.raises(ValueError, match=message):
        FamilyEvalConfig(**changes)


def _stub(vocab_size: int, causal: bool) -> SimpleNamespace:
    return SimpleNamespace(config=SimpleNamespace(vocab_size=vocab_size, causal=causal))


def test_the_gap_in_the_vocabulary_makes_a_model_aligned_and_sets_its_scores():
    aligned, plain = _stub(ALIGNED_VOCAB_SIZE, True), _stub(VOCAB_SIZE, False)
    assert is_aligned(aligned) and not is_aligned(plain)
    assert default_methods(aligned) == ("causal-llr",)
    assert default_methods(plain) == ("masked-marginals", "wt-marginals")


def test_an_aligned_model_needs_the_alignment_and_a_plain_one_reads_the_wild_type():
    identity = identity_map(WILD_TYPE, 1)
    with pytest.raises(ValueError, match=r"needs the family alignment \(--msa\)"):
        frame_for(_stub(ALIGNED_VOCAB_SIZE, True), identity)
    frame = frame_for(_stub(VOCAB_SIZE, False), identity)
    assert len(frame.tokens_L) == len(WILD_TYPE) + 2  # <cls> residues <eos>
    assert frame.position_of.tolist() == list(range(1, len(WILD_TYPE) + 1))


def test_setup_places_the_wild_type_on_its_row_and_scores_every_variant(files):
    evaluation = setup_evaluation(_alignment(files), _config(files))
    assert evaluation.column_map.method == "row:WT_HUMAN/1-6"
    assert evaluation.statuses == ["scored"] * 4
    assert evaluation.predictors == [] and evaluation.truths == ()


def test_the_pssm_prefers_the_residues_the_column_holds(files):
    alignment = _alignment(files)
    evaluation = setup_evaluation(alignment, _config(files))
    add_pssm(evaluation, alignment, n_boot=10)
    (pssm,) = evaluation.predictors
    k2r, k2w, t3s, t3p = pssm.scores_N
    assert pssm.name == PSSM_NAME and k2r > k2w and t3s > t3p
    assert pssm.vs_pssm is None and pssm.vs_potts is None  # a baseline is not compared to itself


def test_every_later_row_is_masked_to_the_scored_variants_and_paired_with_the_pssm(files):
    evaluation = setup_evaluation(None, _config(files, query=None))
    evaluation.statuses = ["scored", "scored", "synonymous", "unscorable"]
    _add(evaluation, PSSM_NAME, np.array([1.0, -1.0, 0.5, 0.0]), n_boot=10)
    _add(evaluation, "perfect", np.array([4.0, 1.0, 3.0, 2.0]), n_boot=10)
    pssm, perfect = evaluation.predictors
    assert np.isnan(perfect.scores_N[2:]).all() and perfect.scores_N[:2].tolist() == [4.0, 1.0]
    assert perfect.rho.n == 2 and perfect.rho.rho == pytest.approx(1.0)
    assert perfect.vs_pssm is not None and perfect.vs_pssm.rho == pytest.approx(0.0)
    assert perfect.vs_potts is None


def test_a_model_row_per_method_with_unscorable_variants_left_out(files):
    torch.manual_seed(0)
    model = ProteinPerformer(preset("tiny_l2_d64")).eval()
    evaluation = setup_evaluation(None, _config(files, query=None))
    evaluation.statuses[3] = "unscorable"
    add_model(evaluation, model, "tiny", None, n_boot=10)
    assert [p.name for p in evaluation.predictors] == [
        "tiny masked-marginals", "tiny wt-marginals",
    ]  # fmt: skip
    for predictor in evaluation.predictors:
        assert np.isfinite(predictor.scores_N[:3]).all() and np.isnan(predictor.scores_N[3])
        assert predictor.rho.n == 3


def test_the_product_of_experts_adds_the_model_score_and_the_potts_energy(files):
    evaluation = setup_evaluation(None, _config(files, query=None))
    evaluation.statuses = ["scored"] * 4
    _add(evaluation, POTTS_NAME, np.array([1.0, -2.0, 0.5, 0.0]), n_boot=10)
    model_row = _add(evaluation, "tiny causal-llr", np.array([0.5, 0.5, -1.0, 2.0]), n_boot=10)
    _add(evaluation, "reference causal-llr", np.array([9.0, 9.0, 9.0, 9.0]), n_boot=10)
    add_products_of_experts(evaluation, [model_row], n_boot=10)
    product = evaluation.predictors[-1]
    assert product.name == "tiny causal-llr" + WITH_POTTS and is_product_of_experts(product.name)
    np.testing.assert_allclose(product.scores_N, [1.5, -1.5, -0.5, 2.0])
    assert product.vs_potts is not None  # paired with the Potts row like every model row
    assert len(evaluation.predictors) == 4  # only the rows given get a product row


def test_no_product_of_experts_without_a_potts_row(files):
    evaluation = setup_evaluation(None, _config(files, query=None))
    model_row = _add(evaluation, "tiny causal-llr", np.array([0.5, 0.5, -1.0, 2.0]), n_boot=10)
    add_products_of_experts(evaluation, [model_row], n_boot=10)
    assert [p.name for p in evaluation.predictors] == ["tiny causal-llr"]
