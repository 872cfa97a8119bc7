"""Model layer: pure attention kernels (`model.kernels`), the `SelfAttention` module
(`model.attention`), configs and the `ProteinPerformer` model. Imports no Lightning."""
