"""`make family-bench`, second part: single family models and their ensembles on both dev
families (PDZ with the DLG4_RAT scan, Kunitz with 5PTI), one reading order, seed or width at a
time: the recipe (dropout 0.2, 1,500 steps) and the recipe before it (no dropout, 500 steps), into
docs/FAMILIES.md.

Each member is `protein-performer family --config <the family's config> <overrides>` (one
thread, `--jobs` at a time, without the Potts fit and the samples, which the ensembles' `dms`
runs do); each ensemble is one `protein-performer dms` over its members' best checkpoints, with
the PSSM and the Potts model refitted on the members' training rows. A member whose run already
holds `family/evaluation.json` is not trained again (remove the run to retrain it); every
ensemble's `dms` runs again. The single models' rows are read from the four-model ensembles,
where every member is scored beside the others.

    python -m protein_performer.family.ensemble_bench [--jobs 2] [--runs-dir runs]
    python -m protein_performer.family.ensemble_bench --collect-only    # rebuild the table
"""

from __future__ import annotations

import argparse
import json
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import yaml

from protein_performer import command_line, markdown_blocks
from protein_performer.analysis.dms_cli import DMS_FLAGS
from protein_performer.family.bench_cells import (
    FAMILIES,
    READOUTS,
    check_jobs,
    contacts_cell,
    interval_cell,
    long_range,
    mean_p_at_l_cell,
    timed,
)

WIDE = ["--model.d_model", "128", "--model.d_ff", "512"]
REVERSE = ["--data.direction", "reverse"]
SEED1 = ["--seed", "1"]
# The recipe before dropout: 500 steps, no dropout (the d64 and d128 members).
SHORT = ["--model.dropout", "0", "--trainer.max_steps", "500"]
# member -> (what it is, overrides of the family's config)
MEMBERS: dict[str, tuple[str, list[str]]] = {
    "d64_fwd_s0": ("64 wide, N→C, seed 0, no dropout, 500 steps", SHORT),
    "d64_rev_s0": ("C→N", [*SHORT, *REVERSE]),
    "d64_fwd_s1": ("seed 1", [*SHORT, *SEED1]),
    "d64_rev_s1": ("C→N, seed 1", [*SHORT, *REVERSE, *SEED1]),
    "d128_fwd_s0": ("128 wide (d_ff 512)", [*SHORT, *WIDE]),
    "d128_rev_s0": ("128 wide, C→N", [*SHORT, *WIDE, *REVERSE]),
    "d128_fwd_s1": ("128 wide, seed 1", [*SHORT, *WIDE, *SEED1]),
    "d128_rev_s1": ("128 wide, C→N, seed 1", [*SHORT, *WIDE, *REVERSE, *SEED1]),
    "d64drop_fwd_s0": ("the recipe: dropout 0.2, 1,500 steps", []),
    "d64drop_rev_s0": ("dropout 0.2, 1,500 steps, C→N", REVERSE),
    "d64drop_fwd_s1": ("dropout 0.2, 1,500 steps, seed 1", SEED1),
    "d64drop_rev_s1": ("dropout 0.2, 1,500 steps, C→N, seed 1", [*REVERSE, *SEED1]),
}  # fmt: skip
WITHOUT_DROPOUT = [m for m in MEMBERS if "drop" not in m]
# ensemble -> (what it is, members); the four-model ensembles also give the single rows.
ENSEMBLES: dict[str, tuple[str, list[str]]] = {
    "d64_both_s0": ("both orders, seed 0", ["d64_fwd_s0", "d64_rev_s0"]),
    "d64_both_s1": ("both orders, seed 1", ["d64_fwd_s1", "d64_rev_s1"]),
    "d64_four": ("both orders, both seeds", ["d64_fwd_s0", "d64_rev_s0", "d64_fwd_s1",
                                              "d64_rev_s1"]),
    "d128_both_s0": ("128 wide, both orders, seed 0", ["d128_fwd_s0", "d128_rev_s0"]),
    "d128_both_s1": ("128 wide, both orders, seed 1", ["d128_fwd_s1", "d128_rev_s1"]),
    "d128_four": ("128 wide, both orders, both seeds", ["d128_fwd_s0", "d128_rev_s0",
                                                        "d128_fwd_s1", "d128_rev_s1"]),
    "all_eight": ("both widths, both orders, both seeds", WITHOUT_DROPOUT),
    "d64drop_both_s0": ("dropout, both orders, seed 0", ["d64drop_fwd_s0", "d64drop_rev_s0"]),
    "d64drop_both_s1": ("dropout, both orders, seed 1", ["d64drop_fwd_s1", "d64drop_rev_s1"]),
    "d64drop_four": ("dropout, both orders, both seeds", ["d64drop_fwd_s0", "d64drop_rev_s0",
                                                       "d64drop_fwd_s1", "d64drop_rev_s1"]),
}  # fmt: skip
FOURS = ("d64_four", "d128_four", "d64drop_four")


