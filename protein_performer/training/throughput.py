"""Training throughput and peak memory of the three attention kinds, in one run.

    python -m protein_performer.training.throughput [--preset cpu_l4_d128] [--steps 3]

For each kind (favor-relu, favor-softmax, exact) and each mode — single proteins at L = 1024
(`--single_batch` sequences per step) and concatenated proteins at L = 8192 (one sequence per
step, the same tokens per step at the default sizes) — a fresh subprocess builds the model,
runs `--warmup` untimed and `--steps` timed full training steps (forward, MLM loss, backward,
AdamW) on synthetic tokens, and reports tokens/s and peak memory. A fresh process per
measurement keeps the peaks apart: on CPU the peak is the process's maximum resident set size
(also given as the increase over the resident size once model and batch are built, before
the first step), on CUDA
`torch.cuda.max_memory_allocated`. Synthetic tokens cost the same as real ones: attention cost
depends on length, not content.
"""

from __future__ import annotations

import json
import multiprocessing as mp
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from protein_performer import command_line
from protein_performer.memory import peak_rss_mb, rss_mb
from protein_performer.model.config import ATTENTION_KINDS, PRESETS


@dataclass(frozen=True)
class Measurement:
    kind: str
    mode: str
    length: int
    batch: int
    tokens_per_s: float
    step_s: float
    peak_mb: float
    peak_increase_mb: float
    device: str
    error: str | None = None


def _measure(spec: dict, queue: mp.Queue) -> None:
    import torch

    from protein_performer.model.config import preset
    from protein_performer.model.performer import ProteinPerformer

    try:
        torch.manual_seed(0)
        device = torch.device(spec["device"])
        cfg = preset(spec["preset"], attention=spec["kind"], max_len=spec["length"])
        model = ProteinPerformer(cfg).to(device).train()
        optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4, betas=(0.9, 0.98), eps=1e-9)
        batch, length = spec["batch"], spec["length"]
        tokens = torch.randint(5, 25, (batch, length), device=device)
        labels = torch.full_like(tokens, -100)
        chosen = torch.rand(batch, length, device=device) < 0.15
        labels[chosen] = tokens[chosen]
        tokens = tokens.masked_fill(chosen, 1)

        def step() -> None:
            logits = model(tokens).logits_BLV
            loss = torch.nn.functional.cross_entropy(logits.flatten(0, 1), labels.flatten())
            loss.backward()
            optimizer.step()
            optimizer.zero_grad(set_to_none=True)

        # Resident size with model, optimizer and batch built but no step taken yet: the
        # increase over it is what training itself (activations, gradients, moments) costs.
        rss_before_mb = rss_mb()
        for _ in range(spec["warmup"]):
            step()
        if device.type == "cuda":
            torch.cuda.synchronize()
            torch.cuda.reset_peak_memory_stats()
        start = time.perf_counter()
        for _ in range(spec["steps"]):
            step()
        if device.type == "cuda":
            torch.cuda.synchronize()
        elapsed = time.perf_counter() - start
        if device.type == "cuda":
            peak = torch.cuda.max_memory_allocated() / 2**20
            increase = peak
        else:
            peak = peak_rss_mb()
            increase = peak - rss_before_mb
        step_s = elapsed / spec["steps"]
        queue.put(
            Measurement(
                spec["kind"], spec["mode"], length, batch, batch * length / step_s, step_s,
                peak, increase, str(device),
            )
        )  # fmt: skip
    except Exception as error:  # report, do not hide: the row says what failed
        queue.put(
            Measurement(spec["kind"], spec["mode"], spec["length"], spec["batch"], float("nan"),
                        float("nan"), float("nan"), float("nan"), spec["device"], repr(error))
        )  # fmt: skip


class _Inbox(list):
    def put(self, item: Measurement) -> None:
        self.append(item)


def run_one(spec: dict, in_process: bool = False) -> Measurement:
    """Measure in a fresh spawned process (separate peaks), or here (`in_process`: quick, but
    the CPU peak is then this process's maximum so far)."""
    if in_process:
        inbox = _Inbox()
        _measure(spec, inbox)
        return inbox[0]
    context = mp.get_context("spawn")
    queue = context.Queue()
    process = context.Process(target=_measure, args=(spec, queue))
    process.start()
    result = queue.get()
    process.join()
    return result


def format_rows(rows: list[Measurement]) -> str:
    header = f"{'kind':<14}{'mode':<8}{'L':>6}{'B':>4}{'tokens/s':>11}{'s/step':>9}"
    header += f"{'peak MiB':>10}{'+MiB':>9}  device"
    lines = [header, "-" * len(header)]
    for r in rows:
        lines.append(
            f"{r.kind:<14}{r.mode:<8}{r.length:>6}{r.batch:>4}{r.tokens_per_s:>11.0f}"
            f"{r.step_s:>9.3f}{r.peak_mb:>10.0f}{r.peak_increase_mb:>9.0f}  {r.device}"
            + (f"  ERROR {r.error}" if r.error else "")
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = command_line.ArgumentParser(
        prog="python -m protein_performer.training.throughput",
        description=__doc__.split("\n\n")[0],
    )
    parser.add_argument("--preset", default="cpu_l4_d128", choices=sorted(PRESETS))
    parser.add_argument("--kinds", nargs="+", default=list(ATTENTION_KINDS))
    for flag, default in (("single_len", 1024), ("single_batch", 8), ("concat_len", 8192),
                          ("concat_batch", 1)):  # fmt: skip
        parser.add_argument(
            f"--{flag.replace('_', '-')}", f"--{flag}", dest=flag, type=int, default=default
        )
    parser.add_argument("--steps", type=int, default=3)
    parser.add_argument("--warmup", type=int, default=1)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--json", type=Path, default=None, help="also write the rows here")
    parser.add_argument(
        "--in-process", "--in_process", dest="in_process", **command_line.SWITCH,
        help="no subprocesses (tests); peaks then overlap",
    )  # fmt: skip
    args = parser.parse_args(argv)
    modes = [
        ("single", args.single_len, args.single_batch),
        ("concat", args.concat_len, args.concat_batch),
    ]
    rows = []
    for mode, length, batch in modes:
        for kind in args.kinds:
            spec = dict(preset=args.preset, kind=kind, mode=mode, length=length, batch=batch,
                        steps=args.steps, warmup=args.warmup, device=args.device)  # fmt: skip
            rows.append(run_one(spec, args.in_process))
            print(format_rows(rows[-1:]).splitlines()[-1], flush=True)
    print(f"\npreset {args.preset}, MLM training steps (fwd+bwd+AdamW), {args.steps} timed:")
    print(format_rows(rows))
    if args.json:
        args.json.write_text(json.dumps([asdict(r) for r in rows], indent=2) + "\n")
    return 0 if all(r.error is None for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
