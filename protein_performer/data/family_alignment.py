"""One protein family's alignment as training items: rows, sequence weights, splits. Plain numpy
and a torch `Dataset`, no Lightning: inference (`dms`, evaluation) reads it as is, and
`data.family.FamilyDataModule` is a thin Lightning adapter over it.

Views (`data.msa`):
- "aligned": an item is `<cls>` + the C match columns + `<eos>`, gaps as `GAP_ID`. Every row
  has the same length and position t is column t, so learned absolute positions line up across
  homologs; a causal model over this view is a non-linear ArDCA (Trinquier et al. 2021).
- "unaligned": an item is the row's residues framed by `<cls>` … `<eos>`, as a general LM sees.

Training rows are drawn with replacement in proportion to their sequence weights
(`data.msa_weights`), so each cluster of near-identical homologs counts about once, as in
EVmutation and DeepSequence; `weights=False` draws uniformly. A fixed share of rows, chosen by a
hash of the row name (so a row never changes split between runs), is held out as valid and test.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
from torch.utils.data import Dataset

from protein_performer.constants import ALIGNED_VOCAB_SIZE, CLS_ID, EOS_ID, VOCAB_SIZE
from protein_performer.data.column_order import Direction, check_direction, in_reading_order
from protein_performer.data.msa import MSA, check_trainable, gap_fraction_filter, read_msa
from protein_performer.data.msa_weights import effective_depth, sequence_weights
from protein_performer.data.tokenizer import Alphabet
from protein_performer.paths import CACHE_DIR

View = Literal["aligned", "unaligned"]
SPLITS: tuple[str, ...] = ("train", "valid", "test")


@dataclass(frozen=True)
class FamilyDataConfig:
    """Where the alignment is and how it becomes training items."""

    # Alignment file: aligned FASTA, A2M, A3M or Stockholm (optionally gzipped).
    msa: str
    # "fasta", "a2m", "a3m" or "stockholm"; None detects it from the file.
    msa_format: str | None = None
    # "aligned" (columns as positions, with a gap token) or "unaligned" (gaps removed).
    view: View = "aligned"
    # Order an aligned row's columns are read in (`data.column_order`): "forward" (N→C) or
    # "reverse" (C→N, the other half of a direction ensemble).
    direction: Direction = "forward"
    # Draw training rows by sequence weight (True) or uniformly (False).
    weights: bool = True
    # Identity at or above which two rows count as neighbours for the weights.
    identity_threshold: float = 0.8
    # Drop columns with a larger gap fraction, then rows with a larger one (1.0 keeps all).
    max_col_gaps: float = 1.0
    max_row_gaps: float = 1.0
    # Shares of rows held out, by a hash of the row name.
    valid_fraction: float = 0.025
    test_fraction: float = 0.025
    # Rows kept out of training (put in the test split), by row name (`BPT1_BOVIN/39-91`) or
    # by the entry name before the slash (`BPT1_BOVIN`): e.g. the protein a model is judged on.
    # A list, or one string of comma-separated names (`--data.holdout BPT1_BOVIN,BPT2_BOVIN`).
    holdout: tuple[str, ...] | str = ()
    # Rows per batch, at most, and tokens per batch, at most (rows × the longest item; None:
    # no cap). The cap is PF00595's 128 rows of 84 tokens, so a longer family takes fewer rows
    # a step and its step costs about what the dev families' does.
    batch_size: int = 128
    batch_tokens: int | None = 128 * 84
    mask_prob: float = 0.15
    # Seeds the weighted sampler and the evaluation masks.
    seed: int = 0
    num_workers: int = 0
    # Sequence weights are cached here under a hash of the alignment's tokens.
    cache_dir: str = str(CACHE_DIR / "families")

    def __post_init__(self) -> None:
        if isinstance(self.holdout, str):
            names = tuple(n.strip() for n in self.holdout.split(",") if n.strip())
            object.__setattr__(self, "holdout", names)
        else:
            object.__setattr__(self, "holdout", tuple(self.holdout or ()))
        if self.view not in ("aligned", "unaligned"):
            raise ValueError(f"view must be 'aligned' or 'unaligned', got {self.view!r}")
        check_direction(self.direction)
        if self.direction == "reverse" and self.view != "aligned":
            raise ValueError("direction 'reverse' needs view 'aligned' (it reverses the columns)")
        if self.batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {self.batch_size}")
        if self.batch_tokens is not None and self.batch_tokens < 1:
            raise ValueError(f"batch_tokens must be >= 1 or None, got {self.batch_tokens}")
        if not 0 <= self.valid_fraction + self.test_fraction < 1:
            raise ValueError("valid_fraction + test_fraction must be in [0, 1)")

    @property
    def vocab_size(self) -> int:
        """Vocabulary a model of this view needs: the aligned view adds the gap token."""
        return ALIGNED_VOCAB_SIZE if self.view == "aligned" else VOCAB_SIZE

    def batch_rows(self, item_length: int) -> int:
        """Rows per batch for items of up to `item_length` tokens: `batch_size`, or fewer where
        `batch_tokens` caps rows × length (one row at least)."""
        if self.batch_tokens is None:
            return self.batch_size
        return max(1, min(self.batch_size, self.batch_tokens // max(item_length, 1)))


def split_of(name: str, valid_fraction: float, test_fraction: float) -> str:
    """ "train", "valid" or "test" from a stable hash of the row name."""
    digest = hashlib.blake2b(name.encode(), digest_size=8).digest()
    u = int.from_bytes(digest, "big") / 2**64
    if u < valid_fraction:
        return "valid"
    if u < valid_fraction + test_fraction:
        return "test"
    return "train"


def held_out_rows(names: list[str], holdout: tuple[str, ...], where: str) -> np.ndarray:
    """Indices of the rows named in `holdout` (full name or entry name before `/`)."""
    wanted = set(holdout)
    rows = [i for i, n in enumerate(names) if n in wanted or n.split("/")[0] in wanted]
    found = {names[i] for i in rows} | {names[i].split("/")[0] for i in rows}
    missing = sorted(wanted - found)
    if missing:
        raise ValueError(f"{where}: no row named {missing[0]!r} (--data.holdout)")
    return np.array(rows, dtype=np.int64)


def cached_weights(msa: MSA, threshold: float, cache_dir: str | Path | None) -> np.ndarray:
    """`sequence_weights`, cached on disk under a hash of the tokens and the threshold."""
    if cache_dir is None:
        return sequence_weights(msa.tokens_NC, threshold)
    key = hashlib.blake2b(np.ascontiguousarray(msa.tokens_NC).tobytes(), digest_size=16)
    key.update(f"{threshold:.6f}".encode())
    path = Path(cache_dir) / f"weights-{key.hexdigest()}.npy"
    if path.is_file():
        weights = np.load(path)
        if weights.shape == (msa.depth,):
            return weights
    weights = sequence_weights(msa.tokens_NC, threshold)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".tmp-{np.random.default_rng().integers(1 << 30)}.npy")
    np.save(tmp, weights)
    tmp.replace(path)  # atomic: a killed run never leaves a half-written cache entry
    return weights


class FamilyItems(Dataset):
    """Token arrays of some rows, as `{"tokens", "index"}` items (the collators' input)."""

    def __init__(self, tokens: list[np.ndarray]) -> None:
        self.tokens = tokens

    def __len__(self) -> int:
        return len(self.tokens)

    def __getitem__(self, index: int) -> dict:
        return {"tokens": self.tokens[index], "index": index}


def row_tokens(msa: MSA, view: View, direction: Direction = "forward") -> list[np.ndarray]:
    """Items of every row in `view`, framed by `<cls>` … `<eos>`; aligned columns in the
    reading order of `direction`."""
    if view == "aligned":
        n = msa.depth
        framed_NL = np.empty((n, msa.width + 2), dtype=np.int8)
        framed_NL[:, 0], framed_NL[:, -1] = CLS_ID, EOS_ID
        framed_NL[:, 1:-1] = in_reading_order(msa.tokens_NC, direction)
        return list(framed_NL)
    alphabet = Alphabet(unknown="x")
    return [alphabet.encode(msa.unaligned(i), where=msa.names[i]) for i in range(msa.depth)]


class FamilyAlignment:
    """The alignment of `config.msa` after the gap filters, with each row's weight and split,
    and the training items of each split (see the module docstring)."""

    def __init__(self, config: FamilyDataConfig) -> None:
        self.config = cfg = config
        self.msa: MSA = gap_fraction_filter(
            read_msa(cfg.msa, cfg.msa_format),
            max_row_gaps=cfg.max_row_gaps,
            max_col_gaps=cfg.max_col_gaps,
        )
        check_trainable(self.msa)
        self.weights_N = cached_weights(self.msa, cfg.identity_threshold, cfg.cache_dir)
        self.split_N = np.array(
            [split_of(n, cfg.valid_fraction, cfg.test_fraction) for n in self.msa.names]
        )
        if cfg.holdout:
            self.split_N[held_out_rows(self.msa.names, cfg.holdout, cfg.msa)] = "test"
        tokens = row_tokens(self.msa, cfg.view, cfg.direction)
        self.items: dict[str, FamilyItems] = {
            split: FamilyItems([tokens[i] for i in np.flatnonzero(self.split_N == split)])
            for split in SPLITS
        }

    @property
    def neff(self) -> float:
        return effective_depth(self.weights_N)

    def rows(self, split: str) -> np.ndarray:
        return np.flatnonzero(self.split_N == split)

    def draw_weights(self, split: str = "train") -> np.ndarray:
        """[rows of `split`] how often each row is drawn: its weight, or 1 without weights."""
        rows = self.rows(split)
        return self.weights_N[rows] if self.config.weights else np.ones(len(rows))

    def unigram_counts(self, include_eos: bool = False) -> np.ndarray:
        """Weighted token counts of the training rows (the baseline's distribution)."""
        counts_V = np.zeros(self.config.vocab_size, dtype=np.float64)
        for item, weight in zip(self.items["train"].tokens, self.draw_weights(), strict=True):
            ids = item[1:-1].astype(np.int64)
            counts_V += weight * np.bincount(ids, minlength=len(counts_V))
            if include_eos:
                counts_V[EOS_ID] += weight
        return counts_V