def run_name(family: str, member: str) -> str:
    return f"fe_{family}_{member}"


def checkpoint_of(family: str, member: str, runs_dir: Path) -> Path:
    return runs_dir / run_name(family, member) / "checkpoints" / "best.ckpt"


def dms_inputs(config_path: str) -> list[str]:
    """The `dms` flags that score what `family --config config_path` evaluates."""
    config = yaml.safe_load(Path(config_path).read_text())
    flags = ["--msa", str(config["data"]["msa"])]
    for key, value in (config.get("eval") or {}).items():
        if key in DMS_FLAGS and value is not None and value != "":
            flags += [DMS_FLAGS[key], str(value)]
    return flags


def member_command(family: str, member: str, runs_dir: Path) -> list[str]:
    return [sys.executable, "-m", "protein_performer.cli", "family",
            "--config", FAMILIES[family], "--name", run_name(family, member),
            "--runs-dir", str(runs_dir), *MEMBERS[member][1],
            "--eval.potts_iterations", "0", "--eval.n_samples", "0",
            "--trainer.enable_progress_bar", "false", "--overwrite", "true"]  # fmt: skip


def dms_command(family: str, ensemble: str, runs_dir: Path) -> list[str]:
    members = [str(checkpoint_of(family, m, runs_dir)) for m in ENSEMBLES[ensemble][1]]
    return [sys.executable, "-m", "protein_performer.cli", "dms",
            *[arg for path in members for arg in ("--checkpoint", path)],
            *dms_inputs(FAMILIES[family]),
            "--out", str(runs_dir / f"{run_name(family, ensemble)}_dms")]  # fmt: skip


def _trained(family: str, member: str, runs_dir: Path) -> bool:
    return (runs_dir / run_name(family, member) / "family" / "evaluation.json").is_file()


def train_members(runs_dir: Path, jobs: int) -> None:
    todo = [(f, m) for f in FAMILIES for m in MEMBERS if not _trained(f, m, runs_dir)]
    with ThreadPoolExecutor(jobs) as pool:
        list(pool.map(lambda fm: timed(member_command(*fm, runs_dir),
                                        runs_dir / f"{run_name(*fm)}.log"), todo))  # fmt: skip


def score_ensembles(runs_dir: Path, jobs: int) -> None:
    todo = [(f, e) for f in FAMILIES for e in ENSEMBLES]
    with ThreadPoolExecutor(jobs) as pool:
        list(pool.map(lambda fe: timed(dms_command(*fe, runs_dir),
                                        runs_dir / f"{run_name(*fe)}_dms.log"), todo))  # fmt: skip


def _evaluation(family: str, ensemble: str, runs_dir: Path) -> dict | None:
    path = runs_dir / f"{run_name(family, ensemble)}_dms" / "evaluation.json"
    return json.loads(path.read_text()) if path.is_file() else None


def _prefix(family: str, member: str, data: dict) -> str:
    """The name `dms` gave `member` in `data` (`analysis.dms_cli.member_names`)."""
    wanted = run_name(family, member)
    return next(name for name in data["ensemble"] if name.split("/")[0] == wanted)


def _member_rows(family: str, row: str, runs_dir: Path) -> tuple[dict, str] | None:
    """The evaluation holding `row` (a member or an ensemble) and its key prefix there."""
    if row in ENSEMBLES:
        data = _evaluation(family, row, runs_dir)
        return (data, "ensemble") if data else None
    for four in FOURS:
        data = _evaluation(family, four, runs_dir)
        if data and row in ENSEMBLES[four][1]:
            return data, _prefix(family, row, data)
    return None


def _spearman(data: dict, prefix: str) -> dict | None:
    spearman = data.get("spearman", {})
    key = next((k for k in spearman if k.startswith(prefix) and "product of experts" not in k),
               None)  # fmt: skip
    return spearman.get(key) if key else None


