"""Run a causal `ProteinPerformer` one token at a time, and sample sequences from it.

Shape legend: B batch (samples), L length, C model width, V vocabulary.

`decode_step` mirrors `ProteinPerformer.forward` position by position: token + position
embedding (row t of the learned table), then per block `x + attn(ln1 x)` through
`model.recurrent.attention_step` and `x + ff(ln2 x)`, then `final_norm` and `lm_head`. A
Performer carries each layer's (S, z) (Katharopoulos et al. 2020, §3.4): O(1) time and memory
per token. An exact model carries a key/value cache: O(t) per token. `mode="naive"` recomputes
the full forward pass over the whole prefix at every step, the only option performer-pytorch
offers; it is kept as the slow reference and benchmark baseline.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import torch

from protein_performer.constants import EOS_ID, PAD_ID
from protein_performer.generation.sampling import SamplingConfig, allowed_token_mask, sample_next
from protein_performer.model.performer import ProteinPerformer
from protein_performer.model.recurrent import LayerState, attention_step, init_layer_state

DecodeMode = Literal["recurrent", "naive"]


@dataclass(frozen=True)
class DecoderState:
    """Everything the model needs about the prefix: one state per block and the next position."""

    layers: tuple[LayerState, ...]
    position: int

    @property
    def nbytes(self) -> int:
        return sum(layer.nbytes for layer in self.layers)


def check_causal(model: ProteinPerformer, where: str = "model") -> None:
    if not model.config.causal:
        raise ValueError(
            f"{where}: objective={model.config.objective!r}; generation and scoring need a "
            f"causal model (objective='causal'), since an MLM's logits depend on future tokens"
        )


def init_state(model: ProteinPerformer, batch: int, *, capacity: int = 256) -> DecoderState:
    """The state before the first token (BOS). `capacity`: initial KV-cache room (exact only)."""
    check_causal(model)
    weight = model.token_embedding.weight
    layers = tuple(
        init_layer_state(
            block.attention, batch, capacity=capacity, dtype=weight.dtype, device=weight.device
        )
        for block in model.blocks
    )
    return DecoderState(layers=layers, position=0)


def decode_step(
    model: ProteinPerformer, tokens_B: torch.Tensor, state: DecoderState
) -> tuple[torch.Tensor, DecoderState]:
    """Logits `[B, V]` for the token after `tokens_B` (at position `state.position`), and the
    state that includes it. Equals `model(prefix).logits_BLV[:, -1]` up to rounding."""
    positions_11C = model.positions(1, offset=state.position)
    x_B1C = model.embed_dropout(model.token_embedding(tokens_B[:, None]) + positions_11C)
    layers = []
    for block, layer_state in zip(model.blocks, state.layers, strict=True):
        qk_B1C = block.qk_source(positions_11C)
        y_B1C, layer_state = attention_step(block.attention, block.ln1(x_B1C), layer_state, qk_B1C)
        x_B1C = x_B1C + block.dropout(y_B1C)
        x_B1C = x_B1C + block.dropout(block.ff(block.ln2(x_B1C)))
        layers.append(layer_state)
    logits_B1V = model.lm_head(model.final_norm(x_B1C))
    return logits_B1V[:, 0], DecoderState(layers=tuple(layers), position=state.position + 1)


def prefill(
    model: ProteinPerformer, prefix_BL: torch.Tensor, *, capacity: int = 256
) -> tuple[torch.Tensor, DecoderState]:
    """Feed a whole prefix token by token: logits `[B, L, V]` at every position, final state."""
    state = init_state(model, prefix_BL.shape[0], capacity=max(capacity, prefix_BL.shape[1]))
    logits = []
    for t in range(prefix_BL.shape[1]):
        logits_BV, state = decode_step(model, prefix_BL[:, t], state)
        logits.append(logits_BV)
    return torch.stack(logits, dim=1), state


@dataclass(frozen=True)
class Generation:
    """Sampled token ids and why each sample stopped.

    `tokens_BL` holds `[BOS, prompt..., generated..., EOS]` per row, right-padded with PAD;
    `finished_B` is True where the sample ended with EOS (False: it hit the length limit).
    """

    tokens_BL: torch.Tensor
    finished_B: torch.Tensor
    n_prompt: int

    def residues(self, row: int) -> list[int]:
        """Token ids of sample `row` between BOS and EOS (prompt included)."""
        ids = self.tokens_BL[row, 1:].tolist()
        return ids[: ids.index(EOS_ID)] if EOS_ID in ids else [i for i in ids if i != PAD_ID]


@torch.no_grad()
def generate(
    model: ProteinPerformer,
    prompt_ids: torch.Tensor,
    *,
    num_samples: int,
    max_length: int,
    sampling: SamplingConfig,
    generator: torch.Generator | None = None,
    mode: DecodeMode = "recurrent",
    stop_at_eos: bool = True,
    standard_only: bool = True,
    allow_gap: bool = False,
) -> Generation:
    """Sample `num_samples` sequences continuing `prompt_ids` (`[BOS, residues...]`, int64).

    `max_length` caps the residues per sample (prompt included). With `stop_at_eos=False` EOS
    is never sampled, so every sample reaches `max_length` (benchmarks). Only the 20 standard
    amino acids are sampled unless `standard_only=False`; `allow_gap` also samples the gap of an
    aligned model (rows over its columns, with `stop_at_eos=False`). All samples run as one
    batch; rows that already emitted EOS keep stepping but are padded, never changed.
    """
    check_causal(model)
    n_prompt = int(prompt_ids.numel()) - 1
    # Residue t is predicted at position t - 1, so max_length residues read positions
    # 0 .. max_length - 1 of the learned table.
    if max_length > model.config.max_len:
        raise ValueError(
            f"max_length={max_length} exceeds max_len={model.config.max_len} of this model "
            f"(learned positions); use at most {model.config.max_len}"
        )
    if n_prompt >= max_length:
        raise ValueError(
            f"the prompt has {n_prompt} residues; max_length={max_length} leaves none to sample"
        )
    device = model.token_embedding.weight.device
    allowed_V = allowed_token_mask(
        allow_eos=stop_at_eos,
        standard_only=standard_only,
        vocab_size=model.config.vocab_size,
        allow_gap=allow_gap,
    ).to(device)
    tokens_BL = torch.full((num_samples, max_length + 1), PAD_ID, dtype=torch.long, device=device)
    tokens_BL[:, : n_prompt + 1] = prompt_ids.to(device)
    finished_B = torch.zeros(num_samples, dtype=torch.bool, device=device)
    if mode == "recurrent":
        logits_BLV, state = prefill(model, tokens_BL[:, : n_prompt + 1], capacity=max_length + 1)
        logits_BV = logits_BLV[:, -1]
    elif mode != "naive":
        raise ValueError(f"mode must be 'recurrent' or 'naive', got {mode!r}")
    for t in range(n_prompt + 1, max_length + 1):
        if mode == "naive":
            # Rows past their EOS hold PAD; they are causal suffixes nobody reads, so no mask.
            prefix_BL = tokens_BL[:, :t]
            no_pad_BL = torch.zeros_like(prefix_BL, dtype=torch.bool)
            logits_BV = model(prefix_BL, is_pad_BL=no_pad_BL).logits_BLV[:, -1]
        next_B = sample_next(logits_BV, sampling, generator, allowed_V)
        next_B = next_B.masked_fill(finished_B, PAD_ID)
        tokens_BL[:, t] = next_B
        finished_B |= next_B == EOS_ID
        if bool(finished_B.all()):
            break
        if mode == "recurrent" and t < max_length:
            logits_BV, state = decode_step(model, next_B, state)
    return Generation(tokens_BL=tokens_BL[:, : t + 1], finished_B=finished_B, n_prompt=n_prompt)
