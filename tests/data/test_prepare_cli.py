from protein_performer.data.prepare_cli import main


def test_prepare_cli_prints_table_and_uses_cache(tmp_path, fasta_factory, make_records, capsys):
    path = fasta_factory(records=make_records(150))
    argv = ["--fasta", str(path), "--cache-dir", str(tmp_path / "c"), "--ood-taxa", "5851,42"]
    assert main(argv) == 0
    out = capsys.readouterr().out
    for word in ("split", "median", "train", "valid", "test", "ood", "residues/s", "(built)"):
        assert word in out
    assert "OX=5851 Org 5851" in out and "OX=42: not present" in out
    assert main(argv) == 0
    assert "(cached)" in capsys.readouterr().out


def test_prepare_cli_reports_bad_input(tmp_path, capsys):
    path = tmp_path / "bad.fa"
    path.write_text("MKV\n")
    assert main(["--fasta", str(path), "--cache-dir", str(tmp_path / "c")]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"protein-performer prepare: error: {path}:1: text before the first")
    assert err.count("\n") == 1
