"""The one definition of a clean error that the bad-input batteries share
(`tests.helpers.clean_error_problem`) refuses each way an error can be unclear."""

from __future__ import annotations

import pytest

from tests.helpers import CommandOutcome, clean_error_problem

LINE = "protein-performer embed: error: --fasta x.fasta: no such file"

# (id, outcome, what the problem starts with; "" for a clean error)
OUTCOMES = [
    ("clean", CommandOutcome(2, LINE + "\n", None), ""),
    ("exception", CommandOutcome(None, "", RuntimeError("boom")), "traceback"),
    ("exit-0", CommandOutcome(0, "", None), "wrong success"),
    ("exit-1", CommandOutcome(1, LINE + "\n", None), "unclear"),
    ("printed-traceback", CommandOutcome(2, "Traceback (most recent call last):\n" + LINE, None),
     "traceback"),
    ("warning-before", CommandOutcome(2, "UserWarning: careful\n" + LINE, None), "unclear"),
    ("no-message", CommandOutcome(2, "", None), "unclear"),
    ("no-error-prefix", CommandOutcome(2, "--fasta x.fasta: no such file", None), "unclear"),
    ("names-another", CommandOutcome(2, LINE.replace("x.fasta", "y.fasta"), None), "unclear"),
]  # fmt: skip


@pytest.mark.parametrize("case", OUTCOMES, ids=[c[0] for c in OUTCOMES])
def test_clean_error_problem(case):
    _, outcome, kind = case
    problem = clean_error_problem(outcome, "x.fasta")
    assert problem.startswith(kind) and bool(problem) == bool(kind), problem
