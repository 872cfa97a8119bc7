"""The front door: load a model and use it in a few lines, without knowing the package layout.

    import protein_performer as pp
    model = pp.load_model()  # the shipped default; or a .ckpt file or save_pretrained dir
    pp.embed(model, ["MKTAYIAKQR", "MVLSPADKTN", "GSHMSLFDFF"]).shape  # (3, C)

`score` gives each sequence's log-likelihood (causal models) or pseudo-log-likelihood (masked
models), and `generate` samples sequences from a causal model. These functions only wire
together the layers below (model.io, analysis, generation), so the CLIs and this API compute
the same numbers.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from protein_performer.data.tokenizer import UnknownPolicy
from protein_performer.model.performer import ProteinPerformer
from protein_performer.paths import SHIPPED_PRETRAINED


def load_model(path: str | Path | None = None, *, device: str = "cpu") -> ProteinPerformer:
    """A model in eval mode from a Lightning `.ckpt` or a `save_pretrained` directory; with no
    path, the shipped default model `checkpoints/protein_performer_default/`."""
    from protein_performer.model.io import load_model as load

    return load(SHIPPED_PRETRAINED if path is None else path, map_location=device)


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
    `per_token=True` one `[L, C]` array per sequence (residues only)."""
    from protein_performer.analysis.embeddings import embed_sequences

    pooling = "per-token" if per_token else "mean"
    out = embed_sequences(
        model, sequences, layer=layer, pooling=pooling, batch_size=batch_size, unknown=unknown
    )
    if per_token:
        return [e.per_token_LC for e in out]
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
    2020) for a masked model. Sequences must fit the model (no silent cropping here)."""
    from protein_performer.analysis.mutations import pseudo_log_likelihood
    from protein_performer.data.inputs import check_sequences
    from protein_performer.data.tokenizer import Alphabet
    from protein_performer.generation.scoring import sequence_log_likelihoods

    limit = model.config.max_len - 2
    checked = check_sequences(sequences, max_residues=limit, unknown=unknown)
    if checked.crops:
        raise ValueError(checked.crops[0].replace("cropped to", "exceed"))
    if model.config.causal:
        alphabet = Alphabet()
        framed = [alphabet.encode(s) for s in checked.sequences]
        return sequence_log_likelihoods(model, framed, batch_size=batch_size)
    return np.array([pseudo_log_likelihood(model, s, batch_size) for s in checked.sequences])


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
) -> list[str]:
    """`n` sequences sampled from a causal model after `prompt` (prompt included), through the
    recurrent decoder. Only the 20 standard amino acids unless `standard_only=False`."""
    import torch

    from protein_performer.data.tokenizer import Alphabet
    from protein_performer.generation.decoder import generate as decode
    from protein_performer.generation.sample_io import encode_prompt
    from protein_performer.generation.sampling import SamplingConfig

    prompt_ids = torch.from_numpy(encode_prompt(prompt, where="prompt"))
    generation = decode(
        model,
        prompt_ids,
        num_samples=n,
        max_length=max_length or model.config.max_len - 2,
        sampling=SamplingConfig(temperature, top_k, top_p),
        generator=torch.Generator().manual_seed(seed),
        standard_only=standard_only,
    )
    alphabet = Alphabet()
    return [alphabet.decode(generation.residues(row)) for row in range(n)]
