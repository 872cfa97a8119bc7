"""The protein experiments as data: which committed config, in which group, with which
extra flags, and how a training-token budget becomes a number of optimizer steps.

Groups, in the order the runner executes them:
    table2        five runs of identical size, data and token budget (paper Table 2)
    long_context  concatenated proteins at L = 8192, Performer vs exact, equal wall-clock (§4.4)
    backcompat    exact MLM weights loaded into a Performer-ReLU and fine-tuned (§4.3)
    shipped       the default Performer-ReLU MLM that `make analyze` falls back to
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

import yaml

CONFIG_DIR = Path("configs/experiments")
GROUPS: tuple[str, ...] = ("table2", "long_context", "backcompat", "shipped")


@dataclass(frozen=True)
class Experiment:
    """One training run: `protein-performer train --config <config> <extra>`."""

    # Run name; also the YAML's `name` and the directory under the runs dir.
    name: str
    # Which group of the report it belongs to (one of GROUPS).
    group: str
    # Human-readable label used in tables and legends.
    label: str
    # Extra command-line flags (e.g. --init-from); the budget adds --trainer.max_steps.
    extra: tuple[str, ...] = ()
    # Whether `--budget-tokens` sets its step count (False: wall-clock or fixed steps).
    budgeted: bool = True

    @property
    def config(self) -> Path:
        return CONFIG_DIR / f"{self.name}.yaml"


TABLE2: tuple[Experiment, ...] = (
    Experiment("t2_mlm_exact", "table2", "Transformer (exact), MLM"),
    Experiment("t2_mlm_favor_relu", "table2", "Performer-ReLU, MLM"),
    Experiment("t2_mlm_favor_softmax", "table2", "Performer-Softmax, MLM"),
    Experiment("t2_causal_exact", "table2", "Transformer (exact), causal"),
    Experiment("t2_causal_favor_relu", "table2", "Performer-ReLU, causal"),
)
LONG_CONTEXT: tuple[Experiment, ...] = (
    Experiment("lc_8192_favor_relu", "long_context", "Performer-ReLU, L=8192", budgeted=False),
    Experiment("lc_8192_exact", "long_context", "Transformer (exact), L=8192", budgeted=False),
)
BACKCOMPAT: tuple[Experiment, ...] = (
    Experiment(
        "bc_exact_to_favor_relu",
        "backcompat",
        "exact weights -> Performer-ReLU, fine-tuned",
        extra=("--init-from", "{runs_dir}/t2_mlm_exact/checkpoints/best.ckpt"),
        budgeted=False,
    ),
)
SHIPPED: tuple[Experiment, ...] = (
    Experiment("shipped_default", "shipped", "default Performer-ReLU MLM", budgeted=False),
)
ALL: tuple[Experiment, ...] = TABLE2 + LONG_CONTEXT + BACKCOMPAT + SHIPPED


def read_config(experiment: Experiment) -> dict:
    """The experiment's committed YAML as a dict (errors name the file)."""
    path = experiment.config
    if not path.is_file():
        raise FileNotFoundError(f"{path}: missing config of experiment {experiment.name!r}")
    values = yaml.safe_load(path.read_text())
    if not isinstance(values, dict) or values.get("name") != experiment.name:
        raise ValueError(f"{path}:1: expected a mapping whose `name` is {experiment.name!r}")
    return values


def mean_item_tokens(length_hist: dict[str, int], max_len: int) -> float:
    """Expected tokens of one single-mode item: a protein of n residues framed by <cls>/<eos>
    (n + 2 tokens) and cropped to `max_len`, averaged over the training length histogram."""
    total = sum(length_hist.values())
    if total == 0:
        raise ValueError("empty length histogram")
    return sum(min(int(n) + 2, max_len) * c for n, c in length_hist.items()) / total


def train_length_hist(cache_dir: Path) -> dict[str, int]:
    """The training split's length histogram from the prepared cache's `meta.json` (the newest
    complete one when several fingerprints exist)."""
    metas = sorted(cache_dir.glob("*/meta.json"), key=lambda p: p.stat().st_mtime)
    for path in reversed(metas):
        meta = json.loads(path.read_text())
        if meta.get("complete", True):
            return meta["stats"]["train"]["length_hist"]
    raise FileNotFoundError(f"{cache_dir}: no prepared data; run `protein-performer prepare`")


def steps_for_budget(budget_tokens: int, batch_size: int, item_tokens: float) -> int:
    """Optimizer steps whose expected real (non-pad) tokens first reach `budget_tokens`."""
    if budget_tokens <= 0 or batch_size <= 0 or item_tokens <= 0:
        raise ValueError("budget, batch size and item tokens must be positive")
    return math.ceil(budget_tokens / (batch_size * item_tokens))
