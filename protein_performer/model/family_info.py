"""What a family model was trained on, saved with its weights.

A model trained on one family's alignment reads that alignment's columns, not free sequences,
so a checkpoint alone does not say how to feed it. `FamilyInfo` records the view, the number of
columns, which alignment (name and content hash) and the profile HMM (HMMER3 text, Eddy 2011)
that places a new sequence on those columns.

Where it is stored:
- a Lightning `.ckpt`: the plain dict `checkpoint["family"]` (the HMM text included), so it is
  read with `weights_only=True` like the rest;
- a `save_pretrained` directory: the key `"family"` of `config.json` (without the HMM) and the
  profile as `family.hmm` beside `model.safetensors`.

A general model has no `FamilyInfo` (`None`).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Literal

from protein_performer.data.column_order import check_direction

CHECKPOINT_KEY = "family"
HMM_NAME = "family.hmm"


@dataclass(frozen=True)
class FamilyInfo:
    """The training alignment of a family model, as far as inference needs it."""

    # "aligned": positions are the alignment's match columns, `-` a token; "unaligned": residues.
    view: Literal["aligned", "unaligned"]
    # Number of match columns of the alignment (the aligned model's sequence length).
    n_columns: int
    # File name of the alignment (no directory: checkpoints move between machines).
    alignment: str
    # SHA-256 of the alignment file's bytes.
    alignment_sha256: str
    # The profile HMM as HMMER3 ASCII text, every column a match state; None if not built.
    hmm: str | None = None
    # Rows kept out of training (`--data.holdout`), e.g. the protein the model is judged on.
    holdout: tuple[str, ...] = ()
    # The order the columns are read in (`data.column_order`): "forward" N→C or "reverse" C→N.
    direction: str = "forward"

    def __post_init__(self) -> None:
        if self.view not in ("aligned", "unaligned"):
            raise ValueError(f"view must be 'aligned' or 'unaligned', got {self.view!r}")
        if not isinstance(self.n_columns, int) or self.n_columns < 1:
            raise ValueError(f"n_columns must be a positive integer, got {self.n_columns!r}")
        check_direction(self.direction)

    def to_dict(self, *, with_hmm: bool = True) -> dict[str, Any]:
        values = asdict(self)
        values["holdout"] = list(self.holdout)
        if not with_hmm:
            values.pop("hmm")
        return values

    @classmethod
    def from_dict(cls, values: dict[str, Any], hmm: str | None = None) -> FamilyInfo:
        """From `to_dict()`; `hmm` (the text of `family.hmm`) fills a dict saved without it."""
        known = {
            "view",
            "n_columns",
            "alignment",
            "alignment_sha256",
            "hmm",
            "holdout",
            "direction",
        }
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(f"unknown family key {unknown[0]!r}")
        missing = sorted({"view", "n_columns", "alignment", "alignment_sha256"} - set(values))
        if missing:
            raise ValueError(f"family entry lacks {missing[0]!r}")
        merged = dict(values)
        if hmm is not None:
            merged["hmm"] = hmm
        merged["holdout"] = tuple(merged.get("holdout", ()))
        return cls(**merged)
