"""`protein-performer bench attention`: time, memory and approximation error of attention.

Compares, for one attention op at batch 1, 8 heads, head dim 64, m = 256, fp32, 2 threads:
our FAVOR+ softmax and ReLU kernels, exact SDPA and identity ("X", Choromanski et al. 2021
Fig. 3), each bidirectional and causal, against performer-pytorch's `FastAttention` (the
`bench` extra). Each configuration runs in a fresh subprocess (`bench.timing`) so its peak RSS
is its own; times are medians of several calls after a warm-up. A configuration is skipped
(and recorded as such) when extrapolation from the two previous lengths predicts more than
`--max-call-s` per call or more than `--max-rss-gb` of RSS.

Outputs under `--out` (default reports/bench): attention.csv, approx.csv, skipped.csv,
machine.json, PNG plots, benchmarks.md; the full run also writes docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import math
import os
import resource
import shlex
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import asdict, replace
from pathlib import Path

from protein_performer import command_line
from protein_performer.bench import approx, report
from protein_performer.bench.timing import Config, impls
from protein_performer.markdown_blocks import update_file
from protein_performer.model.attention_kinds import EXACT_KIND, FAVOR_PLUS_KIND, get_kind, specs

ATTENTION_COLUMNS = ("impl", "mode", "seq_len", "fwd_ms", "fwd_bwd_ms", "peak_rss_mb")
BLOCK = "bench-attention"
HEADING = {BLOCK: "Measurements"}
PAIRED_COLUMNS = ("impl_a", "impl_b", "mode", "seq_len", "threads", "pairs", "a_ms", "b_ms",
                  "ratio_b_over_a")  # fmt: skip
MODES = ("bidirectional", "causal")
# Where the targets compare a softmax estimator with exact SDPA: (mode, L).
EXACT_PAIRS = (("bidirectional", 512), ("bidirectional", 1024), ("causal", 4096),
               ("causal", 8192))  # fmt: skip


def pairs() -> list[tuple[str, str, str, int]]:
    """The targets' comparisons, measured interleaved (see `timing.paired_ratio`): (a, b, mode,
    L). Each kind with a performer-pytorch peer against it at L = 8192 and each softmax
    estimator against exact SDPA; peers first, FAVOR+ first among them (a quick run keeps the
    first pair of each mode)."""
    exact = get_kind(EXACT_KIND).label
    found = [(s.label, s.peer, "bidirectional", 8192) for s in specs() if s.peer]
    found += [(s.label, exact, mode, n) for s in specs() if s.estimates_softmax
              for mode, n in EXACT_PAIRS]  # fmt: skip
    first = get_kind(FAVOR_PLUS_KIND).label
    return sorted(found, key=lambda pair: (pair[1] == exact, pair[0] != first))


FULL_LENGTHS = (512, 1024, 2048, 4096, 8192, 16384)
QUICK_LENGTHS = (64,)


def _limit_memory(max_rss_gb: float):
    """preexec_fn: cap the worker's address space so an oversized config fails inside the
    worker (reported as a skip) instead of starving the shared machine. torch itself maps
    ~3 GiB of address space, hence the margin."""
    limit = int((max_rss_gb + 4) * 2**30)
    return lambda: resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def run_worker(request: dict, *, max_rss_gb: float, timeout_s: float) -> list[dict]:
    """Run `bench.timing` in a fresh interpreter and parse its JSON lines."""
    cmd = [sys.executable, "-m", "protein_performer.bench.timing", json.dumps(request)]
    env = {**os.environ, "OMP_NUM_THREADS": str(request.get("threads", 2))}
    proc = subprocess.run(
        cmd,
        capture_output=True,
        text=True,
        timeout=timeout_s,
        env=env,
        preexec_fn=_limit_memory(max_rss_gb) if request.get("device", "cpu") == "cpu" else None,
    )
    rows = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]
    if proc.returncode != 0 and not rows:
        tail = proc.stderr.strip().splitlines()[-1:] or [f"exit code {proc.returncode}"]
        raise RuntimeError(tail[0])
    return rows


def _extrapolate(history: list[dict], key: str, floor: float) -> float:
    """Next value at doubled L from the last two: growth clamped to [2, 4] (linear..quadratic)."""
    last = history[-1][key] - floor
    growth = 2.0
    if len(history) >= 2 and history[-2][key] - floor > 0:
        growth = min(4.0, max(2.0, last / (history[-2][key] - floor)))
    return floor + last * growth


def _gemm_size(args: argparse.Namespace) -> int:
    return 512 if args.quick else 2048


def gemm_gflops(args: argparse.Namespace) -> float:
    """fp32 square-matmul throughput in a fresh worker at `args.threads`: the reference that
    FAVOR+'s achieved GFLOP/s is compared with."""
    request = {"matmul": True, "threads": args.threads, "device": args.device}
    request["n"] = _gemm_size(args)
    return run_worker(request, max_rss_gb=4, timeout_s=300)[0]["gflops"]


