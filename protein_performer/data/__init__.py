"""Data layer: FASTA streaming, tokenisation, preparation into Arrow shards, batching."""
