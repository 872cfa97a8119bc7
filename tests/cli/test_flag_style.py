"""One flag style across the commands: booleans in one form, and one name per setting."""

from __future__ import annotations

import importlib

import pytest

from protein_performer.cli import COMMANDS
from protein_performer.command_line import parse_bool

# Commands built on argparse (`build_parser()`), and the two benchmarks under `bench`.
ARGPARSE = {c: m for c, (m, _) in COMMANDS.items() if c not in ("train", "family", "bench")}


def _argparse_parser(command: str):
    if command == "bench attention":
        from protein_performer.bench import attention

        return attention._parser()
    if command == "bench generation":
        from protein_performer.bench import generation

        return generation.build_parser()
    return importlib.import_module(ARGPARSE[command]).build_parser()


# What a config command needs to parse at all (family: its alignment).
REQUIRED = {"train": [], "family": ["--data.msa", "family.a2m"]}


def _config_parser(command: str):
    module = importlib.import_module(COMMANDS[command][0])
    parser, _ = module.parse(REQUIRED[command])
    return parser


@pytest.mark.parametrize("command", [*sorted(ARGPARSE), "bench attention", "bench generation"])
def test_argparse_booleans_alone_mean_true_and_take_true_or_false(command):
    parser = _argparse_parser(command)
    flags = [a for a in parser._actions if a.option_strings and a.dest != "help"]
    assert not [a.option_strings for a in flags if a.nargs == 0], "store_true-style flag"
    for action in flags:
        if action.type is parse_bool:
            assert (action.nargs, action.const, action.default) == ("?", True, False)


@pytest.mark.parametrize("command", ["train", "family"])
def test_config_booleans_alone_mean_true(command):
    parser = _config_parser(command)
    booleans = [a for a in parser._actions if getattr(a, "_typehint", None) is bool]
    assert booleans and all(a.nargs == "?" and a.const is True for a in booleans)


# (id, command, argv, dotted key of the parsed value, expected value)
ALIASES = [
    ("train-runs-dir", "train", ["--runs-dir", "r"], "runs_dir", "r"),
    ("train-runs_dir", "train", ["--runs_dir", "r"], "runs_dir", "r"),
    ("train-kebab-dotted", "train", ["--trainer.max-steps", "5"], "trainer.max_steps", 5),
    ("train-resume-alone", "train", ["--resume"], "resume", True),
    ("family-runs-dir", "family", ["--runs-dir", "r"], "runs_dir", "r"),
    ("family-runs_dir", "family", ["--runs_dir", "r"], "runs_dir", "r"),
    ("family-init_from", "family", ["--init_from", "a.ckpt"], "init_from", "a.ckpt"),
    ("family-n-boot", "family", ["--eval.n-boot", "5"], "eval.n_boot", 5),
    ("family-score-column", "family", ["--eval.score-column", "C"], "eval.score_column", "C"),
    ("family-methods", "family", ["--eval.methods", "[pll]"], "eval.methods", ("pll",)),
    ("family-overwrite-alone", "family", ["--overwrite"], "overwrite", True),
    ("family-resume-false", "family", ["--resume", "false"], "resume", False),
]


@pytest.mark.parametrize("case", ALIASES, ids=[c[0] for c in ALIASES])
def test_config_commands_take_every_spelling(case):
    _, command, argv, key, expected = case
    _, cfg = importlib.import_module(COMMANDS[command][0]).parse([*REQUIRED[command], *argv])
    assert cfg[key] == expected


DMS_REQUIRED = ["--checkpoint", "c.ckpt", "--scan", "s.csv", "--wild-type", "wt.fasta"]


@pytest.mark.parametrize(
    ("argv", "key", "expected"),
    [(["--score-column", "C"], "score_column", "C"), (["--score", "C"], "score_column", "C"),
     (["--score-column", "C", "--n-boot", "5"], "n_boot", 5),
     (["--score", "C", "--methods", "pll", "wt-marginals"], "methods", ["pll", "wt-marginals"]),
     (["--score", "C", "--method", "pll", "--method", "wt-marginals"], "methods",
      ["pll", "wt-marginals"]),
     (["--score", "C", "--methods", "pll", "--method", "wt-marginals"], "methods",
      ["pll", "wt-marginals"]),
     (["--score", "C"], "methods", None)],
    ids=["score-column", "score-old-spelling", "n-boot", "methods", "method-old-spelling",
         "methods-and-method", "methods-default"],
)  # fmt: skip
def test_dms_spells_the_family_eval_flags_alike(argv, key, expected):
    from protein_performer.analysis.dms_cli import build_parser

    assert getattr(build_parser().parse_args([*DMS_REQUIRED, *argv]), key) == expected


def test_every_command_module_is_named_for_its_command():
    assert {c: m.rsplit(".", 1)[1] for c, (m, _) in COMMANDS.items()} == {
        c: f"{c}_cli" for c in COMMANDS
    }
