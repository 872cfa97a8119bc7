"""Static checks of the package layout: which layer imports which, one home per helper, and no
development-process words in code or docs."""

from __future__ import annotations

import ast
import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PACKAGE = REPO / "protein_performer"


def imported_modules(path: Path) -> set[str]:
    """Every module a file imports, at module level or inside functions."""
    tree = ast.parse(path.read_text())
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_inference_code_never_imports_the_training_layer():
    inference = [*PACKAGE.glob("analysis/*.py"), *PACKAGE.glob("generation/*.py"),
                 PACKAGE / "experiments" / "ship.py", PACKAGE / "api.py",
                 PACKAGE / "cli_support.py", *PACKAGE.glob("model/**/*.py")]  # fmt: skip
    offenders = {
        str(p.relative_to(REPO)): sorted(m for m in imported_modules(p) if ".training" in m)
        for p in inference
    }
    assert not {k: v for k, v in offenders.items() if v}


def test_bench_generation_and_its_report_do_not_import_each_other():
    report = imported_modules(PACKAGE / "bench" / "generation_report.py")
    assert "protein_performer.bench.generation" not in report


def test_peak_rss_is_measured_in_one_place():
    users = [p.relative_to(PACKAGE) for p in PACKAGE.rglob("*.py") if "ru_maxrss" in
             p.read_text().replace("(`ru_maxrss`)", "")]  # fmt: skip
    assert users == [Path("memory.py")]


def test_no_development_process_words_in_code_or_docs():
    pattern = re.compile(r"\bissue[- ]?\d|\bSTYLE habit|\btargets of (the )?issue|this session",
                         re.IGNORECASE)  # fmt: skip
    files = [*PACKAGE.rglob("*.py"), *REPO.glob("docs/*.md"), REPO / "README.md",
             *REPO.glob("configs/**/*.yaml"), REPO / "Makefile"]  # fmt: skip
    hits = [
        f"{p.relative_to(REPO)}:{n}: {line.strip()}"
        for p in files
        for n, line in enumerate(p.read_text().splitlines(), 1)
        if pattern.search(line)
    ]
    assert not hits, "\n".join(hits)


def test_attention_kind_names_appear_only_in_their_registry():
    """The tools derive kinds from `model.attention_kinds` (spec properties, the registry and
    its named roles), so no other module spells a kind's name or benchmark label as a string
    literal. Docstrings and comments may name kinds (prose); tests and configs/ may too."""
    from protein_performer.model.attention_kinds import specs

    names = {spec.name for spec in specs()} | {spec.label for spec in specs()}
    home = PACKAGE / "model" / "attention_kinds"
    hits = [
        f"{p.relative_to(REPO)}:{node.lineno}: {node.value!r}"
        for p in PACKAGE.rglob("*.py")
        if home not in p.parents
        for node in ast.walk(ast.parse(p.read_text()))
        if isinstance(node, ast.Constant) and node.value in names
    ]
    assert not hits, "\n".join(hits)
