"""The two-family ablation (`family.bench`): each variant's command changes what its row says,
on both families, and its table reads each row from that variant's own two runs."""

from __future__ import annotations

import functools
import json
from pathlib import Path

import pytest
from scipy.stats import spearmanr

from protein_performer.family import bench, family_cli

RECIPE = family_cli.parse(["--config", "configs/family.yaml"])[1]


@functools.cache
def _config(family, variant):
    command = bench.variant_command(family, variant, Path("runs"))
    return family_cli.parse(command[command.index("family") + 1 :])[1]


@pytest.mark.parametrize("family", list(bench.FAMILIES))
def test_only_the_recipe_runs_fit_the_potts_model_and_sample(family):
    default = _config(family, bench.DEFAULT)
    assert default.eval.potts_iterations == RECIPE.eval.potts_iterations > 0
    assert default.eval.n_samples == RECIPE.eval.n_samples > 0
    lean = _config(family, "no_dropout")
    assert (lean.eval.potts_iterations, lean.eval.n_samples) == (0, 0)
    assert lean.name == f"fb_{family}_no_dropout" and default.name == f"fb_{family}_default"


@pytest.mark.parametrize(
    ("variant", "section", "field", "value"),
    [("mlm", "model", "objective", "mlm"), ("unweighted", "data", "weights", False),
     ("unaligned", "data", "view", "unaligned"), ("exact", "model", "attention", "exact"),
     ("favor_relu", "model", "attention", "favor-relu"),
     ("no_position_attention", "model", "position_attention_layers", 0),
     ("no_dropout", "model", "dropout", 0.0), ("steps500", "trainer", "max_steps", 500)],
)  # fmt: skip
def test_each_variant_changes_one_thing_of_the_recipe(variant, section, field, value):
    cfg = _config("kunitz", variant)
    assert getattr(getattr(cfg, section), field) == value
    assert getattr(getattr(RECIPE, section), field) != value
    for other in ("model", "data", "trainer", "optim"):
        changed = {
            k for k, v in vars(getattr(cfg, other)).items()
            if v != getattr(getattr(_config("kunitz", bench.DEFAULT), other), k)
        }  # fmt: skip
        assert changed == ({field} if other == section else set()), other


def _long(p_l: float, p_l5: float) -> dict:
    return {"long": {"P@L": p_l, "P@L/2": 0.0, "P@L/5": p_l5, "random": 0.1}}


def _rho(rho: float, minus_pssm: float = 0.0) -> dict:
    return {"rho": rho, "low": rho - 0.04, "high": rho + 0.04, "n": 1425,
            "minus_pssm": minus_pssm, "minus_pssm_low": minus_pssm - 0.03,
            "minus_pssm_high": minus_pssm + 0.03}  # fmt: skip


MEASURED = [0.1, 0.5, 0.2, 0.9, 0.4, 0.7, 0.3, 0.8]


def _write_scores(run, variant, predicted):
    """A `scores.tsv` of `family`: two rows outside ρ, then the scored variants."""
    head = ["mutant", "measured", "status", "PSSM (same weighted rows)",
            f"fb_pdz_{variant} causal-llr"]  # fmt: skip
    lines = [f"# model: fb_pdz_{variant}", "\t".join(head), "P311A\t0.3\tunscorable\t\t",
             "G322G\t0.0\tsynonymous\t\t"]  # fmt: skip
    pairs = enumerate(zip(MEASURED, predicted, strict=True))
    lines += [f"A{i}C\t{m}\tscored\t0.0\t{p}" for i, (m, p) in pairs]
    (run / "family" / "scores.tsv").write_text("\n".join(lines) + "\n")