def run_timings(args: argparse.Namespace, lengths: Sequence[int], impls: Sequence[str]):
    """All (impl, mode, L) configurations; returns (rows, skipped)."""
    rows, skipped = [], []
    base = Config(impl="identity", mode="bidirectional", seq_len=lengths[0], reps=args.reps)
    base = replace(base, threads=args.threads, device=args.device, dtype=args.dtype)
    if args.quick:  # one process for everything: seconds, but RSS is not isolated per config
        configs = [
            replace(base, impl=i, mode=m, seq_len=n) for i in impls for m in MODES for n in lengths
        ]
        return _measure(configs, args, skipped), skipped
    for impl in impls:
        for mode in MODES:
            history: list[dict] = []
            configs = [replace(base, impl=impl, mode=mode, seq_len=n) for n in lengths]
            for cfg in configs:
                reason = _skip_reason(history, args) if history else None
                if reason or (skipped and skipped[-1][:2] == (impl, mode)):
                    skipped.append((impl, mode, cfg.seq_len, reason or "a shorter L was skipped"))
                    continue
                history += _measure([cfg], args, skipped)
                rows += history[-1:] if history and history[-1]["seq_len"] == cfg.seq_len else []
                print(_progress(history[-1:] or [], cfg), file=sys.stderr, flush=True)
                # Written after every configuration, so an interrupted run keeps what it measured.
                write_csv(args.out / "attention.csv", ATTENTION_COLUMNS, rows)
    return rows, skipped


def run_paired(args: argparse.Namespace) -> list[dict]:
    """Each pair of `pairs()` in its own worker, calls interleaved; --quick uses L = 64."""
    base = Config(impl="identity", mode="bidirectional", seq_len=64, threads=args.threads)
    rows = []
    with_peer = _peer_available()
    for impl_a, impl_b, mode, n in pairs():
        if impl_b.startswith("peer") and not with_peer:
            continue  # the `bench` extra is not installed: no peer to pair with
        if args.quick and rows and rows[-1]["mode"] == mode:
            continue  # one pair per mode is enough for a smoke run
        n = 64 if args.quick else n
        pair = [asdict(replace(base, impl=i, mode=mode, seq_len=n)) for i in (impl_a, impl_b)]
        request = {"pairs": [pair], "n_pairs": 2 if args.quick else args.n_pairs}
        rows += run_worker(request, max_rss_gb=args.max_rss_gb, timeout_s=args.timeout_s)
        print(f"  paired {impl_b}/{impl_a} {mode} L={n}: {rows[-1]['ratio_b_over_a']:.2f}",
              file=sys.stderr, flush=True)  # fmt: skip
    return rows


def _measure(configs: list[Config], args, skipped: list) -> list[dict]:
    request = {"configs": [asdict(c) for c in configs]}
    try:
        results = run_worker(request, max_rss_gb=args.max_rss_gb, timeout_s=args.timeout_s)
    except (RuntimeError, subprocess.TimeoutExpired) as err:
        results = [{**asdict(configs[0]), "error": str(err)[:200]}]
    good = []
    for res in results:
        if "error" in res:
            skipped.append((res["impl"], res["mode"], res["seq_len"], res["error"]))
        else:
            good.append(res)
    return good


