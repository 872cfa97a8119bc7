"""Unigram baseline on a toy corpus whose answers can be worked out by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from protein_performer.constants import VOCAB, VOCAB_SIZE
from protein_performer.training.baseline import IGNORE_INDEX, UnigramBaseline, unigram_log_probs
from protein_performer.training.metrics import TokenMetrics
from protein_performer.training.summary import beats_baseline, format_table, write_metrics_json

A, L, K = VOCAB["A"], VOCAB["L"], VOCAB["K"]


def toy_counts() -> np.ndarray:
    # Training corpus "LLLLLLAAAK" x 1000: L 60 %, A 30 %, K 10 % (large, so smoothing is tiny).
    counts = np.zeros(VOCAB_SIZE)
    counts[L], counts[A], counts[K] = 6000, 3000, 1000
    return counts


def test_unigram_log_probs_are_smoothed_frequencies():
    log_p = unigram_log_probs(toy_counts())
    assert log_p.shape == (VOCAB_SIZE,)
    assert math.isclose(float(log_p.exp().sum()), 1.0, rel_tol=1e-6)
    assert math.isclose(float(log_p[L].exp()), 6001 / (10000 + 28), rel_tol=1e-6)
    assert float(log_p[0].exp()) == 0.0  # <pad> is never a label
    with pytest.raises(ValueError, match="shape"):
        unigram_log_probs(np.ones(5))


def test_baseline_scores_a_known_label_set():
    baseline = UnigramBaseline.from_counts(toy_counts())
    assert baseline.argmax_id == L
    # Evaluated labels: L A A K, plus ignored positions.
    labels = torch.tensor([[L, IGNORE_INDEX, A, A], [K, IGNORE_INDEX, IGNORE_INDEX, IGNORE_INDEX]])
    correct, nll, n = baseline.score(labels)
    assert int(correct) == 1 and int(n) == 4  # accuracy = frequency of L among labels = 1/4
    p = {t: c / 10028 for t, c in ((L, 6001), (A, 3001), (K, 1001))}
    expected_nll = -(math.log(p[L]) + 2 * math.log(p[A]) + math.log(p[K]))
    assert math.isclose(float(nll), expected_nll, rel_tol=1e-6)


def test_token_metrics_sum_over_batches_and_beat_the_baseline():
    baseline = UnigramBaseline.from_counts(toy_counts())
    metric = TokenMetrics()
    labels = torch.tensor([L, A, A, K, L])
    perfect = torch.full((5, VOCAB_SIZE), -20.0)
    perfect[torch.arange(5), labels] = 20.0
    metric.update(perfect[:2], labels[:2], baseline)
    metric.update(perfect[2:], labels[2:], baseline)
    result = metric.split_metrics()
    assert result.tokens == 5 and result.accuracy == 1.0 and result.perplexity < 1.001
    assert math.isclose(result.baseline_accuracy, 2 / 5)
    p_a, p_k, p_l = 3001 / 10028, 1001 / 10028, 6001 / 10028
    expected_ppl = math.exp(-(2 * math.log(p_l) + 2 * math.log(p_a) + math.log(p_k)) / 5)
    assert math.isclose(result.baseline_perplexity, expected_ppl, rel_tol=1e-6)
    assert beats_baseline(result) is True
    # Uniform logits: perplexity is the vocabulary size, worse than the baseline.
    metric.reset()
    metric.update(torch.zeros(5, VOCAB_SIZE), labels, baseline)
    uniform = metric.split_metrics()
    assert math.isclose(uniform.perplexity, VOCAB_SIZE, rel_tol=1e-6)
    assert beats_baseline(uniform) is False


def test_summary_table_and_json(tmp_path):
    metric = TokenMetrics()
    metric.update(
        torch.zeros(3, VOCAB_SIZE),
        torch.tensor([L, A, K]),
        UnigramBaseline.from_counts(toy_counts()),
    )
    results = {"valid": metric.split_metrics()}
    table = format_table(results)
    assert "valid" in table and "30.00" in table and "NO" in table
    path = write_metrics_json(tmp_path / "run" / "metrics.json", results, {"global_step": 7})
    import json

    payload = json.loads(path.read_text())
    assert payload["global_step"] == 7
    assert payload["splits"]["valid"]["tokens"] == 3
    assert payload["splits"]["valid"]["beats_baseline"] is False
