"""Run the protein experiments in sequence, then write `docs/RESULTS.md` tables and figures.

    python -m protein_performer.experiments.run --budget-tokens 5000000 --out docs
        [--groups table2 long_context backcompat shipped] [--long-context-seconds 240]
        [--shipped-steps 1200] [--dry-run] [--collect-only]

Every run is `protein-performer train --config configs/experiments/<name>.yaml [flags]` in a
subprocess (one at a time: on a small CPU, parallel runs only slow each other down), its output
in `<runs_dir>/<name>.log`. Beside each run the runner keeps a wall-clock timeline (see
`timeline`) and writes `runner.json`: the exact command, git commit, UTC start/end, wall-clock
seconds and the process's peak resident memory (from `wait4`, so it is that run's own peak).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shlex
import subprocess
import sys
import threading
import time
from pathlib import Path

from protein_performer import command_line
from protein_performer.experiments import plan
from protein_performer.experiments.timeline import poll_once
from protein_performer.memory import peak_rss_mb
from protein_performer.paths import SHIPPED_CHECKPOINT

RUNNER_JSON = "runner.json"


def git_commit() -> str:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True
        )
        return out.stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def command_for(
    experiment: plan.Experiment,
    runs_dir: Path,
    *,
    max_steps: int | None = None,
    max_time: str | None = None,
) -> list[str]:
    """The `protein-performer train` command line of one experiment."""
    cmd = ["protein-performer", "train", "--config", str(experiment.config)]
    cmd += ["--runs_dir", str(runs_dir)]
    if max_steps is not None:
        cmd += ["--trainer.max_steps", str(max_steps)]
    if max_time is not None:
        cmd += ["--trainer.max_time", max_time]
    cmd += [arg.format(runs_dir=runs_dir) for arg in experiment.extra]
    return cmd


def _hms(seconds: int) -> str:
    return f"00:{seconds // 3600:02d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


def plan_commands(args: argparse.Namespace) -> list[tuple[plan.Experiment, list[str]]]:
    """(experiment, command) for every selected group, budget applied."""
    out = []
    for experiment in plan.ALL:
        if experiment.group not in args.groups:
            continue
        config = plan.read_config(experiment)
        steps, max_time = None, None
        if experiment.budgeted and args.budget_tokens:
            hist = plan.train_length_hist(Path(config["data"].get("cache_dir", "cache")))
            item = plan.mean_item_tokens(hist, int(config["data"]["max_len"]))
            steps = plan.steps_for_budget(args.budget_tokens, config["data"]["batch_size"], item)
        if experiment.group == "long_context" and args.long_context_seconds:
            max_time = _hms(args.long_context_seconds)
        if experiment.group == "shipped" and args.shipped_steps:
            steps = args.shipped_steps
        out.append(
            (
                experiment,
                command_for(experiment, args.runs_dir, max_steps=steps, max_time=max_time),
            )
        )
    return out


def run_one(experiment: plan.Experiment, cmd: list[str], runs_dir: Path) -> dict:
    """Run one training subprocess with a timeline watcher; returns what `runner.json` holds."""
    run_dir = runs_dir / experiment.name
    runs_dir.mkdir(parents=True, exist_ok=True)
    started = dt.datetime.now(dt.UTC)
    # The code that runs is the code at the start; HEAD may move while a long run trains.
    commit = git_commit()
    t0 = time.time()
    stop = threading.Event()

    def watch() -> None:
        last: dict[str, int] = {}
        while not stop.wait(2.0):
            if run_dir.is_dir():
                poll_once(runs_dir, last, only=experiment.name)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    exe = [str(Path(sys.executable).with_name(cmd[0]))] + cmd[1:]
    with (runs_dir / f"{experiment.name}.log").open("w") as log:
        proc = subprocess.Popen(exe, stdout=log, stderr=subprocess.STDOUT)
        # wait4 gives this child's own rusage: its peak RSS, not the maximum over all children.
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
    stop.set()
    watcher.join()
    record = {
        "name": experiment.name,
        "group": experiment.group,
        "command": shlex.join(cmd),
        "commit": commit,
        "start_utc": started.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "end_utc": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "wall_s": round(time.time() - t0, 1),
        "peak_rss_mb": round(peak_rss_mb(usage), 1),
        "returncode": proc.returncode,
    }
    run_dir.mkdir(parents=True, exist_ok=True)
    (run_dir / RUNNER_JSON).write_text(json.dumps(record, indent=2) + "\n")
    return record


def ship_and_analyze(run_dir: Path) -> int:
    """Strip the shipped run into `checkpoints/` (with its model card), then analyse it."""
    exe = Path(sys.executable)
    steps = [
        [str(exe), "-m", "protein_performer.experiments.ship", str(run_dir)],
        [str(exe.with_name("protein-performer")), "analyze", "--checkpoint",
         str(SHIPPED_CHECKPOINT)],
    ]  # fmt: skip
    for cmd in steps:
        print(f"$ {shlex.join(cmd)}", flush=True)
        if subprocess.run(cmd).returncode != 0:
            return 1
    return 0


PROG = "python -m protein_performer.experiments.run"


def main(argv: list[str] | None = None) -> int:
    parser = command_line.ArgumentParser(prog=PROG, description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--budget-tokens",
        type=int,
        default=25_000_000,
        help="training tokens per Table-2 model (sets --trainer.max_steps)",
    )
    parser.add_argument("--groups", nargs="+", default=list(plan.GROUPS), choices=plan.GROUPS)
    parser.add_argument("--runs-dir", type=Path, default=Path("runs/experiments"))
    parser.add_argument("--out", type=Path, default=Path("docs"), help="RESULTS.md goes here")
    parser.add_argument(
        "--long-context-seconds",
        type=int,
        default=240,
        help="equal wall-clock budget of each L=8192 run",
    )
    parser.add_argument(
        "--shipped-steps",
        type=int,
        default=None,
        help="steps of the shipped model (default: its YAML)",
    )
    parser.add_argument("--dry-run", **command_line.SWITCH, help="print the commands only")
    parser.add_argument("--collect-only", **command_line.SWITCH, help="only rewrite the report")
    args = parser.parse_args(argv)
    return command_line.run(PROG, lambda: _run_all(args))


def _run_all(args: argparse.Namespace) -> int:
    """Run the planned experiments (each a command of its own), then write the report."""
    command_line.inputs_checked()
    failed = 0
    if not args.collect_only:
        for experiment, cmd in plan_commands(args):
            print(f"$ {shlex.join(cmd)}", flush=True)
            if args.dry_run:
                continue
            record = run_one(experiment, cmd, args.runs_dir)
            print(f"  -> rc={record['returncode']} in {record['wall_s']:.0f} s", flush=True)
            failed += record["returncode"] != 0
    if "shipped" in args.groups and not (args.dry_run or args.collect_only or failed):
        failed += ship_and_analyze(args.runs_dir / plan.SHIPPED[0].name)
    if not args.dry_run:
        from protein_performer.experiments.collect import write_report

        print(f"wrote {write_report(args.runs_dir, args.out)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
