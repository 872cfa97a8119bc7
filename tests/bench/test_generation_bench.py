"""`protein-performer bench generation --quick` runs end to end, and its measurements are real."""

from __future__ import annotations

import csv
import dataclasses
import math

import pytest
import torch

from protein_performer.bench import generation as bench
from protein_performer.bench.generation_report import BLOCK
from protein_performer.markdown_blocks import begin, end, update_file


@pytest.fixture(autouse=True)
def restore_threads():
    # `run_worker` sets torch's thread count, as it owns its subprocess; not so inside pytest.
    before = torch.get_num_threads()
    yield
    torch.set_num_threads(before)


def test_quick_benchmark_writes_csv_png_and_doc(tmp_path) -> None:
    doc = tmp_path / "generation.md"
    doc.write_text("# Generation\n\nhand-written intro\n")
    argv = ["--quick", "--lengths", "8", "--out", str(tmp_path / "bench"), "--docs", str(doc)]
    assert bench.main(argv) == 0
    rows = list(csv.DictReader((tmp_path / "bench" / "generation.csv").open()))
    assert [r["method"] for r in rows] == list(bench.METHODS)
    for row in rows:
        assert row["status"] == "ok" and int(row["length"]) == 8
        assert 0 < float(row["ms_per_token"]) < 10_000 and float(row["peak_rss_mb"]) > 10
    assert (tmp_path / "bench" / "generation.png").stat().st_size > 1000
    text = doc.read_text()
    assert "hand-written intro" in text and begin(BLOCK) in text and end(BLOCK) in text
    assert "| 8 |" in text and "bench generation --quick" in text
    # Re-running replaces the section instead of appending a second one.
    update_file(doc, {BLOCK: "new"}, title="Generation")
    assert doc.read_text().count(begin(BLOCK)) == 1 and "\nnew\n" in doc.read_text()
    assert "hand-written intro" in doc.read_text()


def test_favor_state_is_constant_and_kv_cache_grows() -> None:
    favor = [bench.run_worker("favor-state", n, "tiny_l2_d64", 1, 1) for n in (8, 40)]
    kv = [bench.run_worker("kv-cache", n, "tiny_l2_d64", 1, 1) for n in (8, 40)]
    assert favor[0].state_mb == favor[1].state_mb > 0
    assert kv[1].state_mb == pytest.approx(5 * kv[0].state_mb)
    assert kv[0].attention == "exact" and favor[0].attention == "favor-relu"


def test_naive_recomputation_is_capped_by_its_budget(monkeypatch) -> None:
    def fake_measure(method, length, preset_name, batch, threads, timeout_s):
        # Only the bookkeeping is under test here; timings come from the real worker above.
        values = {f.name: 1.0 for f in dataclasses.fields(bench.Measurement)}
        values.update(method=method, length=length, status="ok", tail_tokens=1,
                      total_s=length * 1e-3, preset=preset_name, attention="favor-relu",
                      batch=batch, threads=threads)  # fmt: skip
        return bench.Measurement(**values)

    monkeypatch.setattr(bench, "measure_in_subprocess", fake_measure)
    rows = bench.run_benchmark([16, 32, 64], preset_name="tiny_l2_d64", naive_budget_s=0.05,
                               repeats=2, log=lambda *_: None)  # fmt: skip
    naive = {r.length: r.status for r in rows if r.method == "naive-recompute"}
    # 16 runs (0.016 s), 32 is projected at 0.064 s > 0.05 s and skipped, and so is 64.
    assert naive[16] == "ok" and naive[32].startswith("skipped: projected") and 64 in naive
    assert sum(r.status == "ok" for r in rows) == 7
    assert [(r.length, r.method) for r in rows] == [
        (n, m) for n in (16, 32, 64) for m in bench.METHODS
    ]
    assert {r.runs for r in rows if r.method != "naive-recompute"} == {2}
    assert all(math.isnan(r.ms_per_token) for r in rows if r.status != "ok")
