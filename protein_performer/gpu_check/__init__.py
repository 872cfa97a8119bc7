"""`make gpu-check`: one command that measures the GPU path the first time a GPU is lent.

`python -m protein_performer.gpu_check` runs five stages, each in its own subprocess under its
own time budget (a fraction of `--total-s`, 8 minutes by default), and writes each stage's rows
to `reports/gpu/<stage>.json` as they come, so a killed run still leaves JSON:

- `env`: device, versions, optional packages, measured dense bf16/fp32 GEMM throughput;
- `correctness`: FAVOR (softmax, ReLU; bidirectional, causal; fp32, bf16 autocast safe path,
  bf16 GEMMs), exact attention and the recurrent decoder against the float64 CPU reference,
  and a large-norm NaN/inf check under bf16 autocast;
- `attention`: forward and forward+backward time and peak memory from L = 1k to 64k;
- `throughput`: training tokens/s, MFU and peak memory of the paper's two protein models;
- `train`: a two-minute real training run with its loss curve.

`--device cpu --quick` runs all of it in seconds (the test suite does), so the script is known
to work before it ever meets a GPU. docs/gpu.md says what each number means.
"""
