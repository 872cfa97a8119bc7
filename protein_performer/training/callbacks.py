"""Training-time side effects, kept out of `forward`, which has none.

`FeatureRedraw` redraws the FAVOR random projections every N optimizer steps, as the paper
does during training (Choromanski et al. 2021, §4.2 and Appendix C: redrawing features avoids
being stuck with one unlucky draw). Its seeded `torch.Generator` lives in the callback's state
dict, so a run resumed from a checkpoint continues the very same sequence of draws; the current
projections themselves are buffers of the model (`projection_MD`) and travel in its state dict.
"""

from __future__ import annotations

from typing import Any

import lightning as L
import torch
from lightning.pytorch.callbacks import Callback


class FeatureRedraw(Callback):
    """Redraw every layer's projection after each `every_n_steps`-th optimizer step.

    `every_n_steps=0` fixes the features: nothing is ever redrawn, so evaluation and analysis
    see the projections stored in the checkpoint. Redraws happen in training only; validation
    and test always use the features of the current step. Every DDP process seeds the same
    generator, so all replicas hold identical projections without communication.
    """

    def __init__(self, every_n_steps: int = 1000, seed: int = 0) -> None:
        if every_n_steps < 0:
            raise ValueError(f"every_n_steps must be >= 0, got {every_n_steps}")
        self.every_n_steps = every_n_steps
        self.seed = seed
        self.generator = torch.Generator().manual_seed(seed)
        self.n_redraws = 0
        # The optimizer step at which we last redrew, so gradient accumulation (several
        # batch-ends per optimizer step) never redraws twice.
        self.last_redraw_step = -1

    @property
    def state_key(self) -> str:
        return self._generate_state_key(every_n_steps=self.every_n_steps, seed=self.seed)

    def on_train_batch_end(
        self,
        trainer: L.Trainer,
        pl_module: L.LightningModule,
        outputs: Any,
        batch: Any,
        batch_idx: int,
    ) -> None:
        step = trainer.global_step
        if self.every_n_steps <= 0 or step == 0 or step == self.last_redraw_step:
            return
        if step % self.every_n_steps == 0:
            model = getattr(pl_module, "model", pl_module)
            model.redraw_features(self.generator)
            self.n_redraws += 1
            self.last_redraw_step = step

    def state_dict(self) -> dict[str, Any]:
        return {
            "generator_state": self.generator.get_state(),
            "n_redraws": self.n_redraws,
            "last_redraw_step": self.last_redraw_step,
            "seed": self.seed,
        }

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        self.generator.set_state(state_dict["generator_state"])
        self.n_redraws = int(state_dict["n_redraws"])
        self.last_redraw_step = int(state_dict["last_redraw_step"])
