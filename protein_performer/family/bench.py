"""`make family-bench`: the family-model ablation on both dev families, into docs/FAMILIES.md.

Each variant changes one thing of the recipe (the `family` command's defaults) and runs on PDZ
(`configs/family.yaml`, the DLG4_RAT scan and PF00595's contact map) and on Kunitz
(`configs/family_pf00014.yaml`, 5PTI's contacts), each run its own process (one thread,
`--jobs` at a time), timed from launch to exit. Only the recipe's own runs fit the Potts model
and draw samples: the Potts model and the PSSM depend on the rows, not on the Performer, and the
PSSM is refitted in every run. The table reads every run's `runs/<name>/family/evaluation.json`;
the prose around the generated block in docs/FAMILIES.md is hand-written and survives reruns.

    python -m protein_performer.family.bench [--only default mlm ...] [--jobs 2]
    python -m protein_performer.family.bench --collect-only      # rebuild the table
    python -m protein_performer.family.bench --collect-only --ship   # and ship the default
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from protein_performer import command_line, markdown_blocks
from protein_performer.analysis.family_evaluation import is_product_of_experts
from protein_performer.analysis.rank_correlation import paired_bootstrap
from protein_performer.family import bench_cells
from protein_performer.family.bench_cells import FAMILIES, READOUTS
from protein_performer.model.attention_kinds import DEFAULT_KIND, EXACT_KIND
from protein_performer.paths import SHIPPED_FAMILY_CHECKPOINT

DEFAULT = "default"
# Every run but the recipe's own skips the Potts fit and the samples.
LEAN = ["--eval.potts_iterations", "0", "--eval.n_samples", "0"]
# name -> (what changes from the recipe, overrides of the family's config)
VARIANTS: dict[str, tuple[str, list[str]]] = {
    DEFAULT: ("the recipe: FAVOR+ softmax, causal, aligned, weighted, one position-attention "
              "layer, dropout 0.2, 1,500 steps", []),
    "mlm": ("masked LM instead of causal", ["--model.objective", "mlm"]),
    "unweighted": ("rows drawn uniformly (no sequence weights)", ["--data.weights", "false"]),
    "unaligned": ("unaligned sequences (gaps removed)", ["--data.view", "unaligned"]),
    EXACT_KIND: ("exact softmax attention", ["--model.attention", EXACT_KIND]),
    "favor_relu": ("FAVOR ReLU features", ["--model.attention", DEFAULT_KIND]),
    "no_position_attention": ("no position-attention layer",
                              ["--model.position_attention_layers", "0"]),
    "no_dropout": ("no dropout", ["--model.dropout", "0"]),
    "steps500": ("500 steps", ["--trainer.max_steps", "500"]),
}  # fmt: skip


def run_name(family: str, variant: str) -> str:
    return f"fb_{family}_{variant}"


def variant_command(family: str, variant: str, runs_dir: Path) -> list[str]:
    lean = [] if variant == DEFAULT else LEAN
    return [sys.executable, "-m", "protein_performer.cli", "family", "--config", FAMILIES[family],
            "--name", run_name(family, variant), "--runs-dir", str(runs_dir),
            *VARIANTS[variant][1], *lean, "--trainer.enable_progress_bar", "false",
            "--overwrite", "true"]  # fmt: skip


def run_variant(family: str, variant: str, runs_dir: Path, jobs: int) -> None:
    name = run_name(family, variant)
    result = bench_cells.timed(
        variant_command(family, variant, runs_dir), runs_dir / f"{name}.log"
    )
    path = runs_dir / name / "bench.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({**result, "jobs": jobs}, indent=2) + "\n")


def _run(family: str, variant: str, runs_dir: Path) -> tuple[dict, dict] | None:
    """A finished run's evaluation and timing, or None."""
    path = runs_dir / run_name(family, variant) / "family" / "evaluation.json"
    timing = runs_dir / run_name(family, variant) / "bench.json"
    if not (path.is_file() and timing.is_file()):
        return None
    return json.loads(path.read_text()), json.loads(timing.read_text())


