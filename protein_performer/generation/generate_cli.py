"""`protein-performer generate`: sample protein sequences from a causal checkpoint into FASTA.

    protein-performer generate --checkpoint runs/causal/last.ckpt --prompt MKV \\
        --num-samples 8 --max-length 300 --temperature 0.8 --top-p 0.95 --seed 0 --out out.fasta

Performer checkpoints decode with a per-layer recurrent state (O(1) per token); exact-attention
checkpoints with a key/value cache. Each FASTA header records the checkpoint, the model's
attention kind and every sampling setting, so a file says how to reproduce it.

An aligned family model (`analysis.placement`) samples whole rows over its columns, gaps
included, exactly as many characters as it has columns (`--prompt` is then the first columns
the model reads, `-` allowed: the last columns, written N→C, for a model trained with
`--data.direction reverse`; `--max-length` must be left out); `--unaligned` writes them without
their gaps.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import torch

from protein_performer import cli_support as cs
from protein_performer import command_line
from protein_performer.data.column_order import Direction
from protein_performer.errors import UserError
from protein_performer.generation.decoder import Generation, check_causal, generate
from protein_performer.generation.sample_io import (
    FastaRecord,
    decode_row,
    encode_prompt,
    fasta_header,
    format_fasta,
    write_fasta,
)
from protein_performer.generation.sampling import SamplingConfig
from protein_performer.model.performer import ProteinPerformer


def build_parser() -> argparse.ArgumentParser:
    parser = command_line.ArgumentParser(
        prog="protein-performer generate",
        description="Sample sequences from a causal protein language model (stops at EOS).",
    )
    cs.add_checkpoint_flag(parser, required=True)
    parser.add_argument("--prompt", default="", help="sequence prefix, e.g. MKV (default: none)")
    cs.add_unknown_flag(parser)
    parser.add_argument("--num-samples", type=int, default=10)
    parser.add_argument(
        "--max-length",
        type=int,
        default=None,
        help="most residues per sample, prompt included (default: the model's max_len - 2)",
    )
    parser.add_argument("--temperature", type=float, default=1.0, help="0 means greedy")
    parser.add_argument("--top-k", type=int, default=None, help="keep the k likeliest tokens")
    parser.add_argument("--top-p", type=float, default=None, help="nucleus mass, in (0, 1]")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--batch-size", type=int, default=64, help="samples decoded together")
    parser.add_argument(
        "--mode",
        choices=("recurrent", "naive"),
        default="recurrent",
        help="recurrent state / KV cache (default), or full recomputation per token (slow)",
    )
    parser.add_argument("--device", default="cpu")
    parser.add_argument(
        "--threads",
        type=int,
        default=1,
        help="torch CPU threads (default 1: one token at a time is hundreds of tiny ops, and "
        "extra threads mostly contend; 0 keeps torch's default)",
    )
    parser.add_argument(
        "--allow-nonstandard",
        **command_line.SWITCH,
        help="also sample X, B, Z, U and O (default: the 20 standard amino acids only)",
    )
    parser.add_argument(
        "--unaligned",
        **command_line.SWITCH,
        help="aligned family models: write the sampled rows without their gaps",
    )
    parser.add_argument("--name", default="sample", help="record name prefix")
    cs.add_out_flag(parser, what="FASTA file")
    return parser


def load_causal_model(checkpoint: Path, device: str) -> ProteinPerformer:
    """The checkpoint's model in eval mode; ValueError naming the file if it is not causal."""
    from protein_performer.model.io import load_model

    model = load_model(checkpoint, map_location=device)
    check_causal(model, where=str(checkpoint))
    return model


def decoder_name(attention: str, mode: str) -> str:
    """How tokens were produced: the FAVOR recurrent state, a KV cache, or full recomputation."""
    from protein_performer.model.attention_kinds import get_kind

    return "naive-recompute" if mode == "naive" else get_kind(attention).decoder


