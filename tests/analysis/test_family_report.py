"""Unit tests of the family report (`analysis.family_report`) on a hand-made evaluation: its
tables, the per-variant TSV, the JSON summary and the published rows. The end-to-end runs that
write a whole report are in tests/family."""

from __future__ import annotations

import csv
import hashlib
import json

import numpy as np
import pytest

from protein_performer.analysis import family_report as report
from protein_performer.analysis.dms import Scan, Variant
from protein_performer.analysis.family_evaluation import (
    POTTS_NAME,
    PSSM_NAME,
    FamilyEvaluation,
    Predictor,
)
from protein_performer.analysis.family_inputs import ContactTruth, identity_map
from protein_performer.analysis.mutations import parse_mutations
from protein_performer.analysis.rank_correlation import Correlation

WILD_TYPE = "MKTAYIAK"


def _variant(text: str, measured: float, line: int) -> Variant:
    mutations = () if text == "_wt" else tuple(parse_mutations(text, WILD_TYPE, offset=1))
    return Variant(text, measured, mutations, line)


@pytest.fixture
def evaluation() -> FamilyEvaluation:
    variants = (
        _variant("K2A", 1.5, 2),
        _variant("T3G", -0.25, 3),
        _variant("_wt", 0.0, 4),
        _variant("A4W", 2.0, 5),
    )
    scan = Scan("scan.csv", "DMS_score", WILD_TYPE, 1, variants)
    statuses = ["scored", "scored", "synonymous", "unscorable"]
    pssm = Predictor(
        PSSM_NAME, np.array([0.5, -1.0, np.nan, np.nan]), Correlation(0.4, 0.1, 0.7, 2)
    )
    model = Predictor(
        "tiny masked-marginals", np.array([1.25, -2.0, np.nan, np.nan]),
        Correlation(0.6, 0.2, 0.9, 2), vs_pssm=Correlation(0.2, -0.1, 0.5, 2),
    )  # fmt: skip
    truth = ContactTruth(8.0, "Cβ", np.zeros((8, 8)))
    contacts = {"jacobian": {8.0: {r: {"P@L": 0.5, "P@L/2": 0.75, "P@L/5": 1.0, "random": 0.1}
                                   for r in ("short", "medium", "long")}}}  # fmt: skip
    return FamilyEvaluation(
        scan, identity_map(WILD_TYPE, 1), statuses, (truth,), "contacts.dat", [pssm, model],
        contacts,
    )  # fmt: skip


def test_the_dms_table_counts_variants_and_shows_differences_only_where_there_are(evaluation):
    lines = report.dms_table(evaluation).splitlines()
    assert lines[0] == (
        "Scan scan.csv (DMS_score): 4 variants: 2 scored, 1 synonymous (score 0, not in ρ), "
        "1 outside the alignment's columns (not in ρ). Wild type placed by identity."
    )
    assert lines[-2] == f"| {PSSM_NAME} | 0.400 | [0.100, 0.700] | 2 | — | — |"
    assert lines[-1] == (
        "| tiny masked-marginals | 0.600 | [0.200, 0.900] | 2 | +0.200 [-0.100, +0.500] | — |"
    )


def test_the_summary_has_a_baseline_difference_only_for_rows_compared_with_it(evaluation):
    spearman = report.summary(evaluation)["spearman"]
    assert spearman[PSSM_NAME] == {"rho": 0.4, "low": 0.1, "high": 0.7, "n": 2}
    assert spearman["tiny masked-marginals"] == {
        "rho": 0.6, "low": 0.2, "high": 0.9, "n": 2,
        "minus_pssm": 0.2, "minus_pssm_low": -0.1, "minus_pssm_high": 0.5,
    }  # fmt: skip
    assert POTTS_NAME not in spearman and "potts_fit" not in report.summary(evaluation)


def test_the_summary_counts_coverage_and_survives_json(evaluation, tmp_path):
    data = report.summary(evaluation)
    assert data["counts"] == {"scored": 2, "synonymous": 1, "unscorable": 1}
    assert data["coverage"] == pytest.approx(2 / 3)  # scored among the changing variants
    assert data["contact_kinds"] == {"8": "Cβ"}
    report.write_json(data, tmp_path / "evaluation.json")
    again = json.loads((tmp_path / "evaluation.json").read_text())
    assert again["contacts"]["jacobian"]["8"]["long"]["P@L"] == 0.5


def test_the_summary_of_an_evaluation_without_a_scan_has_no_counts():
    empty = report.summary(FamilyEvaluation(None, None, []))
    assert (empty["scan"], empty["counts"], empty["coverage"]) == (None, None, None)
    assert empty["spearman"] == {} and empty["contacts"] == {}


def test_the_tsv_has_one_row_per_variant_with_synonymous_zero_and_missing_blank(
    evaluation, tmp_path
):
    path = tmp_path / "scores.tsv"
    report.write_scores_tsv(evaluation, path, ["model: tiny"])
    lines = path.read_text().splitlines()
    assert lines[0] == "# model: tiny"
    assert lines[1].split("\t") == ["mutant", "measured", "status", PSSM_NAME,
                                    "tiny masked-marginals"]  # fmt: skip
    assert lines[2].split("\t") == ["K2A", "1.5", "scored", "0.5", "1.25"]
    assert lines[4].split("\t") == ["_wt", "0", "synonymous", "0", "0"]
    assert lines[5].split("\t") == ["A4W", "2", "unscorable", "", ""]


def test_the_contacts_table_has_a_row_per_method_threshold_and_range(evaluation):
    lines = report.contacts_table(evaluation).splitlines()
    assert len(lines) == 2 + 3
    assert lines[2] == "| jacobian | Cβ < 8 Å | long | 0.500 | 0.750 | 1.000 | 0.100 |"
    assert [line.split(" | ")[2] for line in lines[2:]] == ["long", "medium", "short"]


def test_published_rows_match_the_scan_by_content_and_column(tmp_path):
    scan = tmp_path / "scan.csv"
    scan.write_text("mutant,DMS_score\nK2A,1.5\n")
    digest = hashlib.sha256(scan.read_bytes()).hexdigest()
    table = tmp_path / "published.csv"
    with open(table, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["scan_sha256", "score_column", "method", "spearman", "source"])
        writer.writerow([digest, "DMS_score", "EVmutation", "0.51", "Hopf 2017"])
        writer.writerow([digest, "other", "EVmutation", "0.3", "Hopf 2017"])
        writer.writerow(["0" * 64, "DMS_score", "DeepSequence", "0.6", "Riesselman 2018"])
    rows = report.published_scores(scan, "DMS_score", table)
    assert [r["method"] for r in rows] == ["EVmutation"]
    assert report.published_table(rows).splitlines() == [
        "| method (published: Hopf 2017) | Spearman ρ |", "|---|---|", "| EVmutation | 0.510 |",
    ]  # fmt: skip
    scan.write_text("mutant,DMS_score\nK2A,1.6\n")  # other content: not the published scan
    assert report.published_scores(scan, "DMS_score", table) == []
