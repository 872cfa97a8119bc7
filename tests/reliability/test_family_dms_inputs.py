"""Bad-input battery over `dms`, `family`, `train --optim.*`, contact maps, alignments, saved
models and `embed`: each bad input ends with a non-zero exit and a last stderr line naming the
file, line or flag, never a traceback and never a silent success; each valid input that used to
be refused now succeeds.

The tally (tried / clean / traceback / wrong success / refused valid / unclear) is printed; run
with `-s` to see it.
"""

from __future__ import annotations

import gzip
import json
import os
from dataclasses import dataclass
from pathlib import Path

import pytest
import torch

from protein_performer.cli import main as dispatch

ROOT = Path(__file__).resolve().parents[2]
FAMILY = ROOT / "data" / "families" / "PF00595"
SCAN = FAMILY / "DLG4_RAT_Ranganathan2012.csv"
WILD_TYPE = FAMILY / "DLG4_RAT_PDZ3_wt.fasta"
QUERY = "DLG4_RAT/313-391"


@dataclass(frozen=True)
class Case:
    name: str
    argv: tuple[str, ...]
    names: str  # what the last stderr line must contain; "" for a valid input (exit 0)


def _scan_files(tmp: Path) -> dict[str, Path]:
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
    out = {}
    for name, lines in files.items():
        out[name] = tmp / f"scan_{name}.csv"
        out[name].write_text("\n".join(lines) + "\n")
    out["bom"] = tmp / "scan_bom.csv"
    out["bom"].write_bytes(b"\xef\xbb\xbf" + "\n".join([header, *rows]).encode() + b"\n")
    return out


def _contact_files(tmp: Path) -> dict[str, Path]:
    files = {
        "inf": "1 5 0.9 inf\n2 9 0.8 3.0\n",
        "nan": "1 5 0.9 nan\n2 9 0.8 3.0\n",
        "negative": "1 5 0.9 -2.0\n2 9 0.8 3.0\n",
        "empty": "",
        "duplicate": "1 5 0.9 4.0\n2 9 0.8 3.0\n5 1 0.9 9.0\n",
    }
    out = {}
    for name, text in files.items():
        out[name] = tmp / f"contacts_{name}.dat"
        out[name].write_text(text)
    return out


def _msa_files(tmp: Path) -> dict[str, Path]:
    with gzip.open(FAMILY / "PF00595_mgap6.fasta.gz", "rt") as handle:
        everything = handle.read().split("\n")
    lines = everything[:80]
    width = len(lines[1])
    query = everything.index(next(ln for ln in everything if ln[1:].split()[:1] == [QUERY]))
    files = {
        "one_row.fasta": f">{lines[0][1:]}\n{lines[1]}\n",
        "slice.fasta": "\n".join(lines + everything[query : query + 2]) + "\n",
        "all_gap.fasta": "".join(f">r{i}\n{'-' * width}\n" for i in range(5)),
        "zero_columns.fasta": "".join(f">r{i}\n\n" for i in range(5)),
        "lowercase.fasta": "\n".join(lines[:40]) + "\n>low\n" + lines[1].lower() + "\n",
        "unterminated.sto": "# STOCKHOLM 1.0\n"
        + "".join(f"{lines[i][1:].split()[0]} {lines[i + 1]}\n" for i in range(0, 40, 2)),
    }
    out = {}
    for name, text in files.items():
        out[name.split(".")[0]] = tmp / name
        (tmp / name).write_text(text)
    return out


def _saved_models(tmp: Path, checkpoint: Path) -> dict[str, Path]:
    from protein_performer.model.io import load_model, save_pretrained

    model = load_model(checkpoint)
    good = save_pretrained(model, tmp / "saved_good")
    bad_config = save_pretrained(model, tmp / "saved_bad_config")
    values = json.loads((bad_config / "config.json").read_text())
    values["d_model"] = "abc"
    (bad_config / "config.json").write_text(json.dumps(values))
    with torch.no_grad():
        for parameter in model.parameters():
            parameter.fill_(float("nan"))
    nan = save_pretrained(model, tmp / "saved_nan")
    return {"good": good, "bad_config": bad_config, "nan": nan}


