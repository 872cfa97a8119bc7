"""The jsonargparse parser of the commands built on typed config sections (`train`, `family`):
YAML configs plus dotted flags (`--trainer.max_steps 500`), in the flag style of every command.

- A usage error is one line (`errors.OneLineParserErrors`).
- A boolean flag alone means true; `--flag true|false` (or `--flag=false`) says it outright, so
  `--resume` and `--resume true` are one thing, as `--force` and `--force true` are elsewhere.
- A dotted flag may be written kebab-case: `--eval.n-boot` is `--eval.n_boot`, the spelling
  of `--n-boot` in `dms`. YAML keys stay snake_case, as the dataclass fields are.
- `add_run_arguments`: the flags of a run both commands take (`--config`, `--name`,
  `--runs-dir`, `--seed`, `--model-preset`), and `use_preset`, the preset as `model.*` defaults.
"""

from __future__ import annotations

import re
from typing import Any

from jsonargparse import ActionConfigFile, ArgumentParser

from protein_performer.command_line import SWITCH_HELP
from protein_performer.errors import OneLineParserErrors
from protein_performer.model.config import PRESETS

# `--group.some-name[=value]`: the dotted part is rewritten to snake_case.
_DOTTED_KEBAB = re.compile(r"^(--[A-Za-z_]+\.[A-Za-z0-9_.-]+?)(=.*)?$")

STYLE_HELP = f"{SWITCH_HELP}; a dotted flag may be kebab-case (--eval.n-boot is --eval.n_boot)"


def snake_case_dotted(argv: list[str]) -> list[str]:
    """`--eval.n-boot 4` → `--eval.n_boot 4`; top-level flags and values are left alone."""
    out = []
    for arg in argv:
        match = _DOTTED_KEBAB.match(arg)
        if match and "-" in match.group(1)[2:]:
            arg = (
                match.group(1)[:2] + match.group(1)[2:].replace("-", "_") + (match.group(2) or "")
            )
        out.append(arg)
    return out


class ConfigParser(OneLineParserErrors, ArgumentParser):
    """jsonargparse's parser with one-line usage errors, bare boolean flags and kebab-case
    dotted flags (see the module docstring)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("epilog", STYLE_HELP)
        super().__init__(*args, **kwargs)

    def _switches_alone_mean_true(self) -> None:
        for action in self._actions:
            if getattr(action, "_typehint", None) is bool and action.nargs is None:
                action.nargs, action.const = "?", True

    def parse_args(self, args: list[str] | None = None, *rest: Any, **kwargs: Any) -> Any:
        self._switches_alone_mean_true()
        argv = None if args is None else snake_case_dotted(list(args))
        return super().parse_args(argv, *rest, **kwargs)


def add_run_arguments(
    parser: ArgumentParser, *, default_name: str, config_help: str, default_preset: str | None
) -> None:
    """The flags that say which run this is: its config file, its name and parent directory,
    its seed and the preset its `model.*` starts from (`default_preset`; None: no preset)."""
    parser.add_argument("--config", action=ActionConfigFile, help=config_help)
    parser.add_argument("--name", type=str, default=default_name, help="run name: runs/<name>/")
    parser.add_argument(
        "--runs-dir", "--runs_dir", dest="runs_dir", type=str, default="runs",
        help="parent of run directories",
    )  # fmt: skip
    parser.add_argument(
        "--seed", type=int, default=0, help="seed_everything (init, data, dropout)"
    )
    parser.add_argument(
        "--model-preset", "--model_preset", dest="model_preset",
        type=str if default_preset is not None else str | None, default=default_preset,
        help=f"start model.* from a preset ({', '.join(sorted(PRESETS))}); model.* overrides",
    )  # fmt: skip


def use_preset(parser: ArgumentParser, preset_name: str | None) -> None:
    """Make preset `preset_name` the `model.*` defaults (None: leave them); a name that is not
    a preset is a usage error."""
    if preset_name is None:
        return
    if preset_name not in PRESETS:
        parser.error(f"--model-preset {preset_name!r} is not one of {sorted(PRESETS)}")
    parser.set_defaults({f"model.{k}": v for k, v in PRESETS[preset_name].to_dict().items()})
