"""`protein-performer mutations` and `protein-performer dms` give the same score to the same
variant, for a model of unaligned sequences and for an aligned family model."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from protein_performer.analysis import dms_cli, mutations_cli
from protein_performer.constants import ALIGNED_VOCAB_SIZE, VOCAB_SIZE
from protein_performer.data.msa import read_msa
from protein_performer.data.msa_mapping import build_profile, profile_text
from protein_performer.model.config import PerformerConfig
from protein_performer.model.family_info import FamilyInfo
from protein_performer.model.performer import ProteinPerformer
from protein_performer.paths import PF00014_DIR

BPTI_MATURE = "RPDFCLEPPYTGPCKARIIRYFYNAKAGLCQTFVYGGCRAKRNNFKSAEDCMRTCGGA"


def _substitution(wild_type: str, i: int, mutant: str) -> str:
    return f"{wild_type[i]}{i + 1}{mutant if wild_type[i] != mutant else 'A'}"


def _variants(wild_type: str) -> list[str]:
    rng = np.random.default_rng(0)
    singles = [_substitution(wild_type, i, "W") for i in range(0, len(wild_type), 3)]
    pairs = [sorted(rng.choice(len(wild_type), 2, replace=False)) for _ in range(10)]
    doubles = [f"{_substitution(wild_type, i, 'G')}:{_substitution(wild_type, j, 'L')}"
               for i, j in pairs]  # fmt: skip
    return singles + doubles


def _write_inputs(tmp_path, wild_type: str) -> tuple:
    variants = _variants(wild_type)
    rng = np.random.default_rng(1)
    scan = tmp_path / "scan.csv"
    scan.write_text("mutant,fitness\n" + "".join(
        f"{v},{rng.normal():.4f}\n" for v in variants))  # fmt: skip
    wt = tmp_path / "wt.fasta"
    wt.write_text(f">wt\n{wild_type}\n")
    return variants, scan, wt


def _checkpoint(path, config: PerformerConfig, info: FamilyInfo | None = None):
    torch.manual_seed(0)
    model = ProteinPerformer(config).eval()
    checkpoint = {
        "state_dict": {f"model.{k}": v for k, v in model.state_dict().items()},
        "hyper_parameters": {"model": config.to_dict()},
    }
    if info is not None:
        checkpoint["family"] = info.to_dict()
    torch.save(checkpoint, path)
    return path


def _mutations_scores(checkpoint, wild_type, variants, tmp_path, method) -> dict[str, float]:
    out = tmp_path / "mutations.tsv"
    argv = ["--sequence", wild_type, "--mutations", *variants, "--checkpoint", str(checkpoint),
            "--method", method, "--out", str(out)]  # fmt: skip
    assert mutations_cli.main(argv) == 0
    rows = [ln.split("\t") for ln in out.read_text().splitlines() if not ln.startswith("#")]
    return {v: float(s) for v, s in rows[1:]}


def _dms_scores(checkpoint, scan, wt, tmp_path, method, *extra) -> dict[str, float]:
    out = tmp_path / "dms"
    argv = ["--checkpoint", str(checkpoint), "--scan", str(scan), "--score", "fitness",
            "--wild-type", str(wt), "--method", method, "--n-boot", "5", "--out", str(out),
            *extra]  # fmt: skip
    assert dms_cli.main(argv) == 0
    lines = [ln.split("\t") for ln in (out / "scores.tsv").read_text().splitlines()
             if not ln.startswith("#")]  # fmt: skip
    column = next(i for i, name in enumerate(lines[0]) if name.endswith(method))
    return {r[0]: float(r[column]) if r[column] else float("nan") for r in lines[1:]}


def _agree(mutations: dict[str, float], dms: dict[str, float]) -> None:
    assert mutations.keys() == dms.keys()
    names = sorted(mutations)
    a = np.array([mutations[n] for n in names])
    b = np.array([dms[n] for n in names])
    np.testing.assert_array_equal(np.isnan(a), np.isnan(b))
    assert np.isfinite(a).sum() >= 10
    np.testing.assert_allclose(a[np.isfinite(a)], b[np.isfinite(b)], rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("method", ["masked-marginals", "pll"])
def test_mutations_and_dms_agree_for_an_unaligned_model(tmp_path, method):
    config = PerformerConfig(vocab_size=VOCAB_SIZE, max_len=64, d_model=32, n_heads=2,
                             n_layers=2, d_ff=64, dropout=0.0, n_features=16)  # fmt: skip
    checkpoint = _checkpoint(tmp_path / "plain.ckpt", config)
    variants, scan, wt = _write_inputs(tmp_path, BPTI_MATURE)
    assert any(":" in v for v in variants)  # multi-mutants are where definitions could differ
    _agree(
        _mutations_scores(checkpoint, BPTI_MATURE, variants, tmp_path, method),
        _dms_scores(checkpoint, scan, wt, tmp_path, method),
    )


def test_mutations_and_dms_agree_for_an_aligned_model(tmp_path):
    msa = read_msa(PF00014_DIR / "PF00014_mgap6.fasta.gz").select(rows=np.arange(300))
    alignment = tmp_path / "kunitz300.fasta"
    alignment.write_text("".join(f">{msa.names[i]}\n{msa.aligned(i)}\n" for i in range(300)))
    info = FamilyInfo("aligned", msa.width, alignment.name, "0" * 64,
                      profile_text(build_profile(msa)))  # fmt: skip
    config = PerformerConfig(
        vocab_size=ALIGNED_VOCAB_SIZE, max_len=msa.width + 2, d_model=32, n_heads=2,
        n_layers=2, d_ff=64, dropout=0.0, n_features=16,
    )  # fmt: skip
    checkpoint = _checkpoint(tmp_path / "kunitz.ckpt", config, info)
    variants, scan, wt = _write_inputs(tmp_path, BPTI_MATURE)
    mutations = _mutations_scores(checkpoint, BPTI_MATURE, variants, tmp_path,
                                  "masked-marginals")  # fmt: skip
    # residues 1-3 and 56-58 lie outside the columns: the variants there are not scored
    assert np.isnan(mutations["R1W"]) and np.isfinite(mutations["E7W"])
    dms = _dms_scores(checkpoint, scan, wt, tmp_path, "masked-marginals", "--msa", str(alignment))
    _agree(mutations, dms)
