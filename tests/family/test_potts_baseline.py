"""The Potts baseline inside a family evaluation: its row, the paired bootstrap against it, its
contacts and the report's columns, on a real slice of the shipped PDZ alignment."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pytest

from protein_performer.analysis.family_evaluation import (
    POTTS_NAME,
    PSSM_NAME,
    FamilyEvalConfig,
    _add,
    add_potts,
    add_potts_contacts,
    add_pssm,
    setup_evaluation,
)
from protein_performer.analysis.family_report import dms_table, summary
from protein_performer.analysis.potts import PottsConfig
from protein_performer.data.family import FamilyDataConfig, FamilyDataModule

FAMILY = Path(__file__).resolve().parents[2] / "data" / "families" / "PF00595"
QUERY = "DLG4_RAT/313-391"


@pytest.fixture(scope="module")
def evaluation(tmp_path_factory):
    out = tmp_path_factory.mktemp("potts") / "pdz200.fasta"
    with gzip.open(FAMILY / "PF00595_mgap6.fasta.gz", "rt") as handle:
        lines = handle.read().split("\n")
    rows = [(lines[i][1:], lines[i + 1]) for i in range(0, len(lines) - 1, 2)]
    keep = rows[:200] + [r for r in rows if r[0].split()[0] == QUERY]
    out.write_text("".join(f">{name}\n{seq}\n" for name, seq in keep))
    datamodule = FamilyDataModule(FamilyDataConfig(msa=str(out), cache_dir=str(out.parent)))
    datamodule.setup()
    cfg = FamilyEvalConfig(
        scan=str(FAMILY / "DLG4_RAT_Ranganathan2012.csv"), score_column="CRIPT",
        wild_type=str(FAMILY / "DLG4_RAT_PDZ3_wt.fasta"), offset=311, query=QUERY,
        contacts=str(FAMILY / "PF00595_struct.dat"),
    )  # fmt: skip
    evaluation = setup_evaluation(datamodule, cfg)
    add_pssm(evaluation, datamodule, n_boot=20)
    add_potts(evaluation, datamodule, n_boot=20, config=PottsConfig(max_iterations=5))
    add_potts_contacts(evaluation)
    # Any later predictor is compared with both baselines.
    _add(evaluation, "negated PSSM", -evaluation.predictors[0].scores_N, n_boot=20)
    return evaluation


def test_potts_row_follows_the_pssm_and_is_compared_with_it(evaluation):
    pssm, potts, other = evaluation.predictors
    assert (pssm.name, potts.name) == (PSSM_NAME, POTTS_NAME)
    assert potts.vs_pssm is not None and potts.vs_potts is None
    assert other.vs_potts is not None and other.vs_pssm.rho == pytest.approx(-2 * pssm.rho.rho)
    scored = np.array([s == "scored" for s in evaluation.statuses])
    assert np.isfinite(potts.scores_N[scored]).all() and np.isnan(potts.scores_N[~scored]).all()
    assert evaluation.potts.iterations >= 1


def test_potts_contacts_and_report_columns(evaluation):
    assert evaluation.contact_maps["potts"].shape == (82, 82)
    assert set(evaluation.contacts["potts"]) == {4.5, 8.0}
    table = dms_table(evaluation)
    assert "ρ − ρ(Potts)" in table and "L-BFGS iterations" in table
    data = summary(evaluation)
    assert "minus_potts" in data["spearman"]["negated PSSM"]
    assert data["potts_fit"]["iterations"] == evaluation.potts.iterations


def test_negative_potts_iterations_are_refused():
    with pytest.raises(ValueError, match="potts_iterations"):
        FamilyEvalConfig(potts_iterations=-1)
