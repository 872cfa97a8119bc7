"""Bad-input battery over the inference commands: every case must end in a clean error
(`tests.helpers.clean_error_problem`: exit status 2 and exactly one stderr line naming the file
or flag at fault), never a traceback, and never a silent success. One case per test id: `-k`
reruns a few.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import pytest
import torch

from protein_performer.cli import main as dispatch
from tests.helpers import assert_case_names, assert_clean_error, run_command


@dataclass(frozen=True)
class Case:
    name: str
    argv: tuple[str, ...]
    names: str  # the file name or flag the one-line message must contain


# The bad checkpoints, each a file `<label>.ckpt` under `Paths.ckpts` ("missing" is never
# written, "directory" is the folder itself).
CHECKPOINT_LABELS = ("plain_dict", "random_bytes", "empty", "wrong_state", "pickle",
                     "int_state", "bad_config", "missing", "directory")  # fmt: skip


@dataclass(frozen=True)
class Paths:
    """Where the battery's inputs lie; `write_inputs` makes them."""

    tmp: Path
    mlm: Path  # a good MLM checkpoint
    causal: Path  # a good causal checkpoint

    @property
    def ckpts(self) -> Path:
        return self.tmp / "ckpts"

    def checkpoint(self, label: str) -> Path:
        return self.ckpts if label == "directory" else self.ckpts / f"{label}.ckpt"

    def fasta(self, label: str) -> Path:
        return {"missing": self.tmp / "nope.fasta", "directory": self.tmp / "adir"}.get(
            label, self.tmp / f"{label}.fasta"
        )


class _Pwn:
    # Stands in for a malicious pickle: loading it would call a function (harmless here);
    # weights_only refuses the global before anything runs.
    def __reduce__(self):
        return (os.getpid, ())


def write_inputs(p: Paths) -> None:
    from protein_performer.model.config import preset

    p.fasta("good").write_text(">a\nMKTAYIAKQR\n")
    p.fasta("empty").write_text("")
    p.fasta("invalid").write_text(">bad\nMKT#J1QL\n")
    p.fasta("directory").mkdir()
    p.ckpts.mkdir()
    torch.save({"hello": 1}, p.checkpoint("plain_dict"))
    p.checkpoint("random_bytes").write_bytes(os.urandom(4096))
    p.checkpoint("empty").write_bytes(b"")
    config = preset("tiny_l2_d64", objective="causal").to_dict()
    wrong = {"hyper_parameters": {"model": config}, "state_dict": {"model.x": torch.zeros(2)}}
    torch.save(wrong, p.checkpoint("wrong_state"))
    torch.save({"state_dict": _Pwn()}, p.checkpoint("pickle"))
    torch.save({"hyper_parameters": {"model": config}, "state_dict": 5}, p.checkpoint("int_state"))
    bad_config = {"hyper_parameters": {"model": {"n_layers": "x", "bogus": 1}}}
    torch.save(bad_config, p.checkpoint("bad_config"))


