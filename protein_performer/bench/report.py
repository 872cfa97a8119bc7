"""Plots and the markdown report of the attention benchmark.

The benchmark targets are evaluated here from the measured rows (never typed in), and each is
printed with its ratio and "met" / "missed".
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

from protein_performer.model.attention_kinds import EXACT_KIND, FAVOR_PLUS_KIND, get_kind

# Matmul FLOPs of FAVOR forward+backward per (batch·head), in units of L·M·D: forward 8 (φ(Q),
# φ(K) projections 2+2, φ(K)ᵀV 2, φ(Q)·KV 2); backward 12 (2 GEMMs for each of the two
# attention products, 1 each for dQ and dK through the projections, W being a fixed buffer).
FAVOR_FWD_BWD_FLOPS_PER_LMD = 20
BI, CAUSAL = "bidirectional", "causal"
# The implementations the speed targets name: FAVOR+, its performer-pytorch peer, exact SDPA.
FAVOR_PLUS = get_kind(FAVOR_PLUS_KIND).label
PEER = get_kind(FAVOR_PLUS_KIND).peer
EXACT = get_kind(EXACT_KIND).label


def plots(rows: Sequence[dict], approx_rows: Sequence[dict], out: Path) -> list[Path]:
    from protein_performer.plots import bench as bench_plots

    figures = []
    if rows:
        for key, label, name in (
            ("fwd_bwd_ms", "forward+backward (ms)", "attention_time.png"),
            ("fwd_ms", "forward, no grad (ms)", "attention_fwd_time.png"),
            ("peak_rss_mb", "peak RSS (MB)", "attention_memory.png"),
        ):
            figures.append(bench_plots.plot_scaling(rows, key, label, out / name))
    if approx_rows:
        figures.append(bench_plots.plot_approx(approx_rows, out / "approx_error.png"))
    return figures


def _get(rows, impl: str, mode: str, n: int, key: str = "fwd_bwd_ms") -> float:
    for r in rows:
        if (r["impl"], r["mode"], int(r["seq_len"])) == (impl, mode, n):
            return float(r[key])
    return math.nan


def _verdict(ok: bool) -> str:
    return "met" if ok else "**missed**"


def _table(rows, mode: str, key: str, lengths, fmt: str = "{:.1f}") -> list[str]:
    impls = [i for i in dict.fromkeys(r["impl"] for r in rows if r["mode"] == mode)]
    lines = ["| L | " + " | ".join(impls) + " |", "|---" * (len(impls) + 1) + "|"]
    for n in lengths:
        cells = [_get(rows, i, mode, n, key) for i in impls]
        text = ["—" if math.isnan(v) else fmt.format(v) for v in cells]
        lines.append(f"| {n} | " + " | ".join(text) + " |")
    return lines


def _speed_targets(rows, gflops: float) -> list[str]:
    out = []
    ours, peer = _get(rows, FAVOR_PLUS, BI, 8192), _get(rows, PEER, BI, 8192)
    if not math.isnan(ours):
        flops = FAVOR_FWD_BWD_FLOPS_PER_LMD * 1 * 8 * 8192 * 256 * 64
        frac = flops / (ours / 1e3) / 1e9 / gflops
        out.append(
            f"- Bidirectional FAVOR+ fwd+bwd at L=8192: {ours:.0f} ms vs peer {peer:.0f} ms = "
            f"**{peer / ours:.2f}×** (target ≥ 2×: {_verdict(peer / ours >= 2)}); "
            f"{flops / 1e9:.1f} GFLOP in {ours:.0f} ms = {flops / ours / 1e6:.1f} GFLOP/s = "
            f"**{100 * frac:.0f} %** of the measured {gflops:.0f} GFLOP/s "
            f"(target ≥ 30 %: {_verdict(frac >= 0.3)})."
        )
    lengths = sorted({int(r["seq_len"]) for r in rows})
    wins = {n: _get(rows, FAVOR_PLUS, BI, n) < _get(rows, EXACT, BI, n) for n in lengths}
    measured = [n for n in lengths if not math.isnan(_get(rows, EXACT, BI, n))]
    if measured:
        from_l = next((n for n in measured if all(wins[m] for m in measured if m >= n)), None)
        out.append(
            f"- Bidirectional crossover with SDPA (fwd+bwd): FAVOR+ faster at every measured "
            f"L ≥ {from_l} (target: crossover at L ≤ 512: "
            f"{_verdict(from_l is not None and from_l <= 512)})."
        )
    causal = [(n, _get(rows, EXACT, CAUSAL, n) / _get(rows, FAVOR_PLUS, CAUSAL, n))
              for n in lengths if n >= 4096]  # fmt: skip
    causal = [(n, s) for n, s in causal if not math.isnan(s)]
    if causal:
        desc = ", ".join(f"L={n}: {s:.2f}×" for n, s in causal)
        out.append(
            f"- Causal FAVOR+ speed-up over causal SDPA (fwd+bwd): {desc} "
            f"(target > 1× at L ≥ 4096: {_verdict(all(s > 1 for _, s in causal))})."
        )
    mem_o = _get(rows, FAVOR_PLUS, CAUSAL, 8192, "peak_rss_mb")
    mem_s = _get(rows, EXACT, CAUSAL, 8192, "peak_rss_mb")
    if not math.isnan(mem_o / mem_s):
        out.append(
            f"- Causal peak RSS at L=8192: {mem_o:.0f} MB vs SDPA {mem_s:.0f} MB = "
            f"**{mem_o / mem_s:.2f}×** (target ≤ 2×: {_verdict(mem_o / mem_s <= 2)})."
        )
    return out


def _approx_targets(approx_rows: Sequence[dict]) -> list[str]:
    err = {(r["impl"], r["features"], int(r["m"]), float(r["logit_std"])): float(r["rel_err"])
           for r in approx_rows}  # fmt: skip
    uniform = {float(r["logit_std"]): float(r["uniform_err"]) for r in approx_rows}
    lines = []
    for impl in ("ours", "favor++"):
        for std in sorted(uniform):
            pairs = [(v, err[("peer", *k[1:])]) for k, v in err.items()
                     if k[0] == impl and k[3] == std and ("peer", *k[1:]) in err]  # fmt: skip
            if pairs:
                wins = sum(o <= p for o, p in pairs)
                worst = max(o / p for o, p in pairs)
                lines.append(
                    f"- {impl} vs peer at logit std {std:g}: error ≤ peer's in "
                    f"{wins}/{len(pairs)} "
                    f"(m, features) cells, worst ratio {worst:.2f} "
                    f"(target: all cells: {_verdict(wins == len(pairs))}); "
                    f"uniform averaging {uniform[std]:.3f}."
                )
    for std in sorted(uniform):
        # performer-pytorch's FastAttention default is orthogonal with chi norms ("orthogonal").
        ms_peer = sorted(k[2] for k in err if k[:2] == ("peer", "orthogonal") and k[3] == std)
        best = {m: min(v for k, v in err.items() if k[0] != "peer" and k[2:] == (m, std))
                for m in ms_peer}  # fmt: skip
        if ms_peer:
            wins = sum(best[m] <= err[("peer", "orthogonal", m, std)] for m in ms_peer)
            lines.append(
                f"- Best of our variants vs the peer's default (orthogonal) at logit std {std:g}: "
                f"≤ in {wins}/{len(ms_peer)} values of m."
            )
    ms = sorted(k[2] for k in err if k[:2] == ("ours", "orthogonal") and k[3] == 0.125)
    if len(ms) >= 2:
        xs = [math.log(m) for m in ms]
        ys = [math.log(err[("ours", "orthogonal", m, 0.125)]) for m in ms]
        mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
        pairs = list(zip(xs, ys, strict=True))
        slope = sum((x - mx) * (y - my) for x, y in pairs) / sum((x - mx) ** 2 for x in xs)
        lines.append(
            f"- Log-log slope of our (orthogonal) error vs m at logit std 0.125: {slope:.2f} "
            f"(1/√m is −0.5: {_verdict(abs(slope + 0.5) <= 0.1)})."
        )
    return lines


def targets(rows: Sequence[dict], approx_rows: Sequence[dict], gflops: float) -> list[str]:
    """Each benchmark target with the measured ratio and a verdict."""
    return _speed_targets(rows, gflops) + (_approx_targets(approx_rows) if approx_rows else [])


def _approx_table(approx_rows: Sequence[dict]) -> list[str]:
    variants = list(dict.fromkeys((r["impl"], r["features"]) for r in approx_rows))
    head = " | ".join(f"{i} {f}" for i, f in variants)
    lines = [f"| logit std | m | {head} | uniform |", "|---" * (len(variants) + 3) + "|"]
    cells = {(r["impl"], r["features"], int(r["m"]), float(r["logit_std"])): r
             for r in approx_rows}  # fmt: skip
    for std in sorted({float(r["logit_std"]) for r in approx_rows}):
        for m in sorted({int(r["m"]) for r in approx_rows}):
            row = [cells.get((i, f, m, std)) for i, f in variants]
            text = ["—" if c is None else f"{float(c['rel_err']):.3f}" for c in row]
            uniform = next(float(c["uniform_err"]) for c in row if c)
            lines.append(f"| {std:g} | {m} | " + " | ".join(text) + f" | {uniform:.3f} |")
    return lines


def _header(machine: dict) -> list[str]:
    gflops = machine.get("matmul_gflops", math.nan)
    timing = machine.get("timing_command")
    return [
        f"Generated by `{machine['command']}` on {machine['date']}"
        + (f"; timings from `{timing}`" if timing else "")
        + f" (torch {machine['torch']}, {machine['threads']} threads, {machine['device']}, "
        f"{machine['dtype']}; {machine['cpu_count']} CPUs visible; 1-min load average "
        f"{machine.get('load_avg_start', math.nan):.1f} at the start of the timings and "
        f"{machine.get('load_avg_end', math.nan):.1f} at the end: the CPUs were shared with "
        "other work, so absolute times are noisy).",
        "",
        "Reproduce with `make bench` (= `protein-performer bench attention`, timings then error "
        "table); a seconds-long smoke version is "
        "`protein-performer bench attention --quick --out /tmp/bench`.",
        "",
        "One attention op, batch 1, 8 heads, head dim 64, m = 256 random features, fp32. Each "
        "configuration runs in a fresh process (peak RSS is that process's high-water mark, "
        "including the Python/torch baseline: see the `identity` column); times are medians "
        "after a warm-up; forward is timed under `torch.no_grad()`.",
        f"Measured fp32 GEMM throughput in the same run: **{gflops:.0f} GFLOP/s** "
        f"({machine.get('matmul_n', 2048)}² matmul, same thread count).",
        f"FLOPs assumed for FAVOR+ forward+backward: {FAVOR_FWD_BWD_FLOPS_PER_LMD}·B·H·L·M·D "
        "(forward 8: two feature projections, φ(K)ᵀV, φ(Q)·(φ(K)ᵀV); backward 12); "
        "exp and elementwise work not counted.",
        "",
    ]


def _extra_run(rows, skipped, machine, lengths) -> list[str]:
    """A second timing run (e.g. another thread count) reported beside the main one."""
    gflops = machine.get("matmul_gflops", math.nan)
    lines = [
        f"## Also: `{machine.get('command')}` ({machine.get('date')})",
        "",
        f"{machine.get('threads')} thread(s); 1-min load average "
        f"{machine.get('load_avg_start', math.nan):.1f} → "
        f"{machine.get('load_avg_end', math.nan):.1f}; "
        f"measured GEMM throughput {gflops:.0f} GFLOP/s with the same thread count.",
        "",
        *_speed_targets(rows, gflops),
        "",
    ]
    for mode in (BI, CAUSAL):
        lines += [f"### {mode.capitalize()}: forward+backward (ms)", ""]
        lines += [*_table(rows, mode, "fwd_bwd_ms", lengths), ""]
    lines += [f"### {CAUSAL.capitalize()}: peak RSS (MB)", ""]
    lines += [*_table(rows, CAUSAL, "peak_rss_mb", lengths, "{:.0f}"), ""]
    if skipped:
        lines += [
            "Skipped: " + "; ".join(f"{i} {m} L={n} ({why})" for i, m, n, why in skipped),
            "",
        ]
    return lines


def _paired(paired: Sequence[dict], gflops: float, gemm_threads: int | None) -> list[str]:
    """`gflops`: GEMM throughput measured at `gemm_threads`; rows at another count get no %."""
    lines = [
        "## Interleaved ratios (the targets' comparisons, robust to load drift)",
        "",
        "Each row: one process, forward+backward calls of a and b alternated; medians of the "
        "per-pair time ratios b/a (> 1 means a is faster).",
        "",
        "| a | b | mode | L | threads | pairs | a (ms) | b (ms) | b/a |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in paired:
        lines.append(
            f"| {r['impl_a']} | {r['impl_b']} | {r['mode']} | {r['seq_len']} | {r['threads']} | "
            f"{r['pairs']} | {float(r['a_ms']):.1f} | {float(r['b_ms']):.1f} | "
            f"**{float(r['ratio_b_over_a']):.2f}** |"
        )
    for r in paired:
        same_threads = gemm_threads is None or int(r["threads"]) == int(gemm_threads)
        if (r["impl_a"], r["impl_b"], r["mode"]) == (FAVOR_PLUS, PEER, BI):
            n = int(r["seq_len"])
            flops = FAVOR_FWD_BWD_FLOPS_PER_LMD * 8 * n * 256 * 64
            achieved = flops / (float(r["a_ms"]) / 1e3) / 1e9
            share = (
                f"**{100 * achieved / gflops:.0f} %** of the {gflops:.0f} GFLOP/s GEMM throughput "
                f"measured at {r['threads']} threads (target ≥ 30 %: "
                f"{_verdict(achieved / gflops >= 0.3)})"
                if same_threads and math.isfinite(gflops)
                else "no GEMM reference at this thread count"
            )
            lines += [
                "",
                f"FAVOR+ at L={n} in the interleaved run: {achieved:.1f} GFLOP/s = {share}.",
            ]
    return [*lines, ""]


def markdown(
    rows, skipped, approx_rows, machine, figures, lengths, extra_runs=(), paired=()
) -> str:
    lines = _header(machine)
    lines += [
        "## Targets",
        "",
        *targets(rows, approx_rows, machine.get("matmul_gflops", math.nan)),
        "",
    ]
    if paired:
        if "paired_matmul_gflops" in machine:
            gemm, gemm_threads = machine["paired_matmul_gflops"], machine.get("paired_threads")
        else:
            gemm, gemm_threads = machine.get("matmul_gflops", math.nan), machine.get("threads")
        lines += _paired(paired, gemm, gemm_threads)
    for mode in (BI, CAUSAL):
        if not any(r["mode"] == mode for r in rows):
            continue
        for key, what, fmt in (
            ("fwd_bwd_ms", "forward+backward (ms)", "{:.1f}"),
            ("fwd_ms", "forward, no grad (ms)", "{:.1f}"),
            ("peak_rss_mb", "peak RSS (MB)", "{:.0f}"),
        ):
            lines += [
                f"## {mode.capitalize()}: {what}",
                "",
                *_table(rows, mode, key, lengths, fmt),
                "",
            ]
    if skipped:
        lines += [
            "## Skipped configurations",
            "",
            "| impl | mode | L | reason |",
            "|---|---|---|---|",
        ]
        lines += [f"| {i} | {m} | {n} | {why} |" for i, m, n, why in skipped] + [""]
    if approx_rows:
        lines += [
            "## Approximation error vs exact softmax attention",
            "",
            "Relative Frobenius error ‖ŷ − y‖/‖y‖; L = 512 (64 with --quick), D = 64, 4 heads, "
            "fp32 estimators against a float64 reference, mean over trials; ours, FAVOR++ and the "
            "peer use the same projection in each trial. `uniform` = averaging V.",
            "",
            *_approx_table(approx_rows),
            "",
        ]
    for extra_rows, extra_skipped, extra_machine in extra_runs:
        if extra_rows:
            lines += _extra_run(extra_rows, extra_skipped, extra_machine, lengths)
    if figures:
        lines += ["## Figures", "", *[f"- `{p}`" for p in figures], ""]
    return "\n".join(lines)
