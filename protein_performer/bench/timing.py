"""Worker side of the attention benchmark: time one attention op in this (fresh) process.

Run as `python -m protein_performer.bench.timing '<json list of configs>'`; prints one JSON
line per config. Peak RSS is the process high-water mark (`ru_maxrss`), so the parent gives
each configuration of the full benchmark its own process.

Shape legend: B batch, H heads, L length, D head dim, M random features.
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass

import torch

from protein_performer.bench.ops import build_op as build_named_op
from protein_performer.bench.ops import implementations
from protein_performer.memory import peak_rss_mb


@dataclass(frozen=True)
class Config:
    impl: str
    mode: str  # "bidirectional" | "causal"
    seq_len: int
    batch: int = 1
    heads: int = 8
    head_dim: int = 64
    n_features: int = 256
    reps: int = 5
    threads: int = 2
    device: str = "cpu"
    dtype: str = "float32"


def build_op(cfg: Config) -> Callable[..., torch.Tensor]:
    """`(q_BHLD, k_BHLD, v_BHLD) -> out_BHLD` for one configuration (`bench.ops`)."""
    return build_named_op(cfg.impl, causal=cfg.mode == "causal", heads=cfg.heads,
                          head_dim=cfg.head_dim, n_features=cfg.n_features,
                          device=cfg.device)  # fmt: skip


def impls() -> tuple[str, ...]:
    """The implementations `bench attention` times: ours at fp32, identity, the peers."""
    return implementations(with_bf16_gemm=False)


def synchronize(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def median_ms(fn: Callable[[], object], reps: int, device: str) -> float:
    """Median wall time in ms of `fn()` over `reps` calls after one warm-up, synchronised."""
    fn()  # warm-up (allocator, lazy init, kernel selection)
    synchronize(device)
    times = []
    for _ in range(reps):
        start = time.perf_counter()
        fn()
        synchronize(device)
        times.append((time.perf_counter() - start) * 1e3)
    return statistics.median(times)


def run_config(cfg: Config) -> dict:
    """Median forward (no grad) and forward+backward time of one op, and the peak RSS."""
    torch.set_num_threads(cfg.threads)
    torch.manual_seed(0)
    dtype = getattr(torch, cfg.dtype)
    op = build_op(cfg)
    shape = (cfg.batch, cfg.heads, cfg.seq_len, cfg.head_dim)
    q, k, v = (torch.randn(shape, device=cfg.device, dtype=dtype) for _ in range(3))
    grad_out = torch.randn(shape, device=cfg.device, dtype=dtype)
    # The op counts as causal for SDPA only through the module; identity ignores it.
    with torch.no_grad():
        fwd_ms = median_ms(lambda: op(q, k, v), cfg.reps, cfg.device)
    leaves = [t.clone().requires_grad_() for t in (q, k, v)]

    def fwd_bwd() -> None:
        out = op(*leaves)
        if out.requires_grad:
            out.backward(grad_out)
        for t in leaves:
            t.grad = None

    fwd_bwd_ms = median_ms(fwd_bwd, cfg.reps, cfg.device)
    return {
        **asdict(cfg),
        "fwd_ms": fwd_ms,
        "fwd_bwd_ms": fwd_bwd_ms,
        "peak_rss_mb": peak_rss_mb(),
    }


def paired_ratio(cfg_a: Config, cfg_b: Config, pairs: int) -> dict:
    """Interleaved forward+backward calls of two implementations in one process.

    On a shared CPU the load drifts on a scale of seconds; alternating a, b, a, b, … and taking
    the median of the per-pair time ratios b/a cancels that drift, where two separate runs
    minutes apart cannot. (Peak RSS is not isolated here; the main table has it.)
    """
    torch.set_num_threads(cfg_a.threads)
    torch.manual_seed(0)
    shape = (cfg_a.batch, cfg_a.heads, cfg_a.seq_len, cfg_a.head_dim)
    leaves = [torch.randn(shape).requires_grad_() for _ in range(3)]
    grad_out = torch.randn(shape)
    calls = []
    for cfg in (cfg_a, cfg_b):
        op = build_op(cfg)

        def call(op=op) -> float:
            start = time.perf_counter()
            op(*leaves).backward(grad_out)
            for t in leaves:
                t.grad = None
            return (time.perf_counter() - start) * 1e3

        call()  # warm-up
        calls.append(call)
    times = [(calls[0](), calls[1]()) for _ in range(pairs)]
    return {
        "impl_a": cfg_a.impl,
        "impl_b": cfg_b.impl,
        "mode": cfg_a.mode,
        "seq_len": cfg_a.seq_len,
        "threads": cfg_a.threads,
        "pairs": pairs,
        "a_ms": statistics.median(a for a, _ in times),
        "b_ms": statistics.median(b for _, b in times),
        "ratio_b_over_a": statistics.median(b / a for a, b in times),
    }


def matmul_gflops(threads: int, n: int = 2048, reps: int = 7, device: str = "cpu") -> float:
    """Sustained fp32 GEMM throughput of this machine (n×n @ n×n, median of `reps`)."""
    torch.set_num_threads(threads)
    a, b = (torch.randn(n, n, device=device) for _ in range(2))
    ms = median_ms(lambda: a @ b, reps, device)
    return 2 * n**3 / (ms / 1e3) / 1e9


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    request = json.loads(argv[0])
    if request.get("matmul"):
        gflops = matmul_gflops(
            request["threads"], request.get("n", 2048), device=request["device"]
        )
        print(json.dumps({"gflops": gflops}))
        return 0
    for a, b in request.get("pairs", []):
        print(json.dumps(paired_ratio(Config(**a), Config(**b), request["n_pairs"])), flush=True)
    for item in request.get("configs", []):
        cfg = Config(**item)
        try:
            result = run_config(cfg)
        except (RuntimeError, MemoryError) as err:  # e.g. allocation beyond the RSS cap
            result = {**asdict(cfg), "error": f"{type(err).__name__}: {err}"[:300]}
        print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
