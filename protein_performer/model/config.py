"""`PerformerConfig`: the one frozen, typed description of a protein language model.

The attention kind is the only thing that differs between a Performer and a Transformer of the
same shape (Choromanski et al. 2021, §4.3): parameters and their names are identical, so a
checkpoint of one loads into the other. Presets are named after their size, in the spirit of
fair-esm's `esm2_t33_650M_UR50D`: `<purpose>_l<layers>_d<d_model>`.

Paper shapes (arXiv 2009.14794, Appendix C, "Protein" experiments):
    single-sequence models   (heads, layers, d_ff, d_model) = (8, 36, 1024, 512), L = 1024
    concatenated proteins    (heads, layers, d_ff, d_model) = (8, 6, 2048, 512),  L = 8192
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Literal

from protein_performer.constants import VOCAB_SIZE
from protein_performer.model.attention_kinds import DEFAULT_KIND, KINDS, AttentionKind, get_kind

Objective = Literal["mlm", "causal"]
ATTENTION_KINDS: tuple[str, ...] = KINDS  # declared once, by registration in attention_kinds
OBJECTIVES: tuple[str, ...] = ("mlm", "causal")


@dataclass(frozen=True)
class PerformerConfig:
    """Shape and behaviour of a `ProteinPerformer`. Defaults are the paper's protein model."""

    # Token vocabulary; the literal table in `protein_performer.constants` (30 tokens).
    vocab_size: int = VOCAB_SIZE
    # Longest sequence the learned position table covers (tokens, <cls>/<eos> included).
    max_len: int = 1024
    # Residual stream width C; the paper's protein models use 512.
    d_model: int = 512
    # Attention heads H; head dim D = d_model / n_heads.
    n_heads: int = 8
    # Number of pre-LayerNorm blocks.
    n_layers: int = 36
    # Hidden width of the GELU feed-forward in every block.
    d_ff: int = 1024
    # Dropout on embeddings, attention output and feed-forward output (paper: 0.1).
    dropout: float = 0.1
    # "favor-relu" (the paper's default Performer), "favor-softmax" (Performer-Softmax, FAVOR+
    # positive random features) or "exact" (the Transformer baseline through SDPA).
    attention: AttentionKind = DEFAULT_KIND
    # "mlm": bidirectional, masked positions predicted; "causal": unidirectional next token.
    objective: Objective = "mlm"
    # Random features M per head for the FAVOR kinds (paper: 256); unused by "exact".
    n_features: int = 256
    # Under bf16 autocast, run FAVOR's two attention GEMMs in bf16 (fp32 accumulation); the
    # exponent and the normaliser stay fp32. Off: all FAVOR ops in fp32 (docs/gpu.md, bound).
    favor_bf16_gemm: bool = False
    # Share the LM head's weight with the token embedding (ESM, BERT); a bias is kept apart.
    tie_embeddings: bool = True
    # Std of the normal initialisation of linear and embedding weights (BERT/GPT-2: 0.02).
    init_std: float = 0.02
    # LayerNorm epsilon.
    layer_norm_eps: float = 1e-5
    # The first N blocks take their queries and keys from the position embeddings alone, and
    # only their values from the residues: factored attention (Bhattacharya et al. 2020, "Single
    # layers of attention suffice to predict protein contacts"). Such a layer's map is one learned
    # coupling of positions shared by every sequence, read as contacts like a Potts model's J
    # (`analysis.position_attention`). Meaningful where positions are aligned columns; 0: none.
    position_attention_layers: int = 0

    def __post_init__(self) -> None:
        get_kind(self.attention)  # ValueError naming the registered kinds
        if self.objective not in OBJECTIVES:
            raise ValueError(f"objective must be one of {OBJECTIVES}, got {self.objective!r}")
        if self.d_model % self.n_heads:
            raise ValueError(f"d_model={self.d_model} is not divisible by n_heads={self.n_heads}")
        for name in ("vocab_size", "max_len", "d_model", "n_heads", "n_layers", "d_ff"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")
        if self.n_features < 1:
            raise ValueError(f"n_features must be >= 1, got {self.n_features}")
        if not 0 <= self.position_attention_layers <= self.n_layers:
            raise ValueError(
                f"position_attention_layers must be in [0, n_layers={self.n_layers}], "
                f"got {self.position_attention_layers}"
            )
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {self.dropout}")

    @property
    def causal(self) -> bool:
        """Unidirectional attention: true exactly for the causal objective."""
        return self.objective == "causal"

    @property
    def head_dim(self) -> int:
        return self.d_model // self.n_heads

    def replace(self, **changes: Any) -> PerformerConfig:
        """A copy with some fields changed (validated again)."""
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        """Plain Python types only, so checkpoints load with `torch.load(weights_only=True)`."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> PerformerConfig:
        """Inverse of `to_dict`; unknown keys are an error naming them."""
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(f"unknown PerformerConfig fields {unknown}; known: {sorted(known)}")
        return cls(**values)


# name -> config. Every name says layers and width; the comment says what it is for.
PRESETS: dict[str, PerformerConfig] = {
    # Unit tests and fixtures: ~85 k parameters, a training step in milliseconds on a CPU.
    "tiny_l2_d64": PerformerConfig(
        max_len=256, d_model=64, n_heads=4, n_layers=2, d_ff=128, n_features=32
    ),
    # `make train` default: ~0.93 M parameters, trains on a 2-core CPU in minutes at L <= 512.
    "cpu_l4_d128": PerformerConfig(
        max_len=1024, d_model=128, n_heads=4, n_layers=4, d_ff=512, n_features=64
    ),
    # Single-family models (`protein-performer family`): ~0.2 M parameters over one alignment's
    # columns (max_len is refitted to C + 2); a training step of 128 rows takes about a second on
    # one CPU core.
    "family_l4_d64": PerformerConfig(
        max_len=256, d_model=64, n_heads=4, n_layers=4, d_ff=256, n_features=64
    ),
    # Between the CPU default and the paper: ~6.6 M parameters, fits CPU memory at L = 1024.
    "mid_l8_d256": PerformerConfig(
        max_len=1024, d_model=256, n_heads=8, n_layers=8, d_ff=1024, n_features=128
    ),
    # The paper's single-protein model (Appendix C): ~76 M parameters, L = 1024.
    "paper_protein_l36_d512": PerformerConfig(
        max_len=1024, d_model=512, n_heads=8, n_layers=36, d_ff=1024, n_features=256
    ),
    # The paper's concatenated-proteins model (Appendix C): ~23 M parameters, L = 8192.
    "paper_concat_l6_d512": PerformerConfig(
        max_len=8192, d_model=512, n_heads=8, n_layers=6, d_ff=2048, n_features=256
    ),
}


def preset(name: str, **changes: Any) -> PerformerConfig:
    """The named preset, optionally with fields changed:
    `preset("tiny_l2_d64", attention="exact")`."""
    if name not in PRESETS:
        raise KeyError(f"unknown preset {name!r}; choose one of {sorted(PRESETS)}")
    return PRESETS[name].replace(**changes) if changes else PRESETS[name]
