"""`make analyze` as a function: every analysis of a trained model, its figures and metrics.

`run_analysis(model, out_dir)` computes
- BPT1_BOVIN attention maps, the layers × heads grid (Performer paper, App. C.4, Fig. 10) and
  head summaries;
- the amino-acid similarity of Vig et al. 2021 over held-out sequences and of the input
  embeddings, each scored against BLOSUM62;
- the contact benchmark of Rao et al. 2021 on TS50 and BPTI (`contact_benchmark`);
and writes `metrics.json`, the PNG figures and `report.md` into `out_dir`.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from protein_performer.analysis.attention_maps import iter_residue_attention, residue_attention
from protein_performer.analysis.contact_benchmark import ContactBenchmark, run_contact_benchmark
from protein_performer.analysis.head_summary import summarize_heads
from protein_performer.analysis.heldout import held_out_sequences
from protein_performer.analysis.report import write_report
from protein_performer.analysis.results import (
    AnalysisResult,
    BlosumCorrelation,
    ContactProtocol,
    SimilarityProtocol,
    finite,
)
from protein_performer.analysis.similarity import (
    PROPERTY_GROUPS,
    PROPERTY_ORDER,
    AminoAcidAttention,
    blosum62,
    embedding_similarity,
    reorder,
    score_against_blosum62,
)
from protein_performer.analysis.structures import load_bpti, load_ts50
from protein_performer.data.prepare import PrepareConfig
from protein_performer.paths import CACHE_DIR, UNIPROT_SAMPLE
from protein_performer.plots import attention as attention_plots
from protein_performer.plots import contacts as contact_plots
from protein_performer.plots import similarity as similarity_plots
from protein_performer.plots.style import save
from protein_performer.progress import progress_bar

TS50_SIZE = 50  # chains in the TS50 contact test set (data/contact_testset/TS50.tsv)


@dataclass(frozen=True)
class AnalyzeOptions:
    """Knobs of `make analyze`; the defaults are the documented protocol."""

    # Held-out sequences for the Vig et al. similarity (the paper used ~800 on TAPE's data).
    n_sequences: int = 800
    # Each is cut to its first residues: an attention map costs L² per head, and the shipped
    # models trained on 256-residue crops (the shipped model's attention r against BLOSUM62 is
    # -0.024 so, -0.026 over whole sequences).
    similarity_max_residues: int = 256
    # Attention thresholds θ tried in order: Vig et al.'s 0.3, then all attention (0.0) when
    # fewer than 3 heads keep enough weight above it (FAVOR+ heads are rarely that sharp).
    similarity_thresholds: tuple[float, ...] = (0.3, 0.0)
    # A head is used only if its attention above θ totals at least this much (Vig et al.).
    min_head_weight: float = 100.0
    # TS50 chains (sorted by id) used to pick the best head and fit the regression.
    n_train_structures: int = 20
    # Inverse L1 strength of the logistic regression.
    l1_c: float = 0.15
    # Also score the TS50 test chains by the categorical Jacobian (Zhang et al. 2024; BPTI's
    # is always computed): 20 forward passes per residue, minutes on a CPU.
    ts50_jacobian: bool = False
    # Layers shown in the BPTI attention grid (the paper shows the first layers).
    grid_layers: int = 2
    # Where the held-out sequences come from (the `make data` preparation of the shipped
    # sample, found beside the package whatever the working directory).
    prepare: PrepareConfig = field(
        default_factory=lambda: PrepareConfig(fasta=str(UNIPROT_SAMPLE), cache_dir=str(CACHE_DIR))
    )

    def __post_init__(self) -> None:
        # Checked before any work: a bad value must not surface after minutes of analysis.
        if self.n_sequences < 1:
            raise ValueError(f"n_sequences must be >= 1, got {self.n_sequences}")
        if self.similarity_max_residues < 1:
            raise ValueError(
                f"similarity_max_residues must be >= 1, got {self.similarity_max_residues}"
            )
        if not 1 <= self.n_train_structures < TS50_SIZE:
            raise ValueError(
                f"n_train_structures must be in 1 .. {TS50_SIZE - 1} (TS50 has {TS50_SIZE} "
                f"chains; the rest are the test set), got {self.n_train_structures}"
            )
        if not (math.isfinite(self.l1_c) and self.l1_c > 0):
            raise ValueError(f"l1_c must be a positive number, got {self.l1_c}")
        if self.grid_layers < 1 or self.min_head_weight < 0:
            raise ValueError("grid_layers must be >= 1 and min_head_weight >= 0")
        if not self.similarity_thresholds or not all(
            0 <= t < 1 for t in self.similarity_thresholds
        ):
            raise ValueError("similarity_thresholds must be values in [0, 1)")


def similarity_analysis(
    model, sequences, options: AnalyzeOptions, *, progress: bool = False
) -> dict[str, Any]:
    """Vig et al. attention similarity and embedding similarity, scored against BLOSUM62."""
    n_total = model.config.n_layers * model.config.n_heads
    accumulator = AminoAcidAttention(n_total, thresholds=options.similarity_thresholds)
    bar = progress_bar(len(sequences), "attention similarity", enabled=progress)
    for att in iter_residue_attention(model, list(sequences)):
        accumulator.update(att.maps_NHLL, att.residue_ids_L)
        bar.update(1)
    bar.close()
    attention = accumulator.best_result(options.min_head_weight)
    embedding = embedding_similarity(model.token_embedding.weight.detach().float().numpy())
    return {
        "attention": attention,
        "embedding_AA": embedding,
        "attention_score": score_against_blosum62(attention.similarity_AA),
        "embedding_score": score_against_blosum62(embedding),
    }


def _similarity_figures(sim: dict[str, Any], out_dir: Path) -> list[Path]:
    blosum = blosum62(PROPERTY_ORDER)
    att = reorder(sim["attention"].similarity_AA, PROPERTY_ORDER)
    emb = reorder(sim["embedding_AA"], PROPERTY_ORDER)
    return [
        save(
            similarity_plots.matrices_side_by_side(
                att,
                blosum,
                PROPERTY_ORDER,
                groups=PROPERTY_GROUPS,
                model_title=f"attention (Vig et al., θ={sim['attention'].threshold:g})",
            ),
            out_dir / "similarity_attention.png",
        ),
        save(
            similarity_plots.matrices_side_by_side(
                emb,
                blosum,
                PROPERTY_ORDER,
                groups=PROPERTY_GROUPS,
                model_title="input embedding (cosine)",
            ),
            out_dir / "similarity_embedding.png",
        ),
        save(
            similarity_plots.scatter_vs_blosum(
                {"attention": att, "embedding": emb},
                blosum,
                {
                    "attention": sim["attention_score"].pearson,
                    "embedding": sim["embedding_score"].pearson,
                },
            ),
            out_dir / "similarity_scatter.png",
        ),
    ]


def _contact_figures(bench: ContactBenchmark, offset: int, out_dir: Path) -> list[Path]:
    bpti = bench.bpti
    return [
        save(
            contact_plots.contact_map(
                bpti.contacts_LL,
                bpti.scores["logistic_regression"],
                offset=offset,
                title="BPTI (5PTI on P00974 36–93): logistic regression, top-L",
            ),
            out_dir / "bpti_contact_map.png",
        ),
        save(
            contact_plots.precision_bars(
                bench.metrics["ts50_test"], title="TS50 test (30 chains): contact precision"
            ),
            out_dir / "precision_ts50_test.png",
        ),
        save(
            contact_plots.precision_bars(
                bench.metrics["bpti"], title="BPTI (precursor run): contact precision"
            ),
            out_dir / "precision_bpti.png",
        ),
    ]


def run_analysis(
    model,
    out_dir: str | Path,
    options: AnalyzeOptions | None = None,
    *,
    checkpoint: str = "",
    checkpoint_sha256: str = "",
    log=print,
    progress: bool = False,
) -> AnalysisResult:
    """Run every analysis on `model`, write figures, `metrics.json` and `report.md` to
    `out_dir`, and return the results."""
    options = options or AnalyzeOptions()
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    model.eval()

    bpti = load_bpti()
    att = residue_attention(model, bpti.precursor)
    heads = summarize_heads(att.maps_NHLL)
    layers = range(min(options.grid_layers, model.config.n_layers))
    figures = [
        save(
            attention_plots.attention_grid(
                att.maps_NHLL,
                att.sequence,
                layers=layers,
                title="BPT1_BOVIN (P00974) attention, first layers",
            ),
            out_dir / "bpti_attention_grid.png",
        ),
        save(
            attention_plots.head_summary_scatter(
                heads.entropy_NH, heads.mean_distance_NH, heads.kind_NH, title="BPT1_BOVIN heads"
            ),
            out_dir / "bpti_head_summary.png",
        ),
    ]
    log(f"BPTI attention: {att.maps_NHLL.shape[0]} layers x {att.maps_NHLL.shape[1]} heads")

    held_out = held_out_sequences(options.n_sequences, options.prepare)
    log(f"similarity over {len(held_out.sequences)} held-out sequences ({held_out.source})")
    cropped = [s[: options.similarity_max_residues] for s in held_out.sequences]
    sim = similarity_analysis(model, cropped, options, progress=progress)
    figures += _similarity_figures(sim, out_dir)

    log("contacts: TS50 (20 train / 30 test) and BPTI")
    bench = run_contact_benchmark(
        model,
        load_ts50(),
        bpti,
        n_train=options.n_train_structures,
        l1_c=options.l1_c,
        progress=progress,
        ts50_jacobian=options.ts50_jacobian,
    )
    figures += _contact_figures(bench, bpti.offset, out_dir)

    result = AnalysisResult(
        checkpoint=checkpoint,
        checkpoint_sha256=checkpoint_sha256,
        model=model.config.to_dict(),
        attention_vs_blosum62=BlosumCorrelation(
            sim["attention_score"].pearson, sim["attention_score"].spearman
        ),
        embedding_vs_blosum62=BlosumCorrelation(
            sim["embedding_score"].pearson, sim["embedding_score"].spearman
        ),
        similarity=SimilarityProtocol(
            n_sequences=sim["attention"].n_sequences,
            source=held_out.source,
            threshold=sim["attention"].threshold,
            min_head_weight=options.min_head_weight,
            n_heads_used=int(len(sim["attention"].heads_kept)),
        ),
        contacts=finite(bench.metrics),
        contact_protocol=ContactProtocol(
            train=tuple(bench.train_names),
            test=tuple(bench.test_names),
            best_head_layer_head_1based=(bench.best_head[0] + 1, bench.best_head[1] + 1),
            logistic_regression_C=options.l1_c,
            heads_with_nonzero_weight=int(np.count_nonzero(bench.coefficients)),
        ),
        bpti_heads=tuple(finite(heads.rows(att.sequence))),
        seconds=time.perf_counter() - start,
    )
    (out_dir / "metrics.json").write_text(json.dumps(result.to_json(), indent=1))
    write_report(result, [f.name for f in figures], out_dir / "report.md")
    return result