def _skip_reason(history: list[dict], args) -> str | None:
    call_s = _extrapolate(history, "fwd_bwd_ms", 0.0) / 1e3
    if call_s > args.max_call_s:
        return f"predicted {call_s:.0f} s per call > {args.max_call_s:.0f} s"
    rss_gb = _extrapolate(history, "peak_rss_mb", history[0]["peak_rss_mb"] * 0.8) / 1024
    if rss_gb > args.max_rss_gb:
        return f"predicted peak RSS {rss_gb:.1f} GiB > {args.max_rss_gb:.0f} GiB"
    return None


def _progress(done: list[dict], cfg: Config) -> str:
    if not done or done[-1]["seq_len"] != cfg.seq_len:
        return f"  {cfg.impl:14s} {cfg.mode:13s} L={cfg.seq_len:6d}  skipped"
    r = done[-1]
    return (
        f"  {cfg.impl:14s} {cfg.mode:13s} L={cfg.seq_len:6d}  fwd {r['fwd_ms']:9.1f} ms  "
        f"fwd+bwd {r['fwd_bwd_ms']:9.1f} ms  rss {r['peak_rss_mb']:7.0f} MB"
    )


def write_csv(path: Path, columns: Sequence[str], rows: Sequence[dict]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(columns), extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    return path


def _parser() -> argparse.ArgumentParser:
    p = command_line.ArgumentParser(
        prog="protein-performer bench attention",
        description="Time/memory of attention ops vs L, and FAVOR approximation error vs m.",
    )
    p.add_argument(
        "--quick", **command_line.SWITCH, help="seconds-long smoke run (L=64, one process)"
    )
    p.add_argument("--max-len", type=int, default=16384, help="longest L (powers of 2 from 512)")
    p.add_argument("--out", type=Path, default=Path("reports/bench"), help="output directory")
    p.add_argument("--docs", type=Path, default=None, help="markdown report path "
                   "(default: docs/benchmarks.md for a full run, none for --quick)")  # fmt: skip
    p.add_argument("--impls", nargs="+", default=list(impls()), choices=impls())
    p.add_argument("--reps", type=int, default=None, help="timed calls per config (median)")
    p.add_argument("--threads", type=int, default=None,
                   help="torch threads per worker (default 2; 1 with --quick)")  # fmt: skip
    p.add_argument("--device", default="cpu")
    p.add_argument("--dtype", default="float32", choices=["float32", "bfloat16"])
    p.add_argument("--max-call-s", type=float, default=60.0, help="skip if a call would exceed")
    p.add_argument("--max-rss-gb", type=float, default=12.0, help="skip if RSS would exceed")
    p.add_argument("--timeout-s", type=float, default=900.0, help="hard limit per worker")
    p.add_argument("--skip-approx", **command_line.SWITCH, help="timings only")
    p.add_argument("--also", type=Path, nargs="*", default=[],
                   help="other timing runs (dirs with attention.csv) to report too")  # fmt: skip
    p.add_argument("--skip-timing", **command_line.SWITCH, help="approximation error only")
    p.add_argument("--paired", **command_line.SWITCH,
                   help="also time the targets' pairs interleaved, one process each")  # fmt: skip
    p.add_argument("--n-pairs", type=int, default=7, help="interleaved pairs per comparison")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    command = "protein-performer bench attention " + shlex.join(list(argv or sys.argv[1:]))
    args.reps = args.reps or (1 if args.quick else 5)
    args.threads = args.threads or (1 if args.quick else 2)
    lengths = QUICK_LENGTHS if args.quick else [n for n in FULL_LENGTHS if n <= args.max_len]
    impls = [i for i in args.impls if i.startswith("peer") is False or _peer_available()]
    args.out.mkdir(parents=True, exist_ok=True)
    machine = {
        "date": dt.datetime.now().isoformat(timespec="seconds"),
        "command": command,
        "torch": __import__("torch").__version__,
        "threads": args.threads,
        "device": args.device,
        "dtype": args.dtype,
        "cpu_count": os.cpu_count(),
        "peer_available": _peer_available(),
        "load_avg_start": os.getloadavg()[0],
    }
    rows, skipped, approx_rows = [], [], []
    if args.skip_timing:  # report the earlier timing run in --out, if there is one
        rows, skipped, earlier = _load_timings(args.out)
        machine.update({k: v for k, v in earlier.items() if k not in ("date", "command")})
        # A second report-only pass must still name the run that measured the timings.
        machine["timing_command"] = earlier.get("timing_command") or earlier.get("command")
    else:
        machine["matmul_n"] = _gemm_size(args)
        machine["matmul_gflops"] = gemm_gflops(args)
        rows, skipped = run_timings(args, lengths, impls)
        write_csv(args.out / "attention.csv", ATTENTION_COLUMNS, rows)
        skip_rows = [
            dict(zip(("impl", "mode", "seq_len", "reason"), s, strict=True)) for s in skipped
        ]
        write_csv(args.out / "skipped.csv", ("impl", "mode", "seq_len", "reason"), skip_rows)
    if not args.skip_approx:
        import torch

        threads = torch.get_num_threads()
        torch.set_num_threads(args.threads)
        try:
            approx_rows = approx.run(quick=args.quick, with_peer=_peer_available())
        finally:
            torch.set_num_threads(threads)
        write_csv(args.out / "approx.csv", approx.COLUMNS, approx_rows)
    elif (args.out / "approx.csv").exists():
        approx_rows = _read_csv(args.out / "approx.csv")
    if not args.skip_timing:
        machine["load_avg_end"] = os.getloadavg()[0]
    (args.out / "machine.json").write_text(json.dumps(machine, indent=2) + "\n")
    figures = report.plots(rows, approx_rows, args.out)
    docs = (
        args.docs
        if args.docs is not None
        else (None if args.quick else Path("docs/benchmarks.md"))
    )
    paired = []
    if args.paired:
        # The interleaved pairs may run at another thread count than the timings they join
        # (--skip-timing): their GEMM reference is measured here, at their own count.
        machine["paired_threads"] = args.threads
        machine["paired_matmul_gflops"] = gemm_gflops(args)
        paired = run_paired(args)
        write_csv(args.out / "paired.csv", PAIRED_COLUMNS, paired)
    elif (args.out / "paired.csv").exists() and args.skip_timing:
        paired = _read_csv(args.out / "paired.csv")
    extra = [_load_timings(path) for path in args.also]
    text = report.markdown(rows, skipped, approx_rows, machine, figures, lengths, extra, paired)
    # Only the generated block is rewritten: the hand-written reading of the numbers around it
    # (docs/benchmarks.md) survives a rerun.
    for path in filter(None, (args.out / "benchmarks.md", docs)):
        update_file(path, {BLOCK: text}, title="Attention benchmark", headings=HEADING)
    print(f"wrote {args.out}/attention.csv, approx.csv, plots" + (f", {docs}" if docs else ""))
    return 0 if math.isfinite(machine.get("matmul_gflops", 0.0)) else 1


def _read_csv(path: Path) -> list[dict]:
    def num(value: str):
        try:
            return float(value) if "." in value or "e" in value else int(value)
        except ValueError:
            return value

    with path.open() as fh:
        return [{k: num(v) for k, v in row.items()} for row in csv.DictReader(fh)]


def _load_timings(out: Path) -> tuple[list[dict], list[tuple], dict]:
    if not (out / "attention.csv").exists():
        return [], [], {}
    rows = _read_csv(out / "attention.csv")
    skipped = []
    if (out / "skipped.csv").exists():
        skipped = [
            (r["impl"], r["mode"], r["seq_len"], r["reason"])
            for r in _read_csv(out / "skipped.csv")
        ]
    machine = (
        json.loads((out / "machine.json").read_text()) if (out / "machine.json").exists() else {}
    )
    return rows, skipped, machine


def _peer_available() -> bool:
    try:
        import performer_pytorch  # noqa: F401
    except ImportError:
        return False
    return True


if __name__ == "__main__":
    sys.exit(main())
