"""Where the files that ship with the project live, found from this package's own location.

Reference data (BPTI, TS50, the UniProt sample) and the default checkpoint sit beside the
package in the source tree, so every command finds them whatever the working directory is.
"""

from __future__ import annotations

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
DATA_DIR = REPO_ROOT / "data"
UNIPROT_SAMPLE = DATA_DIR / "uniprot_sample.fasta.gz"
# Published scores of shipped scans, keyed by the scan file's SHA-256 (family reports).
PUBLISHED_SCORES = DATA_DIR / "published_scores.csv"
# Where `make data` caches the prepared sample; the analyses reuse it from any directory.
CACHE_DIR = REPO_ROOT / "cache"
CHECKPOINTS_DIR = REPO_ROOT / "checkpoints"
# The default model in both forms, the same weights: a Lightning checkpoint and a
# `save_pretrained` directory (config.json + model.safetensors).
SHIPPED_CHECKPOINT = CHECKPOINTS_DIR / "protein_performer_default.ckpt"
SHIPPED_PRETRAINED = CHECKPOINTS_DIR / "protein_performer_default"
# A causal general model of the same size and data, for `pp.generate` and causal scoring.
SHIPPED_CAUSAL_PRETRAINED = CHECKPOINTS_DIR / "protein_performer_causal"
# The shipped protein family (Pfam PF00595, PDZ): alignment, contact map, DMS and wild type.
PF00595_DIR = DATA_DIR / "families" / "PF00595"
# The default family model of `make family` on it.
SHIPPED_FAMILY_CHECKPOINT = CHECKPOINTS_DIR / "family_pf00595.ckpt"
# The Kunitz/BPTI family (Pfam PF00014): alignment and column contact map; BPT1_BOVIN's family.
PF00014_DIR = DATA_DIR / "families" / "PF00014"
# The shipped Kunitz family model that `make analyze` shows beside the general model.
SHIPPED_KUNITZ_CHECKPOINT = CHECKPOINTS_DIR / "family_pf00014.ckpt"
# The same recipes reading the columns C→N (`--data.direction reverse`): the other half of each
# family's direction ensemble (`analysis.ensemble`).
SHIPPED_FAMILY_REVERSE = CHECKPOINTS_DIR / "family_pf00595_reverse.ckpt"
SHIPPED_KUNITZ_REVERSE = CHECKPOINTS_DIR / "family_pf00014_reverse.ckpt"
# Shipped models by name, for `pp.load_model(name)`.
SHIPPED_MODELS = {
    "protein_performer_default": SHIPPED_PRETRAINED,
    "protein_performer_causal": SHIPPED_CAUSAL_PRETRAINED,
    "family_pf00595": SHIPPED_FAMILY_CHECKPOINT,
    "family_pf00014": SHIPPED_KUNITZ_CHECKPOINT,
    "family_pf00595_reverse": SHIPPED_FAMILY_REVERSE,
    "family_pf00014_reverse": SHIPPED_KUNITZ_REVERSE,
}
