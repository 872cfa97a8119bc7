"""The evaluation half of `protein-performer bench family`: the parts of a family evaluation
that grow with the number of columns, before and after, timed in one process.

A random causal recipe model over C columns stands in for a trained one (cost depends on
shapes, not weights). Rows, alternating before / after so drifting load affects both alike:
- the categorical Jacobian (`analysis.jacobian`) over 20·C substituted rows plus the wild type;
- causal-LLR scores (`analysis.variant_scores`) of all 19·C single substitutions;
- `n_samples` sampled rows (`family.generate.sample_aligned`): the full forward pass over the
  prefix at every column (before) against the recurrent decoder (after).
"Before" also runs the causal kernel with its former chunk rule (`family_speed.former_chunks`).
"""

from __future__ import annotations

import time

import numpy as np
import torch

from protein_performer.analysis.jacobian import categorical_jacobian
from protein_performer.analysis.mutations import Mutation
from protein_performer.analysis.variant_scores import ScoringFrame, score_variants
from protein_performer.constants import ALIGNED_VOCAB, CLS_ID, EOS_ID, STANDARD_IDS
from protein_performer.family.generate import sample_aligned


def random_model(n_columns: int):
    from protein_performer.family.family_cli import RECIPE, RECIPE_PRESET
    from protein_performer.model.config import preset
    from protein_performer.model.performer import ProteinPerformer

    values = {k.split(".", 1)[1]: v for k, v in RECIPE.items() if k.startswith("model.")}
    cfg = preset(RECIPE_PRESET, **values, vocab_size=len(ALIGNED_VOCAB), max_len=n_columns + 2)
    torch.manual_seed(0)
    return ProteinPerformer(cfg).eval()


def all_singles(tokens_L: np.ndarray):
    """Every single substitution of the framed wild type, as scan variants."""
    from protein_performer.analysis.dms import Variant

    letters = {i: a for a, i in ALIGNED_VOCAB.items()}
    variants = []
    for position, token in enumerate(tokens_L[1:-1]):
        wild = letters[int(token)]
        for mutant in (letters[i] for i in STANDARD_IDS if i != token):
            mutation = Mutation(wild, position, mutant)
            variants.append(Variant(str(mutation), 0.0, (mutation,), len(variants) + 2))
    return variants


def _timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def measure_evaluation(n_columns: int = 200, n_samples: int = 200) -> dict:
    from protein_performer.bench.family_speed import former_chunks, load_line

    model = random_model(n_columns)
    rng = np.random.default_rng(0)
    tokens_L = np.array([CLS_ID, *rng.choice(STANDARD_IDS, n_columns), EOS_ID], dtype=np.int64)
    frame = ScoringFrame(tokens_L, np.arange(n_columns, dtype=np.int64) + 1)
    variants = all_singles(tokens_L)
    positions = np.arange(1, n_columns + 1)
    parts = {
        "jacobian": lambda: categorical_jacobian(model, tokens_L, positions),
        "scan (causal LLR)": lambda: score_variants(model, frame, variants, "causal-llr"),
    }
    rows: dict[str, dict[str, float]] = {}
    for name, run in parts.items():
        with former_chunks():
            before = _timed(run)
        rows[name] = {"before_s": before, "after_s": _timed(run)}
    with former_chunks():
        naive = _timed(lambda: sample_aligned(model, n_samples, n_columns, mode="naive"))
    rows[f"{n_samples} samples"] = {
        "before_s": naive,
        "after_s": _timed(lambda: sample_aligned(model, n_samples, n_columns)),
    }
    total = {k: sum(r[k] for r in rows.values()) for k in ("before_s", "after_s")}
    return {
        "columns": n_columns,
        "variants": len(variants),
        "jacobian_rows": 20 * n_columns + 1,
        "threads": torch.get_num_threads(),
        "rows": rows,
        "total": total,
        "load": load_line(),
    }


def format_evaluation(result: dict) -> str:
    lines = [
        f"evaluation of {result['columns']} columns ({result['jacobian_rows']} Jacobian rows, "
        f"{result['variants']} variants), {result['threads']} thread(s), {result['load']}:",
        f"  {'part':<22}{'before s':>10}{'after s':>10}{'speed-up':>10}",
    ]
    for name, row in [*result["rows"].items(), ("total", result["total"])]:
        ratio = row["before_s"] / row["after_s"]
        lines.append(f"  {name:<22}{row['before_s']:>10.1f}{row['after_s']:>10.1f}{ratio:>9.1f}x")
    return "\n".join(lines)
