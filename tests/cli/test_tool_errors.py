"""The `python -m` tools (gpu_check, experiments.*, family.bench, family.ensemble_bench,
notebook_check, training.throughput) and `bench family` end a usage error like every command:
exit status 2 and one stderr line `prog: error: ...` naming the flag at fault."""

from __future__ import annotations

import importlib

import pytest

from tests.helpers import assert_clean_error, run_command

# (id, module with main(argv), argv, what the one line must name)
CASES = [
    ("gpu_check", "protein_performer.gpu_check.gpu_check_cli", ["--bogus-flag"], "--bogus-flag"),
    ("gpu_check-switch", "protein_performer.gpu_check.gpu_check_cli", ["--quick", "maybe"],
     "--quick"),
    ("collect", "protein_performer.experiments.collect", ["--bogus-flag"], "--bogus-flag"),
    ("run", "protein_performer.experiments.run", ["--bogus-flag"], "--bogus-flag"),
    ("run-switch", "protein_performer.experiments.run", ["--dry-run", "maybe"], "--dry-run"),
    ("ship", "protein_performer.experiments.ship", ["--bogus-flag"], "--bogus-flag"),
    ("ship-nothing", "protein_performer.experiments.ship", [], "RUN_DIR"),
    ("timeline", "protein_performer.experiments.timeline", ["runs", "--bogus-flag"],
     "--bogus-flag"),
    ("family-bench", "protein_performer.family.bench", ["--bogus-flag"], "--bogus-flag"),
    ("family-bench-switch", "protein_performer.family.bench", ["--ship", "maybe"], "--ship"),
    ("family-bench-jobs", "protein_performer.family.bench", ["--jobs", "0"], "--jobs"),
    ("family-ensemble-bench-jobs", "protein_performer.family.ensemble_bench", ["--jobs", "0"],
     "--jobs"),
    ("family-ensemble-bench", "protein_performer.family.ensemble_bench", ["--jobs", "two"],
     "--jobs"),
    ("family-ensemble-bench-switch", "protein_performer.family.ensemble_bench",
     ["--collect-only", "maybe"], "--collect-only"),
    ("bench-family-switch", "protein_performer.bench.family_speed", ["--eval", "maybe"],
     "--eval"),
    ("notebook-check", "protein_performer.notebook_check", ["--bogus-flag"], "notebooks"),
    ("notebook-check-switch", "protein_performer.notebook_check", ["x.ipynb", "--in-place",
     "maybe"], "--in-place"),
    ("throughput-switch", "protein_performer.training.throughput", ["--in-process", "maybe"],
     "--in-process"),
]  # fmt: skip


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_tool_usage_errors_are_one_line(case, capsys):
    _, module, argv, names = case
    main = importlib.import_module(module).main
    assert_clean_error(run_command(main, argv, capsys), names)
