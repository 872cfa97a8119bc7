"""`protein-performer bench generation`: cost per generated token against generated length.

Three ways to sample one sequence of L tokens from a causal model of the same shape:

- `favor-state`: a Performer carrying each layer's (S, z) (`model.recurrent`), O(1) per token;
- `kv-cache`: the exact-attention Transformer with a key/value cache, O(t) per token;
- `naive-recompute`: the Performer re-running its full causal forward pass over the prefix at
  every step (all that performer-pytorch offers, its issues #64/#66), O(t) per token.

Each (method, L) runs in a fresh subprocess, so its peak RSS is its own. Time per token is the
mean over all L tokens and, separately, the median over the last quarter (the cost at length
~L, which is what must stay flat for the Performer), both as wall-clock and as process CPU
time: workers are single-threaded, so CPU time is what a step costs even when other jobs share
the machine, while wall time also counts the waits for a core. Naive recomputation is skipped
once its projected run time exceeds `--naive-budget-s`; skipped rows stay in the CSV with the
projection.

Outputs: `reports/bench/generation.csv`, `reports/bench/generation.png`, and the benchmark
section of `docs/generation.md` (see `bench.generation_report`).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path

from protein_performer import command_line
from protein_performer.bench.generation_measurement import METHODS, Measurement
from protein_performer.memory import peak_rss_mb, rss_mb

__all__ = ["METHODS", "Measurement", "main", "run_benchmark", "run_worker"]

FULL_LENGTHS: tuple[int, ...] = (128, 256, 512, 1024, 2048, 4096, 8192)
QUICK_LENGTHS: tuple[int, ...] = (16, 32)
# Model shape: the `cpu_l4_d128` preset (the `make train` default) with a position table long
# enough for 8192 tokens. Quick mode uses `tiny_l2_d64`.
FULL_PRESET, QUICK_PRESET = "cpu_l4_d128", "tiny_l2_d64"


def kind_for(method: str, preset_kind: str) -> str:
    """The attention kind a method decodes with: the preset's own for naive recomputation or
    when its decoder is `method`, else the first registered kind whose decoder it is."""
    from protein_performer.model.attention_kinds import get_kind, specs

    if method == "naive-recompute" or get_kind(preset_kind).decoder == method:
        return preset_kind
    for spec in specs():
        if spec.decoder == method:
            return spec.name
    raise ValueError(f"no registered attention kind decodes with {method!r}")


def run_worker(
    method: str, length: int, preset_name: str, batch: int, threads: int
) -> Measurement:
    """Generate `length` tokens with `method` in this process and measure it."""
    import torch

    from protein_performer.constants import BOS_ID
    from protein_performer.generation.decoder import decode_step, init_state
    from protein_performer.generation.sampling import (
        SamplingConfig,
        allowed_token_mask,
        sample_next,
    )
    from protein_performer.model.config import preset
    from protein_performer.model.performer import ProteinPerformer

    torch.set_num_threads(threads)
    torch.manual_seed(0)
    attention = kind_for(method, preset(preset_name).attention)
    config = preset(preset_name, objective="causal", attention=attention, max_len=length + 1)
    model = ProteinPerformer(config).eval()
    sampling, allowed = SamplingConfig(), allowed_token_mask(allow_eos=False)
    generator = torch.Generator().manual_seed(0)
    tokens_BL = torch.full((batch, length + 1), BOS_ID, dtype=torch.long)
    step_s, step_cpu_s = [], []
    with torch.no_grad():
        if method != "naive-recompute":
            warm = init_state(model, batch)
            for _ in range(4):  # first-call allocations out of the timing
                _, warm = decode_step(model, tokens_BL[:, 0], warm)
            state = init_state(model, batch, capacity=length + 1)
        baseline_mb = rss_mb()
        for t in range(length):
            start, start_cpu = time.perf_counter(), time.process_time()
            if method == "naive-recompute":
                logits_BV = model(tokens_BL[:, : t + 1]).logits_BLV[:, -1]
            else:
                logits_BV, state = decode_step(model, tokens_BL[:, t], state)
            tokens_BL[:, t + 1] = sample_next(logits_BV, sampling, generator, allowed)
            step_s.append(time.perf_counter() - start)
            step_cpu_s.append(time.process_time() - start_cpu)
    # The median over the last quarter (at most 128 steps): the cost of one step at length ~L,
    # robust to the occasional step that loses its core to another process.
    tail = max(1, min(128, length // 4))
    state_mb = 0.0 if method == "naive-recompute" else state.nbytes / 2**20
    return Measurement(
        method=method,
        length=length,
        status="ok",
        ms_per_token=1e3 * sum(step_s) / length,
        tail_ms_per_token=1e3 * statistics.median(step_s[-tail:]),
        cpu_ms_per_token=1e3 * sum(step_cpu_s) / length,
        tail_cpu_ms_per_token=1e3 * statistics.median(step_cpu_s[-tail:]),
        tail_tokens=tail,
        total_s=sum(step_s),
        peak_rss_mb=peak_rss_mb(),
        peak_rss_delta_mb=max(0.0, peak_rss_mb() - baseline_mb),
        state_mb=state_mb,
        preset=preset_name,
        attention=attention,
        batch=batch,
        threads=threads,
    )


def measure_in_subprocess(
    method: str, length: int, preset_name: str, batch: int, threads: int, timeout_s: float
) -> Measurement:
    """`run_worker` in a fresh interpreter (own peak memory, no warm caches from other runs)."""
    spec = json.dumps(dict(method=method, length=length, preset_name=preset_name,
                           batch=batch, threads=threads))  # fmt: skip
    env = {**os.environ, "OMP_NUM_THREADS": str(threads), "MKL_NUM_THREADS": str(threads)}
    done = subprocess.run(
        [sys.executable, "-m", "protein_performer.bench.generation", "--worker", spec],
        capture_output=True,
        text=True,
        env=env,
        timeout=timeout_s,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"worker {method} L={length} failed:\n{done.stderr[-2000:]}")
    return Measurement(**json.loads(done.stdout.strip().splitlines()[-1]))


def _skipped(length: int, why: str, like: Measurement) -> Measurement:
    """A row for a run that was not made: the settings of `like`, NaN for every number."""
    numbers = {
        f.name: float("nan") for f in dataclasses.fields(Measurement) if f.type in ("float", float)
    }
    return dataclasses.replace(
        like, length=length, status=f"skipped: {why}", tail_tokens=0, **numbers
    )


def run_benchmark(
    lengths: Sequence[int],
    *,
    preset_name: str,
    batch: int = 1,
    threads: int = 1,
    naive_budget_s: float = 60.0,
    repeats: int = 1,
    log=print,
) -> list[Measurement]:
    """Every method at every length; naive recomputation stops once the run it would need,
    extrapolated quadratically from the previous length, exceeds `naive_budget_s`.

    Methods run back to back at each length (rather than one method through all lengths), so
    the ratios at one length compare runs made under the same load of a shared machine. With
    `repeats` > 1 the FAVOR and KV runs are repeated in turn and the least disturbed run (lowest
    tail CPU time, the usual `timeit` practice) is kept; naive recomputation runs once, as its
    cost is both the largest and the least ambiguous."""
    rows: list[Measurement] = []
    previous: dict[str, Measurement] = {}
    timeout_s = max(600, 4 * naive_budget_s)
    for length in sorted(lengths):
        runs: dict[str, list[Measurement]] = {}
        skipped: dict[str, Measurement] = {}
        for repeat in range(repeats):
            for method in METHODS:
                last = previous.get(method)
                if method == "naive-recompute":
                    if repeat > 0:
                        continue
                    projected = last.total_s * (length / last.length) ** 2 if last else 0.0
                    if projected > naive_budget_s:
                        why = f"projected {projected:.0f} s > budget {naive_budget_s:.0f} s"
                        skipped[method] = _skipped(length, why, last)
                        log(f"{method:>16} L={length:<5} {skipped[method].status}")
                        continue
                row = measure_in_subprocess(method, length, preset_name, batch, threads, timeout_s)
                runs.setdefault(method, []).append(row)
                log(
                    f"{method:>16} L={length:<5} wall {row.ms_per_token:8.3f} ms/token "
                    f"(tail {row.tail_ms_per_token:8.3f}), CPU tail "
                    f"{row.tail_cpu_ms_per_token:8.3f}  peak RSS {row.peak_rss_mb:7.1f} MB  "
                    f"state {row.state_mb:8.3f} MB"
                )
        for method in METHODS:
            if method in runs:
                best = min(runs[method], key=lambda r: r.tail_cpu_ms_per_token)
                rows.append(dataclasses.replace(best, runs=len(runs[method])))
                previous[method] = best
            elif method in skipped:
                rows.append(skipped[method])
    return rows


def build_parser() -> argparse.ArgumentParser:
    parser = command_line.ArgumentParser(
        prog="protein-performer bench generation",
        description="Time and memory per generated token: FAVOR state vs KV cache vs naive.",
    )
    parser.add_argument("--quick", **command_line.SWITCH, help="tiny model, lengths 16 and 32")
    parser.add_argument("--lengths", type=int, nargs="+", default=None)
    parser.add_argument(
        "--preset",
        default=None,
        help=f"model shape (default {FULL_PRESET}; quick: {QUICK_PRESET})",
    )
    parser.add_argument("--batch", type=int, default=1, help="sequences sampled together")
    parser.add_argument("--threads", type=int, default=1, help="torch threads per worker")
    parser.add_argument("--naive-budget-s", type=float, default=90.0)
    parser.add_argument(
        "--repeats",
        type=int,
        default=None,
        help="runs per FAVOR/KV config, the least disturbed is kept (default 2; quick: 1)",
    )
    # The same spellings as `bench attention`.
    parser.add_argument("--out", type=Path, default=Path("reports/bench"), help="output directory")
    parser.add_argument(
        "--docs", type=Path, default=None, help="markdown to update (default: docs/generation.md, "
        "not touched with --quick)"
    )  # fmt: skip
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.worker:
        print(json.dumps(asdict(run_worker(**json.loads(args.worker)))))
        return 0

    # Imported here, not at the top: workers must not carry matplotlib in their measured RSS.
    from protein_performer.bench.generation_report import write_outputs

    preset_name = args.preset or (QUICK_PRESET if args.quick else FULL_PRESET)
    lengths = args.lengths or (QUICK_LENGTHS if args.quick else FULL_LENGTHS)
    started = time.time()
    load_average = " / ".join(f"{x:.2f}" for x in os.getloadavg()) + " (1 / 5 / 15 min)"
    rows = run_benchmark(
        lengths,
        preset_name=preset_name,
        batch=args.batch,
        threads=args.threads,
        naive_budget_s=args.naive_budget_s,
        repeats=args.repeats or (1 if args.quick else 2),
    )
    given = list(sys.argv[1:] if argv is None else argv)
    command = "protein-performer bench generation " + " ".join(given)
    doc = args.docs or (None if args.quick else Path("docs/generation.md"))
    paths = write_outputs(
        rows,
        args.out,
        doc,
        command=command.strip(),
        wall_s=time.time() - started,
        load_average=load_average,
    )
    for path in paths:
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
