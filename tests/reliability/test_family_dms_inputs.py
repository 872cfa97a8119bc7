"""Bad-input battery over `dms`, `family`, `train --optim.*`, contact maps, alignments, saved
models and `embed`: each bad input ends in a clean error (`tests.helpers.clean_error_problem`:
exit status 2 and one stderr line naming the file, line or flag), never a traceback and never a
silent success; each valid input that used to be refused now succeeds. One case per test id:
`-k` reruns a few.
"""

from __future__ import annotations

import gzip
import json
from dataclasses import dataclass
from pathlib import Path

import pytest
import torch

from protein_performer.cli import main as dispatch
from tests.helpers import assert_case_names, clean_error_problem, run_command

ROOT = Path(__file__).resolve().parents[2]
FAMILY = ROOT / "data" / "families" / "PF00595"
SCAN = FAMILY / "DLG4_RAT_Ranganathan2012.csv"
WILD_TYPE = FAMILY / "DLG4_RAT_PDZ3_wt.fasta"
QUERY = "DLG4_RAT/313-391"

CONTACT_TEXTS = {
    "inf": "1 5 0.9 inf\n2 9 0.8 3.0\n",
    "nan": "1 5 0.9 nan\n2 9 0.8 3.0\n",
    "negative": "1 5 0.9 -2.0\n2 9 0.8 3.0\n",
    "empty": "",
    "duplicate": "1 5 0.9 4.0\n2 9 0.8 3.0\n5 1 0.9 9.0\n",
}
MSA_FILES = {"one_row": "one_row.fasta", "slice": "slice.fasta", "all_gap": "all_gap.fasta",
             "zero_columns": "zero_columns.fasta", "lowercase": "lowercase.fasta",
             "unterminated": "unterminated.sto"}  # fmt: skip


@dataclass(frozen=True)
class Case:
    name: str
    argv: tuple[str, ...]
    names: str  # what the stderr line must contain; "" for a valid input (exit 0)


@dataclass(frozen=True)
class Paths:
    """Where the battery's inputs lie; `write_inputs` makes them."""

    tmp: Path
    mlm: Path  # a good MLM checkpoint
    fasta: Path  # a FASTA `train` can prepare
    cache: Path  # its preparation cache

    def scan(self, name: str) -> Path:
        return self.tmp / f"scan_{name}.csv"

    def contacts(self, name: str) -> Path:
        return self.tmp / f"contacts_{name}.dat"

    def msa(self, name: str) -> Path:
        return self.tmp / MSA_FILES[name]

    def saved(self, name: str) -> Path:
        return self.tmp / f"saved_{name}"

    @property
    def good_fasta(self) -> Path:
        return self.tmp / "good.fasta"


def _write_scans(p: Paths) -> None:
    # Variants of residues on the columns (the first rows mutate 311–312, outside them).
    rows = SCAN.read_text().splitlines()[201:240]
    header = "mutant,CRIPT,Tm2F"
    files = {
        "no_commas": [header, *rows[:3], "P311A", *rows[3:]],
        "short_row": [header, *rows[:3], "P311A,0.1", *rows[3:]],
        "nan": [header, *rows[:3], "R312A,nan,0.1", *rows[3:]],
        "inf": [header, *rows[:3], "R312A,inf,0.1", *rows[3:]],
        "missing": [header, *rows[:3], "R312A,,0.1", *rows[3:]],
        "constant": [header] + [f"{r.split(',')[0]},1.0,0.1" for r in rows],
        "all_nan": [header] + [f"{r.split(',')[0]},nan,0.1" for r in rows],
        "duplicates": [header, *rows] + [f"{rows[0].split(',')[0]},{v},0.1" for v in range(5)],
        "renamed": ["variant,CRIPT,Tm2F", *rows],
    }
    for name, lines in files.items():
        p.scan(name).write_text("\n".join(lines) + "\n")
    p.scan("bom").write_bytes(b"\xef\xbb\xbf" + "\n".join([header, *rows]).encode() + b"\n")


def _write_msas(p: Paths) -> None:
    with gzip.open(FAMILY / "PF00595_mgap6.fasta.gz", "rt") as handle:
        everything = handle.read().split("\n")
    lines = everything[:80]
    width = len(lines[1])
    query = everything.index(next(ln for ln in everything if ln[1:].split()[:1] == [QUERY]))
    texts = {
        "one_row": f">{lines[0][1:]}\n{lines[1]}\n",
        "slice": "\n".join(lines + everything[query : query + 2]) + "\n",
        "all_gap": "".join(f">r{i}\n{'-' * width}\n" for i in range(5)),
        "zero_columns": "".join(f">r{i}\n\n" for i in range(5)),
        "lowercase": "\n".join(lines[:40]) + "\n>low\n" + lines[1].lower() + "\n",
        "unterminated": "# STOCKHOLM 1.0\n"
        + "".join(f"{lines[i][1:].split()[0]} {lines[i + 1]}\n" for i in range(0, 40, 2)),
    }
    for name, text in texts.items():
        p.msa(name).write_text(text)


