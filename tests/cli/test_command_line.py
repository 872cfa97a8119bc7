"""The one launch and error path (`command_line`): boolean flags, one-line parser errors, and
`run`, which ends a user error in one line with exit status 2."""

from __future__ import annotations

import warnings

import pytest

from protein_performer import command_line
from protein_performer.errors import UserError


def _parser():
    parser = command_line.ArgumentParser(prog="prog")
    parser.add_argument("--force", **command_line.SWITCH, help="replace")
    parser.add_argument("--n", type=int, default=0)
    return parser


@pytest.mark.parametrize(
    ("argv", "expected"),
    [([], False), (["--force"], True), (["--force", "true"], True), (["--force", "false"], False),
     (["--force=false"], False), (["--force", "True"], True), (["--force", "--n", "3"], True)],
    ids=["absent", "alone", "true", "false", "equals-false", "capitalised", "before-a-flag"],
)  # fmt: skip
def test_a_switch_alone_means_true_and_takes_true_or_false(argv, expected):
    assert _parser().parse_args(argv).force is expected


@pytest.mark.parametrize(
    ("argv", "names"),
    [(["--force", "maybe"], "--force"), (["--bogus"], "--bogus"), (["--n", "x"], "--n")],
    ids=["switch-value", "unknown-flag", "bad-int"],
)
def test_parser_errors_are_one_line(argv, names, capsys):
    with pytest.raises(SystemExit) as done:
        _parser().parse_args(argv)
    assert done.value.code == 2
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("prog: error: ") and names in lines[0]


def test_the_help_says_how_booleans_are_written():
    assert command_line.SWITCH_HELP in _parser().format_help()


@pytest.mark.parametrize(
    "error",
    [UserError("--x 3: too big"), ValueError("bad value"), FileNotFoundError("a.fasta: none")],
    ids=["user-error", "value-error", "os-error"],
)
def test_run_ends_a_user_error_in_one_line_with_status_2(error, capsys):
    def body() -> int:
        warnings.warn("held back, then dropped", stacklevel=1)
        raise error

    assert command_line.run("prog", body) == 2
    assert capsys.readouterr().err == f"prog: error: {error}\n"


def _shown(monkeypatch) -> list[str]:
    """The warnings shown (pytest records them itself, so `showwarning` is watched instead)."""
    shown: list[str] = []
    monkeypatch.setattr(warnings, "showwarning", lambda message, *_: shown.append(str(message)))
    return shown


def test_run_shows_held_warnings_after_a_success(monkeypatch, capsys):
    shown = _shown(monkeypatch)

    def body() -> int:
        warnings.warn("shown at the end", stacklevel=1)
        assert shown == []
        print("work")
        return 0

    assert command_line.run("prog", body) == 0
    assert capsys.readouterr().out == "work\n" and shown == ["shown at the end"]


def test_run_drops_held_warnings_after_a_user_error(monkeypatch):
    shown = _shown(monkeypatch)

    def body() -> int:
        warnings.warn("dropped", stacklevel=1)
        raise UserError("bad")

    assert command_line.run("prog", body) == 2
    assert shown == []


def test_after_inputs_checked_only_a_user_error_is_one_line():
    def body() -> int:
        command_line.inputs_checked()
        raise ValueError("a bug in the training loop")

    with pytest.raises(ValueError, match="a bug"):
        command_line.run("prog", body)


def test_after_inputs_checked_a_user_error_still_is_one_line(capsys):
    def body() -> int:
        command_line.inputs_checked()
        raise UserError("--runs-dir: full")

    assert command_line.run("prog", body) == 2
    assert capsys.readouterr().err == "prog: error: --runs-dir: full\n"


def test_inputs_checked_shows_what_was_held_at_once(monkeypatch):
    shown = _shown(monkeypatch)
    seen = []

    def body() -> int:
        warnings.warn("before the check", stacklevel=1)
        command_line.inputs_checked()
        seen.append(list(shown))
        warnings.warn("after the check", stacklevel=1)
        seen.append(list(shown))
        return 0

    assert command_line.run("prog", body) == 0
    assert seen == [["before the check"], ["before the check", "after the check"]]


def test_command_table_aligns_one_line_per_command():
    commands = {"a": ("module_a", "does a"), "long": ("module_long", "does long")}
    table = command_line.command_table("usage: prog <command>", "commands", commands)
    assert table.splitlines() == [
        "usage: prog <command>", "", "commands:", "  a     does a", "  long  does long",
    ]  # fmt: skip


@pytest.mark.parametrize("dispatcher", ["cli", "bench"])
def test_each_dispatcher_lists_all_its_commands(dispatcher, capsys):
    from protein_performer import cli
    from protein_performer.bench import bench_cli

    main, table = {
        "cli": (cli.main, cli.COMMANDS),
        "bench": (bench_cli.main, bench_cli.BENCHMARKS),
    }[dispatcher]
    assert main(["--help"]) == 0
    listed = [line.split()[0] for line in capsys.readouterr().out.splitlines() if line[:2] == "  "]
    assert listed == list(table)
