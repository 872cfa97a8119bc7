"""Aligned family models in every inference path: FamilyInfo saved and loaded in both formats,
placement of sequences on the columns, and the front door's score / embed / generate."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import protein_performer as pp
from protein_performer.analysis.placement import PlacementError, family_of, place
from protein_performer.constants import GAP_ID, VOCAB_SIZE
from protein_performer.data.msa import read_msa
from protein_performer.data.msa_mapping import build_profile, profile_text
from protein_performer.model.config import PerformerConfig
from protein_performer.model.family_info import HMM_NAME, FamilyInfo
from protein_performer.model.io import load_model, save_pretrained
from protein_performer.model.performer import ProteinPerformer
from protein_performer.paths import PF00014_DIR
from tests.helpers import aligned_model

ALIGNMENT = PF00014_DIR / "PF00014_mgap6.fasta.gz"
BPTI_MATURE = "RPDFCLEPPYTGPCKARIIRYFYNAKAGLCQTFVYGGCRAKRNNFKSAEDCMRTCGGA"
UNRELATED = "MSKGEELFTGVVPILVELDGDVNGHKFSVSGEGEGDATYGKLTLKFICTTGKLPVPWPTLVTTF"


@pytest.fixture(scope="module")
def msa():
    full = read_msa(ALIGNMENT)
    return full.select(rows=np.arange(300))


@pytest.fixture(scope="module")
def info(msa) -> FamilyInfo:
    return FamilyInfo("aligned", msa.width, ALIGNMENT.name, "0" * 64,
                      profile_text(build_profile(msa)))  # fmt: skip


def _lightning_checkpoint(model: ProteinPerformer, path, info: FamilyInfo | None) -> None:
    checkpoint = {
        "state_dict": {f"model.{k}": v for k, v in model.state_dict().items()},
        "hyper_parameters": {"model": model.config.to_dict()},
    }
    if info is not None:
        checkpoint["family"] = info.to_dict()
    torch.save(checkpoint, path)


def test_family_info_round_trips_ckpt_to_pretrained_dir(info, msa, tmp_path):
    model = aligned_model(info)
    _lightning_checkpoint(model, tmp_path / "family.ckpt", info)
    from_ckpt = load_model(tmp_path / "family.ckpt")
    assert from_ckpt.family_info == info
    save_pretrained(from_ckpt, tmp_path / "pretrained")
    assert (tmp_path / "pretrained" / HMM_NAME).read_text() == info.hmm
    from_dir = load_model(tmp_path / "pretrained")
    assert from_dir.family_info == info
    tokens = torch.from_numpy(place(info, msa.aligned(0)).tokens_L[None])
    with torch.no_grad():
        torch.testing.assert_close(from_dir(tokens).logits_BLV, model(tokens).logits_BLV)


def test_a_general_checkpoint_has_no_family_info(info, tmp_path):
    model = aligned_model(info)
    _lightning_checkpoint(model, tmp_path / "plain.ckpt", None)
    loaded = load_model(tmp_path / "plain.ckpt")
    assert loaded.family_info is None
    save_pretrained(loaded, tmp_path / "plain")
    assert not (tmp_path / "plain" / HMM_NAME).exists()
    assert load_model(tmp_path / "plain").family_info is None
    # ... but its aligned vocabulary makes it an aligned model without a profile
    legacy = family_of(loaded)
    assert legacy.view == "aligned" and legacy.n_columns == info.n_columns and not legacy.hmm


def test_a_row_places_the_same_with_and_without_its_gaps(info, msa):
    row = msa.aligned(0)
    assert row.startswith("-") and "-" in row[1:]
    given = place(info, row)
    assert given.method == "aligned" and given.aligned_row == row
    aligned = place(info, row.replace("-", ""))
    assert aligned.method == "hmmalign" and aligned.aligned_row == row
    np.testing.assert_array_equal(aligned.residue_to_column, given.residue_to_column)
    # hmmalign may leave a sparse first or last column to a flanking residue; the columns
    # in between agree for nearly every row.
    rows = [msa.aligned(i) for i in range(0, 300, 10)]
    agree = [place(info, r.replace("-", "")).aligned_row[1:-1] == r[1:-1] for r in rows]
    assert np.mean(agree) >= 0.9


def test_bpti_is_placed_on_the_kunitz_columns_and_an_unrelated_protein_is_refused(info):
    placement = place(info, BPTI_MATURE)
    # column c (1-based) is residue c + 3 of the mature chain, wherever a residue is placed
    placed = np.flatnonzero(placement.residue_to_column >= 0)
    assert len(placed) >= 0.9 * info.n_columns
    np.testing.assert_array_equal(placement.residue_to_column[placed], placed - 3)
    with pytest.raises(PlacementError, match="not recognised") as error:
        place(info, UNRELATED, name="gfp")
    assert str(error.value).startswith("gfp:") and "\n" not in str(error.value)


def test_placement_refusals_name_the_sequence(info):
    with pytest.raises(PlacementError, match="^row 3: given aligned .* 4 columns"):
        place(info, "AC-D", name="row 3")
    no_profile = FamilyInfo("aligned", info.n_columns, "x", "", None)
    with pytest.raises(PlacementError, match="^s: the model saved no profile"):
        place(no_profile, BPTI_MATURE, name="s")
    with pytest.raises(PlacementError, match="receive a residue"):
        place(info, BPTI_MATURE[:30], min_coverage=0.9, max_evalue=float("inf"))


def test_score_and_embed_read_aligned_and_unaligned_input_alike(info, msa):
    model = aligned_model(info)
    row = msa.aligned(0)
    scores = pp.score(model, [row, row.replace("-", "")])
    assert np.isfinite(scores).all() and scores[0] == pytest.approx(scores[1])
    other = pp.score(model, [msa.aligned(1)])
    assert other[0] != pytest.approx(scores[0])
    # the pseudo-log-likelihood of the row: every column masked in turn
    tokens = place(info, row).tokens_L
    with torch.no_grad():
        total = 0.0
        for t in range(1, len(tokens) - 1):
            masked = torch.from_numpy(tokens.copy()[None])
            masked[0, t] = 1
            logp = torch.log_softmax(model(masked).logits_BLV[0, t].float(), -1)
            total += float(logp[tokens[t]])
    assert scores[0] == pytest.approx(total, rel=1e-5)
    mean = pp.embed(model, [row, row.replace("-", "")])
    np.testing.assert_allclose(mean[0], mean[1], atol=1e-6)
    per_token = pp.embed(model, [row], per_token=True)[0]
    assert per_token.shape == (info.n_columns, 32)
    with pytest.raises(PlacementError, match="^sequence 1: not recognised"):
        pp.score(model, [UNRELATED])


def test_causal_aligned_model_scores_rows_and_generates_whole_rows(info, msa):
    model = aligned_model(info, objective="causal")
    row = msa.aligned(0)
    ll = pp.score(model, [row])[0]
    tokens = torch.from_numpy(place(info, row).tokens_L[None])
    with torch.no_grad():
        logp = torch.log_softmax(model(tokens).logits_BLV[0, :-1].double(), -1)
    assert ll == pytest.approx(float(logp.gather(-1, tokens[0, 1:, None]).sum()), rel=1e-6)
    rows = pp.generate(model, n=5, seed=1)
    assert all(len(r) == info.n_columns for r in rows)
    assert any("-" in r for r in rows)  # an untrained aligned model samples gaps too
    prompted = pp.generate(model, prompt=row[:5], n=2)
    assert all(r.startswith(row[:5]) and len(r) == info.n_columns for r in prompted)
    plain = pp.generate(model, n=5, seed=1, aligned=False)
    assert plain == [r.replace("-", "") for r in rows]
    with pytest.raises(ValueError, match="all its 53 columns"):
        pp.generate(model, max_length=10)


def test_general_models_keep_their_vocabulary():
    model = ProteinPerformer(PerformerConfig(vocab_size=VOCAB_SIZE, max_len=40, d_model=32,
                                             n_heads=2, n_layers=1, d_ff=64)).eval()  # fmt: skip
    assert family_of(model) is None
    with pytest.raises(Exception, match="'-'"):
        pp.score(model, ["MK-TA"])
    assert GAP_ID == VOCAB_SIZE