def sample_records(
    generation: Generation,
    *,
    start: int,
    name: str,
    settings: dict[str, object],
    drop_gaps: bool = False,
    direction: Direction = "forward",
) -> list[FastaRecord]:
    records = []
    for row in range(generation.tokens_BL.shape[0]):
        sequence = decode_row(generation.residues(row), direction)
        sequence = sequence.replace("-", "") if drop_gaps else sequence
        fields = {
            **settings,
            "length": len(sequence),
            "stop": "eos" if bool(generation.finished_B[row]) else "max_length",
        }
        records.append(FastaRecord(fasta_header(f"{name}_{start + row + 1}", fields), sequence))
    return records


PROG = "protein-performer generate"


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return command_line.run(PROG, lambda: _generate(args))


def _generate(args: argparse.Namespace) -> int:
    from protein_performer.model.io import provenance

    out = cs.check_out(args.out)
    try:
        sampling = SamplingConfig(args.temperature, args.top_k, args.top_p)
    except ValueError as err:  # name the flag, not the dataclass field
        raise UserError(f"--{str(err).replace('_', '-')}") from None
    if args.num_samples < 1 or args.batch_size < 1:
        raise UserError("--num-samples and --batch-size must be >= 1")
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    model = load_causal_model(args.checkpoint, args.device)
    from protein_performer.analysis.placement import direction_of, family_of, is_aligned_model

    columns = is_aligned_model(model)
    direction = direction_of(model)
    prompt_ids = torch.from_numpy(
        encode_prompt(
            args.prompt, where="--prompt", unknown=args.unknown, gaps=columns, direction=direction
        )  # fmt: skip
    )
    source = provenance(args.checkpoint)
    max_length = args.max_length if args.max_length is not None else model.config.max_len - 2
    if columns:
        n_columns = family_of(model).n_columns
        if args.max_length not in (None, n_columns):
            raise UserError(
                f"--max-length {args.max_length}: an aligned family model samples all its "
                f"{n_columns} columns; leave --max-length out"
            )
        max_length = n_columns
    if not len(prompt_ids) <= max_length <= model.config.max_len:
        raise UserError(
            f"--max-length {max_length}: must leave room after the {len(prompt_ids) - 1}-residue "
            f"--prompt and be at most the model's max_len {model.config.max_len}"
        )
    settings = {
        "checkpoint": source.path,
        "checkpoint_sha256": source.sha256,
        "attention": model.config.attention,
        "decoder": decoder_name(model.config.attention, args.mode),
        "prompt": args.prompt or None,
        "temperature": sampling.temperature,
        "top_k": sampling.top_k,
        "top_p": sampling.top_p,
        "seed": args.seed,
        # Samples of one batch share the generator's stream, so the batch size is part of the
        # recipe: the same seed with another --batch-size draws other sequences.
        "batch_size": args.batch_size,
        "max_length": max_length,
        "standard_only": not args.allow_nonstandard,
        "aligned": columns and not args.unaligned,
    }
    generator = torch.Generator(device=args.device).manual_seed(args.seed)
    records: list[FastaRecord] = []
    started = time.perf_counter()
    for start in range(0, args.num_samples, args.batch_size):
        generation = generate(
            model,
            prompt_ids,
            num_samples=min(args.batch_size, args.num_samples - start),
            max_length=max_length,
            sampling=sampling,
            generator=generator,
            mode=args.mode,
            standard_only=not args.allow_nonstandard,
            stop_at_eos=not columns,
            allow_gap=columns,
        )
        records += sample_records(generation, start=start, name=args.name, settings=settings,
                                  drop_gaps=args.unaligned, direction=direction)  # fmt: skip
    elapsed = time.perf_counter() - started
    if out is None:
        sys.stdout.write(format_fasta(records))
    else:
        write_fasta(out, records)
    n_residues = sum(len(r.sequence) for r in records)
    print(
        f"generated {len(records)} sequences ({n_residues} residues) in {elapsed:.2f} s"
        + (f" -> {out}" if out else ""),
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
