"""A family model that reads its columns C→N ("reverse", `data.column_order`) is fed and read
in column order everywhere: its scores, embeddings, samples, variant scores and contact positions
equal those of the same weights reading the mirrored row N→C."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch

import protein_performer as pp
from protein_performer.analysis.dms import Variant
from protein_performer.analysis.mutations import parse_mutations
from protein_performer.analysis.placement import place
from protein_performer.analysis.variant_scores import (
    aligned_frame,
    causal_log_likelihood_ratio,
    masked_marginals,
)
from protein_performer.constants import ALIGNED_VOCAB, MASK_ID
from protein_performer.data.column_order import (
    check_direction,
    framed_columns,
    in_reading_order,
    token_positions,
)
from protein_performer.data.family_alignment import FamilyDataConfig, row_tokens
from protein_performer.data.msa import read_msa
from protein_performer.family.generate import per_column_log_likelihood, sample_aligned
from protein_performer.model.family_info import FamilyInfo
from protein_performer.model.performer import ProteinPerformer
from protein_performer.paths import PF00014_DIR, PF00595_DIR
from tests.helpers import aligned_model

ALIGNMENT = PF00014_DIR / "PF00014_mgap6.fasta.gz"

pytestmark = pytest.mark.usefixtures("single_thread")


@pytest.fixture(scope="module")
def msa():
    return read_msa(ALIGNMENT).select(rows=np.arange(40))


def _pair(msa, objective: str) -> tuple[ProteinPerformer, ProteinPerformer]:
    """One set of weights, labelled once N→C and once C→N."""
    forward = aligned_model(FamilyInfo("aligned", msa.width, ALIGNMENT.name, "0" * 64), objective)
    reverse = aligned_model(dataclasses.replace(forward.family_info, direction="reverse"),
                            objective)  # fmt: skip
    reverse.load_state_dict(forward.state_dict())
    return forward, reverse


def test_the_column_order_helpers_agree_with_each_other():
    ids_C = np.arange(5, 12)
    for direction in ("forward", "reverse"):
        framed = framed_columns(ids_C, direction)
        positions = token_positions(np.arange(7), 7, direction)
        np.testing.assert_array_equal(framed[positions], ids_C)
        np.testing.assert_array_equal(in_reading_order(in_reading_order(ids_C, direction),
                                                       direction), ids_C)  # fmt: skip
    np.testing.assert_array_equal(framed_columns(ids_C, "reverse")[1:-1], ids_C[::-1])
    np.testing.assert_array_equal(token_positions(np.array([0, -1, 6]), 7, "reverse"), [7, -1, 1])
    with pytest.raises(ValueError, match="must be 'forward' or 'reverse', got 'up'"):
        check_direction("up")


def test_the_family_data_reads_rows_in_the_configured_order(msa):
    forward = row_tokens(msa, "aligned")
    reverse = row_tokens(msa, "aligned", "reverse")
    np.testing.assert_array_equal(reverse[3][1:-1], forward[3][1:-1][::-1])
    assert (reverse[3][0], reverse[3][-1]) == (forward[3][0], forward[3][-1])
    with pytest.raises(ValueError, match="direction 'reverse' needs view 'aligned'"):
        FamilyDataConfig(msa="f", view="unaligned", direction="reverse")
    with pytest.raises(ValueError, match="direction must be 'forward' or 'reverse'"):
        FamilyDataConfig(msa="f", direction="backward")


def test_the_direction_survives_a_save_and_load():
    info = FamilyInfo("aligned", 7, "f.sto", "0" * 64, direction="reverse")
    assert FamilyInfo.from_dict(info.to_dict()) == info
    assert FamilyInfo.from_dict({"view": "aligned", "n_columns": 7, "alignment": "f",
                                 "alignment_sha256": ""}).direction == "forward"  # fmt: skip
    with pytest.raises(ValueError, match="direction must be"):
        FamilyInfo("aligned", 7, "f", "", direction="sideways")


def test_a_reverse_causal_model_scores_embeds_and_samples_the_mirrored_row(msa):
    forward, reverse = _pair(msa, "causal")
    rows = [msa.aligned(i) for i in range(4)]
    assert all("-" in r for r in rows)  # given aligned, so the mirror is placed as given
    mirrored = [r[::-1] for r in rows]
    np.testing.assert_allclose(pp.score(reverse, rows), pp.score(forward, mirrored), rtol=1e-6)
    assert not np.allclose(pp.score(reverse, rows), pp.score(forward, rows))
    per_token = pp.embed(reverse, rows[:1], per_token=True)[0]
    np.testing.assert_allclose(per_token, pp.embed(forward, mirrored[:1], per_token=True)[0][::-1],
                               atol=1e-5)  # fmt: skip
    samples = pp.generate(reverse, n=4, seed=2)
    assert samples == [s[::-1] for s in pp.generate(forward, n=4, seed=2)]
    prompted = pp.generate(reverse, prompt=rows[0][-6:], n=2, seed=2)
    assert all(s.endswith(rows[0][-6:]) and len(s) == msa.width for s in prompted)
    drawn = sample_aligned(reverse, 4, msa.width, seed=5)
    np.testing.assert_array_equal(drawn, sample_aligned(forward, 4, msa.width, seed=5)[:, ::-1])
    tokens_NC = msa.tokens_NC[:6]
    np.testing.assert_allclose(per_column_log_likelihood(reverse, tokens_NC),
                               per_column_log_likelihood(forward, tokens_NC[:, ::-1]),
                               rtol=1e-5)  # fmt: skip


def _mutant(row: str, column: int, residue: str) -> str:
    return row[:column] + residue + row[column + 1 :]


def test_variant_scores_of_a_reverse_model_read_the_mutated_column(msa):
    _, reverse = _pair(msa, "causal")
    row = msa.aligned(2)
    placement = place(reverse.family_info, row)
    assert placement.direction == "reverse"
    cmap = placement.column_map()
    frame = aligned_frame(cmap, "reverse")
    column = int(cmap.residue_to_column[4])
    wt = placement.sequence[4]
    new = "W" if wt != "W" else "A"
    assert frame.tokens_L[frame.position_of[4]] == ALIGNED_VOCAB[wt]
    variant = Variant(f"{wt}5{new}", 0.0, parse_mutations(f"{wt}5{new}", placement.sequence), 1)
    llr = causal_log_likelihood_ratio(reverse, frame, [variant])[0]
    expected = np.diff(pp.score(reverse, [row, _mutant(row, column, new)]))[0]
    assert llr == pytest.approx(float(expected), rel=1e-5, abs=1e-6)
    # a masked model's marginal at the column reads the token it masked
    _, masked_rev = _pair(msa, "mlm")
    with torch.no_grad():
        tokens = torch.from_numpy(frame.tokens_L.copy()[None])
        tokens[0, frame.position_of[4]] = MASK_ID
        logp = torch.log_softmax(masked_rev(tokens).logits_BLV[0, frame.position_of[4]], -1)
    by_hand = float(logp[ALIGNED_VOCAB[new]] - logp[ALIGNED_VOCAB[wt]])
    assert masked_marginals(masked_rev, frame, [variant])[0] == pytest.approx(by_hand, rel=1e-5)


@pytest.mark.parametrize("name", ["family_pf00595", "family_pf00595_reverse",
                                  "family_pf00014", "family_pf00014_reverse"])  # fmt: skip
def test_a_shipped_family_model_prefers_natural_rows_to_their_mirror_images(name):
    model = pp.load_model(name)
    assert model.family_info.direction == ("reverse" if name.endswith("reverse") else "forward")
    alignment = PF00014_DIR if "pf00014" in name else PF00595_DIR
    msa = read_msa(next(alignment.glob("*_mgap6.fasta.gz"))).select(rows=np.arange(0, 600, 30))
    rows = [msa.aligned(i) for i in range(msa.depth) if "-" in msa.aligned(i)]
    natural = pp.score(model, rows)
    mirrored = pp.score(model, [r[::-1] for r in rows])
    assert len(rows) >= 10 and np.mean(natural > mirrored) >= 0.9
