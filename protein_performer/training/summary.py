"""The end-of-run report: a plain table of final metrics per split against the unigram baseline
(the paper's Table 2 layout), and the same numbers as `runs/<name>/metrics.json`."""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any

from protein_performer.training.metrics import SplitMetrics

COLUMNS = ("split", "tokens", "loss", "accuracy", "perplexity", "base acc", "base ppl", "beats")


def _fmt(value: float | int | None, digits: int = 4) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    if isinstance(value, int):
        return str(value)
    return f"{value:.{digits}f}"


def beats_baseline(result: SplitMetrics) -> bool | None:
    """Higher accuracy *and* lower perplexity than the unigram baseline (None: no baseline)."""
    if result.baseline_accuracy is None or result.tokens == 0:
        return None
    return (
        result.accuracy > result.baseline_accuracy
        and result.perplexity < result.baseline_perplexity
    )


def format_table(results: dict[str, SplitMetrics]) -> str:
    """Fixed-width text table, one row per split, in the order given."""
    rows = [COLUMNS]
    for split, r in results.items():
        beats = beats_baseline(r)
        rows.append(
            (
                split,
                _fmt(r.tokens),
                _fmt(r.loss),
                _fmt(r.accuracy),
                _fmt(r.perplexity, 2),
                _fmt(r.baseline_accuracy),
                _fmt(r.baseline_perplexity, 2),
                "-" if beats is None else ("yes" if beats else "NO"),
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(COLUMNS))]
    lines = [
        "  ".join(
            cell.rjust(w) if i else cell.ljust(w)
            for i, (cell, w) in enumerate(zip(row, widths, strict=True))
        )
        for row in rows
    ]
    lines.insert(1, "-" * len(lines[0]))
    return "\n".join(lines)


def write_metrics_json(
    path: str | Path, results: dict[str, SplitMetrics], extra: dict[str, Any] | None = None
) -> Path:
    """Write `{"splits": {split: {...}}, **extra}` atomically (NaN written as null)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)

    def clean(value: Any) -> Any:
        return None if isinstance(value, float) and math.isnan(value) else value

    payload = {
        "splits": {
            split: {k: clean(v) for k, v in r.to_dict().items()}
            | {"beats_baseline": beats_baseline(r)}
            for split, r in results.items()
        },
        **(extra or {}),
    }
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(payload, indent=2, sort_keys=False) + "\n")
    os.replace(tmp, path)
    return path