def _write_saved_models(p: Paths) -> None:
    from protein_performer.model.io import load_model, save_pretrained

    model = load_model(p.mlm)
    save_pretrained(model, p.saved("good"))
    bad_config = save_pretrained(model, p.saved("bad_config"))
    values = json.loads((bad_config / "config.json").read_text())
    values["d_model"] = "abc"
    (bad_config / "config.json").write_text(json.dumps(values))
    with torch.no_grad():
        for parameter in model.parameters():
            parameter.fill_(float("nan"))
    save_pretrained(model, p.saved("nan"))


def write_inputs(p: Paths) -> None:
    _write_scans(p)
    for name, text in CONTACT_TEXTS.items():
        p.contacts(name).write_text(text)
    _write_msas(p)
    _write_saved_models(p)
    p.good_fasta.write_text(">a\nMKTAYIAKQR\n>b\nMKVLA\n")


def cases(p: Paths) -> list[Case]:
    """The cases; their names and messages depend on file names only, not on where `p` is."""
    tmp, mlm, good_fasta = p.tmp, p.mlm, p.good_fasta
    out = tmp / "dms_out"

    def dms(scan: Path, *extra: str, checkpoint: Path = mlm) -> tuple[str, ...]:
        return ("dms", "--checkpoint", str(checkpoint), "--scan", str(scan), "--score", "CRIPT",
                "--wild-type", str(WILD_TYPE), "--offset", "311", "--n-boot", "5",
                "--method", "wt-marginals", "--out", str(out), *extra)  # fmt: skip

    def family(msa: Path, *extra: str) -> tuple[str, ...]:
        return ("family", "--config", str(ROOT / "configs" / "family.yaml"),
                "--runs-dir", str(tmp / "runs"), "--name", "bad", "--data.msa", str(msa),
                "--data.cache_dir", str(tmp / "cache"), "--model_preset", "tiny_l2_d64",
                "--trainer.max_steps", "1", "--trainer.val_check_interval", "1",
                "--trainer.enable_progress_bar", "false", "--eval.n_boot", "5",
                "--eval.query", "null", "--eval.contacts", "null", *extra)  # fmt: skip

    def train(*extra: str) -> tuple[str, ...]:
        return ("train", "--config", str(ROOT / "configs" / "tiny.yaml"),
                f"--data.fasta={p.fasta}", f"--data.cache_dir={p.cache}",
                f"--runs-dir={tmp / 'runs'}", "--name=optim", *extra)  # fmt: skip

    small = str(FAMILY / "PF00595_mgap6.fasta.gz")
    bom = p.scan("bom")
    return [
        Case("scan row without commas", dms(p.scan("no_commas")), "scan_no_commas.csv:5"),
        Case("scan short row", dms(p.scan("short_row")), "scan_short_row.csv:5"),
        Case("scan nan measurement", dms(p.scan("nan")), "scan_nan.csv:5"),
        Case("scan inf measurement", dms(p.scan("inf")), "scan_inf.csv:5"),
        Case("scan missing measurement", dms(p.scan("missing")), "scan_missing.csv:5"),
        Case("scan constant column", dms(p.scan("constant")), "constant"),
        Case("scan all-nan column", dms(p.scan("all_nan")), "scan_all_nan.csv:2"),
        Case("scan duplicate variant", dms(p.scan("duplicates")), "scan_duplicates.csv"),
        Case("scan --mutant-column absent", dms(bom, "--mutant-column", "X"),
             "--mutant-column"),
        Case("scan --mutant-column honoured", dms(p.scan("renamed"), "--mutant-column",
             "variant"), ""),
        Case("scan with a byte-order mark", dms(bom), ""),
        Case("dms save_pretrained directory", dms(bom, checkpoint=p.saved("good")), ""),
        Case("dms nan weights", dms(bom, checkpoint=p.saved("nan")), "non-finite"),
        Case("dms config.json bad value", dms(bom, checkpoint=p.saved("bad_config")),
             "d_model"),
        Case("dms --out an existing file", dms(bom)[:-2] + ("--out", str(good_fasta)),
             "--out"),
        Case("dms --contacts without --msa", dms(bom, "--contacts",
             str(p.contacts("inf"))), "--msa"),
        Case("dms nothing to score", ("dms", "--checkpoint", str(mlm), "--wild-type",
             str(WILD_TYPE), "--out", str(out)), "--scan, --contacts or --structure"),
        Case("dms --scan without --score-column", tuple(a for a in dms(bom)
             if a not in ("--score", "CRIPT")), "--score-column"),
        Case("dms --structure without --chain", dms(bom, "--msa", small, "--structure",
             str(ROOT / "data" / "bpti" / "5PTI.pdb")), "--chain"),
        Case("dms --contacts and --structure", dms(bom, "--msa", small, "--contacts",
             str(FAMILY / "PF00595_struct.dat"), "--structure",
             str(ROOT / "data" / "bpti" / "5PTI.pdb"), "--chain", "A"), "--structure"),
        Case("dms low coverage names dms flags", dms(SCAN, "--msa", small, "--query", QUERY,
             "--min-coverage", "0.99"), "below --min-coverage 0.99; is it a scan of this "
             "family's protein, with the right --wild-type and --offset?"),
        Case("dms one checkpoint twice", dms(bom, "--checkpoint", str(mlm)), "given twice"),
        *[Case(f"contacts {name}", dms(bom, "--contacts", str(p.contacts(name)), "--msa",
               str(p.msa("slice")), "--query", QUERY), p.contacts(name).name)
          for name in CONTACT_TEXTS],
        Case("embed nan weights", ("embed", "--fasta", str(good_fasta), "--out",
             str(tmp / "e.npz"), "--checkpoint", str(p.saved("nan"))), "non-finite"),
        Case("embed FASTA positional", ("embed", str(good_fasta), "--out", str(tmp / "p.npz"),
             "--checkpoint", str(mlm)), ""),
        Case("family --eval.n_boot 0", family(Path(small), "--eval.n_boot", "0"), "n_boot"),
        Case("family one-row alignment", family(p.msa("one_row")), "one_row.fasta"),
        Case("family all-gap alignment", family(p.msa("all_gap")), "all_gap.fasta"),
        Case("family zero-column alignment", family(p.msa("zero_columns")), "zero_columns"),
        Case("family Stockholm without //", family(p.msa("unterminated")), "//"),
        Case("family lowercase in FASTA", family(p.msa("lowercase")), "--data.msa_format a2m"),
        Case("train --optim.lr -1", train("--optim.lr", "-1"), "optim.lr"),
        Case("train --optim.lr nan", train("--optim.lr", "nan"), "optim.lr"),
        Case("train --optim.beta1 1", train("--optim.beta1", "1"), "optim.beta1"),
        Case("train --optim.beta2 -0.1", train("--optim.beta2", "-0.1"), "optim.beta2"),
        Case("train --optim.eps 0", train("--optim.eps", "0"), "optim.eps"),
        Case("train --optim.weight_decay -1", train("--optim.weight_decay", "-1"),
             "optim.weight_decay"),
        Case("train --optim.warmup_steps -1", train("--optim.warmup_steps", "-1"),
             "optim.warmup_steps"),
    ]  # fmt: skip