def _train_minutes(row: str, runs_dir: Path) -> str:
    members = ENSEMBLES[row][1] if row in ENSEMBLES else [row]
    total = 0.0
    for family in FAMILIES:
        for member in members:
            path = runs_dir / run_name(family, member) / "family" / "evaluation.json"
            if not path.is_file():
                return "—"
            total += json.loads(path.read_text()).get("train_seconds", 0.0)
    return f"{total / 60:.1f}"


def table_row(row: str, runs_dir: Path) -> str | None:
    found = {f: _member_rows(f, row, runs_dir) for f in FAMILIES}
    if not all(found.values()):
        return None
    pdz, pdz_prefix = found["pdz"]
    kunitz, kunitz_prefix = found["kunitz"]
    rho = _spearman(pdz, pdz_prefix)
    if rho is None:
        return None
    what = (ENSEMBLES if row in ENSEMBLES else MEMBERS)[row][0]
    pdz_long = [long_range(pdz, f"{pdz_prefix} {r}", "pdz") for r in READOUTS]
    kunitz_long = [long_range(kunitz, f"{kunitz_prefix} {r}", "kunitz") for r in READOUTS]
    cells = [
        f"{row} | {what}",
        interval_cell(rho, "rho", "low", "high", ".3f"),
        interval_cell(rho, "minus_potts", "minus_potts_low", "minus_potts_high", "+.3f"),
        *map(contacts_cell, pdz_long), *map(contacts_cell, kunitz_long),
        mean_p_at_l_cell(pdz_long[0], kunitz_long[0]),
        _train_minutes(row, runs_dir),
    ]  # fmt: skip
    return "| " + " | ".join(cells) + " |"


def potts_row(runs_dir: Path) -> str | None:
    # Every member trains on the same rows, so any four's refitted Potts model will do.
    pairs = ((_evaluation("pdz", four, runs_dir), _evaluation("kunitz", four, runs_dir))
             for four in FOURS)  # fmt: skip
    pdz, kunitz = next((pair for pair in pairs if all(pair)), (None, None))
    if not (pdz and kunitz):
        return None
    rho = next(v for k, v in pdz["spearman"].items() if k.startswith("Potts"))
    pdz_long, kunitz_long = long_range(pdz, "potts", "pdz"), long_range(kunitz, "potts", "kunitz")
    cells = ["Potts | the Potts model of the same runs (couplings)",
             interval_cell(rho, "rho", "low", "high", ".3f"), "", contacts_cell(pdz_long),
             "", contacts_cell(kunitz_long), "", mean_p_at_l_cell(pdz_long, kunitz_long),
             ""]  # fmt: skip
    return "| " + " | ".join(cells) + " |"


def ensemble_table(runs_dir: Path) -> str:
    lines = [
        "| row | models | DLG4 ρ [95 % CI] | ρ − ρ(Potts) [95 % CI] | PF00595 Jacobian "
        "| PF00595 position attention | 5PTI Jacobian | 5PTI position attention "
        "| mean Jacobian P@L | train min |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    rows = [*MEMBERS, *ENSEMBLES]
    lines += [line for row in rows if (line := table_row(row, runs_dir))]
    if line := potts_row(runs_dir):
        lines.append(line)
    return "\n".join(lines)


PROG = "python -m protein_performer.family.ensemble_bench"


def main(argv: list[str] | None = None) -> int:
    parser = command_line.ArgumentParser(prog=PROG)
    parser.add_argument("--jobs", type=int, default=2, help="runs at once (one thread each)")
    parser.add_argument("--runs-dir", type=Path, default=Path("runs"))
    parser.add_argument("--out", type=Path, default=Path("docs/FAMILIES.md"))
    parser.add_argument("--collect-only", **command_line.SWITCH)
    args = parser.parse_args(argv)
    return command_line.run(PROG, lambda: _bench(args))


def _bench(args: argparse.Namespace) -> int:
    check_jobs(args.jobs)
    for config in FAMILIES.values():
        dms_inputs(config)  # a config the dms runs cannot read stops the bench before training
    command_line.inputs_checked()
    if not args.collect_only:
        train_members(args.runs_dir, args.jobs)
        score_ensembles(args.runs_dir, args.jobs)
    table = ensemble_table(args.runs_dir)
    text = args.out.read_text() if args.out.is_file() else "# Family models\n"
    headings = {"ensembles": "Ensembles on both families"}
    args.out.write_text(markdown_blocks.fill(text, {"ensembles": table}, headings))
    print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
