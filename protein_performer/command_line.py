"""How every command starts and ends: its parser, its boolean flags and its one error path.

- `ArgumentParser`: argparse with one-line usage errors (`errors.OneLineParserErrors`).
- `SWITCH`: the keywords of a boolean flag; alone it means true, `--flag true|false` says it
  outright (the style of the config-section commands too, see `training.config_parser`).
- `run`: a command's body, with a user error reported as `prog: error: message`, one line on
  stderr, exit status 2, and the warnings held back until the input is checked.
- `command_table`: the usage page of a command that dispatches to others (`protein-performer`,
  `protein-performer bench`).

It sits below every layer, so the commands of `data/` (prepare, msa) end the same way as the
inference, training and family commands.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import warnings
from collections.abc import Callable, Mapping

from protein_performer.debug import DEBUG_ENV
from protein_performer.errors import OneLineParserErrors, UserError

SWITCH_HELP = "booleans: a flag alone means true; --flag true|false says it outright"


class ArgumentParser(OneLineParserErrors, argparse.ArgumentParser):
    """argparse with one-line usage errors and the boolean style in its epilog."""

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("epilog", SWITCH_HELP)
        super().__init__(*args, **kwargs)


def command_table(usage: str, heading: str, commands: Mapping[str, tuple[str, str]]) -> str:
    """`usage`, then under `heading` one line per command, its name and its one-line help;
    `commands` maps a name to (module with main(argv), one-line help)."""
    width = max(map(len, commands))
    lines = [usage, "", f"{heading}:"]
    lines += [f"  {name:<{width}}  {help_}" for name, (_, help_) in commands.items()]
    return "\n".join(lines)


def parse_bool(text: str) -> bool:
    value = {"true": True, "false": False}.get(text.lower())
    if value is None:
        raise argparse.ArgumentTypeError(f"expected true or false, got {text!r}")
    return value


# The keywords of a boolean flag, false unless given: `--force`, `--force true`, `--force false`.
SWITCH = {"nargs": "?", "const": True, "default": False, "type": parse_bool,
          "metavar": "{true,false}"}  # fmt: skip


# Exceptions that mean bad input, not a bug, while a command checks its input: `UserError` and
# every layer's format error (FastaFormatError, CheckpointError, InvalidResidueError, ... are
# ValueErrors), and a file that cannot be read or written.
USER_ERRORS: tuple[type[BaseException], ...] = (ValueError, OSError)


# Loggers whose records (e.g. Lightning's "GPU available: ...") are held with the warnings.
_HELD_LOGGERS = ("lightning.pytorch.utilities.rank_zero", "lightning.fabric.utilities.rank_zero")


class HeldOutput:
    """Python warnings and Lightning's start-up log lines, held back while a command checks its
    input: `replay()` shows them once it got past that point; after a user error they are
    dropped, so the one-line error stands alone (`PROTEIN_PERFORMER_DEBUG=1` shows them)."""

    def __init__(self) -> None:
        self._warnings = warnings.catch_warnings(record=True)
        self._records: list[logging.LogRecord] = []
        self._handler = _ListHandler(self._records)
        self._caught: list[warnings.WarningMessage] = []
        self._holding = False
        self.checked = False  # set by `inputs_checked()`: the input passed every check

    def __enter__(self) -> HeldOutput:
        self._holding = True
        self._caught = self._warnings.__enter__()  # keeps the filters in force (ignored stay so)
        for name in _HELD_LOGGERS:
            logger = logging.getLogger(name)
            logger.addHandler(self._handler)
            logger.propagate = False
        return self

    def __exit__(self, *exc) -> None:
        if not self._holding:
            return
        self._holding = False
        self._warnings.__exit__(*exc)
        for name in _HELD_LOGGERS:
            logger = logging.getLogger(name)
            logger.removeHandler(self._handler)
            logger.propagate = True

    def replay(self) -> None:
        """Show what was held, in order, as it would have been shown."""
        for record in self._records:
            logging.getLogger(record.name).handle(record)
        for w in self._caught:
            warnings.showwarning(w.message, w.category, w.filename, w.lineno, w.file, w.line)
        self._records.clear()
        self._caught.clear()

    def release(self) -> None:
        """Stop holding and show what was held; leaving the `with` block later does nothing."""
        self.__exit__(None, None, None)
        self.replay()


class _ListHandler(logging.Handler):
    def __init__(self, records: list[logging.LogRecord]) -> None:
        super().__init__()
        self.records = records

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def one_line(error: BaseException) -> str:
    return " ".join(str(error).split("\n")[0].split()) or type(error).__name__


def run(prog: str, body: Callable[[], int]) -> int:
    """Run a command's body; a user error ends as one line `prog: error: message` on stderr and
    exit status 2, with no warning printed before it. Warnings of a successful run are shown
    when it ends, or as they come once the body calls `inputs_checked()`.
    `PROTEIN_PERFORMER_DEBUG=1` holds nothing back and lets the error raise, traceback and all."""
    if os.environ.get(DEBUG_ENV) == "1":
        return body()
    held = HeldOutput()
    _HOLDING.append(held)
    try:
        with held:
            try:
                code = body()
            except USER_ERRORS as error:
                if held.checked and not isinstance(error, UserError):
                    raise  # past the input checks, anything but a UserError is a bug
                print(f"{prog}: error: {one_line(error)}", file=sys.stderr)
                return 2
    finally:
        _HOLDING.remove(held)
    held.replay()
    return code


# The HeldOutput of each `run` in progress, innermost last.
_HOLDING: list[HeldOutput] = []


def inputs_checked() -> None:
    """Said by a long command (train) once its input has passed every check: what was
    held is shown now, the rest of the run prints as it goes, and from then on only a
    `UserError` is reported in one line (anything else is a bug and raises). Outside `run`, a
    no-op."""
    if _HOLDING:
        _HOLDING[-1].checked = True
    show_held_output()


def show_held_output() -> None:
    """What was held is shown now and the rest of the run prints as it goes; errors are still
    reported as before (`prepare`, whose FASTA errors come while it reads). Outside `run`, a
    no-op."""
    if _HOLDING:
        _HOLDING[-1].release()
