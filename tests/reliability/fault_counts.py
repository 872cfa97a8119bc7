"""`python -m tests.reliability.fault_counts REPORT.jsonl`: the counts of a fault-injection run
(one JSON line per injected fault, written by test_fault_injection.py)."""

from __future__ import annotations

import json
import sys
from collections import Counter


def summarise(lines: list[str]) -> str:
    rows = [json.loads(line) for line in lines if line.strip()]
    parts = []
    for kind in ("prepare", "train", "save_pretrained", "shard", "race"):
        mine = [r for r in rows if r["kind"] == kind]
        killed = [r for r in mine if r["killed"]]
        bad = [r for r in mine if r.get("lost") or r.get("survived") is False]
        where = Counter(r["where"].split("#")[0] for r in killed)
        parts.append(
            f"{kind}: faults injected {len(mine)}, killed before finishing {len(killed)}, "
            f"survived {len(mine) - len(bad)}, lost {len(bad)} "
            f"(kill points: {', '.join(f'{k} {v}' for k, v in sorted(where.items()))})"
        )
    return "\n".join(parts)


if __name__ == "__main__":
    with open(sys.argv[1]) as fh:
        print(summarise(fh.readlines()))
