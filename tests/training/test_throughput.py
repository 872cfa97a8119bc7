"""The throughput note's script runs end to end and reports real, positive numbers."""

from __future__ import annotations

import json
import math

from protein_performer.training.throughput import main


def test_throughput_script_measures_each_kind_and_mode(tmp_path):
    out = tmp_path / "rows.json"
    argv = [
        "--preset", "tiny_l2_d64", "--kinds", "favor-relu", "exact", "--single-len", "32",
        "--single_batch", "2", "--concat_len", "64", "--steps", "1", "--warmup", "0",
        "--json", str(out), "--in-process",
    ]  # fmt: skip
    assert main(argv) == 0
    rows = json.loads(out.read_text())
    assert [(r["kind"], r["mode"]) for r in rows] == [
        ("favor-relu", "single"), ("exact", "single"), ("favor-relu", "concat"),
        ("exact", "concat"),
    ]  # fmt: skip
    for row in rows:
        assert row["error"] is None
        assert math.isfinite(row["tokens_per_s"]) and row["tokens_per_s"] > 0
        assert row["peak_mb"] > 50  # a process holding torch is never this small
