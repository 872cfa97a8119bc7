"""The `--help` page of each command, as its parser prints it (`help_snapshot` writes
this file; do not edit it by hand)."""

# ruff: noqa: E501

from __future__ import annotations

from protein_performer.paths import REPO_ROOT

# Stands for this checkout's root in the defaults that are paths under it.
REPO_ROOT_TOKEN = "<repo>"


def page(command: str) -> str:
    """The `--help` page of `command`, with this checkout's paths."""
    return HELP[command].replace(REPO_ROOT_TOKEN, str(REPO_ROOT))


HELP: dict[str, str] = {
    "prepare": """\
usage: protein-performer prepare [-h] [--fasta FASTA] [--cache-dir CACHE_DIR]
                                 [--valid-fraction VALID_FRACTION]
                                 [--test-fraction TEST_FRACTION] [--ood-taxa OOD_TAXA]
                                 [--ood-accessions OOD_ACCESSIONS] [--unknown {error,x}]
                                 [--workers WORKERS] [--force [{true,false}]]
                                 [--verify [{true,false}]]

Tokenise a FASTA file into train/valid/test/ood Arrow splits (cached).

options:
  -h, --help            show this help message and exit
  --fasta FASTA         input .fasta/.fa/.gz
  --cache-dir CACHE_DIR
  --valid-fraction VALID_FRACTION
  --test-fraction TEST_FRACTION
  --ood-taxa OOD_TAXA   comma-separated OX=/TaxID= values held out whole as 'ood' ('' for
                        none)
  --ood-accessions OOD_ACCESSIONS
                        accessions or UniRef cluster ids to hold out: comma-separated, or a
                        file path
  --unknown {error,x}   invalid residues: fail (default) or map to X
  --workers WORKERS     processes tokenising records (pass 1); the result is identical for any
                        count
  --force [{true,false}]
                        rebuild even if cached. The cache key hashes the FASTA's bytes; the
                        hash is reused while the file's path, inode, size, mtime and ctime are
                        all unchanged (ctime changes on every write and cannot be set back),
                        and a cache is re-verified against its shard list on every use
  --verify [{true,false}]
                        read every byte of a cached preparation against the checksums written
                        when it was built (rebuilding it if any differ); without it, that full
                        check runs on the first use after a build and whenever a shard's size
                        or modification time changed

booleans: a flag alone means true; --flag true|false says it outright
""",
    "msa": """\
usage: protein-performer msa [-h] --query QUERY --db DB --out OUT [--iterations ITERATIONS]
                             [--bitscore BITSCORE] [--min-coverage MIN_COVERAGE]
                             [--min-column-coverage MIN_COLUMN_COVERAGE] [--cpus CPUS]
                             [--force [{true,false}]]

`protein-performer msa`: build a family alignment for one protein, ready for `family`.

options:
  -h, --help            show this help message and exit
  --query QUERY         FASTA: the protein (first record)
  --db DB               FASTA (.gz) of sequences to search
  --out OUT             the A2M file to write
  --iterations ITERATIONS
                        jackhmmer rounds (default 5)
  --bitscore BITSCORE   inclusion threshold, bits per query residue (default 0.5)
  --min-coverage MIN_COVERAGE
                        drop hits with residues in fewer of the query's columns (default 0.5)
  --min-column-coverage MIN_COLUMN_COVERAGE
                        columns with residues in fewer rows become insertions (default 0.7)
  --cpus CPUS           search threads (default 0: all cores)
  --force [{true,false}]
                        replace an existing --out

booleans: a flag alone means true; --flag true|false says it outright
""",
    "train": """\
usage: protein-performer train [--config CONFIG] [--name NAME] [--runs-dir RUNS_DIR]
                               [--seed SEED] [--model-preset MODEL_PRESET] [--model CONFIG]
                               [--model.vocab_size VOCAB_SIZE] [--model.max_len MAX_LEN]
                               [--model.d_model D_MODEL] [--model.n_heads N_HEADS]
                               [--model.n_layers N_LAYERS] [--model.d_ff D_FF]
                               [--model.dropout DROPOUT] [--model.attention ATTENTION]
                               [--model.objective {mlm,causal}]
                               [--model.n_features N_FEATURES]
                               [--model.favor_bf16_gemm [{true,false}]]
                               [--model.tie_embeddings [{true,false}]]
                               [--model.init_std INIT_STD]
                               [--model.layer_norm_eps LAYER_NORM_EPS]
                               [--model.position_attention_layers POSITION_ATTENTION_LAYERS]
                               [--optim CONFIG] [--optim.lr LR] [--optim.beta1 BETA1]
                               [--optim.beta2 BETA2] [--optim.eps EPS]
                               [--optim.weight_decay WEIGHT_DECAY]
                               [--optim.warmup_steps WARMUP_STEPS]
                               [--optim.decay {constant,linear,cosine}]
                               [--optim.min_lr_ratio MIN_LR_RATIO] [--trainer CONFIG]
                               [--trainer.max_steps MAX_STEPS] [--trainer.max_time MAX_TIME]
                               [--trainer.val_check_interval VAL_CHECK_INTERVAL]
                               [--trainer.limit_val_batches LIMIT_VAL_BATCHES]
                               [--trainer.limit_test_batches LIMIT_TEST_BATCHES]
                               [--trainer.log_every_n_steps LOG_EVERY_N_STEPS]
                               [--trainer.accelerator ACCELERATOR] [--trainer.devices DEVICES]
                               [--trainer.num_nodes NUM_NODES] [--trainer.strategy STRATEGY]
                               [--trainer.precision PRECISION]
                               [--trainer.accumulate_grad_batches ACCUMULATE_GRAD_BATCHES]
                               [--trainer.gradient_clip_val GRADIENT_CLIP_VAL]
                               [--trainer.redraw_every_n_steps REDRAW_EVERY_N_STEPS]
                               [--trainer.redraw_seed REDRAW_SEED]
                               [--trainer.checkpoint_every_n_steps CHECKPOINT_EVERY_N_STEPS]
                               [--trainer.num_sanity_val_steps NUM_SANITY_VAL_STEPS]
                               [--trainer.fast_dev_run FAST_DEV_RUN]
                               [--trainer.enable_progress_bar [{true,false}]]
                               [--trainer.rich_progress [{true,false}]]
                               [--trainer.evaluate_best [{true,false}]]
                               [--trainer.num_threads NUM_THREADS] [--data CONFIG]
                               [--data.fasta FASTA] [--data.cache_dir CACHE_DIR]
                               [--data.mode {single,concat}] [--data.max_len MAX_LEN]
                               [--data.batch_size BATCH_SIZE]
                               [--data.tokens_per_batch TOKENS_PER_BATCH]
                               [--data.num_workers NUM_WORKERS] [--data.seed SEED]
                               [--data.valid_fraction VALID_FRACTION]
                               [--data.test_fraction TEST_FRACTION] [--data.ood_taxa OOD_TAXA]
                               [--data.ood_accessions OOD_ACCESSIONS]
                               [--data.unknown {error,x}]
                               [--data.eval_max_sequences EVAL_MAX_SEQUENCES]
                               [--data.train_max_sequences TRAIN_MAX_SEQUENCES]
                               [--data.mask_prob MASK_PROB] [--resume [{true,false}]]
                               [--ckpt-path CKPT_PATH] [--init-from INIT_FROM]
                               [--find-batch-size [{true,false}]] [--wandb [{true,false}]]
                               [--wandb-project WANDB_PROJECT]

`protein-performer train`: a typed jsonargparse CLI over YAML configs in `configs/`.

options:
  -h, --help            Show this help message and exit.
  --config CONFIG       YAML config (configs/*.yaml)
  --print_config [=flags]
                        Print the configuration after applying all other arguments and exit.
                        The optional flags customizes the output and are one or more keywords
                        separated by comma. The supported flags are: skip_default, skip_unset.
  --name NAME           run name: runs/<name>/ (type: str, default: default)
  --runs-dir RUNS_DIR, --runs_dir RUNS_DIR
                        parent of run directories (type: str, default: runs)
  --seed SEED           seed_everything (init, data, dropout) (type: int, default: 0)
  --model-preset MODEL_PRESET, --model_preset MODEL_PRESET
                        start model.* from a preset (cpu_l4_d128, family_l4_d64, mid_l8_d256,
                        paper_concat_l6_d512, paper_protein_l36_d512, tiny_l2_d64); model.*
                        overrides (type: str | null, default: null)
  --resume [{true,false}]
                        continue runs/<name>/: the intact checkpoint with the highest recorded
                        step (type: bool, default: False)
  --ckpt-path CKPT_PATH, --ckpt_path CKPT_PATH
                        resume from this Lightning checkpoint file (type: str | null, default:
                        null)
  --init-from INIT_FROM, --init_from INIT_FROM
                        load parameters from a checkpoint of the same shape (any attention
                        kind) (type: str | null, default: null)
  --find-batch-size [{true,false}], --find_batch_size [{true,false}]
                        run Lightning's batch-size finder before training (type: bool,
                        default: False)
  --wandb [{true,false}]
                        also log to Weights & Biases (type: bool, default: False)
  --wandb-project WANDB_PROJECT, --wandb_project WANDB_PROJECT
                        (type: str, default: protein-performer)

Shape and behaviour of a `ProteinPerformer`. Defaults are the paper's protein model:
  --model CONFIG        Path to a configuration file.
  --model.vocab_size VOCAB_SIZE
                        (type: int, default: 30)
  --model.max_len MAX_LEN
                        (type: int, default: 1024)
  --model.d_model D_MODEL
                        (type: int, default: 512)
  --model.n_heads N_HEADS
                        (type: int, default: 8)
  --model.n_layers N_LAYERS
                        (type: int, default: 36)
  --model.d_ff D_FF     (type: int, default: 1024)
  --model.dropout DROPOUT
                        (type: float, default: 0.1)
  --model.attention ATTENTION
                        (type: str, default: favor-relu)
  --model.objective {mlm,causal}
                        (type: Literal['mlm', 'causal'], default: mlm)
  --model.n_features N_FEATURES
                        (type: int, default: 256)
  --model.favor_bf16_gemm [{true,false}]
                        (type: bool, default: False)
  --model.tie_embeddings [{true,false}]
                        (type: bool, default: True)
  --model.init_std INIT_STD
                        (type: float, default: 0.02)
  --model.layer_norm_eps LAYER_NORM_EPS
                        (type: float, default: 1e-05)
  --model.position_attention_layers POSITION_ATTENTION_LAYERS
                        (type: int, default: 0)

Optimiser and learning-rate schedule; defaults are the paper's recipe:
  --optim CONFIG        Path to a configuration file.
  --optim.lr LR         (type: float, default: 0.001)
  --optim.beta1 BETA1   (type: float, default: 0.9)
  --optim.beta2 BETA2   (type: float, default: 0.98)
  --optim.eps EPS       (type: float, default: 1e-09)
  --optim.weight_decay WEIGHT_DECAY
                        (type: float, default: 0.1)
  --optim.warmup_steps WARMUP_STEPS
                        (type: int, default: 1000)
  --optim.decay {constant,linear,cosine}
                        (type: Literal['constant', 'linear', 'cosine'], default: constant)
  --optim.min_lr_ratio MIN_LR_RATIO
                        (type: float, default: 0.1)

What Lightning's Trainer and our callbacks need; every field can be set from YAML:
  --trainer CONFIG      Path to a configuration file.
  --trainer.max_steps MAX_STEPS
                        (type: int, default: 10000)
  --trainer.max_time MAX_TIME
                        (type: str | null, default: null)
  --trainer.val_check_interval VAL_CHECK_INTERVAL
                        (type: int, default: 500)
  --trainer.limit_val_batches LIMIT_VAL_BATCHES
                        (type: int | float, default: 1.0)
  --trainer.limit_test_batches LIMIT_TEST_BATCHES
                        (type: int | float, default: 1.0)
  --trainer.log_every_n_steps LOG_EVERY_N_STEPS
                        (type: int, default: 50)
  --trainer.accelerator ACCELERATOR
                        (type: str, default: auto)
  --trainer.devices DEVICES
                        (type: int | str, default: auto)
  --trainer.num_nodes NUM_NODES
                        (type: int, default: 1)
  --trainer.strategy STRATEGY
                        (type: str, default: auto)
  --trainer.precision PRECISION
                        (type: str, default: 32-true)
  --trainer.accumulate_grad_batches ACCUMULATE_GRAD_BATCHES
                        (type: int, default: 1)
  --trainer.gradient_clip_val GRADIENT_CLIP_VAL
                        (type: float | null, default: 0.5)
  --trainer.redraw_every_n_steps REDRAW_EVERY_N_STEPS
                        (type: int, default: 1000)
  --trainer.redraw_seed REDRAW_SEED
                        (type: int, default: 0)
  --trainer.checkpoint_every_n_steps CHECKPOINT_EVERY_N_STEPS
                        (type: int, default: 500)
  --trainer.num_sanity_val_steps NUM_SANITY_VAL_STEPS
                        (type: int, default: 0)
  --trainer.fast_dev_run FAST_DEV_RUN
                        (type: bool | int, default: False)
  --trainer.enable_progress_bar [{true,false}]
                        (type: bool, default: True)
  --trainer.rich_progress [{true,false}]
                        (type: bool, default: True)
  --trainer.evaluate_best [{true,false}]
                        (type: bool, default: True)
  --trainer.num_threads NUM_THREADS
                        (type: int | null, default: null)

Train/valid/test/ood loaders over a FASTA file, in single or concatenated mode:
  --data CONFIG         Path to a configuration file.
  --data.fasta FASTA    input FASTA (.fasta/.fa/.gz). (type: str, default:
                        data/uniprot_sample.fasta.gz)
  --data.cache_dir CACHE_DIR
                        where prepared splits are cached, under a content+options fingerprint.
                        (type: str, default: cache)
  --data.mode {single,concat}
                        "single" (one cropped protein per item) or "concat" (fixed-length
                        chunks of the `<eos>`-joined stream; `max_len` is then the chunk
                        length, e.g. 8192). (type: Literal['single', 'concat'], default:
                        single)
  --data.max_len MAX_LEN
                        longest item in tokens, `<cls>`/`<eos>` included. (type: int, default:
                        1024)
  --data.batch_size BATCH_SIZE
                        items per batch, unless `tokens_per_batch` is set. (type: int,
                        default: 8)
  --data.tokens_per_batch TOKENS_PER_BATCH
                        if set, length-bucketed batches of at most this many padded tokens.
                        (type: int | null, default: null)
  --data.num_workers NUM_WORKERS
                        DataLoader worker processes. (type: int, default: 0)
  --data.seed SEED      seeds the evaluation masks and the bucketing order. (type: int,
                        default: 0)
  --data.valid_fraction VALID_FRACTION
                        (type: float, default: 0.05)
  --data.test_fraction TEST_FRACTION
                        (type: float, default: 0.05)
  --data.ood_taxa OOD_TAXA
                        comma-separated OX/TaxID values held out whole as the "ood" split.
                        (type: str, default: 5851,1140)
  --data.ood_accessions OOD_ACCESSIONS
                        accessions/cluster ids to hold out: comma-separated, or a file path.
                        (type: str | null, default: null)
  --data.unknown {error,x}
                        "error" on an invalid residue, or "x" to map it to X. (type:
                        Literal['error', 'x'], default: error)
  --data.eval_max_sequences EVAL_MAX_SEQUENCES
                        cap valid/test/ood to their first N proteins (a fixed, effectively
                        random subset, since splits are stored in sequence-digest order).
                        (type: int | null, default: null)
  --data.train_max_sequences TRAIN_MAX_SEQUENCES
                        same cap for train (quick CPU runs). (type: int | null, default: null)
  --data.mask_prob MASK_PROB
                        MLM selection probability. (type: float, default: 0.15)

Linked arguments:
  model.objective --> data.objective [applied on parse]
                        "mlm" (15 % BERT masking) or "causal" (next-token labels). (type:
                        Literal['mlm', 'causal'])

booleans: a flag alone means true; --flag true|false says it outright; a dotted flag may be
kebab-case (--eval.n-boot is --eval.n_boot)
""",
    "analyze": """\
usage: protein-performer analyze [-h] [--checkpoint CHECKPOINT]
                                 [--family-checkpoint FAMILY_CHECKPOINT] [--out OUT]
                                 [--run-name RUN_NAME] [--n-sequences N_SEQUENCES]
                                 [--n-train-structures N_TRAIN_STRUCTURES] [--l1-c L1_C]
                                 [--ts50-jacobian TS50_JACOBIAN] [--threads THREADS]

Attention maps of BPT1_BOVIN, amino-acid similarity vs BLOSUM62 (Vig et al. 2021) and contact
precision on TS50 and BPTI (Rao et al. 2021).

options:
  -h, --help            show this help message and exit
  --checkpoint CHECKPOINT
                        Lightning .ckpt file or save_pretrained directory (default: the
                        shipped protein_performer_default.ckpt)
  --family-checkpoint FAMILY_CHECKPOINT
                        aligned family model shown beside it on BPT1_BOVIN (default: the
                        shipped Kunitz model checkpoints/family_pf00014.ckpt when --checkpoint
                        is not given; none for no side-by-side)
  --out OUT             parent directory of the report (default: reports/analyze)
  --run-name RUN_NAME   report sub-directory (default: derived from the checkpoint path)
  --n-sequences N_SEQUENCES
                        held-out sequences for the attention similarity (default: 800)
  --n-train-structures N_TRAIN_STRUCTURES
                        TS50 chains (first ids in sorted order) used for fitting (default: 20)
  --l1-c L1_C           inverse L1 strength of the contact regression (default: 0.15)
  --ts50-jacobian TS50_JACOBIAN
                        categorical-Jacobian contacts of the TS50 test chains too, minutes
                        (true/false) (default: False)
  --threads THREADS     torch CPU threads

booleans: a flag alone means true; --flag true|false says it outright
""",
    "embed": """\
usage: protein-performer embed [-h] [--fasta FASTA] --out OUT [--checkpoint CHECKPOINT]
                               [--layer LAYER] [--per-token [{true,false}]]
                               [--batch-size BATCH_SIZE] [--unknown {error,x}]

Per-sequence (mean) or per-residue embeddings of a layer, as .npz

options:
  -h, --help            show this help message and exit
  --fasta FASTA         input FASTA (.gz accepted)
  --out OUT             output .npz file; - for stdout
  --checkpoint CHECKPOINT
                        Lightning .ckpt file or save_pretrained directory (default: the
                        shipped protein_performer_default.ckpt)
  --layer LAYER         0 = embedding output, i = block i, -1 = final representation
  --per-token [{true,false}]
                        also store the per-residue embeddings
  --batch-size BATCH_SIZE
  --unknown {error,x}   letters outside the amino-acid alphabet: stop naming the record and
                        position (default), or read them as X

booleans: a flag alone means true; --flag true|false says it outright
""",
    "mutations": """\
usage: protein-performer mutations [-h] (--sequence SEQUENCE | --fasta FASTA)
                                   [--mutations [MUTATIONS ...]]
                                   [--mutations-file MUTATIONS_FILE] [--scan [{true,false}]]
                                   [--method {masked-marginals,wt-marginals,pll}]
                                   [--offset OFFSET] [--checkpoint CHECKPOINT]
                                   [--unknown {error,x}] [--out OUT]

Zero-shot mutation effect scores

options:
  -h, --help            show this help message and exit
  --sequence SEQUENCE   wild-type sequence
  --fasta FASTA         FASTA whose first record is the wild type
  --mutations [MUTATIONS ...]
                        variants like A12G or A12G:K15R (1-based positions)
  --mutations-file MUTATIONS_FILE
                        file with one variant per line
  --scan [{true,false}]
                        score every single substitution
  --method {masked-marginals,wt-marginals,pll}
                        masked-LM score (causal models: causal-llr)
  --offset OFFSET       number of the first residue in the variant names (default: 1)
  --checkpoint CHECKPOINT
                        Lightning .ckpt file or save_pretrained directory (default: the
                        shipped protein_performer_default.ckpt)
  --unknown {error,x}   letters outside the amino-acid alphabet: stop naming the record and
                        position (default), or read them as X
  --out OUT             TSV; - for stdout (default: stdout)

booleans: a flag alone means true; --flag true|false says it outright
""",
    "family": """\
usage: protein-performer family [--config CONFIG] [--name NAME] [--runs-dir RUNS_DIR]
                                [--seed SEED] [--model-preset MODEL_PRESET] [--model CONFIG]
                                [--model.vocab_size VOCAB_SIZE] [--model.max_len MAX_LEN]
                                [--model.d_model D_MODEL] [--model.n_heads N_HEADS]
                                [--model.n_layers N_LAYERS] [--model.d_ff D_FF]
                                [--model.dropout DROPOUT] [--model.attention ATTENTION]
                                [--model.objective {mlm,causal}]
                                [--model.n_features N_FEATURES]
                                [--model.favor_bf16_gemm [{true,false}]]
                                [--model.tie_embeddings [{true,false}]]
                                [--model.init_std INIT_STD]
                                [--model.layer_norm_eps LAYER_NORM_EPS]
                                [--model.position_attention_layers POSITION_ATTENTION_LAYERS]
                                [--optim CONFIG] [--optim.lr LR] [--optim.beta1 BETA1]
                                [--optim.beta2 BETA2] [--optim.eps EPS]
                                [--optim.weight_decay WEIGHT_DECAY]
                                [--optim.warmup_steps WARMUP_STEPS]
                                [--optim.decay {constant,linear,cosine}]
                                [--optim.min_lr_ratio MIN_LR_RATIO] [--trainer CONFIG]
                                [--trainer.max_steps MAX_STEPS] [--trainer.max_time MAX_TIME]
                                [--trainer.val_check_interval VAL_CHECK_INTERVAL]
                                [--trainer.limit_val_batches LIMIT_VAL_BATCHES]
                                [--trainer.limit_test_batches LIMIT_TEST_BATCHES]
                                [--trainer.log_every_n_steps LOG_EVERY_N_STEPS]
                                [--trainer.accelerator ACCELERATOR]
                                [--trainer.devices DEVICES] [--trainer.num_nodes NUM_NODES]
                                [--trainer.strategy STRATEGY] [--trainer.precision PRECISION]
                                [--trainer.accumulate_grad_batches ACCUMULATE_GRAD_BATCHES]
                                [--trainer.gradient_clip_val GRADIENT_CLIP_VAL]
                                [--trainer.redraw_every_n_steps REDRAW_EVERY_N_STEPS]
                                [--trainer.redraw_seed REDRAW_SEED]
                                [--trainer.checkpoint_every_n_steps CHECKPOINT_EVERY_N_STEPS]
                                [--trainer.num_sanity_val_steps NUM_SANITY_VAL_STEPS]
                                [--trainer.fast_dev_run FAST_DEV_RUN]
                                [--trainer.enable_progress_bar [{true,false}]]
                                [--trainer.rich_progress [{true,false}]]
                                [--trainer.evaluate_best [{true,false}]]
                                [--trainer.num_threads NUM_THREADS] [--data CONFIG] --data.msa
                                MSA [--data.msa_format MSA_FORMAT]
                                [--data.view {aligned,unaligned}]
                                [--data.direction {forward,reverse}]
                                [--data.weights [{true,false}]]
                                [--data.identity_threshold IDENTITY_THRESHOLD]
                                [--data.max_col_gaps MAX_COL_GAPS]
                                [--data.max_row_gaps MAX_ROW_GAPS]
                                [--data.valid_fraction VALID_FRACTION]
                                [--data.test_fraction TEST_FRACTION] [--data.holdout HOLDOUT]
                                [--data.batch_size BATCH_SIZE]
                                [--data.batch_tokens BATCH_TOKENS]
                                [--data.mask_prob MASK_PROB] [--data.seed SEED]
                                [--data.num_workers NUM_WORKERS] [--data.cache_dir CACHE_DIR]
                                [--eval CONFIG] [--eval.scan SCAN]
                                [--eval.score_column SCORE_COLUMN]
                                [--eval.mutant_column MUTANT_COLUMN]
                                [--eval.wild_type WILD_TYPE] [--eval.offset OFFSET]
                                [--eval.query QUERY] [--eval.min_coverage MIN_COVERAGE]
                                [--eval.contacts CONTACTS] [--eval.structure STRUCTURE]
                                [--eval.chain CHAIN] [--eval.methods METHODS]
                                [--eval.n_boot N_BOOT]
                                [--eval.potts_iterations POTTS_ITERATIONS]
                                [--eval.n_samples N_SAMPLES] [--init-from INIT_FROM]
                                [--reference [REFERENCE ...]] [--resume [{true,false}]]
                                [--overwrite [{true,false}]]

`protein-performer family`: train a model on one family's alignment, then check it against
what evaluation inputs are given: a deep mutational scan, a column contact map or a structure.

options:
  -h, --help            Show this help message and exit.
  --config CONFIG       YAML config (configs/family*.yaml)
  --print_config [=flags]
                        Print the configuration after applying all other arguments and exit.
                        The optional flags customizes the output and are one or more keywords
                        separated by comma. The supported flags are: skip_default, skip_unset.
  --name NAME           run name: runs/<name>/ (type: str, default: family)
  --runs-dir RUNS_DIR, --runs_dir RUNS_DIR
                        parent of run directories (type: str, default: runs)
  --seed SEED           seed_everything (init, data, dropout) (type: int, default: 0)
  --model-preset MODEL_PRESET, --model_preset MODEL_PRESET
                        start model.* from a preset (cpu_l4_d128, family_l4_d64, mid_l8_d256,
                        paper_concat_l6_d512, paper_protein_l36_d512, tiny_l2_d64); model.*
                        overrides (type: str, default: family_l4_d64)
  --init-from INIT_FROM, --init_from INIT_FROM
                        fine-tune from a checkpoint (e.g. the shipped general model) (type:
                        str | null, default: null)
  --reference [REFERENCE ...]
                        other checkpoints to score on the same variants (type: str, default:
                        [])
  --resume [{true,false}]
                        continue runs/<name>/ from its newest intact checkpoint (type: bool,
                        default: False)
  --overwrite [{true,false}]
                        replace runs/<name>/ if it exists (only once every input has been
                        checked) (type: bool, default: False)

Shape and behaviour of a `ProteinPerformer`. Defaults are the paper's protein model:
  --model CONFIG        Path to a configuration file.
  --model.vocab_size VOCAB_SIZE
                        (type: int, default: 30)
  --model.max_len MAX_LEN
                        (type: int, default: 1024)
  --model.d_model D_MODEL
                        (type: int, default: 512)
  --model.n_heads N_HEADS
                        (type: int, default: 8)
  --model.n_layers N_LAYERS
                        (type: int, default: 36)
  --model.d_ff D_FF     (type: int, default: 1024)
  --model.dropout DROPOUT
                        (type: float, default: 0.2)
  --model.attention ATTENTION
                        (type: str, default: favor-softmax)
  --model.objective {mlm,causal}
                        (type: Literal['mlm', 'causal'], default: causal)
  --model.n_features N_FEATURES
                        (type: int, default: 256)
  --model.favor_bf16_gemm [{true,false}]
                        (type: bool, default: False)
  --model.tie_embeddings [{true,false}]
                        (type: bool, default: True)
  --model.init_std INIT_STD
                        (type: float, default: 0.02)
  --model.layer_norm_eps LAYER_NORM_EPS
                        (type: float, default: 1e-05)
  --model.position_attention_layers POSITION_ATTENTION_LAYERS
                        (type: int, default: 1)

Optimiser and learning-rate schedule; defaults are the paper's recipe:
  --optim CONFIG        Path to a configuration file.
  --optim.lr LR         (type: float, default: 0.003)
  --optim.beta1 BETA1   (type: float, default: 0.9)
  --optim.beta2 BETA2   (type: float, default: 0.98)
  --optim.eps EPS       (type: float, default: 1e-09)
  --optim.weight_decay WEIGHT_DECAY
                        (type: float, default: 0.1)
  --optim.warmup_steps WARMUP_STEPS
                        (type: int, default: 30)
  --optim.decay {constant,linear,cosine}
                        (type: Literal['constant', 'linear', 'cosine'], default: linear)
  --optim.min_lr_ratio MIN_LR_RATIO
                        (type: float, default: 0.1)

What Lightning's Trainer and our callbacks need; every field can be set from YAML:
  --trainer CONFIG      Path to a configuration file.
  --trainer.max_steps MAX_STEPS
                        (type: int, default: 1500)
  --trainer.max_time MAX_TIME
                        (type: str | null, default: null)
  --trainer.val_check_interval VAL_CHECK_INTERVAL
                        (type: int, default: 100)
  --trainer.limit_val_batches LIMIT_VAL_BATCHES
                        (type: int | float, default: 1.0)
  --trainer.limit_test_batches LIMIT_TEST_BATCHES
                        (type: int | float, default: 1.0)
  --trainer.log_every_n_steps LOG_EVERY_N_STEPS
                        (type: int, default: 20)
  --trainer.accelerator ACCELERATOR
                        (type: str, default: auto)
  --trainer.devices DEVICES
                        (type: int | str, default: 1)
  --trainer.num_nodes NUM_NODES
                        (type: int, default: 1)
  --trainer.strategy STRATEGY
                        (type: str, default: auto)
  --trainer.precision PRECISION
                        (type: str, default: 32-true)
  --trainer.accumulate_grad_batches ACCUMULATE_GRAD_BATCHES
                        (type: int, default: 1)
  --trainer.gradient_clip_val GRADIENT_CLIP_VAL
                        (type: float | null, default: 0.5)
  --trainer.redraw_every_n_steps REDRAW_EVERY_N_STEPS
                        (type: int, default: 0)
  --trainer.redraw_seed REDRAW_SEED
                        (type: int, default: 0)
  --trainer.checkpoint_every_n_steps CHECKPOINT_EVERY_N_STEPS
                        (type: int, default: 100)
  --trainer.num_sanity_val_steps NUM_SANITY_VAL_STEPS
                        (type: int, default: 0)
  --trainer.fast_dev_run FAST_DEV_RUN
                        (type: bool | int, default: False)
  --trainer.enable_progress_bar [{true,false}]
                        (type: bool, default: True)
  --trainer.rich_progress [{true,false}]
                        (type: bool, default: True)
  --trainer.evaluate_best [{true,false}]
                        (type: bool, default: True)
  --trainer.num_threads NUM_THREADS
                        (type: int | null, default: null)

Where the alignment is and how it becomes training items:
  --data CONFIG         Path to a configuration file.
  --data.msa MSA        (required, type: str)
  --data.msa_format MSA_FORMAT
                        (type: str | null, default: null)
  --data.view {aligned,unaligned}
                        (type: Literal['aligned', 'unaligned'], default: aligned)
  --data.direction {forward,reverse}
                        (type: Literal['forward', 'reverse'], default: forward)
  --data.weights [{true,false}]
                        (type: bool, default: True)
  --data.identity_threshold IDENTITY_THRESHOLD
                        (type: float, default: 0.8)
  --data.max_col_gaps MAX_COL_GAPS
                        (type: float, default: 1.0)
  --data.max_row_gaps MAX_ROW_GAPS
                        (type: float, default: 1.0)
  --data.valid_fraction VALID_FRACTION
                        (type: float, default: 0.025)
  --data.test_fraction TEST_FRACTION
                        (type: float, default: 0.025)
  --data.holdout HOLDOUT
                        (type: tuple[str, ...] | str, default: ())
  --data.batch_size BATCH_SIZE
                        (type: int, default: 128)
  --data.batch_tokens BATCH_TOKENS
                        (type: int | null, default: 10752)
  --data.mask_prob MASK_PROB
                        (type: float, default: 0.15)
  --data.seed SEED      (type: int, default: 0)
  --data.num_workers NUM_WORKERS
                        (type: int, default: 0)
  --data.cache_dir CACHE_DIR
                        (type: str, default: <repo>/cache/families)

The experimental data a family model is checked against; each part runs only when its:
  --eval CONFIG         Path to a configuration file.
  --eval.scan SCAN      (type: str | null, default: null)
  --eval.score_column SCORE_COLUMN
                        (type: str, default: DMS_score)
  --eval.mutant_column MUTANT_COLUMN
                        (type: str, default: mutant)
  --eval.wild_type WILD_TYPE
                        (type: str | null, default: null)
  --eval.offset OFFSET  (type: int, default: 1)
  --eval.query QUERY    (type: str | null, default: null)
  --eval.min_coverage MIN_COVERAGE
                        (type: float, default: 0.5)
  --eval.contacts CONTACTS
                        (type: str | null, default: null)
  --eval.structure STRUCTURE
                        (type: str | null, default: null)
  --eval.chain CHAIN    (type: str | null, default: null)
  --eval.methods METHODS
                        (type: Optional[tuple[str, ...]], default: null)
  --eval.n_boot N_BOOT  (type: int, default: 1000)
  --eval.potts_iterations POTTS_ITERATIONS
                        (type: int, default: 100)
  --eval.n_samples N_SAMPLES
                        (type: int, default: 200)

booleans: a flag alone means true; --flag true|false says it outright; a dotted flag may be
kebab-case (--eval.n-boot is --eval.n_boot)
""",
    "dms": """\
usage: protein-performer dms [-h] --checkpoint CHECKPOINT [--scan SCAN]
                             [--score-column SCORE_COLUMN] [--mutant-column MUTANT_COLUMN]
                             [--wild-type WILD_TYPE] [--offset OFFSET] [--msa MSA]
                             [--query QUERY] [--contacts CONTACTS] [--structure STRUCTURE]
                             [--chain CHAIN] [--methods METHOD [METHOD ...]]
                             [--min-coverage MIN_COVERAGE] [--n-boot N_BOOT]
                             [--potts-iterations POTTS_ITERATIONS] [--out OUT]

`protein-performer dms`: score a deep mutational scan with any checkpoint, beside baselines.

options:
  -h, --help            show this help message and exit
  --checkpoint CHECKPOINT
                        model to score with; give it again for an ensemble of the models
  --scan SCAN           CSV with a mutant column
  --score-column SCORE_COLUMN, --score SCORE_COLUMN
                        the scan's measured-score column, needed with --scan (family:
                        --eval.score-column)
  --mutant-column MUTANT_COLUMN
                        the scan's variant column
  --wild-type WILD_TYPE
                        FASTA of the wild type (default: from the scan's mutated_sequence
                        column, or the --query row of --msa)
  --offset OFFSET       number of the first residue
  --msa MSA             the family alignment
  --query QUERY         the wild type's row in --msa
  --contacts CONTACTS   column contact map
  --structure STRUCTURE
                        PDB / mmCIF of the wild type: contacts through its columns (needs
                        --chain)
  --chain CHAIN         the chain of --structure, e.g. A
  --methods METHOD [METHOD ...], --method METHOD [METHOD ...]
                        scores to compute, one or more of masked-marginals, wt-marginals, pll,
                        causal-llr (family: --eval.methods); default: the model's usual ones
  --min-coverage MIN_COVERAGE
                        refuse a scan with a smaller share of its variants on --msa's columns
  --n-boot N_BOOT       bootstrap resamples
  --potts-iterations POTTS_ITERATIONS
                        L-BFGS iterations of the Potts baseline with --msa (0 skips it)
  --out OUT             output folder

booleans: a flag alone means true; --flag true|false says it outright
""",
    "generate": """\
usage: protein-performer generate [-h] --checkpoint CHECKPOINT [--prompt PROMPT]
                                  [--unknown {error,x}] [--num-samples NUM_SAMPLES]
                                  [--max-length MAX_LENGTH] [--temperature TEMPERATURE]
                                  [--top-k TOP_K] [--top-p TOP_P] [--seed SEED]
                                  [--batch-size BATCH_SIZE] [--mode {recurrent,naive}]
                                  [--device DEVICE] [--threads THREADS]
                                  [--allow-nonstandard [{true,false}]]
                                  [--unaligned [{true,false}]] [--name NAME] [--out OUT]

Sample sequences from a causal protein language model (stops at EOS).

options:
  -h, --help            show this help message and exit
  --checkpoint CHECKPOINT
                        Lightning .ckpt file or save_pretrained directory
  --prompt PROMPT       sequence prefix, e.g. MKV (default: none)
  --unknown {error,x}   letters outside the amino-acid alphabet: stop naming the record and
                        position (default), or read them as X
  --num-samples NUM_SAMPLES
  --max-length MAX_LENGTH
                        most residues per sample, prompt included (default: the model's
                        max_len - 2)
  --temperature TEMPERATURE
                        0 means greedy
  --top-k TOP_K         keep the k likeliest tokens
  --top-p TOP_P         nucleus mass, in (0, 1]
  --seed SEED
  --batch-size BATCH_SIZE
                        samples decoded together
  --mode {recurrent,naive}
                        recurrent state / KV cache (default), or full recomputation per token
                        (slow)
  --device DEVICE
  --threads THREADS     torch CPU threads (default 1: one token at a time is hundreds of tiny
                        ops, and extra threads mostly contend; 0 keeps torch's default)
  --allow-nonstandard [{true,false}]
                        also sample X, B, Z, U and O (default: the 20 standard amino acids
                        only)
  --unaligned [{true,false}]
                        aligned family models: write the sampled rows without their gaps
  --name NAME           record name prefix
  --out OUT             FASTA file; - for stdout (default: stdout)

booleans: a flag alone means true; --flag true|false says it outright
""",
    "score": """\
usage: protein-performer score [-h] --checkpoint CHECKPOINT --fasta FASTA --out OUT
                               [--batch-size BATCH_SIZE] [--unknown {error,x}]
                               [--skip-long [{true,false}]] [--device DEVICE]

Log-likelihood and perplexity of FASTA sequences under a causal model.

options:
  -h, --help            show this help message and exit
  --checkpoint CHECKPOINT
                        Lightning .ckpt file or save_pretrained directory
  --fasta FASTA         .fasta or .fasta.gz
  --out OUT             TSV to write; - for stdout
  --batch-size BATCH_SIZE
  --unknown {error,x}   letters outside the amino-acid alphabet: stop naming the record and
                        position (default), or read them as X
  --skip-long [{true,false}]
                        skip sequences longer than the model's max_len - 2 (default: stop with
                        an error)
  --device DEVICE

booleans: a flag alone means true; --flag true|false says it outright
""",
    "bench": """\
usage: protein-performer bench <name> [options]

benchmarks:
  attention   FAVOR+/ReLU/SDPA/identity vs performer-pytorch: time, memory, error
  generation  cost per generated token: FAVOR state vs KV cache vs recompute
  family      family training step vs a bare loop and the GEMM rate; 200-column evaluation time
""",
}
