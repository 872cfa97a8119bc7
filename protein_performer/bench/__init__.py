"""Benchmarks: `protein-performer bench attention` (time, memory and approximation error of the
attention kernels) and `protein-performer bench generation` (decoding cost per token)."""
