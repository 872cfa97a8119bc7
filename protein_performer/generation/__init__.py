"""Generation layer: sample from and score causal protein language models.

Performer (FAVOR) models decode token by token with a recurrent state per layer, O(1) time and
memory per token (`protein_performer.model.recurrent`); exact-attention models with a key/value
cache. Entry points: `protein-performer generate` (`generation.generate_cli`) and
`protein-performer score` (`generation.score_cli`).
"""

from protein_performer.generation.decoder import (
    DecoderState,
    Generation,
    decode_step,
    generate,
    init_state,
    prefill,
)
from protein_performer.generation.sample_io import (
    FastaRecord,
    PromptError,
    SequenceScore,
    encode_prompt,
    write_fasta,
    write_scores_tsv,
)
from protein_performer.generation.sampling import SamplingConfig, sample_next
from protein_performer.generation.scoring import sequence_log_likelihoods

__all__ = [
    "DecoderState",
    "FastaRecord",
    "Generation",
    "PromptError",
    "SamplingConfig",
    "SequenceScore",
    "decode_step",
    "encode_prompt",
    "generate",
    "init_state",
    "prefill",
    "sample_next",
    "sequence_log_likelihoods",
    "write_fasta",
    "write_scores_tsv",
]
