"""Make the shipped checkpoint: a training checkpoint stripped to what inference needs, the
same weights as a `save_pretrained` directory, and a model card written from the run's own
config and metrics.

    python -m protein_performer.experiments.ship runs/experiments/shipped_default \
        [--out checkpoints/protein_performer_default.ckpt] [--max-mb 25]
    python -m protein_performer.experiments.ship \
        --export checkpoints/protein_performer_default.ckpt

Kept: `state_dict` (weights and FAVOR projection buffers), `hyper_parameters` (the model and
optimiser configs as plain dicts), `global_step`, `epoch` and the Lightning version. Dropped:
optimizer and scheduler state, callbacks, loops. The result still loads with
`model.io.load_model` (`torch.load(weights_only=True)`); `ship` checks that it does and that
its logits equal those of the full checkpoint. The directory beside it (`config.json` +
`model.safetensors`, `--export` alone rewrites it) must give identical logits too.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch

from protein_performer import command_line
from protein_performer.experiments.run_records import load_run
from protein_performer.experiments.tables import metrics_markdown
from protein_performer.paths import SHIPPED_CHECKPOINT

# "family": what a family model was trained on (`model.family_info`), the profile HMM included.
KEEP = ("state_dict", "hyper_parameters", "global_step", "epoch", "pytorch-lightning_version",
        "family")  # fmt: skip
DEFAULT_OUT = SHIPPED_CHECKPOINT
CARD_CONFIG = "configs/experiments/shipped_default.yaml"


def strip_checkpoint(src: Path, dst: Path, max_mb: float = 25.0) -> Path:
    """Write `src` without optimizer state to `dst`; raise if it exceeds `max_mb` or if the
    stripped model's logits differ from the full checkpoint's."""
    from protein_performer.model.io import load_model, read_checkpoint

    full = read_checkpoint(src)
    missing = [k for k in ("state_dict", "hyper_parameters") if k not in full]
    if missing:
        raise ValueError(f"{src}: not a ProteinLM checkpoint (missing {missing})")
    dst.parent.mkdir(parents=True, exist_ok=True)
    torch.save({k: full[k] for k in KEEP if k in full}, dst)
    size_mb = dst.stat().st_size / 2**20
    if size_mb > max_mb:
        raise ValueError(f"{dst}: {size_mb:.1f} MB exceeds the {max_mb} MB limit")
    if not torch.equal(_probe_logits(load_model(src)), _probe_logits(load_model(dst))):
        raise AssertionError(f"{dst}: logits differ from {src} after stripping")
    return dst


def _probe_logits(model) -> torch.Tensor:
    tokens_BL = torch.randint(5, 25, (2, 40), generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        return model(tokens_BL).logits_BLV


def export_pretrained(checkpoint: Path, directory: Path | None = None) -> Path:
    """Write the checkpoint's model with `save_pretrained` into `directory` (default: the
    checkpoint's path without `.ckpt`); raise unless the two give identical logits."""
    from protein_performer.model.io import from_pretrained, load_model

    directory = directory or checkpoint.with_suffix("")
    model = load_model(checkpoint)
    model.save_pretrained(directory)
    if not torch.equal(_probe_logits(model), _probe_logits(from_pretrained(directory))):
        raise AssertionError(f"{directory}: logits differ from {checkpoint}")
    return directory


