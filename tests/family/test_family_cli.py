"""`protein-performer family` and `dms` end to end on a real slice of the shipped family."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from protein_performer.analysis import dms_cli
from protein_performer.family import family_cli as family_cli

FAMILY = Path(__file__).resolve().parents[2] / "data" / "families" / "PF00595"
QUERY = "DLG4_RAT/313-391"
SCAN = FAMILY / "DLG4_RAT_Ranganathan2012.csv"


@pytest.fixture(scope="module")
def small_family(tmp_path_factory) -> Path:
    """The first 300 rows of the shipped alignment plus the wild type's row."""
    out = tmp_path_factory.mktemp("family") / "pdz300.fasta"
    with gzip.open(FAMILY / "PF00595_mgap6.fasta.gz", "rt") as handle:
        lines = handle.read().split("\n")
    rows = [(lines[i][1:], lines[i + 1]) for i in range(0, len(lines) - 1, 2)]
    keep = rows[:300] + [r for r in rows if r[0].split()[0] == QUERY]
    out.write_text("".join(f">{name}\n{seq}\n" for name, seq in keep))
    return out


def family_args(msa: Path, runs: Path, *extra: str) -> list[str]:
    return [
        "--config", "configs/family.yaml", "--runs-dir", str(runs), "--data.msa", str(msa),
        "--data.cache_dir", str(runs / "cache"), "--model_preset", "tiny_l2_d64",
        "--trainer.max_steps", "3", "--trainer.val_check_interval", "3",
        "--trainer.enable_progress_bar", "false", "--eval.n_boot", "20", *extra,
    ]  # fmt: skip


@pytest.mark.parametrize("objective", ["causal", "mlm"])
def test_family_trains_and_reports(small_family, tmp_path, objective, capsys):
    code = family_cli.main(
        family_args(small_family, tmp_path, "--name", objective, "--model.objective", objective)
    )
    assert code == 0
    out = tmp_path / objective / "family"
    data = json.loads((out / "evaluation.json").read_text())
    assert data["counts"] == {"scored": 1425, "synonymous": 83, "unscorable": 152}
    assert any(k.startswith("PSSM") for k in data["spearman"])
    methods = ["causal-llr"] if objective == "causal" else ["masked-marginals", "wt-marginals"]
    for method in methods:
        assert f"{objective} {method}" in data["spearman"]
    assert set(data["contacts"]) == {"jacobian", "attention", "position_attention", "potts"}
    potts = data["spearman"]["Potts model (same weighted rows)"]
    assert "minus_pssm" in potts and "minus_potts" not in potts
    assert "minus_potts" in data["spearman"][f"{objective} {methods[0]}"]
    assert data["potts_fit"]["iterations"] >= 1
    assert set(data["contacts"]["jacobian"]) == {"4.5", "8"}
    tsv = (out / "scores.tsv").read_text().splitlines()
    assert sum(1 for line in tsv if not line.startswith("#")) == 1 + 1660
    assert (out / "dms.png").stat().st_size > 0
    assert (out / "samples.fasta").is_file() == (objective == "causal")
    assert "Spearman" in capsys.readouterr().out


def test_dms_scores_a_general_checkpoint_without_alignment(tmp_path, tiny_checkpoint):
    code = dms_cli.main([
        "--checkpoint", str(tiny_checkpoint), "--scan", str(SCAN),
        "--score", "CRIPT", "--wild-type", str(FAMILY / "DLG4_RAT_PDZ3_wt.fasta"),
        "--offset", "311", "--n-boot", "10", "--out", str(tmp_path),
    ])  # fmt: skip
    assert code == 0
    data = json.loads((tmp_path / "evaluation.json").read_text())
    assert data["counts"] == {"scored": 1577, "synonymous": 83, "unscorable": 0}
    assert "checkpoint_sha256" in data


def test_dms_errors_name_the_flag(tmp_path, tiny_checkpoint, capsys):
    code = dms_cli.main([
        "--checkpoint", str(tiny_checkpoint), "--scan", str(tmp_path / "nope.csv"),
        "--score", "CRIPT", "--wild-type", str(FAMILY / "DLG4_RAT_PDZ3_wt.fasta"),
    ])  # fmt: skip
    assert code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--scan" in err[0] and "nope.csv" in err[0]


def test_dms_scores_an_ensemble_of_both_reading_orders(small_family, tmp_path):
    first_row = small_family.read_text().split("\n")[0][1:].split()[0]
    for name, direction in (("forward", "forward"), ("reverse", "reverse")):
        code = family_cli.main(family_args(
            small_family, tmp_path, "--name", name, "--model.objective", "causal",
            "--data.direction", direction, "--eval.potts_iterations", "0",
            "--eval.n_samples", "0", "--data.holdout", first_row if name == "reverse" else "",
        ))  # fmt: skip
        assert code == 0
    checkpoints = [str(tmp_path / name / "checkpoints" / "best.ckpt")
                   for name in ("forward", "reverse")]  # fmt: skip
    out = tmp_path / "dms"
    code = dms_cli.main([
        "--checkpoint", checkpoints[0], "--checkpoint", checkpoints[1], "--scan", str(SCAN),
        "--score-column", "CRIPT", "--wild-type", str(FAMILY / "DLG4_RAT_PDZ3_wt.fasta"),
        "--offset", "311", "--msa", str(small_family), "--query", QUERY,
        "--contacts", str(FAMILY / "PF00595_struct.dat"), "--n-boot", "10",
        "--potts-iterations", "2", "--out", str(out),
    ])  # fmt: skip
    assert code == 0
    data = json.loads((out / "evaluation.json").read_text())
    names = ["forward/checkpoints/best", "reverse/checkpoints/best"]
    assert data["ensemble"] == dict(zip(names, checkpoints, strict=True))
    assert data["held_out_of_baselines"] == [first_row]  # the reverse model's holdout
    ensemble = "ensemble of 2 (mean of each model's first score)"
    rows = [f"{names[0]} causal-llr", f"{names[1]} causal-llr", ensemble]
    assert set(rows + [r + " + Potts model (product of experts)" for r in rows]) <= set(
        data["spearman"]
    )
    lines = [line for line in (out / "scores.tsv").read_text().splitlines()
             if not line.startswith("#")]  # fmt: skip
    header = lines[0].split("\t")
    table = [dict(zip(header, line.split("\t"), strict=True)) for line in lines[1:]]
    scored = [r for r in table if r["status"] == "scored"]
    assert len(scored) > 1000
    for r in scored:
        members = [float(r[name]) for name in rows[:2]]
        assert float(r[ensemble]) == pytest.approx(sum(members) / 2, rel=1e-4, abs=1e-5)
    assert data["spearman"][rows[0]]["rho"] != data["spearman"][rows[1]]["rho"]
    for method in ("jacobian", "attention", "position_attention"):
        assert {f"{names[0]} {method}", f"{names[1]} {method}", f"ensemble {method}"} <= set(
            data["contacts"]
        )
    assert "potts" in data["contacts"]
    title = (out / "report.md").read_text().splitlines()[0]
    assert title == f"# Family evaluation: {names[0]} + {names[1]}"
