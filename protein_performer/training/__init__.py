"""Training layer: the Lightning module, callbacks, checkpoints, the run driver and its CLI.

The only layer (besides `data.datamodule`) that imports Lightning; `model/` knows nothing of it.
"""