def _performer_rho(data: dict) -> tuple[str, dict]:
    """The run's own best score (the model's, not the PSSM's, Potts' or a product of experts)."""
    rho = {k: v for k, v in data["spearman"].items()
           if not k.startswith(("PSSM", "Potts")) and not is_product_of_experts(k)}  # fmt: skip
    name, best = max(rho.items(), key=lambda kv: kv[1]["rho"])
    return name.split(" ", 1)[1], best


def _scored(variant: str, score: str, runs_dir: Path) -> dict[str, tuple[float, float]]:
    """The PDZ run's scored variants (`family/scores.tsv`): mutant -> (measured, its score)."""
    name = run_name("pdz", variant)
    path = runs_dir / name / "family" / "scores.tsv"
    if not path.is_file():
        return {}
    with open(path, newline="") as handle:
        rows = csv.DictReader((line for line in handle if not line.startswith("#")),
                              delimiter="\t")  # fmt: skip
        return {row["mutant"]: (float(row["measured"]), float(row[f"{name} {score}"]))
                for row in rows if row["status"] == "scored"}  # fmt: skip


def recipe_scores(runs_dir: Path) -> dict[str, tuple[float, float]]:
    """The PDZ recipe run's scored variants under its best score; empty without the run."""
    recipe_run = _run("pdz", DEFAULT, runs_dir)
    return _scored(DEFAULT, _performer_rho(recipe_run[0])[0], runs_dir) if recipe_run else {}


def minus_recipe_cell(
    variant: str, score: str, runs_dir: Path, recipe: dict[str, tuple[float, float]]
) -> str:
    """ρ(variant) − ρ(recipe) on DLG4, a paired bootstrap over the variants both scored."""
    if variant == DEFAULT or not recipe:
        return "—"
    mine = _scored(variant, score, runs_dir)
    shared = sorted(set(mine) & set(recipe))
    if not shared:
        return "—"
    diff = paired_bootstrap([mine[m][1] for m in shared], [recipe[m][1] for m in shared],
                            [mine[m][0] for m in shared])  # fmt: skip
    if math.isnan(diff.rho):
        return "—"
    return f"{diff.rho:+.3f} [{diff.low:+.3f}, {diff.high:+.3f}]"


def table_row(variant: str, runs_dir: Path, recipe: dict[str, tuple[float, float]]) -> str | None:
    """One variant's row from its two runs; `recipe` is `recipe_scores(runs_dir)`."""
    runs = {family: _run(family, variant, runs_dir) for family in FAMILIES}
    if not all(runs.values()):
        return None
    (pdz, pdz_time), (kunitz, kunitz_time) = runs["pdz"], runs["kunitz"]
    score, rho = _performer_rho(pdz)
    pdz_long = [bench_cells.long_range(pdz, readout, "pdz") for readout in READOUTS]
    kunitz_long = [bench_cells.long_range(kunitz, readout, "kunitz") for readout in READOUTS]
    train_s = pdz.get("train_seconds", 0) + kunitz.get("train_seconds", 0)
    cells = [
        f"{variant} | {VARIANTS[variant][0]} | {score}",
        bench_cells.interval_cell(rho, "rho", "low", "high", ".3f"),
        minus_recipe_cell(variant, score, runs_dir, recipe),
        bench_cells.interval_cell(rho, "minus_pssm", "minus_pssm_low", "minus_pssm_high", "+.3f"),
        *map(bench_cells.contacts_cell, pdz_long), *map(bench_cells.contacts_cell, kunitz_long),
        bench_cells.mean_p_at_l_cell(pdz_long[0], kunitz_long[0]),
        f"{train_s / 60:.1f}", f"{(pdz_time['wall_s'] + kunitz_time['wall_s']) / 60:.1f}",
    ]  # fmt: skip
    return "| " + " | ".join(cells) + " |"


