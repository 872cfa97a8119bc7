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


# The layers of README "Layers" and docs/ARCHITECTURE.md, lowest first; a module may import its
# own layer and the ones below. Siblings share a rank.
LAYER_RANK = {
    **dict.fromkeys(
        ("constants", "paths", "memory", "markdown_blocks", "progress", "debug", "errors"), 0
    ),
    **dict.fromkeys(("command_line", "help_text"), 0),
    "data": 1,
    "model": 2,
    **dict.fromkeys(("training", "analysis", "generation"), 3),
    "cli_support": 3.5,  # the inference commands' shared flags, above model, data and io
    "plots": 4,
    "api": 5,
    **dict.fromkeys(("family", "bench", "experiments", "gpu_check", "notebook_check"), 6),
    **dict.fromkeys(("cli", "help_snapshot"), 7),
}
# A layer's command-line entry points sit just above it: they may use `cli_support` once their
# layer is at least as high as the model it loads.
ENTRY_OFFSET = 0.5
# The `analyze` driver draws the figures of plots/ from the analysis results it computes.
FILE_RANK = {
    # These draw their figures through plots/ (the report of `make analyze`).
    "analysis/pipeline.py": LAYER_RANK["plots"],
    "analysis/bpti_report.py": LAYER_RANK["plots"],
    # The family evaluation's report, shared by `protein-performer dms` and `family`.
    "analysis/family_pipeline.py": LAYER_RANK["plots"],
    # A command: its one-line error path is cli_support's.
    "data/msa_cli.py": LAYER_RANK["cli_support"],
}


def _rank(relative: Path) -> float:
    if relative.as_posix() in FILE_RANK:
        return FILE_RANK[relative.as_posix()]
    rank = LAYER_RANK[relative.with_suffix("").parts[0]]
    is_entry = relative.stem == "cli" or relative.stem.endswith("_cli")
    return rank + ENTRY_OFFSET if is_entry and len(relative.parts) > 1 else rank


def _package_imports(path: Path) -> list[tuple[int, str]]:
    """(line, top-level package part) of every import of a protein_performer module."""
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
            if node.module == "protein_performer":
                names = [f"protein_performer.{alias.name}" for alias in node.names]
        else:
            continue
        for name in names:
            parts = name.split(".")
            if parts[0] == "protein_performer" and len(parts) > 1 and parts[1] in LAYER_RANK:
                found.append((node.lineno, parts[1]))
    return found


def test_no_module_imports_a_higher_layer():
    hits = []
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE)
        if relative.name == "__init__.py" and len(relative.parts) == 1:
            continue  # the front door's lazy exports
        own = _rank(relative)
        for line, layer in _package_imports(path):
            if LAYER_RANK[layer] > own:
                hits.append(f"{relative}:{line}: imports {layer}")
    assert not hits, "\n".join(hits)


def test_every_module_has_a_layer():
    tops = {p.relative_to(PACKAGE).with_suffix("").parts[0] for p in PACKAGE.rglob("*.py")}
    assert tops - {"__init__"} <= set(LAYER_RANK)


def test_type_checking_imports_say_why_they_are_not_real_imports():
    """An import under TYPE_CHECKING hides a circle; each one carries a comment naming it."""
    bare = [
        f"{p.relative_to(REPO)}:{n}"
        for p in PACKAGE.rglob("*.py")
        for n, line in enumerate(p.read_text().splitlines(), 1)
        if line.strip().startswith("if TYPE_CHECKING:") and "#" not in line
    ]
    assert not bare, "\n".join(bare)


def test_the_top_level_help_imports_no_torch():
    """`protein-performer --help` only routes: it answers without importing torch or Lightning."""
    import subprocess
    import sys

    code = (
        "import contextlib, io, sys\n"
        "from protein_performer.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    assert main(['--help']) == 0\n"
        "print(sorted(m for m in ('torch', 'lightning', 'datasets') if m in sys.modules))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True,
                          text=True, timeout=120, check=False)  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "[]"
