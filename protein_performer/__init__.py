"""protein_performer: protein language models with linear-time Performer (FAVOR+) attention.

Reference: Choromanski et al., "Rethinking Attention with Performers", ICLR 2021
(arXiv 2009.14794).

    import protein_performer as pp
    model = pp.load_model()  # the shipped default
    pp.embed(model, ["MKTAYIAKQR", "MVLSPADKTN", "GSHMSLFDFF"]).shape  # (3, C)

The names below load on first use, so `import protein_performer` (and the console script's
`prepare` command) does not pay for importing torch.
"""

from __future__ import annotations

import importlib

__version__ = "0.1.0"

# public name -> module that defines it
_EXPORTS: dict[str, str] = {
    "load_model": "protein_performer.api",
    "embed": "protein_performer.api",
    "score": "protein_performer.api",
    "generate": "protein_performer.api",
    "Alphabet": "protein_performer.data.tokenizer",
    "BatchConverter": "protein_performer.data.batch_converter",
    "ProteinPerformer": "protein_performer.model.performer",
    "PerformerConfig": "protein_performer.model.config",
    "preset": "protein_performer.model.config",
    "save_pretrained": "protein_performer.model.io",
    "from_pretrained": "protein_performer.model.io",
    "CheckpointError": "protein_performer.model.io",
}
__all__ = ["__version__", *_EXPORTS]


def __getattr__(name: str):
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'protein_performer' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
