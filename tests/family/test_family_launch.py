"""`protein-performer family` on a user's own alignment: the recipe as defaults, optional
evaluation parts, every bad input refused in one line before anything is written, and the
`FamilyInfo` every checkpoint carries."""

from __future__ import annotations

import dataclasses
import gzip
import hashlib
import json
from pathlib import Path

import pytest
import torch

from protein_performer.analysis.family_evaluation import FamilyEvalConfig
from protein_performer.family import family_cli
from protein_performer.model.family_info import CHECKPOINT_KEY, FamilyInfo

DATA = Path(__file__).resolve().parents[2] / "data"
KUNITZ = DATA / "families" / "PF00014"
PDZ = DATA / "families" / "PF00595"
BPTI_ROW = "BPT1_BOVIN/39-91"
TINY = [
    "--model_preset", "tiny_l2_d64", "--trainer.max_steps", "2",
    "--trainer.val_check_interval", "2", "--trainer.enable_progress_bar", "false",
    "--eval.n_boot", "10", "--eval.n_samples", "0",
]  # fmt: skip


def _rows(path: Path) -> list[tuple[str, str]]:
    with gzip.open(path, "rt") as handle:
        lines = handle.read().split()
    return [(lines[i][1:], lines[i + 1]) for i in range(0, len(lines) - 1, 2)]


@pytest.fixture(scope="module")
def kunitz(tmp_path_factory) -> Path:
    """The first 300 rows of the shipped Kunitz alignment plus BPT1_BOVIN's row."""
    out = tmp_path_factory.mktemp("kunitz") / "kunitz300.fasta"
    rows = _rows(KUNITZ / "PF00014_mgap6.fasta.gz")
    keep = rows[:300] + [r for r in rows if r[0] == BPTI_ROW]
    out.write_text("".join(f">{name}\n{seq}\n" for name, seq in keep))
    return out


def family(tmp_path: Path, msa: Path, *extra: str, name: str = "run") -> tuple[int, list[str]]:
    """Exit code and stderr lines of one `family` launch under `tmp_path/runs`."""
    import contextlib
    import io

    err = io.StringIO()
    argv = ["--data.msa", str(msa), "--runs-dir", str(tmp_path / "runs"), "--name", name,
            "--data.cache_dir", str(tmp_path / "cache"), *TINY, *extra]  # fmt: skip
    with contextlib.redirect_stderr(err):
        try:
            code = family_cli.main(argv)
        except SystemExit as exit_:
            code = exit_.code
    return code, [line for line in err.getvalue().splitlines() if line.strip()]


def assert_refused(tmp_path: Path, code: int, err: list[str], *words: str) -> None:
    assert code == 2, err
    assert len(err) == 1, err
    for word in words:
        assert word in err[0], err[0]
    assert not (tmp_path / "runs" / "run").exists()


def test_defaults_are_the_family_recipe():
    _, alone = family_cli.parse(["--data.msa", "x.a2m"])
    _, example = family_cli.parse(["--config", "configs/family.yaml"])
    for section in ("model", "optim", "trainer"):
        assert alone[section] == example[section], section
    assert alone.model_preset == "family_l4_d64" and alone.model.n_layers == 4
    assert alone.model.objective == "causal" and alone.optim.lr == 3e-3
    assert alone.eval.scan is None and alone.eval.contacts is None
    assert example.data.msa.endswith("PF00595_mgap6.fasta.gz")
    _, no_scan = family_cli.parse(["--config", "configs/family.yaml", "--eval.scan", "null"])
    assert no_scan.eval.scan is None and no_scan.eval.contacts is not None


def test_no_default_names_an_example_dataset():
    values = dataclasses.asdict(FamilyEvalConfig())
    assert not any("PF00595" in str(v) or "DLG4" in str(v) for v in values.values())
    with pytest.raises(TypeError):
        family_cli.FamilyDataConfig()  # --data.msa is required


