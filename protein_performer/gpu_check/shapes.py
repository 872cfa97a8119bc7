"""Problem sizes of every stage, full (one H200 within the budget) and quick (CPU, seconds).

Attention shapes follow the CPU benchmark (`bench.timing.Config`): batch 1, 8 heads of 64,
m = 256 random features.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class AttentionShape:
    batch: int
    heads: int
    head_dim: int
    n_features: int


FULL = AttentionShape(batch=1, heads=8, head_dim=64, n_features=256)
QUICK = AttentionShape(batch=1, heads=2, head_dim=16, n_features=32)

CORRECTNESS_LENGTHS = {False: (1024, 8192), True: (64,)}  # keyed by quick
DECODER_LENGTHS = {False: 256, True: 12}
BENCH_LENGTHS = {False: (1024, 2048, 4096, 8192, 16384, 32768, 65536), True: (32, 64)}

# (preset, length, batch) of the training-throughput stage.
THROUGHPUT = {
    False: (("paper_protein_l36_d512", 1024, 16), ("paper_concat_l6_d512", 8192, 2)),
    True: (("tiny_l2_d64", 32, 2), ("tiny_l2_d64", 64, 1)),
}

# (preset, crop length, batch) of the two-minute training run.
TRAIN_RUN = {False: ("paper_protein_l36_d512", 512, 64), True: ("tiny_l2_d64", 64, 4)}


def attention_shape(quick: bool) -> AttentionShape:
    return QUICK if quick else FULL
