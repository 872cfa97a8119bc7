"""The Performer protein comparisons of Choromanski et al. 2021 (§4.3–4.4, Table 2)
re-run at CPU scale, and the shipped checkpoint.

`plan` names the runs (one committed YAML under `configs/experiments/` each), `run` executes
them in sequence through `protein-performer train`, `collect` turns the run directories into
the tables and curves of `docs/RESULTS.md`, and `ship` strips a checkpoint for the repository.
"""