def cases(p: Paths) -> list[Case]:
    """The cases; their names and messages depend on file names only, not on where `p` is."""
    tmp, good, adir = p.tmp, str(p.fasta("good")), str(p.fasta("directory"))
    out: list[Case] = []
    for label in CHECKPOINT_LABELS:
        ckpt = p.checkpoint(label)
        c = str(ckpt)
        out += [
            Case(f"analyze ckpt {label}", ("analyze", "--checkpoint", c, "--out", str(tmp)),
                 ckpt.name),
            Case(f"embed ckpt {label}", ("embed", "--fasta", good, "--out",
                 str(tmp / "e.npz"), "--checkpoint", c), ckpt.name),
            Case(f"mutations ckpt {label}", ("mutations", "--sequence", "MKV", "--scan",
                 "--checkpoint", c), ckpt.name),
            Case(f"generate ckpt {label}", ("generate", "--checkpoint", c, "--num-samples", "1"),
                 ckpt.name),
            Case(f"score ckpt {label}", ("score", "--checkpoint", c, "--fasta", good,
                 "--out", str(tmp / "s.tsv")), ckpt.name),
        ]  # fmt: skip
    m, k = ("--checkpoint", str(p.mlm)), ("--checkpoint", str(p.causal))
    for label in ("missing", "directory", "empty"):
        fasta = p.fasta(label)
        f = str(fasta)
        out += [
            Case(f"embed fasta {label}", ("embed", "--fasta", f, "--out", str(tmp / "e.npz"), *m),
                 fasta.name),
            Case(f"mutations fasta {label}", ("mutations", "--fasta", f, "--scan", *m),
                 fasta.name),
            Case(f"score fasta {label}", ("score", "--fasta", f, "--out", str(tmp / "s.tsv"), *k),
                 fasta.name),
        ]  # fmt: skip
    out += [
        Case("mutations empty --sequence", ("mutations", "--sequence", "", "--scan", *m),
             "--sequence"),
        Case("mutations invalid letters", ("mutations", "--sequence", "MKT#J", "--scan", *m),
             "position 4"),
        Case("mutations too long", ("mutations", "--sequence", "A" * 300, "--scan", *m),
             "max_len"),
        Case("embed invalid letters", ("embed", "--fasta", str(p.fasta("invalid")), "--out",
             str(tmp / "e.npz"), *m), "position 4"),
        Case("embed --out directory", ("embed", "--fasta", good, "--out", adir, *m), "--out"),
        Case("embed --out .h5", ("embed", "--fasta", good, "--out", str(tmp / "x.h5"), *m),
             "--out"),
        Case("generate --out directory", ("generate", *k, "--out", adir), "--out"),
        Case("score --out directory", ("score", *k, "--fasta", good, "--out", adir), "--out"),
        Case("mutations --out directory", ("mutations", "--sequence", "MKV", "--scan", *m,
             "--out", adir), "--out"),
        Case("generate --temperature nan", ("generate", *k, "--temperature", "nan"),
             "--temperature"),
        Case("generate --top-p nan", ("generate", *k, "--top-p", "nan"), "--top-p"),
        Case("generate MLM checkpoint", ("generate", *m), "causal"),
        Case("generate --max-length too long", ("generate", *k, "--max-length", "9999"),
             "--max-length"),
        Case("generate --prompt past --max-length", ("generate", *k, "--prompt", "MKV",
             "--max-length", "3"), "--max-length"),
        Case("analyze --n-train-structures 0", ("analyze", *m, "--n-train-structures", "0"),
             "--n-train-structures"),
        Case("analyze --l1-c -1", ("analyze", *m, "--l1-c", "-1"), "--l1-c"),
        Case("analyze --n-sequences 0", ("analyze", *m, "--n-sequences", "0"), "--n-sequences"),
        Case("analyze --out -", ("analyze", *m, "--out", "-"), "--out"),
    ]  # fmt: skip
    return out


# The case names, known at collection time: any root gives the same names.
CASE_NAMES = [case.name for case in cases(Paths(Path("tmp"), Path("mlm"), Path("causal")))]


@pytest.fixture(scope="module")
def inputs(tmp_path_factory, tiny_checkpoint, tiny_causal_checkpoint) -> Paths:
    paths = Paths(tmp_path_factory.mktemp("bad_inputs"), tiny_checkpoint, tiny_causal_checkpoint)
    write_inputs(paths)
    return paths


def test_battery_has_its_cases():
    assert_case_names(CASE_NAMES, at_least=60)


@pytest.mark.parametrize("name", CASE_NAMES)
def test_bad_input(name, inputs, capsys):
    case = next(case for case in cases(inputs) if case.name == name)
    assert_clean_error(run_command(dispatch, case.argv, capsys), case.names)


def test_long_sequences_are_cropped_with_a_warning(tiny_checkpoint, tmp_path, capsys):
    import numpy as np

    fasta = tmp_path / "long.fasta"
    fasta.write_text(">long\n" + "A" * 300 + "\n")
    out = tmp_path / "e.npz"
    argv = [
        "embed",
        "--fasta",
        str(fasta),
        "--out",
        str(out),
        "--checkpoint",
        str(tiny_checkpoint),
    ]
    assert dispatch(argv) == 0
    err = capsys.readouterr().err
    assert "warning:" in err and "300 residues cropped to the model's 254" in err
    assert len(str(np.load(out)["sequences"][0])) == 254


