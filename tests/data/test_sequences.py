import numpy as np
import pyarrow as pa
import pytest
import torch
from datasets import Dataset

from protein_performer.constants import CLS_ID, EOS_ID
from protein_performer.data.sequences import (
    ConcatChunkDataset,
    SingleSequenceDataset,
    chunk_starts,
)
from protein_performer.data.shards import FEATURES


def _split(lengths, seed=0):
    rng = np.random.default_rng(seed)
    seqs = [rng.integers(5, 30, size=n).astype(np.int8) for n in lengths]
    table = {
        "accession": [f"A{i}" for i in range(len(seqs))],
        "taxon_id": [1] * len(seqs),
        "length": list(lengths),
        "tokens": [s.tolist() for s in seqs],
    }
    return Dataset(pa.table(table, schema=FEATURES.arrow_schema)), seqs


@pytest.mark.parametrize("chunk_len", [1, 7, 64, 10_000])
def test_concat_chunking_is_lossless(chunk_len):
    lengths = [5, 1, 64, 63, 200, 3, 17]
    split, seqs = _split(lengths)
    dataset = ConcatChunkDataset(split, chunk_len)
    chunks = [dataset[i]["tokens"] for i in range(len(dataset))]
    assert all(len(c) == chunk_len for c in chunks[:-1])
    assert 0 < len(chunks[-1]) <= chunk_len
    assert [len(c) for c in chunks] == dataset.item_lengths().tolist()
    stream = np.concatenate(chunks)
    expected = np.concatenate([np.r_[s, EOS_ID] for s in seqs]).astype(np.int8)
    assert np.array_equal(stream, expected)
    proteins = np.split(stream, np.flatnonzero(stream == EOS_ID) + 1)[:-1]
    assert [p[:-1].tolist() for p in proteins] == [s.tolist() for s in seqs]


def test_chunk_starts_blocks_agree_with_a_direct_cumsum():
    lengths = np.random.default_rng(3).integers(1, 50, size=5000)
    seq, off = chunk_starts(lengths, 97)
    ends = np.cumsum(lengths + 1)
    bounds = np.arange(len(seq)) * 97
    assert len(seq) == -(-ends[-1] // 97)
    assert np.array_equal(seq, np.searchsorted(ends, bounds, side="right"))
    assert np.array_equal(off, bounds - (ends[seq] - lengths[seq] - 1))


def test_single_mode_frames_and_crops():
    split, seqs = _split([3, 50])
    evaluation = SingleSequenceDataset(split, max_len=10, random_crop=False)
    assert evaluation[0]["tokens"].tolist() == [CLS_ID, *seqs[0].tolist(), EOS_ID]
    assert evaluation[1]["tokens"].tolist() == [CLS_ID, *seqs[1][:9].tolist()]
    assert evaluation.item_lengths().tolist() == [5, 10]
    training = SingleSequenceDataset(split, max_len=10, random_crop=True)
    framed = [CLS_ID, *seqs[1].tolist(), EOS_ID]
    torch.manual_seed(0)
    starts = set()
    for _ in range(200):
        window = training[1]["tokens"].tolist()
        assert len(window) == 10
        start = next(s for s in range(len(framed) - 9) if framed[s : s + 10] == window)
        starts.add(start)
    assert len(starts) > 20  # the window moves
