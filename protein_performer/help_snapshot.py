"""The `--help` of every command, written down once so that `protein-performer <command> --help`
answers at once: the parsers of most commands are built from configs whose modules import torch
(seconds), and a help page needs none of it.

    python -m protein_performer.help_snapshot            # rewrite help_text.py (make help-text)

`tests/cli/test_help.py` fails when a parser changed and the snapshot did not; the dispatcher
answers from the snapshot only for a bare `<command> --help` (with `--config x.yaml --help` the
parser shows that config's values, so it is built for real).
"""

from __future__ import annotations

import contextlib
import importlib
import io
import os
from pathlib import Path

from protein_performer.cli import COMMANDS
from protein_performer.help_text import REPO_ROOT_TOKEN
from protein_performer.paths import REPO_ROOT

# The width the pages are laid out for (argparse reads COLUMNS), inside ruff's 99 columns.
WIDTH = 96
TARGET = Path(__file__).with_name("help_text.py")


def live_help(command: str) -> str:
    """What the command's own parser prints for `--help`, at `WIDTH` columns."""
    module = importlib.import_module(COMMANDS[command][0])
    out = io.StringIO()
    previous = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = str(WIDTH)
    try:
        with contextlib.redirect_stdout(out), contextlib.suppress(SystemExit):
            module.main(["--help"])
    finally:
        if previous is None:
            os.environ.pop("COLUMNS")
        else:
            os.environ["COLUMNS"] = previous
    return out.getvalue()


def render(pages: dict[str, str]) -> str:
    """The source of `help_text.py` holding `pages`."""
    lines = [
        '"""The `--help` page of each command, as its parser prints it (`help_snapshot` writes',
        'this file; do not edit it by hand)."""',
        "",
        "# ruff: noqa: E501",
        "",
        "from __future__ import annotations",
        "",
        "from protein_performer.paths import REPO_ROOT",
        "",
        "# Stands for this checkout's root in the defaults that are paths under it.",
        f'REPO_ROOT_TOKEN = "{REPO_ROOT_TOKEN}"',
        "",
        "",
        "def page(command: str) -> str:",
        '    """The `--help` page of `command`, with this checkout\'s paths."""',
        "    return HELP[command].replace(REPO_ROOT_TOKEN, str(REPO_ROOT))",
        "",
        "",
        "HELP: dict[str, str] = {",
    ]
    for command, page in pages.items():
        page = page.replace(str(REPO_ROOT), REPO_ROOT_TOKEN)
        body = page.replace("\\", "\\\\").replace('"""', '\\"\\"\\"')
        lines.append(f'    "{command}": """\\\n{body}""",')
    lines.append("}")
    return "\n".join(lines) + "\n"


def main() -> int:
    TARGET.write_text(render({command: live_help(command) for command in COMMANDS}))
    print(f"wrote {TARGET}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
