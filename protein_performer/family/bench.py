"""`make family-bench`: the family-model ablation on the shipped family, into docs/FAMILIES.md.

Each variant is `protein-performer family --config configs/family.yaml` plus a few overrides,
run in its own process (one thread each, `--jobs` at a time), timed from launch to exit. The
table reads every run's `runs/<name>/family/evaluation.json`; the prose around the generated
block in docs/FAMILIES.md is hand-written and survives reruns.

    python -m protein_performer.family.bench [--only default causal ...] [--jobs 2]
    python -m protein_performer.family.bench --collect-only      # rebuild the table
    python -m protein_performer.family.bench --collect-only --ship   # and ship the default
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from protein_performer import command_line, markdown_blocks
from protein_performer.analysis.family_evaluation import is_product_of_experts
from protein_performer.model.attention_kinds import DEFAULT_KIND, EXACT_KIND, FAVOR_PLUS_KIND
from protein_performer.paths import SHIPPED_CHECKPOINT, SHIPPED_FAMILY_CHECKPOINT

CONFIG = "configs/family.yaml"
SHIPPED_GENERAL = str(SHIPPED_CHECKPOINT)
# The ablation changes one thing at a time from BASE (Performer-ReLU, causal, 300 steps, no
# dropout, no position-attention layer);
# `default` is configs/family.yaml as it stands, the recipe the ablation chose.
BASE = ["--model.attention", DEFAULT_KIND, "--trainer.max_steps", "300", "--model.dropout", "0",
        "--model.position_attention_layers", "0"]  # fmt: skip
# name -> (what changes, overrides of configs/family.yaml)
VARIANTS: dict[str, tuple[str, list[str]]] = {
    # First, so that the slowest run overlaps all the others under --jobs > 1.
    "finetuned": ("base, fine-tuned from the shipped general model (cpu_l4_d128, 64 rows a step)",
                  [*BASE, "--model-preset", "cpu_l4_d128", "--init-from", SHIPPED_GENERAL,
                   "--data.batch_size", "64"]),
    "base": ("Performer-ReLU, causal, aligned, weighted, 300 steps", BASE),
    "mlm": ("base, masked LM instead of causal", [*BASE, "--model.objective", "mlm"]),
    "unweighted": ("base, rows drawn uniformly (no sequence weights)",
                   [*BASE, "--data.weights", "false"]),
    "unaligned": ("base, unaligned sequences (gaps removed)", [*BASE, "--data.view", "unaligned"]),
    EXACT_KIND: ("base, exact softmax attention", [*BASE, "--model.attention", EXACT_KIND]),
    "favor_softmax": ("base, FAVOR+ softmax features",
                      [*BASE, "--model.attention", FAVOR_PLUS_KIND]),
    "steps500": ("base, 500 steps", [*BASE, "--trainer.max_steps", "500"]),
    "mlm_steps500": ("base, masked LM, 500 steps",
                     [*BASE, "--model.objective", "mlm", "--trainer.max_steps", "500"]),
    "position_attention": ("base, its first layer a position-attention layer",
                           [*BASE, "--model.position_attention_layers", "1"]),
    "default": ("the default: FAVOR+ softmax, causal, one position-attention layer, dropout 0.2, "
                "1,500 steps (configs/family.yaml)", []),
}  # fmt: skip


def run_variant(name: str, overrides: list[str], runs_dir: str, extra: list[str]) -> dict:
    log = Path(runs_dir) / f"fb_{name}.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    cmd = [sys.executable, "-m", "protein_performer.cli", "family", "--config", CONFIG,
           "--name", f"fb_{name}", "--runs-dir", runs_dir, *overrides, *extra,
           "--reference", SHIPPED_GENERAL, "--trainer.enable_progress_bar", "false",
           "--overwrite", "true"]  # fmt: skip
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    start = time.perf_counter()
    with open(log, "w") as handle:
        code = subprocess.call(cmd, stdout=handle, stderr=subprocess.STDOUT, env=env)
    return {"name": name, "exit": code, "wall_s": time.perf_counter() - start,
            "command": " ".join(cmd[2:])}  # fmt: skip


def _row(name: str, runs_dir: str) -> str | None:
    path = Path(runs_dir) / f"fb_{name}" / "family" / "evaluation.json"
    timing = Path(runs_dir) / f"fb_{name}" / "bench.json"
    if not (path.is_file() and timing.is_file()):
        return None
    data = json.loads(path.read_text())
    run = json.loads(timing.read_text())
    rho = {
        k: v
        for k, v in data["spearman"].items()
        if not k.startswith(("PSSM", "Potts", "protein_")) and not is_product_of_experts(k)
    }
    best_name, best = max(rho.items(), key=lambda kv: kv[1]["rho"])
    pssm = next(v for k, v in data["spearman"].items() if k.startswith("PSSM"))
    contacts = data.get("contacts", {})

    def p_l5(threshold: str) -> str:
        values = [contacts[m][threshold]["long"]["P@L/5"] for m in contacts if m != "potts"]
        return f"{max(values):.3f}" if values else "—"

    return (
        f"| {name} | {VARIANTS[name][0]} | {best_name.split(' ', 1)[1]} | {best['rho']:.3f} "
        f"[{best['low']:.3f}, {best['high']:.3f}] | {best['minus_pssm']:+.3f} "
        f"[{best['minus_pssm_low']:+.3f}, {best['minus_pssm_high']:+.3f}] | {pssm['rho']:.3f} "
        f"| {p_l5('4.5')} | {p_l5('8')} | {data.get('train_seconds', 0) / 60:.1f} "
        f"| {run['wall_s'] / 60:.1f} |"
    )


def ablation_table(names: list[str], runs_dir: str) -> str:
    lines = [
        "| run | what changes | best score | Spearman ρ [95 % CI] | ρ − ρ(PSSM) [95 % CI] "
        "| PSSM ρ | long P@L/5, 4.5 Å | long P@L/5, 8 Å | train min | wall min |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    lines += [row for name in names if (row := _row(name, runs_dir))]
    return "\n".join(lines)


PROG = "python -m protein_performer.family.bench"


def main(argv: list[str] | None = None) -> int:
    parser = command_line.ArgumentParser(prog=PROG)
    parser.add_argument("--only", nargs="*", default=None, choices=list(VARIANTS))
    parser.add_argument("--jobs", type=int, default=1, help="variants run at once (1 thread each)")
    parser.add_argument("--runs-dir", default="runs")
    parser.add_argument("--out", type=Path, default=Path("docs/FAMILIES.md"))
    parser.add_argument("--collect-only", **command_line.SWITCH)
    parser.add_argument(
        "--ship", **command_line.SWITCH,
        help=f"strip the default run's best checkpoint into {SHIPPED_FAMILY_CHECKPOINT.name}",
    )  # fmt: skip
    parser.add_argument("extra", nargs=argparse.REMAINDER, help="overrides for every variant")
    args = parser.parse_args(argv)
    return command_line.run(PROG, lambda: _bench(args))


def _bench(args: argparse.Namespace) -> int:
    """Run the variants (unless --collect-only), then write the tables and maybe ship."""
    command_line.inputs_checked()
    names = args.only or list(VARIANTS)
    if not args.collect_only:
        with ThreadPoolExecutor(args.jobs) as pool:
            results = pool.map(
                lambda n: run_variant(n, VARIANTS[n][1], args.runs_dir, args.extra), names
            )
            for result in results:
                path = Path(args.runs_dir) / f"fb_{result['name']}" / "bench.json"
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(json.dumps({**result, "jobs": args.jobs}, indent=2) + "\n")
                print(f"{result['name']}: exit {result['exit']}, {result['wall_s'] / 60:.1f} min")
    text = args.out.read_text() if args.out.is_file() else "# Family models\n"
    table = ablation_table(list(VARIANTS), args.runs_dir)
    blocks = {"ablation": table}
    report = Path(args.runs_dir) / "fb_default" / "family" / "report.md"
    if report.is_file():
        # The default run in full, its headings one level down to sit inside this page.
        body = report.read_text().split("\n", 1)[1].strip()
        blocks["default"] = body.replace("\n## ", "\n### ").replace("## ", "### ", 1)
    headings = {"ablation": "Ablation", "default": "The default run in full"}
    args.out.write_text(markdown_blocks.fill(text, blocks, headings))
    print(table)
    if args.ship:
        from protein_performer.experiments.ship import strip_checkpoint

        best = Path(args.runs_dir) / "fb_default" / "checkpoints" / "best.ckpt"
        print(f"shipped {strip_checkpoint(best, SHIPPED_FAMILY_CHECKPOINT)} from {best}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
