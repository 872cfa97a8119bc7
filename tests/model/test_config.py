"""PerformerConfig: validation, presets named by size, plain-dict round trip."""

from __future__ import annotations

import dataclasses
import re

import pytest
import torch

from protein_performer.constants import VOCAB_SIZE
from protein_performer.model.config import PRESETS, PerformerConfig, preset
from protein_performer.model.performer import ProteinPerformer


def test_defaults_are_the_paper_protein_model():
    cfg = PerformerConfig()
    assert (cfg.n_heads, cfg.n_layers, cfg.d_ff, cfg.d_model, cfg.max_len) == (
        8,
        36,
        1024,
        512,
        1024,
    )
    assert cfg.attention == "favor-relu" and cfg.objective == "mlm" and cfg.n_features == 256
    assert cfg.vocab_size == VOCAB_SIZE and cfg.dropout == 0.1 and not cfg.causal


def test_paper_presets_match_appendix_c():
    protein = PRESETS["paper_protein_l36_d512"]
    concat = PRESETS["paper_concat_l6_d512"]
    assert (protein.n_heads, protein.n_layers, protein.d_ff, protein.d_model) == (8, 36, 1024, 512)
    assert protein.max_len == 1024
    assert (concat.n_heads, concat.n_layers, concat.d_ff, concat.d_model) == (8, 6, 2048, 512)
    assert concat.max_len == 8192


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_preset_names_say_their_size(name):
    cfg = PRESETS[name]
    match = re.search(r"_l(\d+)_d(\d+)$", name)
    assert match, name
    assert (int(match.group(1)), int(match.group(2))) == (cfg.n_layers, cfg.d_model)


def test_frozen_and_validated():
    cfg = preset("tiny_l2_d64")
    with pytest.raises(dataclasses.FrozenInstanceError):
        cfg.d_model = 3  # type: ignore[misc]
    with pytest.raises(ValueError, match="attention"):
        cfg.replace(attention="linformer")
    with pytest.raises(ValueError, match="objective"):
        cfg.replace(objective="span")
    with pytest.raises(ValueError, match="divisible"):
        cfg.replace(d_model=66)
    with pytest.raises(KeyError, match="unknown preset"):
        preset("huge_l99_d9999")


def test_dict_round_trip_is_plain_and_strict():
    cfg = preset("tiny_l2_d64", attention="exact", objective="causal")
    values = cfg.to_dict()
    assert all(isinstance(v, (int, float, str, bool)) for v in values.values())
    assert PerformerConfig.from_dict(values) == cfg and cfg.causal
    with pytest.raises(ValueError, match="unknown PerformerConfig fields"):
        PerformerConfig.from_dict({**values, "rotary": True})


def test_cpu_presets_are_small_enough_to_train_on_a_cpu():
    sizes = {}
    for name in ("tiny_l2_d64", "cpu_l4_d128", "mid_l8_d256"):
        with torch.device("meta"):
            sizes[name] = ProteinPerformer(PRESETS[name]).num_parameters()
    assert sizes["tiny_l2_d64"] < 200_000 < sizes["cpu_l4_d128"] < 2_000_000 < sizes["mid_l8_d256"]