def cases(tmp: Path, mlm: Path, fasta: Path, cache: Path) -> list[Case]:
    scans, contacts = _scan_files(tmp), _contact_files(tmp)
    msas, saved = _msa_files(tmp), _saved_models(tmp, mlm)
    good_fasta = tmp / "good.fasta"
    good_fasta.write_text(">a\nMKTAYIAKQR\n>b\nMKVLA\n")
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
                f"--data.fasta={fasta}", f"--data.cache_dir={cache}",
                f"--runs-dir={tmp / 'runs'}", "--name=optim", *extra)  # fmt: skip

    small = str(FAMILY / "PF00595_mgap6.fasta.gz")
    return [
        Case("scan row without commas", dms(scans["no_commas"]), "scan_no_commas.csv:5"),
        Case("scan short row", dms(scans["short_row"]), "scan_short_row.csv:5"),
        Case("scan nan measurement", dms(scans["nan"]), "scan_nan.csv:5"),
        Case("scan inf measurement", dms(scans["inf"]), "scan_inf.csv:5"),
        Case("scan missing measurement", dms(scans["missing"]), "scan_missing.csv:5"),
        Case("scan constant column", dms(scans["constant"]), "constant"),
        Case("scan all-nan column", dms(scans["all_nan"]), "scan_all_nan.csv:2"),
        Case("scan duplicate variant", dms(scans["duplicates"]), "scan_duplicates.csv"),
        Case("scan --mutant-column absent", dms(scans["bom"], "--mutant-column", "X"),
             "--mutant-column"),
        Case("scan --mutant-column honoured", dms(scans["renamed"], "--mutant-column",
             "variant"), ""),
        Case("scan with a byte-order mark", dms(scans["bom"]), ""),
        Case("dms save_pretrained directory", dms(scans["bom"], checkpoint=saved["good"]), ""),
        Case("dms nan weights", dms(scans["bom"], checkpoint=saved["nan"]), "non-finite"),
        Case("dms config.json bad value", dms(scans["bom"], checkpoint=saved["bad_config"]),
             "d_model"),
        Case("dms --out an existing file", dms(scans["bom"])[:-2] + ("--out", str(good_fasta)),
             "--out"),
        Case("dms --contacts without --msa", dms(scans["bom"], "--contacts",
             str(contacts["inf"])), "--msa"),
        *[Case(f"contacts {name}", dms(scans["bom"], "--contacts", str(path), "--msa",
               str(msas["slice"]), "--query", QUERY), path.name)
          for name, path in contacts.items()],
        Case("embed nan weights", ("embed", "--fasta", str(good_fasta), "--out",
             str(tmp / "e.npz"), "--checkpoint", str(saved["nan"])), "non-finite"),
        Case("embed FASTA positional", ("embed", str(good_fasta), "--out", str(tmp / "p.npz"),
             "--checkpoint", str(mlm)), ""),
        Case("family --eval.n_boot 0", family(Path(small), "--eval.n_boot", "0"), "n_boot"),
        Case("family one-row alignment", family(msas["one_row"]), "one_row.fasta"),
        Case("family all-gap alignment", family(msas["all_gap"]), "all_gap.fasta"),
        Case("family zero-column alignment", family(msas["zero_columns"]), "zero_columns"),
        Case("family Stockholm without //", family(msas["unterminated"]), "//"),
        Case("family lowercase in FASTA", family(msas["lowercase"]), "--data.msa_format a2m"),
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


def classify(case: Case, capsys) -> tuple[str, str]:
    """("clean" | "traceback" | "wrong success" | "refused valid" | "unclear", detail)."""
    capsys.readouterr()
    try:
        code = dispatch(list(case.argv))
    except SystemExit as exit_:  # argparse / jsonargparse usage errors
        code = exit_.code if isinstance(exit_.code, int) else 1
    except BaseException as error:  # noqa: BLE001 - what would have been a traceback
        return "traceback", f"{type(error).__name__}: {error}"
    err = [ln for ln in capsys.readouterr().err.splitlines() if ln.strip()]
    if not case.names:
        return ("clean", "") if code == 0 else ("refused valid", f"exit {code}: {err[-1:]}")
    if code == 0:
        return "wrong success", "exit 0"
    if err and case.names in err[-1] and not any("Traceback" in ln for ln in err):
        warned = [ln for ln in err[:-1] if "Warning" in ln]
        return ("unclear", f"warnings before the error: {warned}") if warned else ("clean", "")
    return "unclear", f"exit {code}, stderr {err[-3:]}"


def test_family_dms_bad_input_battery(
    tiny_checkpoint, tiny_fasta, tiny_cache_dir, tmp_path, capsys, monkeypatch
):
    monkeypatch.setenv("WANDB_MODE", "disabled")
    tally = dict.fromkeys(("tried", "clean", "traceback", "wrong success", "refused valid",
                           "unclear"), 0)  # fmt: skip
    failures = []
    only = os.environ.get("PP_BATTERY_ONLY", "")  # a substring of case names, to rerun a few
    for case in cases(tmp_path, tiny_checkpoint, tiny_fasta, tiny_cache_dir):
        if only not in case.name:
            continue
        kind, detail = classify(case, capsys)
        tally["tried"] += 1
        tally[kind] += 1
        if kind != "clean":
            failures.append(f"{case.name}: {kind}: {detail}")
    with capsys.disabled():
        print("\nfamily/dms battery: " + ", ".join(f"{k} {v}" for k, v in tally.items()))
        print("\n".join(failures))
    report = os.environ.get("PP_BATTERY_REPORT")
    if report:
        Path(report).write_text(json.dumps({"tally": tally, "failures": failures}, indent=1))
    assert not failures, "\n".join(failures)
    assert not (tmp_path / "runs" / "optim").exists(), "a refused launch wrote its run directory"


@pytest.mark.parametrize("n_boot", [0, -3])
def test_eval_config_refuses_n_boot_below_one(n_boot):
    from protein_performer.analysis.family_evaluation import FamilyEvalConfig

    with pytest.raises(ValueError, match="n_boot"):
        FamilyEvalConfig(n_boot=n_boot)
