"""`ProteinLM`: the LightningModule around `ProteinPerformer` — one shared step, metrics per split,
the unigram baseline beside them, and the paper's optimiser.

Optimiser (Choromanski et al. 2021, Appendix C): Adam with β = (0.9, 0.98), ε = 1e-9,
lr 1e-3 after a linear warm-up, weight decay 0.1, gradient clipping 0.5 (set on the Trainer),
dropout 0.1 (in `PerformerConfig`). Weight decay is *decoupled* (AdamW, Loshchilov & Hutter 2019)
and applies only to matrices (linear and embedding weights), never to biases or LayerNorm gains,
as in BERT and nanoGPT.

Logged keys, for stage in train / valid / test / ood: `{stage}/loss`, `{stage}/accuracy`,
`{stage}/perplexity`, and the unigram baseline on the same positions as
`{stage}/baseline_accuracy`, `{stage}/baseline_perplexity`. They are computed on the *scored*
positions: every labelled position for the causal objective, the <mask>ed ones for MLM (see
`_shared_step`). `train/objective` is the loss actually optimised (all labelled positions).
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any, Literal

import lightning as L
import numpy as np
import torch
from torch import nn

from protein_performer.model.config import PerformerConfig
from protein_performer.model.performer import ProteinPerformer
from protein_performer.training.baseline import UnigramBaseline
from protein_performer.training.lr_schedule import lr_factor
from protein_performer.training.metrics import (
    SplitMetrics,
    TokenMetrics,
    predicted,
    scored_labels,
)
from protein_performer.training.sharding import shard_model

STAGES: tuple[str, ...] = ("train", "valid", "test", "ood")


@dataclass(frozen=True)
class OptimConfig:
    """Optimiser and learning-rate schedule; defaults are the paper's recipe."""

    # Peak learning rate, reached at the end of warm-up.
    lr: float = 1e-3
    # Adam moments; the paper's (0.9, 0.98) as in the original Transformer.
    beta1: float = 0.9
    beta2: float = 0.98
    # Adam epsilon.
    eps: float = 1e-9
    # Decoupled (AdamW) weight decay on weight matrices only.
    weight_decay: float = 0.1
    # Linear warm-up from 0 to `lr` over this many optimizer steps.
    warmup_steps: int = 1000
    # After warm-up: keep `lr` ("constant"), or decay to `min_lr_ratio * lr` at the last step.
    decay: Literal["constant", "linear", "cosine"] = "constant"
    # Floor of the decay, as a fraction of `lr`.
    min_lr_ratio: float = 0.1

    def __post_init__(self) -> None:
        # Checked at construction, so a bad value stops a launch before anything is written
        # (the optimiser itself would refuse it only at the first step).
        finite = {k: getattr(self, k) for k in ("lr", "beta1", "beta2", "eps", "weight_decay",
                                                  "min_lr_ratio")}  # fmt: skip
        for name, value in finite.items():
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise ValueError(f"{name} must be a number, got {value!r}")
            if not math.isfinite(value):
                raise ValueError(f"{name} must be finite, got {value}")
        if self.lr <= 0:
            raise ValueError(f"lr must be > 0, got {self.lr}")
        for name in ("beta1", "beta2"):
            if not 0.0 <= getattr(self, name) < 1.0:
                raise ValueError(f"{name} must be in [0, 1), got {getattr(self, name)}")
        if self.eps <= 0:
            raise ValueError(f"eps must be > 0, got {self.eps}")
        if self.weight_decay < 0:
            raise ValueError(f"weight_decay must be >= 0, got {self.weight_decay}")
        if not isinstance(self.warmup_steps, int) or self.warmup_steps < 0:
            raise ValueError(f"warmup_steps must be an integer >= 0, got {self.warmup_steps!r}")
        if self.decay not in ("constant", "linear", "cosine"):
            raise ValueError(f"decay must be constant, linear or cosine, got {self.decay!r}")
        if not 0.0 <= self.min_lr_ratio <= 1.0:
            raise ValueError(f"min_lr_ratio must be in [0, 1], got {self.min_lr_ratio}")

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


