"""`python -m protein_performer.gpu_check --device cpu --quick`: every stage runs and writes
its JSON; budgets are enforced (a stage over its budget is killed and its file says so); the
stages import nothing the bare GPU machine lacks; the FLOP count is the hand count."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

import pytest

from protein_performer.gpu_check import gpu_check_cli as cli
from protein_performer.gpu_check.correctness import PATHS
from protein_performer.gpu_check.flops import training_flops_per_token
from protein_performer.gpu_check.report import markdown
from protein_performer.gpu_check.stages import STAGES
from protein_performer.gpu_check.throughput import variants
from protein_performer.model.attention_kinds import specs
from protein_performer.model.config import preset
from tests.helpers import assert_clean_error, run_command

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("gpu")
    docs = out / "gpu_doc.md"
    argv = ["--device", "cpu", "--quick", "--in-process", "--out", str(out), "--docs", str(docs)]
    return cli.main(argv), out, docs


def test_quick_cpu_run_finishes_every_stage_and_writes_json(quick_run):
    code, out, docs = quick_run
    assert code == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["gpu_available"] is False and summary["device"] == "cpu"
    assert {name: s["status"] for name, s in summary["stages"].items()} == dict.fromkeys(
        STAGES, "done"
    )
    for name in STAGES:
        doc = json.loads((out / f"{name}.json").read_text())
        assert doc["status"] == "done" and doc["rows"], name
    text = docs.read_text()
    assert "No GPU was available" in text and "<!-- auto:gpu-check -->" in text


def test_correctness_rows_cover_every_path_and_pass(quick_run):
    _, out, _ = quick_run
    doc = json.loads((out / "correctness.json").read_text())
    assert doc["all_passed"] is True
    favor_kinds = {spec.name for spec in specs() if spec.is_favor}
    assert favor_kinds and len(favor_kinds) < len(specs())  # FAVOR kinds and an exact one
    attention = {(r["kind"], r["causal"], r["path"]) for r in doc["rows"]
                 if r["check"] == "attention" and r["kind"] in favor_kinds}  # fmt: skip
    assert attention == {(k, c, p) for k in favor_kinds for c in (False, True) for p in PATHS}
    checked = {r["kind"] for r in doc["rows"] if r["check"] == "attention"}
    assert checked == {spec.name for spec in specs()}
    checks = {r["check"] for r in doc["rows"]}
    assert {"attention", "decoder", "large-norm", "fla"} <= checks
    bf16 = [r for r in doc["rows"] if r.get("path") == "bf16-gemm" and r["status"] == "ok"]
    assert all(0 < r["out_err"] < doc["bf16_bound"] for r in bf16)


def test_missing_optional_packages_become_rows_not_crashes(quick_run):
    _, out, _ = quick_run
    rows = json.loads((out / "attention.json").read_text())["rows"]
    peer = [r for r in rows if r["impl"].startswith("peer")]
    try:
        import performer_pytorch  # noqa: F401
    except ImportError:
        assert peer and all(r["reason"].startswith("not installed") for r in peer)
    else:
        assert any(r["status"] == "ok" for r in peer)
    ours = [r for r in rows if r["impl"] == "favor-softmax" and r["status"] == "ok"]
    assert ours and all(r["fwd_bwd_ms"] > 0 for r in ours)


def test_training_run_logs_a_loss_curve_and_throughput_rows(quick_run):
    _, out, _ = quick_run
    train = json.loads((out / "train.json").read_text())
    valid = [r for r in train["rows"] if r["kind"] == "valid"]
    assert len(valid) >= 2 and valid[-1]["step"] > 0
    assert all(r["loss"] > 0 and r["unigram_perplexity"] > 1 for r in valid)
    assert train["tokens_seen"] > 0
    rows = json.loads((out / "throughput.json").read_text())["rows"]
    assert {r["variant"] for r in rows} == set(variants())
    assert {spec.name for spec in specs()} < set(variants())  # and the bf16-GEMM twins
    assert all(r["tokens_per_s"] > 0 and r["model_tflops"] > 0 for r in rows)


def _args(out: Path) -> argparse.Namespace:
    return argparse.Namespace(device="cpu", quick=True, out=out, fasta=None)


def test_a_stage_over_its_budget_is_killed_and_its_json_says_so(tmp_path):
    # Starting Python and importing torch alone takes longer than half a second.
    status = cli.run_stage_subprocess("env", _args(tmp_path), budget=0.5)
    assert status == "killed"
    doc = json.loads((tmp_path / "env.json").read_text())
    assert doc["status"] == "killed" and "budget" in doc["reason"]
    assert "killed" in markdown(tmp_path)


def test_a_stage_in_its_own_process_reports_done(tmp_path):
    assert cli.run_stage_subprocess("env", _args(tmp_path), budget=120) == "done"
    rows = json.loads((tmp_path / "env.json").read_text())["rows"]
    assert [r["gemm"] for r in rows] == ["bfloat16", "float32"]


def test_a_short_budget_skips_measurements_but_still_writes_rows(tmp_path):
    assert cli.run_stage_here("attention", _args(tmp_path), budget=1.2) == "done"
    rows = json.loads((tmp_path / "attention.json").read_text())["rows"]
    assert rows and any(r.get("reason") == "stage budget" for r in rows)


def test_stage_budgets_fit_in_the_total():
    assert sum(share for _, share, _ in STAGES.values()) <= 0.97


def test_missing_fasta_is_a_one_line_error(tmp_path, capsys):
    argv = ["--fasta", str(tmp_path / "none.fa"), "--out", str(tmp_path)]
    assert_clean_error(run_command(cli.main, argv, capsys), "none.fa: no such file")


def test_stages_import_nothing_the_bare_gpu_machine_lacks():
    """The GPU image has torch, lightning and einops but not datasets, jsonargparse, wandb or
    Biopython: importing every stage must not need them."""
    code = (
        "import sys\n"
        "class Block:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.split('.')[0] in ('datasets', 'jsonargparse', 'wandb', 'Bio'):\n"
        "            raise ImportError(f'blocked {name}')\n"
        "sys.meta_path.insert(0, Block())\n"
        "import importlib\n"
        "from protein_performer.gpu_check.stages import STAGES\n"
        "import protein_performer.gpu_check.gpu_check_cli, protein_performer.gpu_check.report\n"
        "for module, _, _ in STAGES.values():\n"
        "    importlib.import_module(module)\n"
        "print('ok')\n"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                          text=True, timeout=120, check=False)  # fmt: skip
    assert done.returncode == 0 and "ok" in done.stdout, done.stderr[-2000:]


def test_training_flops_are_the_hand_count():
    relu = preset("tiny_l2_d64")  # C 64, H 4, D 16, M 32, F 128, V 30, 2 layers
    # per layer: 4·64² + 2·64·128 + (2·32·64 + 2·4·32·17) = 16384 + 16384 + 8448
    assert training_flops_per_token(relu, 100) == 6 * (2 * 41216 + 64 * 30)
    exact = relu.replace(attention="exact")
    assert training_flops_per_token(exact, 100) == 6 * (2 * (32768 + 2 * 100 * 64) + 1920)
    causal = exact.replace(objective="causal")
    assert training_flops_per_token(causal, 100) == 6 * (2 * (32768 + 100 * 64) + 1920)


def test_report_rerenders_docs_from_copied_json(quick_run, tmp_path):
    from protein_performer.gpu_check.report import main as report_main

    _, out, _ = quick_run
    docs = tmp_path / "gpu.md"
    docs.write_text("# GPU check\n\nHand-written prose that must survive.\n")
    assert report_main([str(out), str(docs)]) == 0
    text = docs.read_text()
    assert "Hand-written prose that must survive." in text and "### correctness" in text
    assert report_main([str(tmp_path / "nothing"), str(docs)]) == 2


def test_exact_training_flops_are_the_hand_count():
    exact = preset("tiny_l2_d64", attention="exact")  # C 64, F 128, V 30, 2 layers, L 100
    # per layer: 4·64² + 2·64·128 + 2·100·64 (QKᵀ and AV, bidirectional)
    assert training_flops_per_token(exact, 100) == 6 * (2 * (16384 + 16384 + 12800) + 64 * 30)
