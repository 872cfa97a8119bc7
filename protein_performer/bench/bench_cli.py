"""`protein-performer bench <name> ...`: dispatch to one benchmark's `main(argv) -> int`.

Modules are imported lazily so `bench attention` never imports the generation stack.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Sequence

from protein_performer.command_line import command_table

# name -> (module with main(argv), one-line help)
BENCHMARKS: dict[str, tuple[str, str]] = {
    "attention": (
        "protein_performer.bench.attention",
        "FAVOR+/ReLU/SDPA/identity vs performer-pytorch: time, memory, error",
    ),
    "generation": (
        "protein_performer.bench.generation",
        "cost per generated token: FAVOR state vs KV cache vs recompute",
    ),
    "family": (
        "protein_performer.bench.family_speed",
        "family training step vs a bare loop and the GEMM rate; 200-column evaluation time",
    ),
}


def _usage() -> str:
    return command_table(
        "usage: protein-performer bench <name> [options]", "benchmarks", BENCHMARKS
    )


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help"):
        print(_usage())
        return 0 if argv else 2
    name, rest = argv[0], argv[1:]
    if name not in BENCHMARKS:
        known = ", ".join(BENCHMARKS)
        print(f"protein-performer bench: error: unknown benchmark {name!r} (one of {known})",
              file=sys.stderr)  # fmt: skip
        return 2
    module = importlib.import_module(BENCHMARKS[name][0])
    return int(module.main(rest) or 0)


if __name__ == "__main__":
    sys.exit(main())
