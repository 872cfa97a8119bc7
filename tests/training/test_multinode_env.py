"""Multi-node launches are detected from the environment the launcher sets (docs/scaling.md):
torchrun's variables select Lightning's TorchElasticEnvironment, SLURM's srun variables its
SLURMEnvironment, with the ranks and world size they give; `num_nodes` comes from the config."""

from __future__ import annotations

import pytest
from lightning.fabric.plugins.environments import SLURMEnvironment, TorchElasticEnvironment
from lightning.pytorch.utilities import rank_zero_only

from protein_performer.training.run import TrainerConfig, build_trainer

TWO_NODES = TrainerConfig(accelerator="cpu", devices=2, num_nodes=2, strategy="ddp",
                          enable_progress_bar=False)  # fmt: skip
LAUNCHER_VARS = ("TORCHELASTIC_RUN_ID", "SLURM_NTASKS", "SLURM_JOB_NAME", "RANK", "WORLD_SIZE")


@pytest.fixture
def clean_env(monkeypatch):
    for name in LAUNCHER_VARS:
        monkeypatch.delenv(name, raising=False)
    # A Trainer built as rank 3 sets the process-wide rank of `rank_zero_only`; left so, every
    # later test in this process would log and checkpoint as a non-zero rank.
    monkeypatch.setattr(rank_zero_only, "rank", rank_zero_only.rank)
    return monkeypatch


def test_torchrun_variables_select_torchelastic(clean_env, tmp_path):
    # What `torchrun --nnodes 2 --nproc-per-node 2` sets in the process of node 1, local rank 1.
    for name, value in dict(TORCHELASTIC_RUN_ID="job", RANK="3", LOCAL_RANK="1",
                            WORLD_SIZE="4", LOCAL_WORLD_SIZE="2", GROUP_RANK="1",
                            MASTER_ADDR="127.0.0.1", MASTER_PORT="29500").items():  # fmt: skip
        clean_env.setenv(name, value)
    trainer = build_trainer(TWO_NODES, tmp_path)
    env = trainer.strategy.cluster_environment
    assert isinstance(env, TorchElasticEnvironment)
    assert (env.world_size(), env.global_rank(), env.local_rank(), env.node_rank()) == (4, 3, 1, 1)
    assert trainer.num_nodes == 2 and trainer.world_size == 4 and trainer.global_rank == 3


def test_slurm_srun_variables_select_slurm(clean_env, tmp_path):
    # What `srun` sets for `#SBATCH --nodes=2 --ntasks-per-node=2`, task 2 (node 1, local 0).
    for name, value in dict(SLURM_NTASKS="4", SLURM_NTASKS_PER_NODE="2", SLURM_JOB_NAME="train",
                            SLURM_NODELIST="node[1-2]", SLURM_PROCID="2", SLURM_LOCALID="0",
                            SLURM_NODEID="1", SLURM_JOB_ID="42").items():  # fmt: skip
        clean_env.setenv(name, value)
    trainer = build_trainer(TWO_NODES, tmp_path)
    env = trainer.strategy.cluster_environment
    assert isinstance(env, SLURMEnvironment)
    assert (env.world_size(), env.global_rank(), env.local_rank(), env.node_rank()) == (4, 2, 0, 1)
    assert trainer.num_nodes == 2 and trainer.world_size == 4
