"""Generated blocks inside hand-written markdown.

A tool rewrites only the text between `<!-- auto:KEY -->` and `<!-- /auto:KEY -->`, so the prose
around it (what the numbers mean, why a target was missed) survives every rerun. Used by
docs/RESULTS.md (experiments), docs/benchmarks.md and docs/generation.md (benchmarks).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path


def begin(key: str) -> str:
    return f"<!-- auto:{key} -->"


def end(key: str) -> str:
    return f"<!-- /auto:{key} -->"


def fill(
    text: str, generated: Mapping[str, str], headings: Mapping[str, str] | None = None
) -> str:
    """Replace the body of every block named in `generated`. A block missing from `text` is
    appended under `## <heading>` (`headings[key]`, else the key itself)."""
    for key, body in generated.items():
        pattern = re.compile(
            rf"({re.escape(begin(key))}\n)(?:.*?\n)?({re.escape(end(key))})", re.S
        )
        if pattern.search(text):
            text = pattern.sub(lambda m, body=body: m.group(1) + body + "\n" + m.group(2), text)
        else:
            heading = (headings or {}).get(key, key)
            block = f"{begin(key)}\n{body}\n{end(key)}"
            text = text.rstrip("\n") + f"\n\n## {heading}\n\n{block}\n"
    return text


def update_file(
    path: Path,
    generated: Mapping[str, str],
    *,
    title: str,
    headings: Mapping[str, str] | None = None,
) -> Path:
    """`fill` the blocks of `path` in place; a new file starts with `# <title>`."""
    text = path.read_text() if path.is_file() else f"# {title}\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(fill(text, generated, headings))
    return path