class ProteinLM(L.LightningModule):
    """Trains a `ProteinPerformer` on batches `{"tokens", "labels", "is_pad"}` (docs/ARCHITECTURE).

    Hyper-parameters are saved as plain dicts (`model`, `optim`), so a checkpoint loads with
    `torch.load(..., weights_only=True)`; see `model.io.load_model`.
    """

    def __init__(
        self,
        model: PerformerConfig | dict[str, Any],
        optim: OptimConfig | dict[str, Any] | None = None,
    ) -> None:
        super().__init__()
        model_config = (
            model if isinstance(model, PerformerConfig) else PerformerConfig.from_dict(model)
        )
        if optim is None:
            optim = OptimConfig()
        optim_config = optim if isinstance(optim, OptimConfig) else OptimConfig(**optim)
        self.save_hyperparameters(
            {"model": model_config.to_dict(), "optim": optim_config.to_dict()}
        )
        self.config = model_config
        self.optim_config = optim_config
        self.model = ProteinPerformer(model_config)
        # ModuleDict keys cannot shadow Module methods such as `train`, hence the suffix.
        self.metrics = nn.ModuleDict({f"{stage}_tokens": TokenMetrics() for stage in STAGES})
        self.baseline: UnigramBaseline | None = None
        self.last_train_metrics: SplitMetrics | None = None
        # Latest split-level result of each evaluated stage (read by the end-of-run summary).
        self.split_results: dict[str, SplitMetrics] = {}

    # -- setup ------------------------------------------------------------------------------
    def setup(self, stage: str) -> None:
        """Build the unigram baseline once from the DataModule's training counts, if it has any."""
        datamodule = getattr(self.trainer, "datamodule", None) if self._trainer else None
        if self.baseline is None and hasattr(datamodule, "unigram_counts"):
            counts_V = np.array(
                datamodule.unigram_counts(include_eos=self.config.causal), dtype=np.float64
            )
            self.baseline = UnigramBaseline.from_counts(counts_V)

    def _test_stage(self, dataloader_idx: int) -> str:
        datamodule = getattr(self.trainer, "datamodule", None)
        names = list(getattr(datamodule, "test_split_names", None) or ("test", "ood"))
        name = names[dataloader_idx]
        if name not in STAGES:
            raise ValueError(f"test split {name!r} is not one of the logged stages {STAGES}")
        return name

    # -- steps -------------------------------------------------------------------------------
    def forward(self, tokens_BL: torch.Tensor, is_pad_BL: torch.Tensor | None = None):
        return self.model(tokens_BL, is_pad_BL)

    def _shared_step(self, batch: dict[str, torch.Tensor], stage: str) -> torch.Tensor:
        """Optimised loss on every labelled position; metrics of `stage` on scored positions.

        For MLM the collator follows BERT: of the selected 15 %, 80 % become <mask>, 10 % a
        random residue and 10 % stay unchanged. The loss trains on all of them, but metrics
        score only positions whose input is <mask>: at the unchanged 10 % the answer is in the
        input, and counting them would let a model "beat" the unigram baseline by copying.
        """
        tokens_BL, labels_BL = batch["tokens"], batch["labels"]
        output = self.model(tokens_BL, batch["is_pad"])
        logits_NV, labels_N = predicted(output.logits_BLV, labels_BL)
        # Mean over labelled tokens of this batch; an empty batch contributes a zero loss that
        # still touches every parameter, so DDP's gradient all-reduce stays in step.
        if labels_N.numel():
            loss = nn.functional.cross_entropy(logits_NV.float(), labels_N)
        else:
            loss = output.logits_BLV.sum() * 0.0
        if self.config.objective == "mlm":
            logits_NV, labels_N = predicted(
                output.logits_BLV, scored_labels(tokens_BL, labels_BL, self.config.objective)
            )
        self.metrics[f"{stage}_tokens"].update(logits_NV.detach(), labels_N, self.baseline)
        if stage == "train":
            n = max(1, labels_N.numel())
            scored_loss = (
                nn.functional.cross_entropy(logits_NV.detach().float(), labels_N, reduction="sum")
                / n
            )
            accuracy = (logits_NV.argmax(-1) == labels_N).float().sum() / n
            self.log("train/objective", loss.detach(), batch_size=n)
            self.log("train/loss", scored_loss, prog_bar=True, batch_size=n)
            self.log("train/accuracy", accuracy, batch_size=n)
            self.log("train/perplexity", scored_loss.exp(), batch_size=n)
        return loss

    def training_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> torch.Tensor:
        return self._shared_step(batch, "train")

    def validation_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> None:
        self._shared_step(batch, "valid")

    def test_step(
        self, batch: dict[str, torch.Tensor], batch_idx: int, dataloader_idx: int = 0
    ) -> None:
        self._shared_step(batch, self._test_stage(dataloader_idx))

    # -- epoch ends: split-level numbers ----------------------------------------------------
    def compute_split(self, stage: str, reset: bool = True) -> SplitMetrics:
        """Accumulated metrics of `stage` since its last reset."""
        metric = self.metrics[f"{stage}_tokens"]
        result = metric.split_metrics()
        if reset:
            metric.reset()
        return result

    def _log_split(self, stage: str, result: SplitMetrics) -> None:
        self.split_results[stage] = result
        values = {
            "loss": result.loss,
            "accuracy": result.accuracy,
            "perplexity": result.perplexity,
        }
        if result.baseline_accuracy is not None:
            values["baseline_accuracy"] = result.baseline_accuracy
            values["baseline_perplexity"] = result.baseline_perplexity
        # Already summed across processes by torchmetrics, hence no sync_dist here.
        self.log_dict(
            {f"{stage}/{key}": float(value) for key, value in values.items()},
            prog_bar=False,
            sync_dist=False,
            rank_zero_only=False,
        )

    def on_validation_epoch_start(self) -> None:
        # The training window since the previous validation, kept for the final summary table.
        if not self.trainer.sanity_checking and int(self.metrics["train_tokens"].count) > 0:
            self.last_train_metrics = self.compute_split("train")

    def on_validation_epoch_end(self) -> None:
        result = self.compute_split("valid")
        if not self.trainer.sanity_checking and result.tokens:
            self._log_split("valid", result)

    def on_test_epoch_end(self) -> None:
        for stage in ("test", "ood"):
            if int(self.metrics[f"{stage}_tokens"].count) > 0:
                self._log_split(stage, self.compute_split(stage))

    def configure_model(self) -> None:
        """Shard the model when the strategy made a device mesh (`--trainer.strategy fsdp2`);
        a no-op under every other strategy."""
        if self.device_mesh is not None:
            shard_model(self.model, self.model.blocks, self.device_mesh)

    # -- optimiser ---------------------------------------------------------------------------
    def _can_fuse(self, params: list[nn.Parameter]) -> bool:
        return self.device_mesh is None and all(
            type(p.data) is torch.Tensor and p.device.type in ("cpu", "cuda")
            and p.dtype in (torch.float32, torch.float64, torch.float16, torch.bfloat16)
            for p in params
        )  # fmt: skip

    def configure_optimizers(self):
        cfg = self.optim_config
        decay, no_decay = [], []
        for param in self.parameters():
            if not param.requires_grad:
                continue
            (decay if param.ndim >= 2 else no_decay).append(param)
        optimizer = torch.optim.AdamW(
            [
                {"params": decay, "weight_decay": cfg.weight_decay},
                {"params": no_decay, "weight_decay": 0.0},
            ],
            lr=cfg.lr,
            betas=(cfg.beta1, cfg.beta2),
            eps=cfg.eps,
            # One kernel over all tensors instead of a Python loop over ~70 small ones (4× less
            # optimiser time on a family model, `bench family`); the same update up to rounding.
            # Sharded (DTensor) parameters keep the default implementation.
            fused=self._can_fuse(decay + no_decay) or None,
        )
        total_steps = int(self.trainer.estimated_stepping_batches) if self._trainer else 0

        def factor(step: int) -> float:
            return lr_factor(step, cfg.warmup_steps, total_steps, cfg.decay, cfg.min_lr_ratio)

        scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, factor)
        return {
            "optimizer": optimizer,
            "lr_scheduler": {"scheduler": scheduler, "interval": "step", "frequency": 1},
        }
