"""The front door: the README's snippet, save_pretrained/from_pretrained, and the API calls."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

import protein_performer as pp
from protein_performer.data.inputs import CropWarning
from protein_performer.data.tokenizer import InvalidResidueError
from protein_performer.model.io import CheckpointError, load_checkpoint_model
from protein_performer.paths import SHIPPED_CHECKPOINT

REPO = Path(__file__).resolve().parents[2]


def readme_snippet() -> str:
    text = (REPO / "README.md").read_text()
    section = text.split("## Python in three lines", 1)[1]
    return re.search(r"```python\n(.*?)```", section, re.S).group(1)


def test_readme_snippet_is_three_lines_and_embeds_three_sequences(tmp_path):
    code = readme_snippet()
    assert len([ln for ln in code.splitlines() if ln.strip()]) <= 3
    # From another directory, in a fresh interpreter: nothing depends on the working directory.
    probe = code + "print(embeddings.shape)\n"
    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=tmp_path, capture_output=True, text=True, timeout=120,
        env={"PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1", "PATH": ""},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "(3, 128)"


def _logits(model, seed=0):
    tokens_BL = torch.randint(5, 25, (3, 50), generator=torch.Generator().manual_seed(seed))
    with torch.no_grad():
        return model(tokens_BL).logits_BLV


def test_shipped_model_has_identical_logits_in_both_forms():
    assert torch.equal(
        _logits(load_checkpoint_model(SHIPPED_CHECKPOINT)), _logits(pp.load_model())
    )
    assert pp.load_model().config == pp.load_model(SHIPPED_CHECKPOINT).config


@pytest.mark.parametrize("attention", ["favor-relu", "favor-softmax", "exact"])
@pytest.mark.parametrize("tie", [True, False])
def test_from_pretrained_of_save_pretrained_gives_identical_logits(tmp_path, attention, tie):
    model = pp.ProteinPerformer(pp.preset("tiny_l2_d64", attention=attention, tie_embeddings=tie))
    model.redraw_features(torch.Generator().manual_seed(3))  # a projection unlike a fresh draw
    directory = model.save_pretrained(tmp_path / "m")
    assert sorted(p.name for p in directory.iterdir()) == ["config.json", "model.safetensors"]
    loaded = pp.ProteinPerformer.from_pretrained(directory)
    assert torch.equal(_logits(model.eval()), _logits(loaded))
    assert torch.equal(_logits(model), _logits(pp.load_model(directory)))
    if tie:
        assert loaded.lm_head.weight is loaded.token_embedding.weight


def test_from_pretrained_errors_are_one_line(tmp_path):
    model = pp.ProteinPerformer(pp.preset("tiny_l2_d64"))
    directory = model.save_pretrained(tmp_path / "m")
    (directory / "model.safetensors").write_bytes(b"not safetensors")
    with pytest.raises(CheckpointError, match="model.safetensors: not a safetensors") as err:
        pp.from_pretrained(directory)
    assert "\n" not in str(err.value)
    (directory / "config.json").write_text('{"model_type": "bert"}')
    with pytest.raises(CheckpointError, match="not a protein_performer config"):
        pp.from_pretrained(directory)


def test_embed_score_and_batch_converter():
    model = pp.load_model()
    seqs = ["MKTAYIAKQR", "MVLSPADKTNVKAAW", "GSHM"]
    mean = pp.embed(model, seqs)
    assert mean.shape == (3, model.config.d_model)
    per_token = pp.embed(model, seqs, per_token=True)
    assert [x.shape[0] for x in per_token] == [10, 15, 4]
    np.testing.assert_allclose(per_token[1].mean(axis=0), mean[1], rtol=1e-5, atol=1e-6)
    scores = pp.score(model, seqs[:2])
    assert scores.shape == (2,) and np.all(scores < 0)
    labels, strs, tokens_BL = pp.BatchConverter(pp.Alphabet())([("a", "MKV"), ("b", "MK")])
    assert labels == ["a", "b"] and strs == ["MKV", "MK"]
    assert tokens_BL.tolist() == [[2, 15, 13, 22, 3], [2, 15, 13, 3, 0]]


def test_embed_refuses_invalid_letters_and_warns_on_crop():
    model = pp.load_model()
    with pytest.raises(InvalidResidueError, match="position 4"):
        pp.embed(model, ["MKT#J1QL"])
    assert pp.embed(model, ["MKT#J1QL"], unknown="x").shape == (1, 128)
    with pytest.warns(CropWarning, match="1100 residues cropped to the model's 1022"):
        pp.embed(model, ["A" * 1100])
    with pytest.raises(TypeError, match="list of sequences"):
        pp.embed(model, "MKV")


def test_no_sequences_give_empty_results_not_a_stacking_error():
    """An empty batch is a batch: `embed` gives `[0, C]` as `score` gives `[0]` (like
    sentence-transformers' `encode([])` and Hugging Face pipelines, which return empty results)."""
    model = pp.load_model()
    embedded = pp.embed(model, [])
    assert embedded.shape == (0, model.config.d_model) and embedded.dtype == np.float32
    assert pp.embed(model, [], per_token=True) == []
    assert pp.score(model, []).shape == (0,)


def test_no_sequences_give_empty_results_for_an_aligned_model():
    model = pp.load_model("family_pf00595")
    assert pp.embed(model, []).shape == (0, model.config.d_model)
    assert pp.score(model, []).shape == (0,)


def test_generate_takes_zero_samples_and_refuses_a_negative_count(tiny_causal_checkpoint):
    model = pp.load_model(tiny_causal_checkpoint)
    assert pp.generate(model, "MK", n=0, max_length=10) == []
    with pytest.raises(ValueError, match=r"^n must be a whole number of sequences >= 0, got -1$"):
        pp.generate(model, "MK", n=-1)


def test_generate_emits_standard_amino_acids_only(tiny_causal_checkpoint):
    model = pp.load_model(tiny_causal_checkpoint)
    samples = pp.generate(model, "MK", n=8, max_length=40, seed=1)
    assert len(samples) == 8 and all(s.startswith("MK") for s in samples)
    assert set("".join(samples)) <= set("ACDEFGHIKLMNPQRSTVWY")
    # A model that prefers the rare letters shows the flag is what keeps them out.
    with torch.no_grad():
        for letter in "XBZUO":
            model.lm_head.bias[pp.Alphabet().encode(letter, add_special=False)[0]] += 20.0
    assert set("".join(pp.generate(model, "MK", n=4, max_length=30))) <= set(
        "ACDEFGHIKLMNPQRSTVWY"
    )
    rare = "".join(pp.generate(model, "MK", n=4, max_length=30, standard_only=False))
    assert set(rare) & set("XBZUO")


def test_readme_shipped_models_block_runs(tmp_path):
    """The README's block on the shipped models by name: the Kunitz model scores 5PTI's chain
    (placed on its columns by its profile) and samples whole aligned rows."""
    section = (REPO / "README.md").read_text().split("Shipped models by name", 1)[1]
    code = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    probe = "import protein_performer as pp\n" + code.replace(
        "pp.score(", "scores = pp.score("
    ).replace("pp.generate(", "rows = pp.generate(")
    probe += "print(len(scores), len(rows), {len(r) for r in rows})\n"
    probe += "print(len(pp.generate(pp.load_model('protein_performer_causal'), 'MK', n=8)))\n"
    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=tmp_path, capture_output=True, text=True, timeout=120,
        env={"PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1", "PATH": ""},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout.split("\n")[:2] == ["1 2 {53}", "8"]
