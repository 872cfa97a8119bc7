"""The parser of `train` and `family`: the flag style of every command over config sections."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from protein_performer.training.config_parser import ConfigParser, snake_case_dotted


@dataclass
class Section:
    enable: bool = False
    n_boot: int = 1000
    score_column: str = "DMS_score"


def _parser() -> ConfigParser:
    parser = ConfigParser(prog="prog")
    parser.add_argument("--resume", type=bool, default=False)
    parser.add_argument("--runs-dir", type=str, default="runs")
    parser.add_class_arguments(Section, "eval", instantiate=False)
    return parser


@pytest.mark.parametrize(
    ("argv", "expected"),
    [(["--eval.n-boot", "5"], ["--eval.n_boot", "5"]),
     (["--eval.score-column=x-y"], ["--eval.score_column=x-y"]),
     (["--runs-dir", "a-b"], ["--runs-dir", "a-b"]),
     (["--eval.n_boot", "5"], ["--eval.n_boot", "5"]),
     (["--data.fasta", "my-file.fa"], ["--data.fasta", "my-file.fa"])],
    ids=["kebab", "kebab-equals", "top-level-untouched", "snake-untouched", "value-untouched"],
)  # fmt: skip
def test_dotted_flags_may_be_kebab_case(argv, expected):
    assert snake_case_dotted(argv) == expected


@pytest.mark.parametrize(
    ("argv", "resume", "enable"),
    [([], False, False), (["--resume"], True, False), (["--resume", "false"], False, False),
     (["--eval.enable"], False, True), (["--eval.enable", "false", "--resume"], True, False)],
    ids=["absent", "alone", "false", "dotted-alone", "dotted-false"],
)  # fmt: skip
def test_a_boolean_alone_means_true(argv, resume, enable):
    cfg = _parser().parse_args(argv)
    assert (cfg.resume, cfg.eval.enable) == (resume, enable)


def test_kebab_case_reaches_the_field():
    cfg = _parser().parse_args(["--eval.n-boot", "7", "--eval.score-column", "CRIPT"])
    assert (cfg.eval.n_boot, cfg.eval.score_column) == (7, "CRIPT")


@pytest.mark.parametrize("argv", [["--eval.bogus", "1"], ["--resume", "maybe"]],
                         ids=["unknown", "not-a-boolean"])  # fmt: skip
def test_usage_errors_are_one_line(argv, capsys):
    with pytest.raises(SystemExit) as done:
        _parser().parse_args(argv)
    assert done.value.code == 2
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("prog: error: ")
