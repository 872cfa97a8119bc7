from __future__ import annotations

import math

import pytest

from protein_performer.constants import BOS_ID, VOCAB
from protein_performer.data.fasta import FastaWarning, iter_fasta
from protein_performer.generation.sample_io import (
    FastaRecord,
    PromptError,
    SequenceScore,
    encode_prompt,
    fasta_header,
    parse_header_fields,
    write_fasta,
    write_scores_tsv,
)


def test_encode_prompt_starts_with_bos_and_has_no_eos() -> None:
    assert encode_prompt("MKv").tolist() == [BOS_ID, VOCAB["M"], VOCAB["K"], VOCAB["V"]]
    assert encode_prompt("").tolist() == [BOS_ID]


@pytest.mark.parametrize(
    ("prompt", "position", "char"), [("MK1V", 3, "1"), ("MK V", 3, " "), ("J", 1, "J")]
)
def test_bad_prompt_gets_a_clear_error(prompt: str, position: int, char: str) -> None:
    with pytest.raises(PromptError) as info:
        encode_prompt(prompt, where="--prompt")
    message = str(info.value)
    assert message.startswith("--prompt:")
    assert f"position {position}" in message and repr(char) in message


def test_header_round_trip() -> None:
    fields = {"checkpoint": "runs/my run/last.ckpt", "top_k": None, "top_p": 0.9, "seed": 3}
    header = fasta_header("sample_1", fields)
    assert header.split()[:2] == ["sample_1", "checkpoint=runs/my%20run/last.ckpt"]
    assert parse_header_fields(header) == {
        "checkpoint": "runs/my run/last.ckpt",
        "top_k": "none",
        "top_p": "0.9",
        "seed": "3",
    }


def test_fasta_written_wrapped_reads_back(tmp_path) -> None:
    records = [FastaRecord("a x=1", "M" * 130), FastaRecord("b x=2", "ACDE"), FastaRecord("c", "")]
    path = write_fasta(tmp_path / "out" / "s.fasta", records)
    lines = path.read_text().splitlines()
    assert lines[:4] == [">a x=1", "M" * 60, "M" * 60, "M" * 10]
    with pytest.warns(FastaWarning, match="no residues"):  # the empty record "c"
        read = [(r.header, r.sequence) for r in iter_fasta(path)]
    assert read == [("a x=1", "M" * 130), ("b x=2", "ACDE")]


def test_scores_tsv(tmp_path) -> None:
    score = SequenceScore(id="sp|P1|X", length=3, log_likelihood=-4 * math.log(20), n_predicted=4)
    assert score.perplexity == pytest.approx(20.0)
    text = write_scores_tsv(tmp_path / "s.tsv", [score]).read_text().splitlines()
    assert text[0].split("\t") == [
        "id",
        "length",
        "log_likelihood",
        "mean_log_likelihood",
        "perplexity",
    ]
    row = text[1].split("\t")
    assert row[0] == "sp|P1|X" and row[1] == "3" and float(row[4]) == pytest.approx(20.0)
