"""Sharded data parallelism (FSDP2) for the Lightning Trainer, on GPUs and on CPUs alike.

Zhao et al., "PyTorch FSDP: Experiences on Scaling Fully Sharded Data Parallel" (VLDB 2023):
every rank holds 1/world of each parameter, gradient and optimiser moment, and all-gathers a
block's parameters just before it runs. FSDP2 (`torch.distributed.fsdp.fully_shard`) shards
per parameter (DTensor) and, unlike FSDP1, runs on CPU processes with the gloo backend, so the
same strategy is tested on a 2-process CPU run and used on multi-GPU nodes.

`--trainer.strategy fsdp2` selects `FSDP2Strategy` (Lightning's `ModelParallelStrategy` with
every process one data-parallel rank and no tensor parallelism); every other name goes to
Lightning unchanged (`fsdp` is Lightning's FSDP1, GPU only). Checkpoints are gathered into one
ordinary file of full tensors on rank 0: `--resume` continues it and
`training.checkpoint.load_model` reads it (weights only).
"""

from __future__ import annotations

from lightning.pytorch.strategies import ModelParallelStrategy, Strategy
from torch import nn

FSDP2 = "fsdp2"


class FSDP2Strategy(ModelParallelStrategy):
    """FSDP2 over all processes of all nodes; the LightningModule shards itself in
    `configure_model` with `shard_model` (see `ProteinLM.configure_model`)."""

    def __init__(self) -> None:
        # One full checkpoint file, not a directory of shards: the layout every other tool of
        # the package reads with torch.load(weights_only=True).
        super().__init__(tensor_parallel_size=1, save_distributed_checkpoint=False)

    def setup_environment(self) -> None:
        # "auto" would make the data-parallel size the number of nodes; here every process is
        # a data-parallel rank (the tensor-parallel size is 1).
        self._data_parallel_size = self.num_nodes * self.num_processes
        super().setup_environment()


def strategy_for(name: str) -> str | Strategy:
    """The Trainer's `strategy` argument for a config name."""
    return FSDP2Strategy() if name == FSDP2 else name


def shard_model(model: nn.Module, blocks: nn.ModuleList, device_mesh) -> None:
    """`fully_shard` each block (one all-gather per block in forward and backward), then the
    root, which keeps the embeddings, the tied LM head and the final norm. Idempotent: a model
    that is already sharded is left alone (Lightning calls `configure_model` for every fit,
    validate and test)."""
    from torch.distributed.fsdp import FSDPModule, fully_shard

    if isinstance(model, FSDPModule):
        return
    mesh = device_mesh["data_parallel"]
    for block in blocks:
        fully_shard(block, mesh=mesh)
    fully_shard(model, mesh=mesh)
