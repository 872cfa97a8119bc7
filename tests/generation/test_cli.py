"""End to end: `protein-performer generate` and `score` on the real tiny causal checkpoint."""

from __future__ import annotations

import csv
import math
from pathlib import Path

import pytest
import torch

from protein_performer.cli import main as dispatch
from protein_performer.data.fasta import iter_fasta
from protein_performer.data.tokenizer import Alphabet
from protein_performer.generation.sample_io import parse_header_fields
from protein_performer.training.checkpoint import load_model

AMINO_ACIDS = set("ACDEFGHIKLMNPQRSTVWYXBZUO")


@pytest.fixture(scope="module")
def exact_checkpoint(tiny_causal_checkpoint: Path, tmp_path_factory) -> Path:
    """The same trained weights as an exact-attention model (Choromanski et al. 2021, §4.3:
    parameters are shared between kinds; only the FAVOR projection buffers are dropped)."""
    checkpoint = torch.load(tiny_causal_checkpoint, map_location="cpu", weights_only=True)
    checkpoint["hyper_parameters"]["model"] = {
        **checkpoint["hyper_parameters"]["model"],
        "attention": "exact",
    }
    checkpoint["state_dict"] = {
        k: v for k, v in checkpoint["state_dict"].items() if not k.endswith("projection_MD")
    }
    path = tmp_path_factory.mktemp("exact_ckpt") / "exact.ckpt"
    torch.save(checkpoint, path)
    return path


def _generate(checkpoint: Path, out: Path, *extra: str) -> int:
    argv = ["generate", "--checkpoint", str(checkpoint), "--out", str(out)]
    return dispatch(argv + ["--num-samples", "4", "--max-length", "30", *extra])


@pytest.mark.parametrize("which", ["performer", "exact"])
def test_generate_writes_fasta_with_settings_in_headers(
    which: str, tiny_causal_checkpoint: Path, exact_checkpoint: Path, tmp_path: Path
) -> None:
    checkpoint = tiny_causal_checkpoint if which == "performer" else exact_checkpoint
    out = tmp_path / "gen.fasta"
    settings = ["--prompt", "MKV", "--top-k", "10", "--top-p", "0.9", "--temperature", "0.8"]
    assert _generate(checkpoint, out, *settings, "--seed", "11") == 0
    records = list(iter_fasta(out))
    assert len(records) == 4
    for i, record in enumerate(records, start=1):
        fields = parse_header_fields(record.header)
        assert record.name == f"sample_{i}"
        assert fields["checkpoint"] == str(checkpoint)
        assert fields["attention"] == ("favor-relu" if which == "performer" else "exact")
        assert fields["decoder"] == ("favor-state" if which == "performer" else "kv-cache")
        assert (fields["temperature"], fields["top_k"], fields["top_p"]) == ("0.8", "10", "0.9")
        assert (fields["seed"], fields["prompt"], fields["max_length"]) == ("11", "MKV", "30")
        assert record.sequence.startswith("MKV") and set(record.sequence) <= AMINO_ACIDS
        assert int(fields["length"]) == len(record.sequence) <= 30
        assert (fields["stop"] == "max_length") == (len(record.sequence) == 30)


def test_same_seed_same_file_other_seed_differs(
    tiny_causal_checkpoint: Path, tmp_path: Path
) -> None:
    paths = [tmp_path / f"{name}.fasta" for name in ("a", "b", "c")]
    for path, seed in zip(paths, ("1", "1", "2"), strict=True):
        assert _generate(tiny_causal_checkpoint, path, "--seed", seed) == 0
    a, b, c = (p.read_text() for p in paths)
    assert a == b
    assert [r.sequence for r in iter_fasta(paths[0])] != [r.sequence for r in iter_fasta(paths[2])]


def test_bad_prompt_gets_a_clear_error(
    tiny_causal_checkpoint: Path, tmp_path: Path, capsys
) -> None:
    out = tmp_path / "never.fasta"
    assert _generate(tiny_causal_checkpoint, out, "--prompt", "MK7V") == 2
    err = capsys.readouterr().err
    assert "--prompt" in err and "'7'" in err and "position 3" in err
    assert not out.exists()


def test_score_matches_an_unbatched_forward_pass(
    tiny_causal_checkpoint: Path, tmp_path: Path
) -> None:
    fasta = tmp_path / "in.fasta"
    fasta.write_text(">p1 first\nMKVLAAGIV\n>p2\nMSTNPKPQRKT\nKRNTNRR\n>p3\nACD\n")
    out = tmp_path / "scores.tsv"
    assert dispatch(["score", "--checkpoint", str(tiny_causal_checkpoint), "--fasta", str(fasta),
                     "--out", str(out), "--batch-size", "2"]) == 0  # fmt: skip
    lines = out.read_text().splitlines()
    assert lines[0] == f"# checkpoint: {tiny_causal_checkpoint}"
    assert lines[1].startswith("# checkpoint_sha256: ") and len(lines[1].split()[-1]) == 64
    rows = list(csv.DictReader(lines[2:], delimiter="\t"))
    assert [r["id"] for r in rows] == ["p1", "p2", "p3"]
    assert [int(r["length"]) for r in rows] == [9, 18, 3]
    # Independent check: one unbatched forward pass per sequence.
    model = load_model(tiny_causal_checkpoint)
    for row, seq in zip(rows, ["MKVLAAGIV", "MSTNPKPQRKTKRNTNRR", "ACD"], strict=True):
        tokens = torch.as_tensor(Alphabet().encode(seq), dtype=torch.long)[None]
        with torch.no_grad():
            log_probs = torch.log_softmax(model(tokens).logits_BLV[0, :-1].double(), dim=-1)
        ll = log_probs.gather(-1, tokens[0, 1:, None]).sum().item()
        assert float(row["log_likelihood"]) == pytest.approx(ll, abs=1e-4)
        assert float(row["perplexity"]) == pytest.approx(math.exp(-ll / (len(seq) + 1)), rel=1e-4)


def test_score_reports_bad_residue_with_file_and_line(
    tiny_causal_checkpoint: Path, tmp_path: Path, capsys
) -> None:
    fasta = tmp_path / "bad.fasta"
    fasta.write_text(">ok\nMKV\n>bad\nMK#V\n")
    argv = ["score", "--checkpoint", str(tiny_causal_checkpoint), "--fasta", str(fasta)]
    assert dispatch(argv + ["--out", str(tmp_path / "s.tsv")]) == 2
    err = capsys.readouterr().err
    assert f"{fasta}:3" in err and "'#'" in err and "position 3" in err


def test_missing_checkpoint_and_mlm_model_are_refused(tmp_path: Path, capsys) -> None:
    assert _generate(tmp_path / "nope.ckpt", tmp_path / "x.fasta") == 2
    assert "nope.ckpt: no such checkpoint file" in capsys.readouterr().err
    from protein_performer.model.config import preset
    from protein_performer.model.performer import ProteinPerformer

    config = preset("tiny_l2_d64", objective="mlm")
    state = {f"model.{k}": v for k, v in ProteinPerformer(config).state_dict().items()}
    mlm = {"hyper_parameters": {"model": config.to_dict()}, "state_dict": state}
    path = tmp_path / "mlm.ckpt"
    torch.save(mlm, path)
    fasta = tmp_path / "in.fasta"
    fasta.write_text(">a\nMKV\n")
    argv = [
        "score",
        "--checkpoint",
        str(path),
        "--fasta",
        str(fasta),
        "--out",
        str(tmp_path / "s"),
    ]
    assert dispatch(argv) == 2
    assert "objective='mlm'" in capsys.readouterr().err