def reference_row(runs_dir: Path) -> str | None:
    """The PSSM and the Potts model of the recipe's runs, on the same measures."""
    runs = {family: _run(family, DEFAULT, runs_dir) for family in FAMILIES}
    if not all(runs.values()):
        return None
    pdz, kunitz = runs["pdz"][0], runs["kunitz"][0]
    potts = next((v for k, v in pdz["spearman"].items() if k.startswith("Potts")), None)
    pssm = next(v for k, v in pdz["spearman"].items() if k.startswith("PSSM"))
    pdz_long = bench_cells.long_range(pdz, "potts", "pdz")
    kunitz_long = bench_cells.long_range(kunitz, "potts", "kunitz")
    rows = [["PSSM | the PSSM of the recipe's rows (one column at a time) | log-odds",
             bench_cells.interval_cell(pssm, "rho", "low", "high", ".3f"), *[""] * 9]]  # fmt: skip
    if potts:
        rows.append(["Potts | the Potts model of the recipe's rows (couplings) | ΔE",
                     bench_cells.interval_cell(potts, "rho", "low", "high", ".3f"), "", "",
                     bench_cells.contacts_cell(pdz_long), "",
                     bench_cells.contacts_cell(kunitz_long), "",
                     bench_cells.mean_p_at_l_cell(pdz_long, kunitz_long), "", ""])  # fmt: skip
    lines = ["| " + " | ".join(cells) + " |" for cells in rows]
    return "\n".join(lines)


def ablation_table(runs_dir: Path) -> str:
    lines = [
        "| run | what changes from the recipe | DLG4 score | DLG4 ρ [95 % CI] "
        "| ρ − ρ(recipe) [95 % CI] | ρ − ρ(PSSM) [95 % CI] | PF00595 Jacobian "
        "| PF00595 position attention | 5PTI Jacobian | 5PTI position attention "
        "| mean Jacobian P@L | train min | wall min |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    recipe = recipe_scores(runs_dir)
    lines += [line for variant in VARIANTS if (line := table_row(variant, runs_dir, recipe))]
    if line := reference_row(runs_dir):
        lines.append(line)
    return "\n".join(lines)


PROG = "python -m protein_performer.family.bench"


def main(argv: list[str] | None = None) -> int:
    parser = command_line.ArgumentParser(prog=PROG)
    parser.add_argument("--only", nargs="*", default=None, choices=list(VARIANTS))
    parser.add_argument("--jobs", type=int, default=2, help="runs at once (one thread each)")
    parser.add_argument("--runs-dir", type=Path, default=Path("runs"))
    parser.add_argument("--out", type=Path, default=Path("docs/FAMILIES.md"))
    parser.add_argument("--collect-only", **command_line.SWITCH)
    parser.add_argument(
        "--ship", **command_line.SWITCH,
        help=f"strip the PDZ recipe run's best checkpoint into {SHIPPED_FAMILY_CHECKPOINT.name}",
    )  # fmt: skip
    args = parser.parse_args(argv)
    return command_line.run(PROG, lambda: _bench(args))


def _bench(args: argparse.Namespace) -> int:
    """Run the variants on both families (unless --collect-only), then write the tables and
    maybe ship."""
    bench_cells.check_jobs(args.jobs)
    command_line.inputs_checked()
    if not args.collect_only:
        # The two families of one variant side by side, the recipe's (slowest) runs first.
        todo = [(family, v) for v in args.only or VARIANTS for family in FAMILIES]
        with ThreadPoolExecutor(args.jobs) as pool:
            list(pool.map(lambda fv: run_variant(*fv, args.runs_dir, args.jobs), todo))
    text = args.out.read_text() if args.out.is_file() else "# Family models\n"
    table = ablation_table(args.runs_dir)
    blocks = {"ablation": table}
    report = args.runs_dir / run_name("pdz", DEFAULT) / "family" / "report.md"
    if report.is_file():
        # The default run in full, its headings one level down to sit inside this page.
        body = report.read_text().split("\n", 1)[1].strip()
        blocks["default"] = body.replace("\n## ", "\n### ").replace("## ", "### ", 1)
    headings = {"ablation": "Ablation", "default": "The default run in full"}
    args.out.write_text(markdown_blocks.fill(text, blocks, headings))
    print(table)
    if args.ship:
        from protein_performer.experiments.ship import strip_checkpoint

        best = args.runs_dir / run_name("pdz", DEFAULT) / "checkpoints" / "best.ckpt"
        print(f"shipped {strip_checkpoint(best, SHIPPED_FAMILY_CHECKPOINT)} from {best}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