def test_embed_out_dash_writes_the_npz_to_stdout(tiny_checkpoint, tmp_path, capsysbinary):
    import io

    import numpy as np

    fasta = tmp_path / "in.fasta"
    fasta.write_text(">a\nMKTAYIAK\n")
    argv = ["embed", "--fasta", str(fasta), "--out", "-", "--checkpoint", str(tiny_checkpoint)]
    assert dispatch(argv) == 0
    data = np.load(io.BytesIO(capsysbinary.readouterr().out))
    assert data["mean"].shape == (1, 64) and str(data["checkpoint"]) == str(tiny_checkpoint)


@pytest.mark.parametrize("command", ["score", "mutations", "generate"])
def test_out_dash_means_stdout(command, tiny_checkpoint, tiny_causal_checkpoint, tmp_path, capsys,
                               monkeypatch):  # fmt: skip
    fasta = tmp_path / "in.fasta"
    fasta.write_text(">a\nMKTAYIAK\n")
    monkeypatch.chdir(tmp_path)
    argv = {
        "score": ["score", "--checkpoint", str(tiny_causal_checkpoint), "--fasta", str(fasta)],
        "mutations": ["mutations", "--sequence", "MKV", "--scan", "--checkpoint",
                      str(tiny_checkpoint)],
        "generate": ["generate", "--checkpoint", str(tiny_causal_checkpoint), "--num-samples",
                     "2", "--max-length", "20"],
    }[command]  # fmt: skip
    assert dispatch([*argv, "--out", "-"]) == 0
    stdout = capsys.readouterr().out
    assert stdout.startswith("# checkpoint:" if command != "generate" else ">sample_1")
    assert not (tmp_path / "-").exists()


def test_debug_env_shows_the_traceback(tmp_path, monkeypatch):
    monkeypatch.setenv("PROTEIN_PERFORMER_DEBUG", "1")
    with pytest.raises(Exception, match="no such checkpoint file"):
        dispatch(["mutations", "--sequence", "MKV", "--scan", "--checkpoint", str(tmp_path / "x")])


# A usage error of each command's parser, before any work: exit status 2 and one stderr line
# naming what is wrong (the usage block is for `--help`).
PARSER_CASES = [
    *[(command, [command, "--bogus-flag"], "--bogus-flag") for command in
      ("prepare", "train", "analyze", "family")],
    # Commands with required flags name the missing ones first.
    ("msa", ["msa", "--bogus-flag"], "--query"),
    ("embed", ["embed", "--bogus-flag"], "--out"),
    ("mutations", ["mutations", "--bogus-flag"], "--sequence"),
    ("dms", ["dms", "--bogus-flag"], "--checkpoint"),
    ("generate", ["generate", "--bogus-flag"], "--checkpoint"),
    ("score", ["score", "--bogus-flag"], "--fasta"),
    ("bench", ["bench", "attention", "--bogus-flag"], "--bogus-flag"),
    ("bench-unknown", ["bench", "nope"], "'nope'"),
    ("unknown-command", ["nope"], "'nope'"),
    ("prepare-switch", ["prepare", "--force", "maybe"], "--force"),
    ("msa-switch", ["msa", "--force", "maybe"], "--force"),
    ("train-switch", ["train", "--resume", "maybe"], "resume"),
    ("family-switch", ["family", "--overwrite", "maybe"], "overwrite"),
    ("dms-required", ["dms"], "--checkpoint"),
    ("mutations-exclusive", ["mutations", "--sequence", "MKV", "--fasta", "x.fa"], "--fasta"),
]  # fmt: skip


@pytest.mark.parametrize("case", PARSER_CASES, ids=[c[0] for c in PARSER_CASES])
def test_parser_errors_are_one_line(case, capsys):
    _, argv, names = case
    assert_clean_error(run_command(dispatch, argv, capsys), names)
