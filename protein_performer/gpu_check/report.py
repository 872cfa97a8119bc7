"""reports/gpu/*.json -> markdown (the generated block of docs/gpu.md and reports/gpu/gpu.md)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from protein_performer.gpu_check.stages import STAGES


def _fmt(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "NO"
    if isinstance(value, float):
        if value == 0 or 1e-2 <= abs(value) < 1e5:
            return f"{value:.3g}" if abs(value) < 100 else f"{value:,.0f}"
        return f"{value:.2e}"
    return str(value)


def table(rows: list[dict], columns: list[str]) -> str:
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(_fmt(r.get(c)) for c in columns) + " |" for r in rows]
    return "\n".join(lines)


COLUMNS = {
    "env": ["gemm", "n", "tflops", "status", "reason"],
    "correctness": ["check", "kind", "causal", "path", "bf16_gemm", "L", "out_err", "dq_err",
                    "dk_err", "dv_err", "forward_gap", "finite", "bound", "passed", "status",
                    "reason", "error"],
    "attention": ["impl", "mode", "L", "fwd_ms", "fwd_bwd_ms", "peak_mb", "status", "reason",
                  "error"],
    "throughput": ["preset", "variant", "L", "batch", "tokens_per_s", "model_tflops",
                   "mfu_vs_measured_gemm", "mfu_vs_spec", "peak_mb", "status", "reason",
                   "error"],
    "train": ["kind", "step", "tokens", "t_s", "loss", "perplexity", "accuracy",
              "unigram_perplexity", "lr"],
}  # fmt: skip
HEADER_KEYS = {
    "env": ["device_name", "gpu_available", "torch", "cuda", "spec_bf16_tflops", "packages"],
    "correctness": ["fp32_bound", "bf16_bound", "all_passed"],
    "attention": ["dtype", "batch", "heads", "head_dim", "n_features", "reps"],
    "throughput": ["precision", "gemm_bf16_tflops", "spec_bf16_tflops"],
    "train": ["preset", "attention", "params", "crop", "batch", "train_proteins", "train_s",
              "steps", "tokens_seen", "tokens_per_s", "peak_mb"],
}  # fmt: skip


def stage_section(doc: dict) -> str:
    name = doc.get("stage", "?")
    head = f"### {name}: {STAGES.get(name, ('', 0, ''))[2]}\n\n"
    head += f"Status **{doc.get('status')}**"
    if doc.get("elapsed_s") is not None:
        head += f" after {doc['elapsed_s']:.1f} s"
    head += f" of a {doc.get('budget_s', 0):.0f} s budget"
    if doc.get("reason") or doc.get("error"):
        head += f" ({doc.get('reason') or doc.get('error')})"
    facts = [f"{k} = {_fmt(doc[k])}" for k in HEADER_KEYS.get(name, []) if k in doc]
    body = head + ".\n\n" + ("; ".join(facts) + ".\n\n" if facts else "")
    rows = doc.get("rows", [])
    if rows:
        present = [c for c in COLUMNS.get(name, sorted(rows[0])) if any(c in r for r in rows)]
        body += table(rows, present) + "\n"
    return body


def markdown(out_dir: Path) -> str:
    summary_path = out_dir / "summary.json"
    summary = json.loads(summary_path.read_text()) if summary_path.exists() else {}
    parts = []
    if summary:
        parts.append(
            f"Run `{summary.get('command')}` on {summary.get('date')}: device "
            f"{summary.get('device_name', summary.get('device'))}, "
            f"{summary.get('elapsed_s', 0):.0f} s in all of a {summary.get('total_s', 0):.0f} s "
            f"budget{' (quick sizes)' if summary.get('quick') else ''}.\n"
        )
        if not summary.get("gpu_available"):
            parts.append("**No GPU was available: these rows come from the CPU.**\n")
    for name in STAGES:
        path = out_dir / f"{name}.json"
        if path.exists():
            parts.append(stage_section(json.loads(path.read_text())))
    return "\n".join(parts)


def main(argv: list[str] | None = None) -> int:
    """`python -m protein_performer.gpu_check.report [OUT] [DOCS]`: re-render the generated
    block of DOCS (docs/gpu.md) from the JSON in OUT (reports/gpu), e.g. after copying a run's
    files back from a GPU machine."""
    import sys

    from protein_performer.markdown_blocks import update_file

    args = sys.argv[1:] if argv is None else argv
    out = Path(args[0]) if args else Path("reports/gpu")
    docs = Path(args[1]) if len(args) > 1 else Path("docs/gpu.md")
    if not (out / "summary.json").is_file():
        print(f"gpu_check.report: {out}/summary.json not found (run the check first)")
        return 2
    update_file(docs, {"gpu-check": markdown(out)}, title="GPU check",
                headings={"gpu-check": "Measurements"})  # fmt: skip
    print(f"updated {docs} from {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
