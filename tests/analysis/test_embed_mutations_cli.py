import numpy as np

from protein_performer.analysis import embed_cli, mutations_cli


def test_embed_cli_writes_mean_and_per_token(tiny_checkpoint, tmp_path):
    fasta = tmp_path / "in.fasta"
    fasta.write_text(">a first\nMKTAYIAKQR\n>b second\nACDEFGHIKLMNPQ\n")
    out = tmp_path / "emb.npz"
    code = embed_cli.main(
        [
            "--fasta",
            str(fasta),
            "--out",
            str(out),
            "--checkpoint",
            str(tiny_checkpoint),
            "--layer",
            "1",
            "--per-token",
        ]
    )
    assert code == 0
    data = np.load(out)
    assert list(data["names"]) == ["a", "b"] and int(data["layer"]) == 1
    assert str(data["checkpoint"]) == str(tiny_checkpoint)
    assert len(str(data["checkpoint_sha256"])) == 64
    assert data["mean"].shape == (2, 64)
    assert data["tokens_1"].shape == (14, 64)
    np.testing.assert_allclose(data["mean"][1], data["tokens_1"].mean(0), rtol=1e-5)


def test_mutations_cli_scores_variants_and_scans(tiny_checkpoint, tmp_path, capsys):
    seq = "MKTAYIAKQRQISFVK"
    out = tmp_path / "s.tsv"
    code = mutations_cli.main(
        [
            "--sequence",
            seq,
            "--mutations",
            "K2A",
            "K2A:T3W",
            "--checkpoint",
            str(tiny_checkpoint),
            "--out",
            str(out),
        ]
    )
    assert code == 0
    lines = out.read_text().splitlines()
    assert lines[0] == f"# checkpoint: {tiny_checkpoint}" and lines[1].startswith(
        "# checkpoint_sha"
    )
    rows = [ln.split("\t") for ln in lines[2:]]
    assert rows[0] == ["variant", "masked-marginals"]
    single, double = float(rows[1][1]), float(rows[2][1])
    assert np.isfinite(single) and np.isfinite(double) and single != double
    assert (
        mutations_cli.main(
            ["--sequence", seq, "--scan", "--checkpoint", str(tiny_checkpoint), "--out", str(out)]
        )
        == 0
    )
    assert len(out.read_text().splitlines()) == 3 + 19 * len(seq)
    # a wrong wild-type letter is an error naming the variant, exit code 2
    assert (
        mutations_cli.main(
            ["--sequence", seq, "--mutations", "A2G", "--checkpoint", str(tiny_checkpoint)]
        )
        == 2
    )
    assert "A2G" in capsys.readouterr().err


def test_mutations_cli_scores_synonymous_rows_as_zero(tiny_checkpoint, tmp_path):
    out = tmp_path / "syn.tsv"
    argv = ["--sequence", "MKTAYIAKQRQISFVK", "--mutations", "K2K", "K2A", "T3T:K2A",
            "--checkpoint", str(tiny_checkpoint), "--out", str(out)]  # fmt: skip
    assert mutations_cli.main(argv) == 0
    rows = [ln.split("\t") for ln in out.read_text().splitlines() if not ln.startswith("#")]
    scores = {name: float(value) for name, value in rows[1:]}
    assert scores["K2K"] == 0.0
    assert scores["T3T:K2A"] == scores["K2A"] != 0.0
