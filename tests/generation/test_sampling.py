from __future__ import annotations

import pytest
import torch

from protein_performer.constants import AMINO_ACID_IDS, EOS_ID, STANDARD_IDS, VOCAB_SIZE
from protein_performer.generation.sampling import (
    SamplingConfig,
    allowed_token_mask,
    filter_logits,
    sample_next,
    top_k_filter,
    top_p_filter,
)


def _kept(logits: torch.Tensor) -> list[int]:
    return torch.isfinite(logits).nonzero().flatten().tolist()


def test_top_k_keeps_the_k_largest() -> None:
    logits = torch.tensor([[0.1, 2.0, -1.0, 3.0, 0.5]])
    assert _kept(top_k_filter(logits, 2)[0]) == [1, 3]
    assert _kept(top_k_filter(logits, 0)[0]) == [0, 1, 2, 3, 4]


@pytest.mark.parametrize(
    ("p", "kept"), [(0.5, [0]), (0.7, [0, 1]), (0.81, [0, 1, 2]), (1.0, [0, 1, 2, 3])]
)
def test_top_p_keeps_smallest_prefix_reaching_p(p: float, kept: list[int]) -> None:
    logits = torch.tensor([[0.5, 0.3, 0.15, 0.05]]).log()
    assert _kept(top_p_filter(logits, p)[0]) == kept


def test_top_p_works_on_unsorted_rows_independently() -> None:
    logits = torch.tensor([[0.05, 0.15, 0.3, 0.5], [0.5, 0.3, 0.15, 0.05]]).log()
    filtered = top_p_filter(logits, 0.7)
    assert _kept(filtered[0]) == [2, 3] and _kept(filtered[1]) == [0, 1]


def test_temperature_zero_is_greedy_and_respects_allowed_tokens() -> None:
    logits = torch.zeros(2, VOCAB_SIZE)
    logits[:, 0] = 10.0  # PAD is the argmax but never allowed
    logits[0, 7], logits[1, 12] = 5.0, 5.0
    out = sample_next(logits, SamplingConfig(temperature=0.0), None, allowed_token_mask())
    assert out.tolist() == [7, 12]


def test_samples_follow_the_tempered_distribution() -> None:
    logits = torch.zeros(1, VOCAB_SIZE)
    logits[0, 5], logits[0, 6] = 1.0, 0.0
    allowed = torch.zeros(VOCAB_SIZE, dtype=torch.bool)
    allowed[[5, 6]] = True
    gen = torch.Generator().manual_seed(0)
    config = SamplingConfig(temperature=0.5)
    draws = torch.stack([sample_next(logits, config, gen, allowed) for _ in range(4000)])
    expected = torch.softmax(torch.tensor([2.0, 0.0]), dim=0)[0].item()  # logits / T
    assert abs((draws == 5).float().mean().item() - expected) < 0.03


def test_same_seed_same_draws_and_only_allowed_tokens() -> None:
    logits = torch.randn(64, VOCAB_SIZE, generator=torch.Generator().manual_seed(1))
    config = SamplingConfig(temperature=1.3, top_k=20, top_p=0.95)

    def draw(seed: int) -> torch.Tensor:
        gen = torch.Generator().manual_seed(seed)
        return torch.stack(
            [sample_next(logits, config, gen, allowed_token_mask()) for _ in range(5)]
        )

    a, b, c = draw(7), draw(7), draw(8)
    assert torch.equal(a, b) and not torch.equal(a, c)
    assert set(a.flatten().tolist()) <= set(AMINO_ACID_IDS) | {EOS_ID}


def test_filter_logits_masks_eos_when_not_allowed() -> None:
    filtered = filter_logits(
        torch.zeros(1, VOCAB_SIZE), SamplingConfig(), allowed_token_mask(allow_eos=False)
    )
    assert _kept(filtered[0]) == sorted(STANDARD_IDS)
    everything = allowed_token_mask(allow_eos=False, standard_only=False)
    assert _kept(filter_logits(torch.zeros(1, VOCAB_SIZE), SamplingConfig(), everything)[0]) == (
        sorted(AMINO_ACID_IDS)
    )


@pytest.mark.parametrize(
    "bad",
    [
        dict(temperature=-1.0),
        dict(temperature=float("nan")),
        dict(temperature=float("inf")),
        dict(top_k=-2),
        dict(top_p=0.0),
        dict(top_p=1.5),
        dict(top_p=float("nan")),
    ],
)
def test_invalid_config_is_refused(bad: dict) -> None:
    with pytest.raises(ValueError):
        SamplingConfig(**bad)
