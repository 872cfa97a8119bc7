"""Helpers that test modules import (`from tests.helpers import ...`; pytest puts the
repository root on the path, see pyproject): a small real FASTA, a tiny real training run, a
callback that simulates a crash, and the one definition of a clean error of a command. The
fixtures of `tests/conftest.py` are built on them.
"""

from __future__ import annotations

import gzip
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import lightning as L

from protein_performer.paths import UNIPROT_SAMPLE

N_HEAD_RECORDS = 300
N_EXTRA_OOD = 12


def _records(path: Path):
    header, lines = None, []
    with gzip.open(path, "rt") as handle:
        for line in handle:
            line = line.rstrip("\n")
            if line.startswith(">"):
                if header is not None:
                    yield header, "".join(lines)
                header, lines = line, []
            elif line:
                lines.append(line)
    if header is not None:
        yield header, "".join(lines)


def write_tiny_fasta(out: Path) -> Path:
    from protein_performer.data.prepare import DEFAULT_OOD_TAXA

    ood_tags = tuple(f" OX={taxon} " for taxon in DEFAULT_OOD_TAXA)
    chosen, extra = [], 0
    for i, (header, sequence) in enumerate(_records(UNIPROT_SAMPLE)):
        if i < N_HEAD_RECORDS:
            chosen.append((header, sequence))
        elif any(tag in header + " " for tag in ood_tags):
            chosen.append((header, sequence))
            extra += 1
        if i >= N_HEAD_RECORDS and extra >= N_EXTRA_OOD:
            break
    with open(out, "w") as handle:
        for header, sequence in chosen:
            handle.write(f"{header}\n{sequence}\n")
    return out


def train_tiny(
    run_dir: Path,
    fasta: Path,
    cache_dir: Path,
    objective: str = "mlm",
    attention: str = "favor-relu",
    max_steps: int = 6,
) -> Path:
    """Train `tiny_l2_d64` for `max_steps` with a real Trainer; returns checkpoints/last.ckpt."""
    import lightning as L

    from protein_performer.data.datamodule import ProteinDataModule
    from protein_performer.model.config import preset
    from protein_performer.training.lit_module import OptimConfig, ProteinLM
    from protein_performer.training.run import TrainerConfig, build_trainer

    L.seed_everything(0, verbose=False)
    datamodule = ProteinDataModule(
        fasta=str(fasta), cache_dir=str(cache_dir), objective=objective, max_len=64,
        batch_size=8, eval_max_sequences=16,
    )  # fmt: skip
    module = ProteinLM(
        preset("tiny_l2_d64", attention=attention, objective=objective),
        OptimConfig(warmup_steps=2),
    )
    trainer_cfg = TrainerConfig(
        max_steps=max_steps, val_check_interval=max_steps, checkpoint_every_n_steps=max_steps,
        log_every_n_steps=1, accelerator="cpu", devices=1, redraw_every_n_steps=2,
        enable_progress_bar=False,
    )  # fmt: skip
    trainer = build_trainer(trainer_cfg, run_dir)
    trainer.fit(module, datamodule=datamodule)
    last = run_dir / "checkpoints" / "last.ckpt"
    assert last.is_file(), f"{last} was not written"
    return last


class KillAt(L.Callback):
    """Simulates a crash: raises before training batch `step` starts."""

    def __init__(self, step: int) -> None:
        self.step = step

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx):
        if trainer.global_step == self.step:
            raise RuntimeError("killed")


@dataclass(frozen=True)
class CommandOutcome:
    """How a command's `main(argv)` ended, as its user would have seen it."""

    code: int | None  # the exit status; None when an exception escaped (a traceback)
    stderr: str
    error: BaseException | None  # the exception that escaped, if any


def run_command(main: Callable[[list[str]], int], argv: Sequence[str], capsys) -> CommandOutcome:
    """Run a command in-process, capturing its stderr; an exception escaping `main` is exactly
    what would have been a traceback (SystemExit is an exit status, as for a console script)."""
    capsys.readouterr()
    try:
        code = main(list(argv))
    except SystemExit as exit_:  # argparse / jsonargparse usage errors
        code = exit_.code if isinstance(exit_.code, int) else 1
    except BaseException as error:  # noqa: BLE001 - the traceback a clean error must not be
        return CommandOutcome(None, capsys.readouterr().err, error)
    return CommandOutcome(code, capsys.readouterr().err, None)


def clean_error_problem(outcome: CommandOutcome, names: str) -> str:
    """What keeps `outcome` from being a clean error naming `names`; "" when it is one.

    A clean error: exit status 2 and exactly one non-empty stderr line, `prog: error: ...`,
    naming the file or flag at fault (`names`); no exception escaping, no traceback and no
    warning printed before it. The text starts with the kind of failure: "traceback",
    "wrong success" or "unclear".
    """
    if outcome.error is not None:
        return f"traceback: {type(outcome.error).__name__}: {outcome.error}"
    if outcome.code == 0:
        return "wrong success: exit 0"
    lines = [line for line in outcome.stderr.splitlines() if line.strip()]
    if outcome.code != 2:
        return f"unclear: exit status {outcome.code}, not 2; stderr {lines[-3:]}"
    if any("Traceback" in line for line in lines):
        return f"traceback: printed on stderr: {lines[-3:]}"
    if len(lines) != 1:
        return f"unclear: {len(lines)} stderr lines, not one: {lines[-3:]}"
    if ": error: " not in lines[0] or names not in lines[0]:
        return f"unclear: the message does not name {names!r}: {lines[0]!r}"
    return ""


def assert_clean_error(outcome: CommandOutcome, names: str) -> None:
    """Fail unless `outcome` is a clean error naming `names` (see `clean_error_problem`)."""
    problem = clean_error_problem(outcome, names)
    assert not problem, problem


def assert_case_names(names: Sequence[str], at_least: int) -> None:
    """A parametrised battery's case names: at least `at_least` of them, no two alike (each is
    a test id)."""
    assert len(names) >= at_least
    assert len(set(names)) == len(names), "two cases share a name"


def aligned_model(info, objective: str = "mlm"):
    """A small untrained aligned family model (2 layers, 32 wide) over `info`'s columns."""
    import torch

    from protein_performer.constants import ALIGNED_VOCAB_SIZE
    from protein_performer.model.config import PerformerConfig
    from protein_performer.model.performer import ProteinPerformer

    torch.manual_seed(0)
    config = PerformerConfig(
        vocab_size=ALIGNED_VOCAB_SIZE, max_len=info.n_columns + 2, d_model=32, n_heads=2,
        n_layers=2, d_ff=64, dropout=0.0, objective=objective, n_features=16,
    )  # fmt: skip
    model = ProteinPerformer(config).eval()
    model.family_info = info
    return model
