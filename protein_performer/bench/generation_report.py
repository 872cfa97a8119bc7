"""Outputs of the generation benchmark: CSV, figure, and the section of docs/generation.md.

The ratios are computed here from the measured rows, never typed in: for each length, the KV
cache's and naive recomputation's time per token divided by the FAVOR state's, and the FAVOR
state's own growth (cost at the longest length over cost at the shortest).
"""

from __future__ import annotations

import csv
import datetime as dt
import math
import platform
from collections.abc import Sequence
from dataclasses import asdict, fields
from pathlib import Path

import torch

from protein_performer.bench.generation_measurement import METHODS, Measurement
from protein_performer.markdown_blocks import update_file
from protein_performer.plots.bench import plot_generation

BLOCK = "bench-generation"
HEADING = {BLOCK: "Benchmark: time per generated token"}
# Ratios and the figure use the per-step CPU time over the tail window: single-threaded workers
# on a shared machine wait for a core at random, which wall time counts and CPU time does not.
METRIC = "tail_cpu_ms_per_token"


def write_csv(rows: Sequence[Measurement], path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=[f.name for f in fields(Measurement)])
        writer.writeheader()
        writer.writerows(asdict(row) for row in rows)
    return path


def _ok(rows: Sequence[Measurement], method: str) -> dict[int, Measurement]:
    return {r.length: r for r in rows if r.method == method and r.status == "ok"}


def _ms(row: Measurement | None) -> str:
    return f"{getattr(row, METRIC):.3f}" if row else "–"


def _ratio(row: Measurement | None, reference: Measurement | None) -> str:
    if row is None or reference is None:
        return "–"
    return f"{getattr(row, METRIC) / getattr(reference, METRIC):.2f}×"


def ratio_table(rows: Sequence[Measurement]) -> list[str]:
    """Markdown table of per-token time (tail window) and the ratios to the FAVOR state."""
    favor, kv, naive = (_ok(rows, m) for m in METHODS)
    skipped = {
        r.length: r.status for r in rows if r.method == "naive-recompute" and r.status != "ok"
    }
    lines = [
        "| L | FAVOR state | KV cache | naive | KV / FAVOR | naive / FAVOR | wall FAVOR / KV "
        "| state MB FAVOR / KV |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for length in sorted(set(favor) | set(kv) | set(skipped) | set(naive)):
        f, k, n = favor.get(length), kv.get(length), naive.get(length)
        naive_ms = _ms(n) if n else ("capped" if length in skipped else "–")
        wall = f"{f.tail_ms_per_token:.3f} / {k.tail_ms_per_token:.3f}" if f and k else "–"
        state = f"{f.state_mb:.3f} / {k.state_mb:.3f}" if f and k else "–"
        lines.append(
            f"| {length} | {_ms(f)} | {_ms(k)} | {naive_ms} | {_ratio(k, f)} | {_ratio(n, f)} "
            f"| {wall} | {state} |"
        )
    return lines


def summary_lines(rows: Sequence[Measurement]) -> list[str]:
    favor = sorted(_ok(rows, "favor-state").values(), key=lambda r: r.length)
    out = []
    if len(favor) >= 2:
        lo, hi = favor[0], favor[-1]
        out.append(
            f"- FAVOR state: {getattr(lo, METRIC):.3f} CPU ms/token at L={lo.length} vs "
            f"{getattr(hi, METRIC):.3f} at L={hi.length} "
            f"(×{getattr(hi, METRIC) / getattr(lo, METRIC):.2f} for ×{hi.length // lo.length} "
            f"the length); state {hi.state_mb:.3f} MB at every length."
        )
    kv = _ok(rows, "kv-cache")
    if favor and favor[-1].length in kv:
        k, f = kv[favor[-1].length], favor[-1]
        out.append(
            f"- KV cache at L={f.length}: {getattr(k, METRIC):.3f} CPU ms/token "
            f"({getattr(k, METRIC) / getattr(f, METRIC):.2f}× the FAVOR state), "
            f"cache {k.state_mb:.3f} MB."
        )
    capped = [r for r in rows if r.method == "naive-recompute" and r.status != "ok"]
    if capped:
        out.append(
            f"- Naive recomputation capped from L={capped[0].length}: {capped[0].status[9:]}."
        )
    return out


def cpu_name() -> str:
    """The CPU model from /proc/cpuinfo (Linux), else what `platform` knows."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def markdown_section(
    rows: Sequence[Measurement], *, command: str, wall_s: float, load_average: str = "n/a"
) -> str:
    first = rows[0]
    runs = max(r.runs for r in rows)
    date = dt.datetime.now().strftime("%Y-%m-%d %H:%M")
    lines = [
        f"Measured {date} on {cpu_name()}, "
        f"torch {torch.__version__}, {first.threads} thread(s), batch {first.batch}, "
        f"model `{first.preset}` (Performer: `{rows[0].attention}`; baseline: `exact`), "
        f"benchmark wall time {wall_s / 60:.1f} min. Command:",
        "",
        f"    {command}",
        "",
        "Time per token (ms): process CPU time per step, median over the last min(128, L/4) "
        "generated tokens, i.e. the cost of one step at length ≈ L. Workers are "
        "single-threaded, so CPU time excludes waiting for a core on a shared machine; the "
        "same medians in wall-clock time are in the 'wall' column, and the CSV also has means "
        f"over all L tokens. FAVOR and KV rows are the least disturbed of {runs} run(s); "
        f"naive recomputation ran once. Load average at the start: {load_average}.",
        "",
        *ratio_table(rows),
        "",
        *summary_lines(rows),
        "",
        "![generation benchmark](../reports/bench/generation.png)",
    ]
    return "\n".join(lines)


def write_outputs(
    rows: Sequence[Measurement],
    out_dir: Path,
    doc: Path | None,
    *,
    command: str,
    wall_s: float,
    load_average: str = "n/a",
) -> list[Path]:
    if not rows or all(math.isnan(r.ms_per_token) for r in rows):
        raise ValueError("no measurement succeeded; nothing to write")
    paths = [
        write_csv(rows, out_dir / "generation.csv"),
        plot_generation(rows, METHODS, METRIC, out_dir / "generation.png"),
    ]
    if doc is not None:
        section = markdown_section(rows, command=command, wall_s=wall_s, load_average=load_average)
        paths.append(update_file(doc, {BLOCK: section}, title="Generation", headings=HEADING))
    return paths