def test_missing_msa_is_one_line(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_:
        family_cli.main(["--runs-dir", str(tmp_path / "runs")])
    err = capsys.readouterr().err.strip().splitlines()
    assert exit_.value.code == 2 and len(err) == 1 and "data.msa" in err[0]
    assert not (tmp_path / "runs").exists()


def test_unaligned_fasta_points_to_msa_command(tmp_path):
    records = []
    with gzip.open(DATA / "uniprot_sample.fasta.gz", "rt") as handle:
        for line in handle:
            if line.startswith(">") and len(records) >= 80:
                break
            records.append(line)
    fasta = tmp_path / "sequences.fasta"
    fasta.write_text("".join(records))
    code, err = family(tmp_path, fasta)
    assert_refused(tmp_path, code, err, "unaligned", "protein-performer msa", "--data.msa")


def test_scan_of_another_protein_fails_the_coverage_check(tmp_path, kunitz):
    code, err = family(
        tmp_path, kunitz, "--eval.scan", str(PDZ / "DLG4_RAT_Ranganathan2012.csv"),
        "--eval.score_column", "CRIPT", "--eval.wild_type", str(PDZ / "DLG4_RAT_PDZ3_wt.fasta"),
        "--eval.offset", "311",
    )  # fmt: skip
    assert_refused(tmp_path, code, err, "--eval.min_coverage", "%", "hmmalign")


def test_absent_query_row(tmp_path, kunitz):
    code, err = family(
        tmp_path, kunitz, "--eval.wild_type", str(DATA / "bpti" / "P00974.fasta"),
        "--eval.query", "NOPE_HUMAN/1-50", "--eval.structure", str(DATA / "bpti" / "5PTI.pdb"),
        "--eval.chain", "A",
    )  # fmt: skip
    assert_refused(tmp_path, code, err, "NOPE_HUMAN/1-50")


def test_contact_columns_out_of_range(tmp_path, kunitz):
    contacts = tmp_path / "bad_struct.dat"
    lines = (KUNITZ / "PF00014_struct.dat").read_text().splitlines()
    contacts.write_text("\n".join([*lines[:5], "3 60 0.5 4.2", *lines[5:]]) + "\n")
    code, err = family(tmp_path, kunitz, "--eval.contacts", str(contacts))
    assert_refused(tmp_path, code, err, "--eval.contacts", "bad_struct.dat:6", "60")


def test_absent_structure_chain(tmp_path, kunitz):
    code, err = family(
        tmp_path, kunitz, "--eval.query", BPTI_ROW,
        "--eval.structure", str(DATA / "bpti" / "5PTI.pdb"), "--eval.chain", "Z",
    )  # fmt: skip
    assert_refused(tmp_path, code, err, "--eval.structure", "no chain 'Z'")


def test_structure_of_another_protein(tmp_path, kunitz):
    other = next(n for n, _ in _rows(KUNITZ / "PF00014_mgap6.fasta.gz")[:300])
    code, err = family(
        tmp_path, kunitz, "--eval.query", other,
        "--eval.structure", str(DATA / "bpti" / "5PTI.pdb"), "--eval.chain", "A",
    )  # fmt: skip
    assert_refused(tmp_path, code, err, "--eval.structure", "does not match the wild type")


def test_existing_run_is_refused_and_left_as_it_was(tmp_path, kunitz):
    run_dir = tmp_path / "runs" / "run"
    run_dir.mkdir(parents=True)
    (run_dir / "notes.txt").write_text("an earlier run")
    before = {p: p.stat().st_mtime_ns for p in run_dir.rglob("*")}
    code, err = family(tmp_path, kunitz)
    assert code == 2 and len(err) == 1, err
    assert "--resume true" in err[0] and "--overwrite true" in err[0]
    assert {p: p.stat().st_mtime_ns for p in run_dir.rglob("*")} == before


def test_trains_without_evaluation_and_checkpoints_record_the_family(tmp_path, kunitz):
    code, err = family(tmp_path, kunitz)
    assert code == 0, err
    run_dir = tmp_path / "runs" / "run"
    out = run_dir / "family"
    assert (out / "report.md").is_file() and not (out / "scores.tsv").exists()
    assert json.loads((out / "evaluation.json").read_text())["scan"] is None
    sha = hashlib.sha256(kunitz.read_bytes()).hexdigest()
    for name in ("last.ckpt", "best.ckpt"):
        checkpoint = torch.load(run_dir / "checkpoints" / name, weights_only=True)
        info = FamilyInfo.from_dict(checkpoint[CHECKPOINT_KEY])
        assert (info.view, info.n_columns, info.alignment) == ("aligned", 53, kunitz.name)
        assert info.alignment_sha256 == sha
        assert info.hmm.startswith("HMMER3")
    import pyhmmer

    hmm_path = tmp_path / "family.hmm"
    hmm_path.write_text(info.hmm)
    with pyhmmer.plan7.HMMFile(hmm_path) as handle:
        assert handle.read().M == 53
    (run_dir / "marker").write_text("x")
    code, err = family(tmp_path, kunitz, "--overwrite", "true")
    assert code == 0, err
    assert not (run_dir / "marker").exists() and (run_dir / "checkpoints" / "last.ckpt").is_file()


def test_structure_contacts_through_the_wild_type(tmp_path, kunitz):
    code, err = family(
        tmp_path, kunitz, "--eval.query", BPTI_ROW,
        "--eval.wild_type", str(DATA / "bpti" / "P00974.fasta"),
        "--eval.structure", str(DATA / "bpti" / "5PTI.cif.gz"), "--eval.chain", "A",
    )  # fmt: skip
    assert code == 0, err
    data = json.loads((tmp_path / "runs" / "run" / "family" / "evaluation.json").read_text())
    assert data["contact_kinds"] == {"4.5": "heavy atoms", "8": "Cβ"}
    # The Performer's three read-outs and the Potts baseline fitted on the same rows.
    assert set(data["contacts"]) == {"jacobian", "attention", "position_attention", "potts"}
    long8 = data["contacts"]["jacobian"]["8"]["long"]
    assert 0 < long8["random"] < 1
    report = (tmp_path / "runs" / "run" / "family" / "report.md").read_text()
    assert "Cβ < 8 Å" in report and "Variant effects" not in report


def test_a_token_cap_below_one_is_refused(tmp_path, kunitz):
    code, err = family(tmp_path, kunitz, "--data.batch_tokens", "0")
    assert_refused(tmp_path, code, err, "data.batch_tokens", ">= 1")
