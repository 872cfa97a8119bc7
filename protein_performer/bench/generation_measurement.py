"""The rows of the generation benchmark: what `bench.generation` measures and
`bench.generation_report` writes (a module of its own, so the two import it, not each other).
"""

from __future__ import annotations

from dataclasses import dataclass

METHODS: tuple[str, ...] = ("favor-state", "kv-cache", "naive-recompute")


@dataclass(frozen=True)
class Measurement:
    """One row of generation.csv."""

    method: str
    length: int
    status: str  # "ok", or "skipped: ..." for capped naive runs
    ms_per_token: float  # wall clock, mean over all generated tokens
    tail_ms_per_token: float  # wall clock, median over the last `tail_tokens` tokens
    cpu_ms_per_token: float  # process CPU time, mean over all tokens
    tail_cpu_ms_per_token: float  # process CPU time, median over the last `tail_tokens`
    tail_tokens: int
    total_s: float  # wall clock
    peak_rss_mb: float  # the subprocess's peak resident memory
    peak_rss_delta_mb: float  # peak minus resident memory just before generating
    state_mb: float  # decoder state at the end (FAVOR sums or KV cache); 0 for naive
    preset: str
    attention: str
    batch: int
    threads: int
    runs: int = 1  # this row is the least disturbed of `runs` runs (see `run_benchmark`)
