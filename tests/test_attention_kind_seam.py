"""Adding an attention kind is one file plus one registration, and every tool measures it:
a kind registered at interpreter start (`sitecustomize`, so that worker subprocesses have it
too) appears in gpu-check's quick CPU run (correctness, attention, throughput) and in
`bench attention --quick`, with no tool edited."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
NAME = "linear-elu"

KIND_FILE = f'''
import torch

from protein_performer.model.attention_kinds.base import FeatureMapKind


class EluPlusOne(FeatureMapKind):  # Katharopoulos et al. 2020: phi(x) = elu(x) + 1
    name = "{NAME}"

    def feature_map(self, layer, x_BHLD, is_query):
        return torch.nn.functional.elu(x_BHLD.float()) + 1
'''
REGISTRATION = """
from elu_kind import EluPlusOne
from protein_performer.model import attention_kinds

attention_kinds.REGISTRY[EluPlusOne.name] = EluPlusOne()
"""


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    site = tmp_path_factory.mktemp("kind")
    (site / "elu_kind.py").write_text(KIND_FILE)
    (site / "sitecustomize.py").write_text(REGISTRATION)
    path = os.pathsep.join([str(site), str(REPO), os.environ.get("PYTHONPATH", "")])
    return {**os.environ, "PYTHONPATH": path, "OMP_NUM_THREADS": "1"}


def _run(args: list[str], env: dict) -> None:
    done = subprocess.run([sys.executable, *args], cwd=REPO, env=env, capture_output=True,
                          text=True, timeout=600, check=False)  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]


@pytest.mark.slow
def test_gpu_check_quick_run_measures_a_registered_kind(env, tmp_path):
    out = tmp_path / "gpu"
    _run(["-m", "protein_performer.gpu_check", "--device", "cpu", "--quick", "--in-process",
          "--stages", "correctness", "attention", "throughput", "--out", str(out),
          "--docs", str(tmp_path / "gpu.md")], env)  # fmt: skip
    correctness = json.loads((out / "correctness.json").read_text())
    rows = [r for r in correctness["rows"] if r.get("kind") == NAME]
    # A FAVOR kind: every direction and path against float64, the decoder, the large norms.
    assert {(r["causal"], r["path"]) for r in rows if r["check"] == "attention"} == {
        (c, p) for c in (False, True) for p in ("fp32", "bf16-autocast", "bf16-gemm")
    }
    assert {r["check"] for r in rows} == {"attention", "decoder", "large-norm"}
    assert all(r["status"] == "ok" and r["passed"] for r in rows)
    attention = json.loads((out / "attention.json").read_text())["rows"]
    timed = {(r["impl"], r["mode"]) for r in attention if r["status"] == "ok"}
    assert {(NAME, "bidirectional"), (NAME, "causal"), (f"{NAME}+bf16gemm", "causal")} <= timed
    throughput = json.loads((out / "throughput.json").read_text())["rows"]
    variants = {r["variant"]: r for r in throughput if r["status"] == "ok"}
    assert {NAME, f"{NAME}+bf16gemm"} <= set(variants)
    assert variants[NAME]["model_tflops"] > 0


@pytest.mark.slow
def test_bench_attention_quick_times_a_registered_kind(env, tmp_path):
    out = tmp_path / "bench"
    _run(["-m", "protein_performer.cli", "bench", "attention", "--quick", "--skip-approx",
          "--out", str(out)], env)  # fmt: skip
    with (out / "attention.csv").open() as fh:
        rows = list(csv.DictReader(fh))
    timed = {(r["impl"], r["mode"]) for r in rows if float(r["fwd_bwd_ms"]) > 0}
    assert {(NAME, "bidirectional"), (NAME, "causal")} <= timed
