"""`python -m protein_performer.gpu_check` (`make gpu-check`): run the stages under budgets.

Each stage runs in a fresh interpreter (`--stage-worker NAME`), so an out-of-memory error, a
CUDA fault or a hang costs that stage only, and its budget is enforced by killing it: the
whole run never exceeds `--total-s` (8 minutes by default). A killed or failed stage keeps the
rows it wrote; its JSON then says `killed` or `error`. `--in-process` runs the stages in this
process (soft budgets only), for the test suite.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import shlex
import subprocess
import sys
import time
import traceback
from collections.abc import Sequence
from pathlib import Path

from protein_performer import command_line
from protein_performer.errors import UserError
from protein_performer.gpu_check.context import Sink, StageContext, write_json
from protein_performer.gpu_check.stages import STAGES, budget_s, stage_runner

DEFAULT_TOTAL_S = 480.0
# What a worker keeps back from its budget to write its last rows before the parent kills it.
MARGIN_S = {False: 5.0, True: 1.0}
BLOCK = "gpu-check"


PROG = "python -m protein_performer.gpu_check"


def _parser() -> argparse.ArgumentParser:
    p = command_line.ArgumentParser(
        prog=PROG,
        description="Correctness, attention benchmark, training throughput and a short "
        "training run on the GPU, each stage under its own time budget.",
    )
    p.add_argument("--device", default="auto", help="auto (cuda if present), cuda, cuda:N, cpu")
    p.add_argument("--quick", **command_line.SWITCH, help="tiny sizes: seconds, for the tests")
    p.add_argument("--stages", nargs="+", default=list(STAGES), choices=list(STAGES))
    p.add_argument(
        "--total-s",
        type=float,
        default=DEFAULT_TOTAL_S,
        help="budget of the whole run; each stage gets its share (stages.py)",
    )
    p.add_argument("--out", type=Path, default=Path("reports/gpu"), help="JSON directory")
    p.add_argument(
        "--docs",
        type=Path,
        default=None,
        help="markdown page to update (default docs/gpu.md on a GPU, none on CPU)",
    )
    p.add_argument("--fasta", type=Path, default=None, help="FASTA for the training run")
    p.add_argument("--in-process", **command_line.SWITCH, help="no subprocesses (tests)")
    p.add_argument("--stage-worker", default=None, help=argparse.SUPPRESS)
    p.add_argument("--budget-s", type=float, default=None, help=argparse.SUPPRESS)
    p.add_argument("--spawned-at", type=float, default=None, help=argparse.SUPPRESS)
    return p  # fmt: skip


def resolve_device(requested: str) -> str:
    try:
        import torch
    except ImportError:
        raise SystemExit(
            f"gpu_check: {sys.executable} cannot import torch; run it with the Python that has "
            "torch (make gpu-check GPU_PY=/path/to/python)"
        ) from None

    if requested == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if requested.startswith("cuda") and not torch.cuda.is_available():
        raise UserError(f"--device {requested}: torch sees no CUDA device")
    return requested


def run_stage_here(name: str, args: argparse.Namespace, budget: float) -> str:
    """Run one stage in this process; returns its final status."""
    ctx = StageContext(name=name, device=args.device, quick=args.quick, out_dir=args.out,
                       budget_s=budget - MARGIN_S[args.quick], fasta=args.fasta)  # fmt: skip
    sink = Sink(ctx)
    try:
        stage_runner(name)(ctx, sink)
    except Exception as error:  # noqa: BLE001 - the JSON says what failed; the run goes on
        sink.finish("error", error=f"{type(error).__name__}: {error}",
                    traceback=traceback.format_exc()[-2000:])  # fmt: skip
        return "error"
    sink.finish("done")
    return "done"


def run_stage_subprocess(name: str, args: argparse.Namespace, budget: float) -> str:
    cmd = [
        sys.executable,
        "-m",
        "protein_performer.gpu_check",
        "--stage-worker",
        name,
        "--device",
        args.device,
        "--out",
        str(args.out),
        "--budget-s",
        str(budget),
        "--spawned-at",
        str(time.time()),
    ] + (["--quick"] if args.quick else [])
    if args.fasta:
        cmd += ["--fasta", str(args.fasta)]  # fmt: skip
    path = args.out / f"{name}.json"
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=budget, check=False)
    except subprocess.TimeoutExpired:
        return _mark(path, name, budget, "killed", f"exceeded its {budget:.0f} s budget")
    doc = json.loads(path.read_text()) if path.exists() else {}
    if done.returncode != 0 and doc.get("status") in (None, "running"):
        tail = (done.stderr or "").strip().splitlines()[-3:]
        return _mark(path, name, budget, "crashed", " / ".join(tail) or f"exit {done.returncode}")
    return doc.get("status", "missing")


def _mark(path: Path, name: str, budget: float, status: str, reason: str) -> str:
    """Record how a stage ended when the stage itself could not (kill, crash)."""
    doc = json.loads(path.read_text()) if path.exists() else {"stage": name, "rows": []}
    doc.update(status=status, reason=reason, budget_s=round(budget, 1))
    write_json(path, doc)
    return status


def worker(args: argparse.Namespace) -> int:
    elapsed = time.time() - args.spawned_at if args.spawned_at else 0.0
    return 0 if run_stage_here(args.stage_worker, args, args.budget_s - elapsed) == "done" else 1


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = _parser().parse_args(argv)
    if args.stage_worker:
        return worker(args)
    return command_line.run(PROG, lambda: _check_and_run(args, argv))


def _check_and_run(args: argparse.Namespace, argv: list[str]) -> int:
    """Check the input, then run every stage and write the report."""
    if args.fasta is not None and not args.fasta.is_file():
        raise UserError(f"--fasta {args.fasta}: no such file")
    start = time.monotonic()
    args.device = resolve_device(args.device)
    command_line.inputs_checked()
    import torch

    gpu = torch.cuda.is_available()
    if not gpu:
        print("gpu_check: no GPU available; running on the CPU", flush=True)
    args.out.mkdir(parents=True, exist_ok=True)
    summary = {
        "date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "command": "python -m protein_performer.gpu_check " + shlex.join(argv),
        "device": args.device,
        "device_name": torch.cuda.get_device_name(0) if args.device.startswith("cuda") else "cpu",
        "gpu_available": gpu,
        "quick": args.quick,
        "total_s": args.total_s,
        "stages": {},
    }
    for name in args.stages:
        left = args.total_s - (time.monotonic() - start)
        budget = min(budget_s(name, args.total_s), left - 2)
        if budget < 3:
            summary["stages"][name] = {"status": "skipped", "reason": "total budget"}
            continue
        t0 = time.monotonic()
        run = run_stage_here if args.in_process else run_stage_subprocess
        status = run(name, args, budget)
        took = time.monotonic() - t0
        summary["stages"][name] = {"status": status, "s": round(took, 1), "budget_s": budget}
        print(f"  {name:<12} {status:<8} {took:6.1f} s of {budget:.0f} s", flush=True)
        summary["elapsed_s"] = round(time.monotonic() - start, 1)
        write_json(args.out / "summary.json", summary)
    _write_report(args, summary, gpu)
    return 0 if all(s["status"] == "done" for s in summary["stages"].values()) else 1


def _write_report(args: argparse.Namespace, summary: dict, gpu: bool) -> None:
    from protein_performer.gpu_check.report import markdown
    from protein_performer.markdown_blocks import update_file

    write_json(args.out / "summary.json", summary)
    text = markdown(args.out)
    (args.out / "gpu.md").write_text("# GPU check\n\n" + text)
    docs = args.docs
    if docs is None and gpu and args.device.startswith("cuda") and not args.quick:
        docs = Path("docs/gpu.md")
    if docs is not None:
        update_file(docs, {BLOCK: text}, title="GPU check", headings={BLOCK: "Measurements"})
    print(f"wrote {args.out}/*.json, {args.out}/gpu.md" + (f", {docs}" if docs else ""))
