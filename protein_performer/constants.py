"""The one residue table of the project.

Every other module takes its token ids from here; tests assert the exact ids, so changing
this table breaks every saved dataset and checkpoint on purpose.

Layout (30 tokens):
    0-4    specials: <pad> <mask> <cls> <eos> <unk>   (<cls> doubles as BOS)
    5-24   the 20 standard amino acids, in alphabetical one-letter order
    25-29  anomalous IUPAC letters: X (any), B (D/N), Z (E/Q), U (selenocysteine), O (pyrrolysine)

Aligned family models (`data.msa`) read alignment columns, where a row may have a gap: their
vocabulary `ALIGNED_VOCAB` is this table with the gap `-` appended as id 30, so every other id
is the same in both and a general checkpoint's weights carry over to a family model.
"""

from __future__ import annotations

PAD, MASK, CLS, EOS, UNK = "<pad>", "<mask>", "<cls>", "<eos>", "<unk>"
SPECIAL_TOKENS: tuple[str, ...] = (PAD, MASK, CLS, EOS, UNK)

# Alphabetical one-letter codes, as in TAPE's IUPAC vocabulary and BLOSUM62 look-ups.
STANDARD_AMINO_ACIDS: tuple[str, ...] = (
    "A", "C", "D", "E", "F", "G", "H", "I", "K", "L",
    "M", "N", "P", "Q", "R", "S", "T", "V", "W", "Y",
)  # fmt: skip
ANOMALOUS_AMINO_ACIDS: tuple[str, ...] = ("X", "B", "Z", "U", "O")

# The literal vocabulary: token -> id. Written out, not generated, so a diff shows any change.
VOCAB: dict[str, int] = {
    "<pad>": 0, "<mask>": 1, "<cls>": 2, "<eos>": 3, "<unk>": 4,
    "A": 5, "C": 6, "D": 7, "E": 8, "F": 9, "G": 10, "H": 11, "I": 12, "K": 13, "L": 14,
    "M": 15, "N": 16, "P": 17, "Q": 18, "R": 19, "S": 20, "T": 21, "V": 22, "W": 23, "Y": 24,
    "X": 25, "B": 26, "Z": 27, "U": 28, "O": 29,
}  # fmt: skip

PAD_ID, MASK_ID, CLS_ID, EOS_ID, UNK_ID = (VOCAB[t] for t in SPECIAL_TOKENS)
BOS_ID = CLS_ID
VOCAB_SIZE = len(VOCAB)
STANDARD_IDS: tuple[int, ...] = tuple(VOCAB[a] for a in STANDARD_AMINO_ACIDS)
AMINO_ACID_IDS: tuple[int, ...] = STANDARD_IDS + tuple(VOCAB[a] for a in ANOMALOUS_AMINO_ACIDS)
ID_TO_TOKEN: tuple[str, ...] = tuple(sorted(VOCAB, key=VOCAB.__getitem__))

GAP = "-"
ALIGNED_VOCAB: dict[str, int] = {**VOCAB, GAP: VOCAB_SIZE}
GAP_ID = ALIGNED_VOCAB[GAP]
ALIGNED_VOCAB_SIZE = len(ALIGNED_VOCAB)

assert ID_TO_TOKEN[: len(SPECIAL_TOKENS)] == SPECIAL_TOKENS
assert list(VOCAB.values()) == list(range(VOCAB_SIZE))
