"""Inference commands never import Lightning or the training layer.

Each command reaches, through its imports (those inside functions included: commands import
their heavy parts lazily), only package modules outside `training/`; and a fresh interpreter
that imports all of them holds no Lightning module in `sys.modules`.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

from protein_performer.cli import COMMANDS

PACKAGE = Path(__file__).resolve().parents[1] / "protein_performer"
INFERENCE_COMMANDS = ("analyze", "embed", "score", "mutations", "dms", "generate")
FORBIDDEN = ("lightning", "pytorch_lightning", "protein_performer.training")


def _module_file(name: str) -> Path | None:
    parts = name.split(".")[1:]
    for candidate in (PACKAGE.joinpath(*parts).with_suffix(".py"),
                      PACKAGE.joinpath(*parts, "__init__.py")):  # fmt: skip
        if candidate.is_file():
            return candidate
    return None


def reachable_modules(root: str) -> list[str]:
    """Package modules `root` imports, at module level or inside functions, transitively."""
    seen, todo = set(), [root]
    while todo:
        name = todo.pop()
        path = _module_file(name)
        if name in seen or path is None:
            continue
        seen.add(name)
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module:
                base = node.module
                todo.append(base)
                todo += [f"{base}.{alias.name}" for alias in node.names]
            elif isinstance(node, ast.Import):
                todo += [alias.name for alias in node.names]
    return sorted(m for m in seen if m.startswith("protein_performer"))


@pytest.mark.parametrize("command", INFERENCE_COMMANDS)
def test_inference_command_reaches_no_lightning_import(command):
    modules = reachable_modules(COMMANDS[command][0])
    assert COMMANDS[command][0] in modules
    reached = [m for m in modules if m.startswith(FORBIDDEN)]
    assert not reached, f"{command} reaches {reached}"


def test_importing_every_inference_command_leaves_lightning_unloaded():
    """One fresh interpreter imports what all the commands reach (none may load Lightning, so
    their union may not either); third-party imports are thereby checked as well."""
    modules = sorted({m for c in INFERENCE_COMMANDS for m in reachable_modules(COMMANDS[c][0])})
    probe = (
        "import importlib, sys\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module(name)\n"
        "    bad = sorted(m for m in sys.modules if m.startswith(('lightning', "
        "'pytorch_lightning')))\n"
        "    if bad:\n"
        "        print(name, bad[0])\n"
        "        break\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=600
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "", f"importing {out.stdout.strip()} loads Lightning"


def test_the_probe_sees_lightning_where_it_is_imported():
    modules = reachable_modules("protein_performer.family.train")
    assert "protein_performer.data.family" in modules
    assert any(m.startswith("protein_performer.training") for m in modules)
