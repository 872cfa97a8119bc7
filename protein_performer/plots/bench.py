"""Figures of the benchmarks: attention time and memory against L (log-log, like Choromanski
et al. 2021 Fig. 3), approximation error against m, and generation cost per token against L.

Inputs are the row dicts of `reports/bench/attention.csv` and `approx.csv`, and the generation
benchmark's measurements (`bench.generation.Measurement`, read by attribute).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from protein_performer.plots.style import PALETTE, figure, save

MODES = ("bidirectional", "causal")
# Log axes need positive values; a peak-RSS growth below this many MB is drawn at it.
MB_FLOOR = 0.01


def _series(rows: Sequence[dict], mode: str, key: str) -> dict[str, tuple[list, list]]:
    out: dict[str, tuple[list, list]] = {}
    for r in sorted(rows, key=lambda r: int(r["seq_len"])):
        if r["mode"] == mode:
            xs, ys = out.setdefault(r["impl"], ([], []))
            xs.append(int(r["seq_len"]))
            ys.append(float(r[key]))
    return out


def plot_scaling(rows: Sequence[dict], key: str, ylabel: str, path: str | Path) -> Path:
    """One panel per mode: `key` (e.g. fwd_bwd_ms, peak_rss_mb) against L on log-log axes."""
    fig, axes = figure(10.0, 4.0, ncols=2, sharey=True)
    impls = sorted({r["impl"] for r in rows})
    colour = {impl: PALETTE[i % len(PALETTE)] for i, impl in enumerate(impls)}
    for ax, mode in zip(axes, MODES, strict=True):
        for impl, (xs, ys) in _series(rows, mode, key).items():
            style = "--" if impl.startswith("peer") else ":" if impl == "identity" else "-"
            ax.plot(xs, ys, style, marker="o", ms=3, color=colour[impl], label=impl)
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.set_xlabel("sequence length L")
        ax.set_title(mode)
        ax.grid(True, which="major", alpha=0.3)
    axes[0].set_ylabel(ylabel)
    # One legend under both panels, so it never hides a curve.
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="upper center", bbox_to_anchor=(0.5, 0.0), ncol=len(labels))
    return save(fig, path)


def plot_approx(rows: Sequence[dict], path: str | Path) -> Path:
    """Relative error against m per logit std: ours vs peer, orthogonal vs iid, uniform line."""
    stds = sorted({float(r["logit_std"]) for r in rows})
    fig, axes = figure(4.0 * len(stds), 3.6, ncols=len(stds), squeeze=False)
    variants = sorted({(r["impl"], r["features"]) for r in rows})
    for ax, std in zip(axes[0], stds, strict=True):
        sub = [r for r in rows if float(r["logit_std"]) == std]
        for i, (impl, features) in enumerate(variants):
            pts = sorted((int(r["m"]), float(r["rel_err"])) for r in sub
                         if (r["impl"], r["features"]) == (impl, features))  # fmt: skip
            style = "--" if impl == "peer" else "-"
            m_values, errs = zip(*pts, strict=True)
            colour = PALETTE[i % len(PALETTE)]
            ax.plot(
                m_values, errs, style, marker="o", ms=3, color=colour, label=f"{impl} {features}"
            )
        ax.axhline(float(sub[0]["uniform_err"]), color="grey", lw=1, label="uniform average")
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.set_xlabel("random features m")
        ax.set_title(f"logit std {std:g}")
    axes[0][0].set_ylabel("relative error vs exact")
    axes[0][-1].legend(fontsize=7)
    return save(fig, path)


def plot_generation(rows: Sequence, methods: Sequence[str], metric: str, path: str | Path) -> Path:
    """Two panels against generated length: ms per token (`metric`, solid; wall time dotted)
    and decoder state / peak-RSS growth, one colour per decoding method."""
    fig, (ax_time, ax_mem) = figure(10.0, 3.8, ncols=2)
    for colour, method in zip(PALETTE, methods, strict=False):
        ok = sorted((r for r in rows if r.method == method and r.status == "ok"),
                    key=lambda r: r.length)  # fmt: skip
        if not ok:
            continue
        lengths = [r.length for r in ok]
        ax_time.plot(lengths, [getattr(r, metric) for r in ok], "o-", color=colour, label=method)
        ax_time.plot(lengths, [r.tail_ms_per_token for r in ok], ":", color=colour, alpha=0.6)
        rss = [max(r.peak_rss_delta_mb, MB_FLOOR) for r in ok]
        ax_mem.plot(lengths, rss, "o-", color=colour, label=f"{method}: peak RSS growth")
        if method != "naive-recompute":
            state = [r.state_mb for r in ok]
            ax_mem.plot(lengths, state, "s--", color=colour, label=f"{method}: decoder state")
    for ax in (ax_time, ax_mem):
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.set_xlabel("generated length L (tokens)")
        ax.legend(fontsize=7, loc="upper left")
    ax_time.set_ylabel("ms per token at length ~L (CPU; dotted: wall)")
    ax_time.set_title("Time per generated token")
    ax_mem.set_ylabel("MB")
    ax_mem.set_title("Decoder state and peak RSS growth")
    return save(fig, path)
