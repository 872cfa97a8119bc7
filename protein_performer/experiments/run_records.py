"""A finished (or running) experiment read back from its run directory: resolved config, final
metrics, validation curve with tokens and wall-clock, and the runner's record.

Run directory layout (written by `protein-performer train` and `experiments.run`):
    config.yaml, metrics.json, logs/version_*/metrics.csv, timeline.csv, runner.json
"""

from __future__ import annotations

import csv
import json
import math
from dataclasses import dataclass
from pathlib import Path

import yaml

from protein_performer.experiments.plan import mean_item_tokens, train_length_hist
from protein_performer.experiments.timeline import TIMELINE, read_timeline


@dataclass(frozen=True)
class CurvePoint:
    """One validation pass: after `steps` optimizer steps, `tokens` training tokens and
    `seconds` since the run started."""

    steps: int
    tokens: float
    seconds: float | None
    accuracy: float
    perplexity: float


@dataclass(frozen=True)
class RunRecord:
    name: str
    run_dir: Path
    config: dict
    # metrics.json: {"splits": {split: {...}}, "global_step": ..., ...}; None while running.
    metrics: dict | None
    curve: tuple[CurvePoint, ...]
    # runner.json of `experiments.run` (command, commit, dates, peak memory); may be None.
    runner: dict | None
    tokens_per_step: float
    # Seconds from the run's start to its last logged training step (None without timeline).
    train_seconds: float | None
    last_step: int | None

    def split(self, name: str) -> dict | None:
        return (self.metrics or {}).get("splits", {}).get(name)

    @property
    def steps_done(self) -> int:
        if self.metrics and "global_step" in self.metrics:
            return int(self.metrics["global_step"])
        return 0 if self.last_step is None else self.last_step + 1

    @property
    def tokens_seen(self) -> float:
        return self.steps_done * self.tokens_per_step


def tokens_per_step(config: dict, cache_dir: Path | None = None) -> float:
    """Expected real tokens per optimizer step: full chunks in concat mode, cropped framed
    proteins (from the training length histogram) in single mode."""
    data = config["data"]
    batch = int(data["batch_size"]) * int(
        config.get("trainer", {}).get("accumulate_grad_batches") or 1
    )
    if data.get("mode") == "concat":
        return float(batch * int(data["max_len"]))
    hist = train_length_hist(cache_dir or Path(data.get("cache_dir", "cache")))
    return batch * mean_item_tokens(hist, int(data["max_len"]))


def read_csv_rows(run_dir: Path) -> list[dict[str, str]]:
    """All rows of all CSV log versions, oldest version first (a resume adds a version)."""
    rows: list[dict[str, str]] = []
    versions = sorted(
        run_dir.glob("logs/version_*/metrics.csv"), key=lambda p: int(p.parent.name.split("_")[-1])
    )
    for path in versions:
        with path.open(newline="") as handle:
            rows.extend(csv.DictReader(handle))
    return rows


def interpolate(timeline: list[tuple[float, int]], step: int, origin: float) -> float | None:
    """Seconds since `origin` at which `step` was logged, linear between timeline rows."""
    if not timeline:
        return None
    points = sorted(timeline, key=lambda r: r[1])
    if step <= points[0][1]:
        t0, s0 = points[0]
        # Before the first row: scale the first interval back linearly from the origin.
        return (t0 - origin) * (step + 1) / (s0 + 1)
    for (t0, s0), (t1, s1) in zip(points, points[1:], strict=False):
        if s0 <= step <= s1:
            return t0 - origin + (t1 - t0) * (step - s0) / max(1, s1 - s0)
    return points[-1][0] - origin


def validation_curve(
    rows: list[dict[str, str]], per_step: float, timeline: list[tuple[float, int]], origin: float
) -> tuple[CurvePoint, ...]:
    """Validation points in file order. A CSV `step` is the 0-based index of the last step
    taken, so `steps = step + 1`; a validation logged before any training step (the step-0
    evaluation of `--init-from`) counts as 0 steps."""
    train_steps = [int(float(r["step"])) for r in rows if r.get("train/loss")]
    first_train = min(train_steps) if train_steps else math.inf
    # The final evaluation re-validates the best checkpoint at the step of the test rows; it
    # is in metrics.json, not a point of the curve.
    final_steps = {int(float(r["step"])) for r in rows if r.get("test/accuracy")}
    seen_before_train = True
    points = []
    for row in rows:
        if row.get("train/loss"):
            seen_before_train = False
        if not row.get("valid/accuracy"):
            continue
        step = int(float(row["step"]))
        if step in final_steps and not seen_before_train:
            continue
        steps = 0 if seen_before_train and step <= first_train else step + 1
        seconds = 0.0 if steps == 0 else interpolate(timeline, step, origin)
        points.append(
            CurvePoint(
                steps,
                steps * per_step,
                seconds,
                float(row["valid/accuracy"]),
                float(row["valid/perplexity"]),
            )
        )
    return tuple(points)


def load_run(run_dir: Path, cache_dir: Path | None = None) -> RunRecord:
    """Read everything a run directory holds; missing pieces are None or empty."""
    config_path = run_dir / "config.yaml"
    if not config_path.is_file():
        raise FileNotFoundError(f"{config_path}: not a run directory (no config.yaml)")
    config = yaml.safe_load(config_path.read_text())
    metrics_path, runner_path = run_dir / "metrics.json", run_dir / "runner.json"
    metrics = json.loads(metrics_path.read_text()) if metrics_path.is_file() else None
    runner = json.loads(runner_path.read_text()) if runner_path.is_file() else None
    per_step = tokens_per_step(config, cache_dir)
    timeline = read_timeline(run_dir / TIMELINE)
    # The resolved config is written just before training starts: the run's time origin.
    origin = config_path.stat().st_mtime
    rows = read_csv_rows(run_dir)
    steps = [int(float(r["step"])) for r in rows if r.get("train/loss")]
    last_step = max(steps) if steps else None
    train_seconds = interpolate(timeline, last_step, origin) if last_step is not None else None
    return RunRecord(
        name=run_dir.name,
        run_dir=run_dir,
        config=config,
        metrics=metrics,
        curve=validation_curve(rows, per_step, timeline, origin),
        runner=runner,
        tokens_per_step=per_step,
        train_seconds=train_seconds,
        last_step=last_step,
    )


def load_runs(runs_dir: Path, cache_dir: Path | None = None) -> dict[str, RunRecord]:
    """Every run directory under `runs_dir` (those with a config.yaml), by name."""
    if not runs_dir.is_dir():
        return {}
    return {
        p.name: load_run(p, cache_dir)
        for p in sorted(runs_dir.iterdir())
        if (p / "config.yaml").is_file()
    }