# The case names, known at collection time: any root gives the same names.
CASE_NAMES = [c.name for c in cases(Paths(Path("tmp"), Path("mlm"), Path("fa"), Path("cache")))]


def classify(case: Case, capsys) -> str:
    """What is wrong with how the case ended, "" if nothing: "refused valid: ..." for a valid
    input that failed, else the problem with a bad input's error (`clean_error_problem`)."""
    outcome = run_command(dispatch, case.argv, capsys)
    if case.names:
        return clean_error_problem(outcome, case.names)
    if outcome.code == 0:
        return ""
    detail = outcome.error or outcome.stderr.strip().splitlines()[-1:]
    return f"refused valid: exit {outcome.code}: {detail}"


@pytest.fixture(scope="module")
def inputs(tmp_path_factory, tiny_checkpoint, tiny_fasta, tiny_cache_dir) -> Paths:
    paths = Paths(tmp_path_factory.mktemp("family_dms"), tiny_checkpoint, tiny_fasta,
                  tiny_cache_dir)  # fmt: skip
    write_inputs(paths)
    return paths


def test_battery_has_its_cases():
    assert_case_names(CASE_NAMES, at_least=30)


@pytest.mark.parametrize("name", CASE_NAMES)
def test_family_dms_input(name, inputs, capsys, monkeypatch):
    monkeypatch.setenv("WANDB_MODE", "disabled")
    case = next(case for case in cases(inputs) if case.name == name)
    problem = classify(case, capsys)
    assert not problem, problem
    assert not (inputs.tmp / "runs" / "optim").exists(), "a refused launch wrote its run dir"


@pytest.mark.parametrize("n_boot", [0, -3])
def test_eval_config_refuses_n_boot_below_one(n_boot):
    from protein_performer.analysis.family_evaluation import FamilyEvalConfig

    with pytest.raises(ValueError, match="n_boot"):
        FamilyEvalConfig(n_boot=n_boot)
