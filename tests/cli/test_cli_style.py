"""One CLI style across the inference and benchmark commands."""

from __future__ import annotations

import importlib

import pytest

from protein_performer import __version__
from protein_performer.cli import main as dispatch

PARSERS = {
    "analyze": "protein_performer.analysis.analyze_cli",
    "embed": "protein_performer.analysis.embed_cli",
    "mutations": "protein_performer.analysis.mutations_cli",
    "generate": "protein_performer.generation.generate_cli",
    "score": "protein_performer.generation.score_cli",
}


def _options(command: str) -> set[str]:
    parser = importlib.import_module(PARSERS[command]).build_parser()
    return {s for action in parser._actions for s in action.option_strings}


@pytest.mark.parametrize("command", sorted(PARSERS))
def test_flags_are_kebab_case_and_shared_flags_are_spelled_alike(command):
    options = _options(command)
    assert not [o for o in options if "_" in o]
    assert "--checkpoint" in options
    if command != "analyze":  # analyze reads only the packaged reference data
        assert "--unknown" in options
    if command not in ("generate", "analyze"):
        assert "--fasta" in options  # the FASTA is given the same way everywhere
    assert "--out" in options


def test_bench_commands_spell_their_outputs_alike():
    import contextlib
    import io

    from protein_performer.bench import attention, generation

    for module in (attention, generation):
        text = io.StringIO()
        with contextlib.redirect_stdout(text), contextlib.suppress(SystemExit):
            module.main(["--help"])
        assert "--out " in text.getvalue() and "--docs " in text.getvalue()
        assert "--out-dir" not in text.getvalue() and "--doc " not in text.getvalue()


def test_version(capsys):
    assert dispatch(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"protein-performer {__version__}"


def test_invalid_letter_hint_names_the_cli_flag():
    from protein_performer.data.tokenizer import Alphabet, InvalidResidueError

    with pytest.raises(InvalidResidueError) as error:
        Alphabet().encode("MK#")
    assert "--unknown x" in str(error.value) and "unknown='x'" not in str(error.value)


def test_inference_never_imports_the_training_layer():
    import subprocess
    import sys

    probe = (
        "import sys, pkgutil, importlib\n"
        "import protein_performer.analysis as a, protein_performer.generation as g\n"
        "for pkg in (a, g):\n"
        "    for m in pkgutil.iter_modules(pkg.__path__):\n"
        "        importlib.import_module(pkg.__name__ + '.' + m.name)\n"
        "import protein_performer.api, protein_performer.cli_support, protein_performer.model.io\n"
        "layers = ('protein_performer.training', 'lightning')\n"
        "bad = [m for m in sys.modules if m.startswith(layers)]\n"
        "print(bad)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"
