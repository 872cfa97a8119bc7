"""Progress bars for the inference commands (embed, analyze, score, mutations).

A bar is drawn on stderr only when asked for and stderr is a terminal, so piped output, logs
and tests stay clean; otherwise the returned object accepts the same calls and draws nothing.
"""

from __future__ import annotations

import sys

from tqdm.auto import tqdm


def progress_bar(total: int, desc: str, *, enabled: bool = True) -> tqdm:
    """A tqdm bar of `total` steps on stderr; disabled unless `enabled` and stderr is a tty."""
    show = enabled and sys.stderr.isatty()
    return tqdm(total=total, desc=desc, unit="seq", file=sys.stderr, disable=not show, leave=False)
