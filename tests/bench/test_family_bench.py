"""`protein-performer bench family --quick` runs end to end on a slice of the shipped family,
and its numbers are real measurements."""

from __future__ import annotations

import gzip
import json
import math

import numpy as np
import pytest
import torch

from protein_performer.bench import bench_cli, family_speed
from protein_performer.paths import PF00595_DIR


@pytest.fixture(autouse=True)
def restore_threads():
    before = torch.get_num_threads()
    yield
    torch.set_num_threads(before)


def test_tile_repeats_columns_inside_the_frame():
    framed = np.array([0, 5, 6, 7, 2], dtype=np.int8)
    np.testing.assert_array_equal(family_speed.tile(framed, 8), [0, 5, 6, 7, 5, 6, 7, 5, 6, 2])


def _pdz300(tmp_path):
    with gzip.open(PF00595_DIR / "PF00595_mgap6.fasta.gz", "rt") as handle:
        lines = handle.read().split("\n")[:600]
    msa = tmp_path / "pdz300.fasta"
    msa.write_text("\n".join(lines) + "\n")
    return msa


@pytest.mark.parametrize(("batch_tokens", "rows"), [(None, 53), (0, 128), (2020, 10)])
def test_a_bench_step_takes_the_recipes_token_cap_or_the_one_given(tmp_path, batch_tokens, rows):
    *_, datamodule, _ = family_speed.recipe(
        200, None, _pdz300(tmp_path), str(tmp_path / "cache"), batch_tokens=batch_tokens
    )
    assert datamodule.batch_rows == rows
    assert next(iter(datamodule.train_dataloader()))["tokens"].shape == (rows, 202)


def test_a_negative_token_cap_is_refused(capsys):
    with pytest.raises(SystemExit):
        bench_cli.main(["family", "--batch-tokens", "-1"])
    assert "--batch-tokens must be >= 0 (0: no cap), got -1" in capsys.readouterr().err


def test_quick_family_bench_measures_training_and_evaluation(tmp_path):
    msa = _pdz300(tmp_path)
    out = tmp_path / "family.json"
    argv = ["family", "--quick", "--msa", str(msa), "--cache-dir", str(tmp_path / "cache"),
            "--widths", "30", "--model-widths", "0", "32", "--json", str(out)]  # fmt: skip
    assert bench_cli.main(argv) == 0
    result = json.loads(out.read_text())
    training, narrow = result["training"]
    assert (training["d_model"], narrow["d_model"]) == (64, 32)
    assert narrow["gflop_per_step"] < training["gflop_per_step"]
    assert training["length"] == 32 and training["batch"] == 4
    assert training["gflop_per_step"] > 0
    row = training["threads"]["1"]
    assert set(row["step_s"]) == {
        "lightning",
        "bare",
        "bare, chunk min(128, L)",
        "bare, per-sequence position maps",
    }
    assert all(0 < v < 60 for v in row["step_s"].values())
    assert math.isfinite(row["lightning_over_bare"]) and row["lightning_over_bare"] > 0
    assert row["gemm_gflops"]["square"] > 0.1 and row["breakdown_ms"]["forward"] > 0
    assert set(row["optimiser_step_ms"]) == {"for-loop", "foreach", "fused"}
    evaluation = result["evaluation"]
    assert evaluation["columns"] == 24 and evaluation["variants"] == 19 * 24
    assert set(evaluation["rows"]) == {"jacobian", "scan (causal LLR)", "4 samples"}
    assert all(r["before_s"] > 0 and r["after_s"] > 0 for r in evaluation["rows"].values())
    assert "load average" in result["load_start"]
