"""docs/FAMILIES.md "Your own family" runs as written: every fenced command of the section, in
order, on small slices of the shipped data saved under the names the guide uses."""

from __future__ import annotations

import csv
import gzip
import re
import shlex
import shutil
from pathlib import Path

import pytest

from protein_performer import cli
from protein_performer.data.fasta import iter_fasta

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "data"
GUIDE = ROOT / "docs" / "FAMILIES.md"
# Small, quick versions of every family run and of the search; the commands are otherwise run
# exactly as the guide writes them.
FAMILY_EXTRA = [
    "--model_preset", "tiny_l2_d64", "--trainer.max_steps", "2",
    "--trainer.val_check_interval", "2", "--trainer.enable_progress_bar", "false",
    "--eval.n_boot", "10", "--eval.n_samples", "0",
    "--data.valid_fraction", "0.25", "--data.test_fraction", "0.25",
]  # fmt: skip
MSA_EXTRA = ["--iterations", "2", "--bitscore", "0.2", "--cpus", "1"]
DMS_EXTRA = ["--n-boot", "10", "--potts-iterations", "2"]


def guide_commands() -> list[list[str]]:
    text = GUIDE.read_text()
    section = text.split("## Your own family", 1)[1].split("\n## ", 1)[0]
    commands = []
    for block in re.findall(r"```bash\n(.*?)```", section, flags=re.S):
        for line in block.replace("\\\n", " ").splitlines():
            line = line.split("#", 1)[0].strip()
            if line:
                commands.append(shlex.split(line))
    return commands


def _pairs(path: Path, n: int, keep: str) -> list[tuple[str, str]]:
    rows = [(r.name, r.sequence) for r in iter_fasta(path)]
    return rows[:n] + [r for r in rows[n:] if r[0] == keep]


def _write_fasta(path: Path, rows) -> None:
    path.write_text("".join(f">{n}\n{s}\n" for n, s in rows))


@pytest.fixture(scope="module")
def guide_dir(tmp_path_factory) -> Path:
    """The files the guide names, as slices of the shipped data."""
    out = tmp_path_factory.mktemp("guide")
    records = []
    for record in iter_fasta(DATA / "uniprot_sample.fasta.gz"):
        records.append(record)
        if len(records) >= 3000:
            break
    with gzip.open(out / "sequences.fasta.gz", "wt") as handle:
        handle.write("".join(f">{r.name}\n{r.sequence}\n" for r in records))
    query = next(r for r in records if "CYNR_ECOLI" in r.name)
    _write_fasta(out / "wt.fasta", [(query.name, query.sequence)])
    kunitz = _pairs(DATA / "families" / "PF00014" / "PF00014_mgap6.fasta.gz", 300,
                    "BPT1_BOVIN/39-91")  # fmt: skip
    width = max(len(n) for n, _ in kunitz)
    (out / "PF00014.sto").write_text(
        "# STOCKHOLM 1.0\n" + "".join(f"{n:<{width}} {s}\n" for n, s in kunitz) + "//\n"
    )
    _write_fasta(out / "PF00014.a3m", kunitz)
    pdz = _pairs(DATA / "families" / "PF00595" / "PF00595_mgap6.fasta.gz", 300,
                 "DLG4_RAT/313-391")  # fmt: skip
    _write_fasta(out / "PF00595.a3m", pdz)
    shutil.copy(DATA / "bpti" / "5PTI.pdb", out / "5PTI.pdb")
    shutil.copy(DATA / "families" / "PF00595" / "PF00595_struct.dat", out)
    # The DLG4_RAT scan in the ProteinGym layout: numbered from 1, with mutated_sequence.
    wild_type = next(iter(iter_fasta(DATA / "families" / "PF00595" / "DLG4_RAT_PDZ3_wt.fasta")))
    wt = wild_type.sequence
    with open(DATA / "families" / "PF00595" / "DLG4_RAT_Ranganathan2012.csv") as handle:
        rows = list(csv.DictReader(handle))
    with open(out / "scan.csv", "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["mutant", "mutated_sequence", "DMS_score"])
        for row in rows:
            a, pos, b = row["mutant"][0], int(row["mutant"][1:-1]) - 310, row["mutant"][-1]
            seq = wt[: pos - 1] + b + wt[pos:]
            writer.writerow([f"{a}{pos}{b}", seq, row["CRIPT"]])
    return out


def test_guide_has_the_promised_cases():
    commands = [" ".join(c) for c in guide_commands()]
    assert any(c.startswith("protein-performer msa") for c in commands)
    for needle in (".sto", ".a3m", "--eval.scan", "--eval.structure"):
        assert any(needle in c for c in commands), needle
    assert any("--eval.scan" not in c and "--eval.structure" not in c and " family " in f" {c} "
               for c in commands)  # fmt: skip


def test_guide_commands_run(guide_dir, monkeypatch):
    monkeypatch.chdir(guide_dir)
    for argv in guide_commands():
        assert argv[0] == "protein-performer", argv
        command, rest = argv[1], argv[2:]
        extra = {"family": FAMILY_EXTRA + ["--data.cache_dir", str(guide_dir / "cache")],
                 "msa": MSA_EXTRA, "dms": DMS_EXTRA}[command]  # fmt: skip
        assert cli.main([command, *rest, *extra]) == 0, argv
    runs = guide_dir / "runs"
    # Three ranges for each of the Jacobian, attention, the position-attention layer and Potts.
    assert (runs / "kunitz_5pti" / "family" / "report.md").read_text().count("Cβ < 8 Å") == 12
    pdz = (runs / "pdz" / "family" / "report.md").read_text()
    assert "Variant effects" in pdz and "hmmalign" in pdz
    assert not (runs / "kunitz" / "family" / "scores.tsv").exists()
    both = (guide_dir / "reports" / "pdz_both" / "report.md").read_text()
    assert "ensemble of 2" in both and "ensemble jacobian" in both
