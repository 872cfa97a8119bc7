"""`protein-performer <command> ...`: one console script that dispatches to each layer's CLI.

Each layer owns a `main(argv) -> int` so it can be tested without a subprocess; this module only
routes, and imports lazily so `protein-performer prepare` never pays for importing Lightning
and `protein-performer <command> --help` never imports torch (it prints `help_text.page`).
"""

from __future__ import annotations

import importlib
import sys

from protein_performer.command_line import command_table

# command -> (module with main(argv), one-line help)
COMMANDS: dict[str, tuple[str, str]] = {
    "prepare": (
        "protein_performer.data.prepare_cli",
        "FASTA -> tokenised Arrow splits (make data)",
    ),
    "msa": ("protein_performer.data.msa_cli", "build a family alignment (A2M) for one protein"),
    "train": ("protein_performer.training.train_cli", "train a model with Lightning (make train)"),
    "analyze": ("protein_performer.analysis.analyze_cli", "attention maps, BLOSUM62, contacts"),
    "embed": ("protein_performer.analysis.embed_cli", "export per-residue/mean embeddings"),
    "mutations": ("protein_performer.analysis.mutations_cli", "zero-shot mutation scores"),
    "family": ("protein_performer.family.family_cli", "train a family model, then DMS + contacts"),
    "dms": ("protein_performer.analysis.dms_cli", "score a mutational scan with any checkpoint"),
    "generate": (
        "protein_performer.generation.generate_cli",
        "sample sequences from a causal model",
    ),
    "score": ("protein_performer.generation.score_cli", "log-likelihood of sequences (TSV)"),
    "bench": ("protein_performer.bench.bench_cli", "attention / generation benchmarks"),
}


def _usage() -> str:
    usage = "usage: protein-performer [--version] <command> [options]"
    return command_table(usage, "commands", COMMANDS)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] in ("-V", "--version"):
        from protein_performer import __version__

        print(f"protein-performer {__version__}")
        return 0
    if not argv or argv[0] in ("-h", "--help"):
        print(_usage())
        return 0 if argv else 2
    command, rest = argv[0], argv[1:]
    if command not in COMMANDS:
        known = ", ".join(COMMANDS)
        print(f"protein-performer: error: unknown command {command!r} (one of {known})",
              file=sys.stderr)  # fmt: skip
        return 2
    if rest in (["-h"], ["--help"]):
        # The page as the command's parser prints it, without building the parser (whose
        # configs import torch); `help_snapshot` writes it and a test keeps it true.
        from protein_performer.help_text import page

        print(page(command), end="")
        return 0
    module = importlib.import_module(COMMANDS[command][0])
    return int(module.main(rest) or 0)


if __name__ == "__main__":
    sys.exit(main())
