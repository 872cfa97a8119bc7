"""`protein-performer embed`: export embeddings of the sequences of a FASTA file.

    protein-performer embed --fasta proteins.fasta --out embeddings.npz [--per-token]

Writes one `.npz` file (`--out -`: the same bytes to stdout): `names` and `sequences` (as
embedded, cropped to the model's `max_len - 2` with a warning), `layer`, `checkpoint` and
`checkpoint_sha256` (where the numbers came from), and `mean` `[N, C]`; with `--per-token`,
also one `[L, C]` array per sequence named `tokens_<i>` (residues only, no special tokens).

An aligned family model reads each sequence placed on its columns (`analysis.placement`:
given aligned with `-`, or by its profile HMM; one that does not fit is an error naming its
record): `sequences` then holds the aligned rows, and `tokens_<i>` one row per column.
"""

from __future__ import annotations

import argparse
import io
import sys
from pathlib import Path

import numpy as np

from protein_performer import cli_support as cs
from protein_performer import command_line
from protein_performer.errors import UserError

PROG = "protein-performer embed"


def build_parser() -> argparse.ArgumentParser:
    parser = command_line.ArgumentParser(
        prog=PROG, description="Per-sequence (mean) or per-residue embeddings of a layer, as .npz"
    )
    cs.add_fasta_flag(parser, required=False, help="input FASTA (.gz accepted)")
    # The earlier spelling `embed FASTA --out ...` keeps working.
    parser.add_argument("fasta_positional", nargs="?", type=Path, help=argparse.SUPPRESS)
    cs.add_out_flag(parser, what="output .npz file", required=True)
    cs.add_checkpoint_flag(parser)
    parser.add_argument(
        "--layer",
        type=int,
        default=-1,
        help="0 = embedding output, i = block i, -1 = final representation",
    )
    parser.add_argument(
        "--per-token", **command_line.SWITCH, help="also store the per-residue embeddings"
    )
    parser.add_argument("--batch-size", type=int, default=8)
    cs.add_unknown_flag(parser)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.fasta is not None and args.fasta_positional is not None:
        parser.error("give the FASTA once: --fasta FILE (or the older positional FILE)")
    args.fasta = args.fasta or args.fasta_positional
    if args.fasta is None:
        parser.error("the following arguments are required: --fasta")
    return command_line.run(PROG, lambda: _embed(args))


def _embed(args: argparse.Namespace) -> int:
    out = cs.check_out(args.out, suffixes=(".npz",))
    if args.batch_size < 1:
        raise UserError("--batch-size must be >= 1")
    records = cs.read_fasta(args.fasta)
    from protein_performer.analysis.attention_maps import max_residues
    from protein_performer.analysis.embeddings import embed_sequences, resolve_layer
    from protein_performer.analysis.placement import is_aligned_model

    model, provenance = cs.load_checkpoint(args.checkpoint, PROG)
    try:
        resolve_layer(args.layer, model.config.n_layers)
    except ValueError as error:
        raise UserError(f"--layer: {error}") from None
    names = [f"{r.path}:{r.line}: record {r.name!r}" for r in records]
    pooling = "per-token" if args.per_token else "mean"
    if is_aligned_model(model):
        embeddings = _embed_aligned(model, [r.sequence for r in records], names, args, pooling)
    else:
        from protein_performer.data.inputs import check_sequences

        checked = check_sequences(
            [r.sequence for r in records],
            max_residues=max_residues(model),
            unknown=args.unknown,
            names=names,
        )
        for message in checked.crops:
            print(f"{PROG}: warning: {message}", file=sys.stderr)
        embeddings = embed_sequences(
            model,
            list(checked.sequences),
            layer=args.layer,
            pooling=pooling,
            batch_size=args.batch_size,
            unknown=args.unknown,
            progress=True,
        )
    arrays = {
        "names": np.array([r.name for r in records]),
        "sequences": np.array([e.sequence for e in embeddings]),
        "layer": np.array(embeddings[0].layer),
        "checkpoint": np.array(provenance.path),
        "checkpoint_sha256": np.array(provenance.sha256),
        "mean": np.stack([e.mean_C for e in embeddings]),
    }
    if args.per_token:
        arrays |= {f"tokens_{i}": e.per_token_LC for i, e in enumerate(embeddings)}
    where = _write_npz(out, arrays)
    print(
        f"wrote {len(embeddings)} embeddings (layer {embeddings[0].layer}, width "
        f"{arrays['mean'].shape[1]}) from {provenance} to {where}",
        file=sys.stderr,
    )
    return 0


def _embed_aligned(model, sequences, names, args: argparse.Namespace, pooling: str) -> list:
    """Every record placed on the columns first, so a misfit stops before any embedding."""
    from protein_performer.analysis.embeddings import embed_placements
    from protein_performer.analysis.placement import place_all

    placements = place_all(model, sequences, names, unknown=args.unknown)
    return embed_placements(
        model, placements, layer=args.layer, pooling=pooling, batch_size=args.batch_size,
        progress=True,
    )  # fmt: skip


def _write_npz(out: Path | None, arrays: dict[str, np.ndarray]) -> str:
    if out is None:
        buffer = io.BytesIO()
        np.savez(buffer, **arrays)
        sys.stdout.buffer.write(buffer.getvalue())
        sys.stdout.flush()
        return "stdout"
    out.parent.mkdir(parents=True, exist_ok=True)
    np.savez(out, **arrays)
    return str(out)


if __name__ == "__main__":
    sys.exit(main())
