"""`protein-performer analyze` end to end on the tiny checkpoint of the test fixtures."""

import json
from pathlib import Path

import pytest

from protein_performer.analysis.analyze_cli import main
from protein_performer.analysis.contacts import range_mask, true_contacts
from protein_performer.analysis.structures import load_bpti

REPO = Path(__file__).resolve().parents[2]
METHODS = {"unsupervised_best_head", "unsupervised_apc_mean", "logistic_regression"}
FIGURES = (
    "bpti_attention_grid.png",
    "bpti_head_summary.png",
    "similarity_attention.png",
    "similarity_embedding.png",
    "similarity_scatter.png",
    "bpti_contact_map.png",
    "precision_ts50_test.png",
    "precision_bpti.png",
)


@pytest.fixture(scope="module")
def analyzed(tiny_checkpoint, tmp_path_factory):
    out = tmp_path_factory.mktemp("analyze")
    with pytest.MonkeyPatch.context() as mp:
        # Packaged data is found beside the package: analyze works from any directory.
        mp.chdir(tmp_path_factory.mktemp("elsewhere"))
        code = main(
            [
                "--checkpoint",
                str(tiny_checkpoint),
                "--out",
                str(out),
                "--run-name",
                "tiny",
                "--n-sequences",
                "12",
                # The TS50 Jacobian costs 20 passes per residue; it is tested on a few chains
                # in test_jacobian.py.
                "--ts50-jacobian",
                "false",
            ]
        )
    assert code == 0
    return out / "tiny"


def test_metrics_have_the_documented_keys(analyzed):
    metrics = json.loads((analyzed / "metrics.json").read_text())
    for key in (
        "blosum62_pearson_attention",
        "blosum62_pearson_embedding",
        "blosum62_spearman_attention",
        "blosum62_spearman_embedding",
    ):
        assert -1.0 <= metrics[key] <= 1.0
    assert {"bpti", "ts50_test"} <= set(metrics["contacts"])
    for dataset in ("bpti", "bpti_mature", "ts50_test"):
        # BPTI's categorical Jacobian is always computed; the TS50 chains' only on request.
        expected = METHODS | ({"categorical_jacobian"} if dataset.startswith("bpti") else set())
        assert set(metrics["contacts"][dataset]) == expected
        for method in expected:
            ranges = metrics["contacts"][dataset][method]
            assert set(ranges) == {"short", "medium", "long"}
            for row in ranges.values():
                assert set(row) == {"P@L", "P@L/2", "P@L/5", "random"}
                assert all(0.0 <= v <= 1.0 for v in row.values())
    assert metrics["similarity"]["n_sequences"] == 12
    assert len(metrics["contact_protocol"]["train"]) == 20
    assert len(metrics["contact_protocol"]["test"]) == 30


def test_random_baseline_is_the_true_contact_density(analyzed):
    metrics = json.loads((analyzed / "metrics.json").read_text())
    bpti = load_bpti()
    contacts = true_contacts(bpti.mature.coords_L3)
    for name in ("short", "medium", "long"):
        density = contacts[range_mask(58, name)].mean()
        for dataset in ("bpti", "bpti_mature"):
            got = metrics["contacts"][dataset]["logistic_regression"][name]["random"]
            assert got == pytest.approx(density)


def test_figures_and_report_are_written(analyzed):
    report = (analyzed / "report.md").read_text()
    for name in FIGURES:
        assert (analyzed / name).read_bytes()[:4] == b"\x89PNG"
        assert f"({name})" in report
    assert "P@L/5" in report and "BLOSUM62" in report


def test_outputs_record_the_checkpoint_path_and_hash(analyzed, tiny_checkpoint):
    from protein_performer.model.io import checkpoint_sha256

    metrics = json.loads((analyzed / "metrics.json").read_text())
    digest = checkpoint_sha256(tiny_checkpoint)
    assert metrics["checkpoint"] == str(tiny_checkpoint)
    assert metrics["checkpoint_sha256"] == digest
    assert digest in (analyzed / "report.md").read_text()


def test_report_renders_again_from_metrics_json(analyzed):
    from protein_performer.analysis.report import render_report
    from protein_performer.analysis.results import AnalysisResult

    result = AnalysisResult.from_json(json.loads((analyzed / "metrics.json").read_text()))
    assert render_report(result, []) == (analyzed / "report.md").read_text()


def test_cli_defaults_are_the_options_defaults():
    from protein_performer.analysis.analyze_cli import build_parser, options_from
    from protein_performer.analysis.pipeline import AnalyzeOptions

    assert options_from(build_parser().parse_args([])) == AnalyzeOptions()
