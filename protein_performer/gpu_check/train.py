"""Stage `train`: a two-minute real training run of a GPU-sized model, with its loss curve.

The shipped UniProt sample is read straight from FASTA (no preparation cache and no Hugging
Face `datasets`, so the stage runs on a bare GPU machine), split 98/2 by a hash of the record
name, cropped to random windows, masked as in training (`data.batching.MLMCollator`) and fed
to `paper_protein_l36_d512` (FAVOR-ReLU, the paper's model) under bf16 autocast for the time
the budget allows (two minutes at most). Rows: the training loss every few seconds and a
fixed validation set's loss, perplexity and masked-token accuracy at five points, beside the
unigram baseline, all scored as in training (`training.metrics`, `training.baseline`), with the
training LR schedule (`training.lr_schedule`: warm-up, then cosine decay over the time
budget). The CPU runs of docs/RESULTS.md (25 M tokens each) are the comparison.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import torch

from protein_performer.constants import AMINO_ACID_IDS, VOCAB_SIZE
from protein_performer.data.batching import IGNORE_INDEX, MLMCollator
from protein_performer.data.fasta import iter_fasta
from protein_performer.data.splits import VALID, key_hash, split_from_hash
from protein_performer.data.tokenizer import Alphabet
from protein_performer.gpu_check.context import Sink, StageContext, peak_memory_mb
from protein_performer.gpu_check.shapes import TRAIN_RUN
from protein_performer.model.attention_kinds import DEFAULT_KIND
from protein_performer.model.config import preset
from protein_performer.model.performer import ProteinPerformer
from protein_performer.training.baseline import UnigramBaseline
from protein_performer.training.lr_schedule import lr_factor
from protein_performer.training.metrics import TokenMetrics, predicted, scored_labels

SAMPLE = Path(__file__).resolve().parents[2] / "data" / "uniprot_sample.fasta.gz"
TRAIN_SECONDS = 120.0
VALID_FRACTION = 0.02


def load_split(fasta: Path, max_records: int | None) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """(train, valid) token arrays (framed <cls> … <eos>), split by a hash of the record name."""
    alphabet = Alphabet(unknown="x")
    names, items = [], []
    for record in iter_fasta(fasta):
        names.append(record.name)
        items.append(alphabet.encode(record.sequence).astype(np.int64))
        if max_records is not None and len(items) >= max_records:
            break
    hashes = np.array([key_hash(name, "gpu-check") for name in names], dtype=np.uint64)
    codes = split_from_hash(hashes, VALID_FRACTION, 0.0)
    train = [x for x, c in zip(items, codes, strict=True) if c != VALID]
    valid = [x for x, c in zip(items, codes, strict=True) if c == VALID]
    return train, valid


def crop(tokens_L: np.ndarray, length: int, rng: np.random.Generator | None) -> np.ndarray:
    """A window of at most `length` tokens: random in training, the start in evaluation."""
    if len(tokens_L) <= length:
        return tokens_L
    start = int(rng.integers(0, len(tokens_L) - length + 1)) if rng is not None else 0
    return tokens_L[start : start + length]


def run(ctx: StageContext, sink: Sink) -> None:
    name, length, batch_size = TRAIN_RUN[ctx.quick]
    fasta = ctx.fasta or SAMPLE
    train, valid = load_split(fasta, 400 if ctx.quick else None)
    counts_V = np.bincount(np.concatenate(train), minlength=VOCAB_SIZE).astype(np.float64)
    special = np.setdiff1d(np.arange(VOCAB_SIZE), AMINO_ACID_IDS)
    counts_V[special] = 0.0  # only residues are ever masked and predicted
    baseline = UnigramBaseline.from_counts(counts_V)
    device_type = ctx.device.split(":")[0]
    torch.manual_seed(0)
    config = preset(name, attention=DEFAULT_KIND, max_len=length)
    model = ProteinPerformer(config).to(ctx.device)
    lr, warmup = (1e-3, 2) if ctx.quick else (5e-4, 100)
    fused = {"fused": True} if ctx.cuda else {}
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr, betas=(0.9, 0.98), **fused)
    valid_items = [crop(x, length, None) for x in valid[: 8 if ctx.quick else 512]]
    valid_batches = [
        MLMCollator(seed=0)([{"tokens": x, "index": i} for i, x in
                             enumerate(valid_items[lo : lo + batch_size], start=lo)])
        for lo in range(0, len(valid_items), batch_size)
    ]  # fmt: skip
    train_s = min(TRAIN_SECONDS, ctx.left() - (3 if ctx.quick else 15))
    sink.set(preset=name, attention=DEFAULT_KIND, precision="bf16 autocast", crop=length,
             batch=batch_size, fasta=str(fasta), train_proteins=len(train),
             valid_proteins=len(valid_items), lr=lr, warmup_steps=warmup,
             params=model.num_parameters(), planned_train_s=round(train_s, 1))  # fmt: skip

    def evaluate(step: int, tokens: int, t_s: float) -> None:
        model.eval()
        metrics = TokenMetrics().to(ctx.device)
        with torch.no_grad(), torch.autocast(device_type, dtype=torch.bfloat16):
            for batch in valid_batches:
                batch = {k: v.to(ctx.device) for k, v in batch.items()}
                out = model(batch["tokens"], batch["is_pad"]).logits_BLV
                labels_BL = scored_labels(batch["tokens"], batch["labels"], config.objective)
                metrics.update(*predicted(out, labels_BL), baseline)
        model.train()
        result = metrics.split_metrics()
        sink.add(kind="valid", step=step, tokens=tokens, t_s=round(t_s, 2), loss=result.loss,
                 perplexity=result.perplexity, accuracy=result.accuracy,
                 unigram_perplexity=result.baseline_perplexity,
                 unigram_accuracy=result.baseline_accuracy, scored=result.tokens)  # fmt: skip

    rng = np.random.default_rng(0)
    collate = MLMCollator()
    order, cursor = rng.permutation(len(train)), 0
    step = tokens = 0
    # Summed on the device and read at log time only: a per-step .item() would stall the GPU.
    loss_sum, loss_count = torch.zeros((), device=ctx.device), 0
    log_every_s = 0.0 if ctx.quick else 5.0
    evals = [train_s * i / 4 for i in range(1, 5)]
    evaluate(0, 0, 0.0)
    start = last_log = time.perf_counter()
    while True:
        elapsed = time.perf_counter() - start
        if elapsed >= train_s or (ctx.quick and step >= 6):
            break
        if cursor + batch_size > len(order):
            order, cursor = rng.permutation(len(train)), 0
        picked = order[cursor : cursor + batch_size]
        cursor += batch_size
        batch = collate([{"tokens": crop(train[i], length, rng), "index": int(i)}
                         for i in picked])  # fmt: skip
        tokens += int((~batch["is_pad"]).sum())
        batch = {k: v.to(ctx.device, non_blocking=True) for k, v in batch.items()}
        # Linear warm-up, then cosine decay to 10 % over the time budget.
        factor = lr_factor(step, warmup, 0, "cosine", 0.1, progress=elapsed / train_s)
        for group in optimizer.param_groups:
            group["lr"] = lr * factor
        with torch.autocast(device_type, dtype=torch.bfloat16):
            logits = model(batch["tokens"], batch["is_pad"]).logits_BLV
        loss = torch.nn.functional.cross_entropy(
            logits.float().flatten(0, 1), batch["labels"].flatten(), ignore_index=IGNORE_INDEX
        )
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 0.5)
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        step += 1
        loss_sum, loss_count = loss_sum + loss.detach(), loss_count + 1
        now = time.perf_counter()
        if now - last_log >= log_every_s:
            sink.add(kind="train", step=step, tokens=tokens, t_s=round(now - start, 2),
                     loss=float(loss_sum) / loss_count, lr=lr * factor)  # fmt: skip
            loss_sum, loss_count, last_log = torch.zeros_like(loss_sum), 0, now
        if evals and now - start >= evals[0]:
            evals.pop(0)
            evaluate(step, tokens, now - start)
    wall = time.perf_counter() - start
    if not sink.rows or sink.rows[-1].get("kind") != "valid":
        evaluate(step, tokens, wall)
    sink.set(train_s=round(wall, 2), steps=step, tokens_seen=tokens,
             tokens_per_s=tokens / wall if wall else None,
             peak_mb=peak_memory_mb(ctx.device))  # fmt: skip
