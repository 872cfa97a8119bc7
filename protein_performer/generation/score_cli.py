"""`protein-performer score`: per-sequence log-likelihood and perplexity under a causal model.

    protein-performer score --checkpoint runs/causal/last.ckpt --fasta in.fasta --out scores.tsv

Writes a TSV with columns id, length, log_likelihood (nats, residues + EOS), mean_log_likelihood
and perplexity, one row per record in input order, after `# checkpoint:` and
`# checkpoint_sha256:` comment lines naming the model; `--out -` writes it to stdout.

An aligned family model scores each record placed on its columns (`analysis.placement`: given
aligned with `-`, or by its profile HMM; a record that does not fit is an error naming it), over
all its columns and `<eos>`: `length` is then the number of columns.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from protein_performer import cli_support as cs
from protein_performer import command_line
from protein_performer.data.tokenizer import Alphabet
from protein_performer.errors import UserError
from protein_performer.generation.generate_cli import load_causal_model
from protein_performer.generation.sample_io import SequenceScore, format_scores_tsv
from protein_performer.generation.scoring import sequence_log_likelihoods


def build_parser() -> argparse.ArgumentParser:
    parser = command_line.ArgumentParser(
        prog="protein-performer score",
        description="Log-likelihood and perplexity of FASTA sequences under a causal model.",
    )
    cs.add_checkpoint_flag(parser, required=True)
    cs.add_fasta_flag(parser, help=".fasta or .fasta.gz")
    cs.add_out_flag(parser, what="TSV to write", required=True)
    parser.add_argument("--batch-size", type=int, default=32)
    cs.add_unknown_flag(parser)
    parser.add_argument(
        "--skip-long",
        **command_line.SWITCH,
        help="skip sequences longer than the model's max_len - 2 (default: stop with an error)",
    )
    parser.add_argument("--device", default="cpu")
    return parser


def read_framed(
    path: Path, alphabet: Alphabet, max_tokens: int, skip_long: bool
) -> tuple[list[str], list[np.ndarray], int]:
    """Record ids, framed token ids, and the number of records skipped as too long."""
    names, framed, skipped = [], [], 0
    for record in cs.read_fasta(path):
        where = f"{record.path}:{record.line}: record {record.name!r}"
        ids = alphabet.encode(record.sequence, where=where)
        if len(ids) > max_tokens:
            if skip_long:
                skipped += 1
                continue
            raise ValueError(
                f"{where}: {len(record.sequence)} residues, but the model holds at most "
                f"{max_tokens - 2} (max_len={max_tokens}); pass --skip-long to skip such records"
            )
        names.append(record.name)
        framed.append(ids)
    return names, framed, skipped


def read_placed(path: Path, model, unknown: str) -> tuple[list[str], list[np.ndarray], int]:
    """Record ids and the `<cls>` columns `<eos>` tokens of each record placed on the columns."""
    from protein_performer.analysis.placement import place_all

    records = cs.read_fasta(path)
    names = [f"{r.path}:{r.line}: record {r.name!r}" for r in records]
    placements = place_all(model, [r.sequence for r in records], names, unknown=unknown)
    return [r.name for r in records], [p.tokens_L for p in placements], 0


PROG = "protein-performer score"


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return command_line.run(PROG, lambda: _score(args))


def _score(args: argparse.Namespace) -> int:
    from protein_performer.model.io import provenance

    out = cs.check_out(args.out)
    if args.batch_size < 1:
        raise UserError("--batch-size must be >= 1")
    cs.read_fasta(args.fasta)  # a missing or empty FASTA fails before the model loads
    model = load_causal_model(args.checkpoint, args.device)
    from protein_performer.analysis.placement import is_aligned_model

    if is_aligned_model(model):
        names, framed, skipped = read_placed(args.fasta, model, args.unknown)
    else:
        names, framed, skipped = read_framed(
            args.fasta, Alphabet(args.unknown), model.config.max_len, args.skip_long
        )
    if not framed:
        raise UserError(f"--fasta {args.fasta}: no sequences to score")
    totals = sequence_log_likelihoods(model, framed, batch_size=args.batch_size, progress=True)
    scores = [
        SequenceScore(
            id=name, length=len(ids) - 2, log_likelihood=float(ll), n_predicted=len(ids) - 1
        )
        for name, ids, ll in zip(names, framed, totals, strict=True)
    ]
    text = cs.provenance_comments(provenance(args.checkpoint)) + format_scores_tsv(scores)
    where = cs.write_text(out, text)
    mean_ppl = float(np.exp(-totals.sum() / sum(s.n_predicted for s in scores)))
    print(
        f"scored {len(scores)} sequences ({skipped} skipped as too long); "
        f"corpus perplexity {mean_ppl:.3f} -> {where}",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
