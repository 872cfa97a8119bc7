"""Wall-clock timelines of training runs, for accuracy-against-time curves.

Lightning's CSV logger records steps but not times, so a watcher polls every run directory's
`logs/version_*/metrics.csv` and appends `(unix_time, step)` to `<run>/timeline.csv` whenever
the newest logged step changes. The runner starts one beside each run; it can also be started
by hand for runs launched some other way:

    python -m protein_performer.experiments.timeline runs/experiments [--every 3]
"""

from __future__ import annotations

import argparse
import csv
import sys
import time
from pathlib import Path

from protein_performer import command_line

TIMELINE = "timeline.csv"


def newest_step(run_dir: Path) -> int | None:
    """Largest `step` in the newest CSV log of `run_dir`, or None before anything is logged."""
    logs = sorted(run_dir.glob("logs/version_*/metrics.csv"), key=lambda p: p.stat().st_mtime)
    if not logs:
        return None
    steps = []
    with logs[-1].open(newline="") as handle:
        for row in csv.DictReader(handle):
            if row.get("step"):
                steps.append(int(float(row["step"])))
    return max(steps) if steps else None


def read_timeline(path: Path) -> list[tuple[float, int]]:
    """`(unix_time, step)` rows of a timeline file, in file order."""
    if not path.is_file():
        return []
    with path.open(newline="") as handle:
        return [(float(r["time"]), int(r["step"])) for r in csv.DictReader(handle)]


def poll_once(
    runs_dir: Path, last: dict[str, int], now: float | None = None, only: str | None = None
) -> int:
    """Append a row for every run (or just `only`) whose newest step moved; returns how many
    rows were added."""
    now = time.time() if now is None else now
    added = 0
    for run_dir in sorted(p for p in runs_dir.iterdir() if p.is_dir()):
        if only is not None and run_dir.name != only:
            continue
        step = newest_step(run_dir)
        if step is None or last.get(run_dir.name) == step:
            continue
        path = run_dir / TIMELINE
        new_file = not path.is_file()
        with path.open("a", newline="") as handle:
            if new_file:
                handle.write("time,step\n")
            handle.write(f"{now:.1f},{step}\n")
        last[run_dir.name] = step
        added += 1
    return added


PROG = "python -m protein_performer.experiments.timeline"


def main(argv: list[str] | None = None) -> int:
    parser = command_line.ArgumentParser(prog=PROG, description=__doc__.split("\n\n")[0])
    parser.add_argument("runs_dir", type=Path)
    parser.add_argument("--every", type=float, default=3.0, help="seconds between polls")
    parser.add_argument("--until", type=float, default=None, help="stop after this many s")
    args = parser.parse_args(argv)
    return command_line.run(PROG, lambda: _poll(args))


def _poll(args: argparse.Namespace) -> int:
    command_line.inputs_checked()  # it polls until stopped: whatever it warns is shown at once
    last: dict[str, int] = {}
    for run_dir in args.runs_dir.glob("*"):
        rows = read_timeline(run_dir / TIMELINE)
        if rows:
            last[run_dir.name] = rows[-1][1]
    start = time.time()
    while args.until is None or time.time() - start < args.until:
        if args.runs_dir.is_dir():
            poll_once(args.runs_dir, last)
        time.sleep(args.every)
    return 0


if __name__ == "__main__":
    sys.exit(main())
