"""Single-family protein models: train on one family's alignment in minutes on a CPU, then
score a deep mutational scan and predict contacts against the family's structure."""
