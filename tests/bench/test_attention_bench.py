"""`protein-performer bench attention --quick` end to end, and the bench dispatcher."""

from __future__ import annotations

import csv
import json
import math

from protein_performer.bench import bench_cli as cli
from protein_performer.bench import report
from protein_performer.bench.attention import ATTENTION_COLUMNS, BLOCK, _peer_available, main
from protein_performer.bench.timing import impls as timed_impls
from protein_performer.markdown_blocks import begin


def _rows(path):
    with path.open() as fh:
        return list(csv.DictReader(fh))


def test_quick_bench_writes_every_output(tmp_path):
    docs = tmp_path / "docs" / "benchmarks.md"
    assert main(["--quick", "--paired", "--out", str(tmp_path / "out"), "--docs", str(docs)]) == 0
    out = tmp_path / "out"
    rows = _rows(out / "attention.csv")
    assert tuple(rows[0]) == ATTENTION_COLUMNS
    # performer-pytorch comes with the `bench` extra; without it the peer rows are left out.
    peer = _peer_available()
    impls = [i for i in timed_impls() if peer or not i.startswith("peer")]
    measured = {(r["impl"], r["mode"]) for r in rows}
    assert measured == {(i, m) for i in impls for m in ("bidirectional", "causal")}
    for r in rows:
        assert float(r["fwd_ms"]) >= 0 and float(r["fwd_bwd_ms"]) >= 0
        assert 50 < float(r["peak_rss_mb"]) < 8000
    approx_rows = _rows(out / "approx.csv")
    assert tuple(approx_rows[0]) == (
        "impl",
        "features",
        "m",
        "logit_std",
        "rel_err",
        "uniform_err",
    )
    assert {r["impl"] for r in approx_rows} == {"ours", "favor++"} | ({"peer"} if peer else set())
    assert all(math.isfinite(float(r["rel_err"])) for r in approx_rows)
    machine = json.loads((out / "machine.json").read_text())
    assert machine["matmul_gflops"] > 0
    for png in ("attention_time.png", "attention_memory.png", "approx_error.png"):
        assert (out / png).stat().st_size > 1000
    paired = _rows(out / "paired.csv")
    assert {(r["impl_a"], r["mode"]) for r in paired} == {
        ("favor-softmax", "bidirectional"),
        ("favor-softmax", "causal"),
    }
    assert all(float(r["ratio_b_over_a"]) > 0 for r in paired)
    text = docs.read_text()
    assert "bench attention --quick" in text and "| L |" in text and "GFLOP/s" in text
    # A report-only rerun rewrites the generated block and keeps the hand-written prose.
    docs.write_text(text.replace("# Attention benchmark\n", "# Attention benchmark\n\nprose\n", 1))
    argv = ["--quick", "--skip-timing", "--skip-approx", "--out", str(out), "--docs", str(docs)]
    assert main(argv) == 0
    again = docs.read_text()
    assert "\nprose\n" in again and again.count(begin(BLOCK)) == 1 and "| L |" in again


def test_targets_are_computed_from_rows():
    rows = [
        {"impl": i, "mode": "bidirectional", "seq_len": 8192, "fwd_bwd_ms": t, "peak_rss_mb": 1}
        for i, t in (("favor-softmax", 400.0), ("peer-favor", 1000.0), ("exact-sdpa", 4000.0))
    ]
    lines = report.targets(rows, [], gflops=100.0)
    assert any("2.50×" in line and "met" in line for line in lines)
    # 20·8·8192·256·64 FLOP in 0.4 s at 100 GFLOP/s peak is 54 %.
    assert any("54 %" in line for line in lines)


def test_bench_dispatcher(capsys):
    assert cli.main([]) == 2
    assert cli.main(["nope"]) == 2
    assert "generation" in capsys.readouterr().out
    assert set(cli.BENCHMARKS) == {"attention", "generation", "family"}