def _write_run(runs, family, variant, value, wall_s=120.0, predicted=MEASURED):
    """One `family` run whose figures encode `value`; only the recipe's has a Potts model."""
    spearman = {"PSSM (same weighted rows)": _rho(0.43)}
    contacts = {"jacobian": {"4.5": _long(value, 0.5), "8": _long(value / 2, 0.7)},
                "attention": {"4.5": _long(0.99, 0.99), "8": _long(0.99, 0.99)}}  # fmt: skip
    if variant != "no_position_attention":
        contacts["position_attention"] = {"4.5": _long(value + 0.1, 0.6), "8": _long(0.2, 0.8)}
    if family == "pdz":
        spearman[f"fb_pdz_{variant} causal-llr"] = _rho(value, value - 0.43)
        spearman[f"fb_pdz_{variant} causal-llr + Potts model (product of experts)"] = _rho(0.9)
    if variant == bench.DEFAULT:
        spearman["Potts model (same weighted rows)"] = _rho(0.54)
        contacts["potts"] = {"4.5": _long(0.62, 0.875), "8": _long(0.377, 0.8)}
    run = runs / bench.run_name(family, variant)
    (run / "family").mkdir(parents=True)
    (run / "family" / "evaluation.json").write_text(
        json.dumps({"spearman": spearman, "contacts": contacts, "train_seconds": 60.0})
    )
    (run / "bench.json").write_text(json.dumps({"exit": 0, "wall_s": wall_s}))
    if family == "pdz":
        _write_scores(run, variant, predicted)


def test_table_reads_each_row_from_its_own_two_runs(tmp_path):
    for family in bench.FAMILIES:
        _write_run(tmp_path, family, bench.DEFAULT, 0.54)
        _write_run(tmp_path, family, "no_position_attention", 0.50, wall_s=240.0,
                   predicted=[*MEASURED[:6], *MEASURED[6:][::-1]])  # fmt: skip
    _write_run(tmp_path, "pdz", "mlm", 0.45)  # its Kunitz run has not finished
    table = bench.ablation_table(tmp_path)
    rows = {line.split(" | ")[0].lstrip("| "): line.split(" | ") for line in table.splitlines()}
    recipe = rows["default"]
    assert recipe[2] == "causal-llr" and recipe[3] == "0.540 [0.500, 0.580]"
    assert recipe[4] == "—" and recipe[5] == "+0.110 [+0.080, +0.140]"
    # Jacobian and position attention, P@L / P@L/5; 5PTI read at Cβ 8 Å.
    assert recipe[6] == "0.540 / 0.500" and recipe[7] == "0.640 / 0.600"
    assert recipe[8] == "0.270 / 0.700" and recipe[9] == "0.200 / 0.800"
    assert recipe[10] == "0.405"  # (0.54 + 0.27) / 2
    # A minute of training on each family; the two runs' wall times.
    assert recipe[11] == "2.0" and recipe[12].rstrip(" |") == "4.0"
    ablated = rows["no_position_attention"]
    assert ablated[7] == "—" and ablated[9] == "—" and ablated[12].rstrip(" |") == "8.0"
    # Against the recipe (ρ 1 on the scored rows), on the scored rows of both runs only.
    swapped = spearmanr([*MEASURED[:6], *MEASURED[6:][::-1]], MEASURED)[0]
    assert ablated[4].startswith(f"{swapped - 1:+.3f} [")
    assert "mlm" not in rows  # a row needs both families' runs
    assert rows["Potts"][3] == "0.540 [0.500, 0.580]" and rows["Potts"][6] == "0.620 / 0.875"
    assert rows["Potts"][8] == "0.377 / 0.800"
    assert rows["PSSM"][3] == "0.430 [0.390, 0.470]"


def test_a_variant_without_the_recipe_run_has_no_difference_to_it(tmp_path):
    for family in bench.FAMILIES:
        _write_run(tmp_path, family, "mlm", 0.45)
    row = bench.ablation_table(tmp_path).splitlines()[-1].split(" | ")
    assert row[0] == "| mlm" and row[3] == "0.450 [0.410, 0.490]" and row[4] == "—"
