"""The inference commands on aligned family models: placed input, and one-line refusals."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from protein_performer.analysis import analyze_cli as analyze_cli
from protein_performer.analysis import embed_cli, mutations_cli
from protein_performer.constants import ALIGNED_VOCAB_SIZE
from protein_performer.data.msa import read_msa
from protein_performer.data.msa_mapping import build_profile, profile_text
from protein_performer.generation import score_cli
from protein_performer.model.config import PerformerConfig
from protein_performer.model.family_info import FamilyInfo
from protein_performer.model.performer import ProteinPerformer
from protein_performer.paths import CHECKPOINTS_DIR, PF00014_DIR

UNRELATED = "MSKGEELFTGVVPILVELDGDVNGHKFSVSGEGEGDATYGKLTLKFICTTGKLPVPWPTLVTTF"


@pytest.fixture(scope="module")
def kunitz(tmp_path_factory):
    """(checkpoint of an untrained aligned causal model with a PF00014 profile, the MSA)."""
    msa = read_msa(PF00014_DIR / "PF00014_mgap6.fasta.gz").select(rows=np.arange(300))
    info = FamilyInfo("aligned", msa.width, "PF00014_mgap6.fasta.gz", "0" * 64,
                      profile_text(build_profile(msa)))  # fmt: skip
    config = PerformerConfig(
        vocab_size=ALIGNED_VOCAB_SIZE, max_len=msa.width + 2, d_model=32, n_heads=2,
        n_layers=2, d_ff=64, dropout=0.0, objective="causal", n_features=16,
    )  # fmt: skip
    torch.manual_seed(0)
    model = ProteinPerformer(config)
    path = tmp_path_factory.mktemp("kunitz") / "kunitz.ckpt"
    torch.save({
        "state_dict": {f"model.{k}": v for k, v in model.state_dict().items()},
        "hyper_parameters": {"model": config.to_dict()}, "family": info.to_dict(),
    }, path)  # fmt: skip
    return path, msa


def _one_line(capsys) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    return err[0]


def test_score_and_embed_place_records_and_refuse_a_misfit(kunitz, tmp_path, capsys):
    checkpoint, msa = kunitz
    fasta = tmp_path / "in.fasta"
    fasta.write_text(f">aligned\n{msa.aligned(0)}\n>plain\n{msa.aligned(0).replace('-', '')}\n")
    out = tmp_path / "scores.tsv"
    assert score_cli.main(["--checkpoint", str(checkpoint), "--fasta", str(fasta),
                           "--out", str(out)]) == 0  # fmt: skip
    rows = [ln.split("\t") for ln in out.read_text().splitlines() if not ln.startswith("#")]
    assert rows[1][2] == rows[2][2] and rows[1][1] == str(msa.width)
    npz = tmp_path / "emb.npz"
    assert embed_cli.main(["--checkpoint", str(checkpoint), "--fasta", str(fasta),
                           "--out", str(npz), "--per-token"]) == 0  # fmt: skip
    arrays = np.load(npz)
    assert list(arrays["sequences"]) == [msa.aligned(0)] * 2
    assert arrays["tokens_0"].shape == (msa.width, 32)
    capsys.readouterr()
    fasta.write_text(f">ok\n{msa.aligned(0)}\n>gfp\n{UNRELATED}\n")
    assert score_cli.main(["--checkpoint", str(checkpoint), "--fasta", str(fasta),
                           "--out", str(out)]) == 2  # fmt: skip
    assert "record 'gfp'" in _one_line(capsys)


def test_mutations_refuses_a_wild_type_the_profile_cannot_place(kunitz, tmp_path, capsys):
    checkpoint, _ = kunitz
    code = mutations_cli.main(["--sequence", UNRELATED, "--mutations", "M1A", "--checkpoint",
                               str(checkpoint), "--out", str(tmp_path / "m.tsv")])  # fmt: skip
    assert code == 2
    line = _one_line(capsys)
    assert line.startswith("protein-performer mutations: error: --sequence: not recognised")


def test_analyze_refuses_bpti_on_the_shipped_pdz_model(tmp_path, capsys):
    code = analyze_cli.main(["--checkpoint", str(CHECKPOINTS_DIR / "family_pf00595.ckpt"),
                             "--out", str(tmp_path)])  # fmt: skip
    assert code == 2
    assert "BPT1_BOVIN" in _one_line(capsys)
    assert not any(tmp_path.iterdir())


def test_analyze_places_bpti_on_the_kunitz_columns(kunitz, tmp_path):
    checkpoint, _ = kunitz
    code = analyze_cli.main(["--checkpoint", str(checkpoint), "--out", str(tmp_path),
                             "--run-name", "k"])  # fmt: skip
    assert code == 0
    metrics = json.loads((tmp_path / "k" / "metrics.json").read_text())
    residues = np.array(metrics["residues_1based"])  # mature 5PTI numbering
    assert len(residues) >= 50
    (model,) = metrics["models"].values()
    long = model["precision"]["attention_apc_mean"]["long"]
    assert 0 < long["random"] < 0.3
    assert (tmp_path / "k" / "report.md").read_text().count("categorical Jacobian") >= 1


def test_bpti_residues_sit_on_their_documented_columns(kunitz):
    from protein_performer.analysis.bpti_contacts import aligned_reading
    from protein_performer.analysis.placement import place
    from protein_performer.analysis.structures import load_bpti
    from protein_performer.model.io import load_model

    bpti = load_bpti()
    reading = aligned_reading(bpti, place(load_model(kunitz[0]), bpti.precursor, name="BPTI"))
    # column c (1-based; token c) holds mature residue c + 3 (1-based)
    np.testing.assert_array_equal(reading.positions_P, reading.residues_P + 1 - 3)


def test_generate_writes_whole_aligned_rows(kunitz, tmp_path):
    from protein_performer.data.fasta import iter_fasta
    from protein_performer.generation import generate_cli as generate_cli

    checkpoint, msa = kunitz
    out = tmp_path / "rows.fasta"
    argv = ["--checkpoint", str(checkpoint), "--num-samples", "4", "--out", str(out)]
    assert generate_cli.main([*argv, "--prompt=-C"]) == 0
    rows = [r.sequence for r in iter_fasta(out)]
    assert len(rows) == 4 and all(len(r) == msa.width and r.startswith("-C") for r in rows)
    assert generate_cli.main([*argv, "--prompt=-C", "--unaligned"]) == 0
    assert [r.sequence for r in iter_fasta(out)] == [r.replace("-", "") for r in rows]
    assert generate_cli.main([*argv, "--max-length", "10"]) == 2