def model_card(run_dir: Path, checkpoint: Path, source: Path) -> str:
    """Markdown model card from the run's resolved config, metrics and runner record."""
    record = load_run(run_dir)
    model, data = record.config["model"], record.config["data"]
    optim, trainer = record.config["optim"], record.config["trainer"]
    runner = record.runner or {}
    command = runner.get("command", f"protein-performer train --config {CARD_CONFIG}")
    shipped = torch.load(checkpoint, weights_only=True)
    state = shipped["state_dict"]
    n_params = sum(
        v.numel()
        for k, v in state.items()
        if "projection" not in k and not k.endswith("lm_head.weight")
    )
    minutes = (record.train_seconds or float("nan")) / 60
    return f"""# Model card: `{checkpoint.name}`

The default Performer-ReLU protein language model of this repository (`configs/default.yaml`
model), which `make analyze`, the inference commands and `pp.load_model()` use by default.
The same weights ship as a `save_pretrained` directory beside it (`config.json` +
`model.safetensors`, identical logits).
Written by `python -m protein_performer.experiments.ship {run_dir}`.

- **Architecture**: {model["n_layers"]} layers, d_model {model["d_model"]}, \
{model["n_heads"]} heads, d_ff {model["d_ff"]}, attention `{model["attention"]}` with \
{model["n_features"]} random features per head (FAVOR, Choromanski et al. 2021), objective \
`{model["objective"]}` (BERT-style 15 % masking), position table {model["max_len"]}; \
{n_params / 1e6:.2f} M parameters.
- **Data**: `{data["fasta"]}` (the UniProt sample shipped in `data/`), prepared by
  `protein-performer prepare`: duplicate sequences kept once, splits by a stable BLAKE2b hash of
  the accession into
  train / valid (5 %) / test (5 %), and an out-of-distribution split holding every protein of
  the taxa `{data.get("ood_taxa", "5851,1140")}` (OX). Training crops proteins to \
{data["max_len"]} tokens (random window), batch {data["batch_size"]}.
- **Training**: {record.steps_done} optimizer steps, about {record.tokens_seen / 1e6:.2f} M \
training tokens (expected non-pad tokens per batch x steps), AdamW lr {optim["lr"]} \
({optim["warmup_steps"]} warm-up steps, {optim["decay"]} decay), gradient clip 0.5, feature \
redraw every {trainer["redraw_every_n_steps"]} steps, {minutes:.0f} min on a shared 2-core CPU.
  Shipped weights: `{source}` (lowest valid loss, step {shipped.get("global_step")}), \
optimizer state removed.
- **Provenance**: `{command}`, commit {runner.get("commit", "unknown")}, started \
{runner.get("start_utc", "unknown")}.

## Metrics (masked positions only; unigram baseline on the same positions)

{metrics_markdown(record)}

## Limits

A small model trained for minutes on a CPU: it is far from the paper's 36-layer model (test
accuracy 36 % there). Attention maps and contact precision from it demonstrate the pipeline;
they are not state-of-the-art structure signal.
"""


PROG = "python -m protein_performer.experiments.ship"


def main(argv: list[str] | None = None) -> int:
    parser = command_line.ArgumentParser(prog=PROG, description=__doc__.split("\n\n")[0])
    parser.add_argument("run_dir", type=Path, nargs="?")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--max-mb", type=float, default=25.0)
    parser.add_argument(
        "--card", default=None,
        help="model card to write (default: MODEL_CARD.md beside the default checkpoint "
        "only; 'none' writes no card)",
    )  # fmt: skip
    parser.add_argument(
        "--export", type=Path, default=None, help="only write CKPT's save_pretrained directory"
    )
    args = parser.parse_args(argv)
    if args.export is None and args.run_dir is None:
        parser.error("give RUN_DIR, or --export CKPT")
    return command_line.run(PROG, lambda: _ship(args))


def _ship(args: argparse.Namespace) -> int:
    if args.export is not None:
        print(f"wrote {export_pretrained(args.export)}")
        return 0
    source = args.run_dir / "checkpoints" / "best.ckpt"
    if not source.is_file():
        source = args.run_dir / "checkpoints" / "last.ckpt"
    out = strip_checkpoint(source, args.out, args.max_mb)
    export_pretrained(out)
    size_mb = out.stat().st_size / 2**20
    print(f"wrote {out} ({size_mb:.2f} MB) and {out.with_suffix('')}/")
    card = args.card or (args.out.parent / "MODEL_CARD.md" if args.out == DEFAULT_OUT else None)
    if card is not None and str(card) != "none":
        Path(card).write_text(model_card(args.run_dir, out, source))
        print(f"wrote {card}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
