"""The front door: load a model and use it in a few lines, without knowing the package layout.

    import protein_performer as pp
    model = pp.load_model()  # the shipped default; or a .ckpt file or save_pretrained dir
    pp.embed(model, ["MKTAYIAKQR", "MVLSPADKTN", "GSHMSLFDFF"]).shape  # (3, C)

`score` gives each sequence's log-likelihood (causal models) or pseudo-log-likelihood (masked
models), and `generate` samples sequences from a causal model. These functions only wire
together the layers below (model.io, analysis, generation), so the CLIs and this API compute
the same numbers.

An aligned family model (`model.family_info.view == "aligned"`, or a model with the gap in its
vocabulary) reads alignment columns: every sequence is placed on them first
(`analysis.placement`: given aligned with `-`, or by the model's profile HMM), and one that does
not fit raises a `PlacementError` naming it.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from protein_performer.data.tokenizer import UnknownPolicy
from protein_performer.model.performer import ProteinPerformer
from protein_performer.paths import SHIPPED_PRETRAINED


def load_model(path: str | Path | None = None, *, device: str = "cpu") -> ProteinPerformer:
    """A model in eval mode from a Lightning `.ckpt`, a `save_pretrained` directory or the name
    of a shipped model (`paths.SHIPPED_MODELS`: "protein_performer_default",
    "protein_performer_causal", "family_pf00014", "family_pf00595", and the two families' models
    that read their columns C→N, "family_pf00014_reverse" and "family_pf00595_reverse"); with no
    path, the shipped default model `checkpoints/protein_performer_default/`."""
    from protein_performer.model.io import load_model as load
    from protein_performer.paths import SHIPPED_MODELS

    if path is None:
        path = SHIPPED_PRETRAINED
    elif isinstance(path, str) and path in SHIPPED_MODELS and not Path(path).exists():
        path = SHIPPED_MODELS[path]
    return load(path, map_location=device)


def embed(
    model: ProteinPerformer,
    sequences: Sequence[str],
    *,
    layer: int = -1,
    per_token: bool = False,
    batch_size: int = 8,
    unknown: UnknownPolicy = "error",
) -> np.ndarray | list[np.ndarray]:
    """Mean embeddings `[N, C]` of `layer` (-1: the final representation), or with
    `per_token=True` one `[L, C]` array per sequence (residues only; for an aligned model one
    row per column, and the mean over the columns holding a residue). No sequences give an
    empty result: `[0, C]`, or `[]` per token."""
    from protein_performer.analysis.embeddings import embed_placements, embed_sequences
    from protein_performer.analysis.placement import is_aligned_model, place_all

    pooling = "per-token" if per_token else "mean"
    if is_aligned_model(model):
        placements = place_all(model, sequences, unknown=unknown)
        out = embed_placements(
            model, placements, layer=layer, pooling=pooling, batch_size=batch_size
        )
    else:
        out = embed_sequences(
            model, sequences, layer=layer, pooling=pooling, batch_size=batch_size,
            unknown=unknown,
        )  # fmt: skip
    if per_token:
        return [e.per_token_LC for e in out]
    if not out:  # an empty batch, like `score`'s (0,): (0, C) rather than a stacking error
        return np.empty((0, model.config.d_model), dtype=np.float32)
    return np.stack([e.mean_C for e in out])


def score(
    model: ProteinPerformer,
    sequences: Sequence[str],
    *,
    batch_size: int = 32,
    unknown: UnknownPolicy = "error",
) -> np.ndarray:
    """Per-sequence log-likelihood in nats `[N]`: Σ log p(xₜ | x₍<ₜ₎) over residues and
    `<eos>` for a causal model, the pseudo-log-likelihood Σ log p(xᵢ | x₋ᵢ) (Salazar et al.
    2020) for a masked model (`analysis.variant_scores.sequence_scores`). An aligned model
    scores the placed row over all its columns, gaps included. Sequences must fit the model
    (no silent cropping here)."""
    from protein_performer.analysis.placement import is_aligned_model, place_all
    from protein_performer.analysis.variant_scores import sequence_scores
    from protein_performer.data.inputs import check_sequences
    from protein_performer.data.tokenizer import Alphabet

    if is_aligned_model(model):
        framed = [p.tokens_L for p in place_all(model, sequences, unknown=unknown)]
    else:
        limit = model.config.max_len - 2
        checked = check_sequences(sequences, max_residues=limit, unknown=unknown)
        if checked.crops:
            raise ValueError(checked.crops[0].replace("cropped to", "exceed"))
        framed = [Alphabet().encode(s).astype(np.int64) for s in checked.sequences]
    return sequence_scores(model, framed, batch_size=batch_size)


def generate(
    model: ProteinPerformer,
    prompt: str = "",
    n: int = 1,
    *,
    max_length: int | None = None,
    temperature: float = 1.0,
    top_k: int | None = None,
    top_p: float | None = None,
    seed: int = 0,
    standard_only: bool = True,
    aligned: bool = True,
) -> list[str]:
    """`n` sequences sampled from a causal model after `prompt` (prompt included), through the
    recurrent decoder. Only the 20 standard amino acids unless `standard_only=False`.

    An aligned causal model samples whole rows over its columns, the gap included: exactly
    `n_columns` characters each, or with `aligned=False` the same rows without their gaps. The
    prompt is then the first columns the model reads (`-` allowed; for a "reverse" model the
    last columns, written N→C) and `max_length` must be None.
    `n=0` gives `[]`."""
    import torch

    from protein_performer.analysis.placement import direction_of, family_of, is_aligned_model
    from protein_performer.generation.decoder import generate as decode
    from protein_performer.generation.sample_io import decode_row, encode_prompt
    from protein_performer.generation.sampling import SamplingConfig

    if isinstance(n, bool) or not isinstance(n, int) or n < 0:
        raise ValueError(f"n must be a whole number of sequences >= 0, got {n!r}")
    columns = is_aligned_model(model)
    if columns:
        n_columns = family_of(model).n_columns
        if max_length not in (None, n_columns):
            raise ValueError(
                f"max_length={max_length}: an aligned model samples all its {n_columns} columns"
            )
        max_length = n_columns
    direction = direction_of(model)
    prompt_ids = torch.from_numpy(
        encode_prompt(prompt, where="prompt", gaps=columns, direction=direction)
    )
    generation = decode(
        model,
        prompt_ids,
        num_samples=n,
        max_length=max_length or model.config.max_len - 2,
        sampling=SamplingConfig(temperature, top_k, top_p),
        generator=torch.Generator().manual_seed(seed),
        standard_only=standard_only,
        stop_at_eos=not columns,
        allow_gap=columns,
    )
    rows = [decode_row(generation.residues(row), direction) for row in range(n)]
    return rows if aligned or not columns else [r.replace("-", "") for r in rows]
