"""The two-family ensemble benchmark (`family.ensemble_bench`): its commands say what its rows
claim, and its table reads each row from the run that scored it."""

from __future__ import annotations

import json

import pytest
import yaml

from protein_performer.analysis import dms_cli
from protein_performer.family import ensemble_bench as bench
from protein_performer.family import family_cli


@pytest.mark.parametrize("family", list(bench.FAMILIES))
def test_dms_flags_score_what_the_family_config_evaluates(family):
    config = yaml.safe_load(open(bench.FAMILIES[family]))
    args = dms_cli.build_parser().parse_args(
        ["--checkpoint", "m.ckpt", *bench.dms_inputs(bench.FAMILIES[family])]
    )
    assert str(args.msa) == config["data"]["msa"]
    for key, value in config["eval"].items():
        parsed = getattr(args, key)
        assert (str(parsed) if hasattr(parsed, "suffix") else parsed) == value, key


@pytest.mark.parametrize("member", list(bench.MEMBERS))
def test_member_commands_train_what_their_names_say(member, tmp_path):
    command = bench.member_command("pdz", member, tmp_path)
    _, cfg = family_cli.parse(command[command.index("family") + 1 :])
    width, direction, seed = member.split("_")
    assert cfg.model.d_model == int(width[1:].removesuffix("drop"))
    dropout = width.endswith("drop")
    assert (cfg.model.dropout, cfg.trainer.max_steps) == ((0.2, 1500) if dropout else (0.0, 500))
    assert cfg.model.d_ff == 4 * cfg.model.d_model
    assert cfg.data.direction == {"fwd": "forward", "rev": "reverse"}[direction]
    assert cfg.seed == int(seed[1:])
    assert cfg.name == f"fe_pdz_{member}" and cfg.eval.potts_iterations == 0
    assert cfg.data.msa == "data/families/PF00595/PF00595_mgap6.fasta.gz"


def test_every_ensemble_is_made_of_members_and_the_fours_hold_every_member():
    for _, members in bench.ENSEMBLES.values():
        assert set(members) <= set(bench.MEMBERS)
    assert {m for four in bench.FOURS for m in bench.ENSEMBLES[four][1]} == set(bench.MEMBERS)


def _long(p_l: float, p_l5: float) -> dict:
    return {"long": {"P@L": p_l, "P@L/2": 0.0, "P@L/5": p_l5, "random": 0.1}}


def _rho(rho: float, minus_potts: float | None = None) -> dict:
    row = {"rho": rho, "low": rho - 0.04, "high": rho + 0.04, "n": 1425}
    if minus_potts is not None:
        row |= {"minus_potts": minus_potts, "minus_potts_low": minus_potts - 0.03,
                "minus_potts_high": minus_potts + 0.03}  # fmt: skip
    return row


def _write_runs(runs, family, ensemble, value):
    """A `dms` evaluation of `ensemble` whose every figure encodes `value` and the row."""
    members = bench.ENSEMBLES[ensemble][1]
    names = [f"{bench.run_name(family, m)}/checkpoints/best" for m in members]
    spearman = {"PSSM (same weighted rows)": _rho(0.43),
                "Potts model (same weighted rows)": _rho(0.54)}  # fmt: skip
    contacts = {"potts": {"4.5": _long(0.62, 0.875), "8": _long(0.377, 0.8)}}
    for i, name in enumerate(names):
        spearman[f"{name} causal-llr"] = _rho(value + i / 100, value + i / 100 - 0.54)
        spearman[f"{name} causal-llr + Potts model (product of experts)"] = _rho(0.9, 0.3)
        for readout in bench.READOUTS:
            contacts[f"{name} {readout}"] = {"4.5": _long(value + i / 100, 0.5),
                                             "8": _long(value / 2 + i / 100, 0.7)}  # fmt: skip
    spearman["ensemble of 4 (mean of each model's first score)"] = _rho(value + 0.05, 0.05)
    for readout in bench.READOUTS:
        contacts[f"ensemble {readout}"] = {"4.5": _long(value + 0.05, 0.6), "8": _long(0.3, 0.9)}
    out = runs / f"{bench.run_name(family, ensemble)}_dms"
    out.mkdir(parents=True)
    data = {"ensemble": dict.fromkeys(names, "x.ckpt"), "spearman": spearman,
            "contacts": contacts}  # fmt: skip
    (out / "evaluation.json").write_text(json.dumps(data))
    for member in members:
        run = runs / bench.run_name(family, member) / "family"
        run.mkdir(parents=True, exist_ok=True)
        (run / "evaluation.json").write_text(json.dumps({"train_seconds": 60.0}))


def test_table_reads_members_from_the_fours_and_ensembles_from_their_own_runs(tmp_path):
    for family in bench.FAMILIES:
        _write_runs(tmp_path, family, "d64_four", 0.30)
        _write_runs(tmp_path, family, "d128_four", 0.40)
        _write_runs(tmp_path, family, "d64drop_four", 0.50)
    table = bench.ensemble_table(tmp_path)
    rows = {line.split(" | ")[0].lstrip("| "): line.split(" | ") for line in table.splitlines()}
    # d64_rev_s0 is the second model of d64_four: ρ and PF00595 P@L 0.31, 5PTI (Cβ 8 Å) 0.16.
    assert rows["d64_rev_s0"][2] == "0.310 [0.270, 0.350]"
    assert rows["d64_rev_s0"][3] == "-0.230 [-0.260, -0.200]"
    assert rows["d64_rev_s0"][4] == "0.310 / 0.500" and rows["d64_rev_s0"][6] == "0.160 / 0.700"
    assert rows["d128_rev_s1"][2] == "0.430 [0.390, 0.470]"
    assert rows["d64drop_fwd_s1"][2] == "0.520 [0.480, 0.560]"
    assert rows["d128_four"][2] == "0.450 [0.410, 0.490]" and rows["d128_four"][4] == (
        "0.450 / 0.600"
    )
    # The mean of the two families' Jacobian P@L: (0.31 + 0.16) / 2.
    assert rows["d64_rev_s0"][8] == "0.235"
    # Each model trained a minute on each family: four models, two families.
    assert rows["d128_four"][-1].rstrip(" |") == "8.0"
    assert rows["Potts"][2] == "0.540 [0.500, 0.580]" and rows["Potts"][4] == "0.620 / 0.875"
    assert rows["Potts"][6] == "0.377 / 0.800" and rows["Potts"][8] == "0.498"
    # Pairs have no run here, so no row, rather than a row from another ensemble's run.
    assert "d64_both_s0" not in rows and "d128_both_s1" not in rows
