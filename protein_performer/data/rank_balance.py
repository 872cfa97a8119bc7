"""Give every data-parallel rank the same number of batches without dropping or repeating items.

Under DDP a rank with one batch more than the others waits forever at the gradient all-reduce;
under FSDP even evaluation hangs, since every forward pass all-gathers parameters. The usual
remedies are to drop the last `n mod world` batches (items never seen that epoch) or to pad
with repeats (a `DistributedSampler`; evaluation metrics then count some items twice). Here
the largest batches are halved instead until the count divides by the world size: every item
lands in exactly one batch, and a half of a batch keeps within any token budget the whole one
kept (fewer items, no longer an item).
"""

from __future__ import annotations


def balance_across_ranks(batches: list[list[int]], world_size: int) -> list[list[int]]:
    """`batches` with the largest ones split in two, in place of the original, until
    `len % world_size == 0`; then rank r takes `result[r::world_size]`.

    Deterministic (ties go to the earliest batch), so every rank computes the same list. Only
    when every batch holds a single item and the count still does not divide (fewer items than
    ranks, or items that each fill a token budget alone) are the last `len % world_size`
    batches dropped, the one case left where balance costs items.
    """
    if world_size < 1:
        raise ValueError(f"world_size must be >= 1, got {world_size}")
    batches = [list(batch) for batch in batches]
    while len(batches) % world_size:
        widest = max(range(len(batches)), key=lambda i: (len(batches[i]), -i), default=None)
        if widest is None or len(batches[widest]) < 2:
            return batches[: len(batches) - len(batches) % world_size]
        batch = batches[widest]
        half = len(batch) // 2
        batches[widest : widest + 1] = [batch[:half], batch[half:]]
    return batches
