"""Execute notebooks and check that they show what they compute: `make notebooks`.

    python -m protein_performer.notebook_check notebooks/*.ipynb [--out DIR]

Each notebook runs top to bottom in a fresh kernel (nbclient), from its own directory. A
notebook whose metadata holds `"protein_performer": {"min_figures": N}` fails unless its
executed outputs contain at least N images (without the key, one that imports
`protein_performer.plots` needs at least one): a figure that silently went to a headless
backend is a failure, not a pass. `--in-place` writes each executed notebook back over its file
(how the committed notebooks get their outputs, so that the figures show on the repository
page); `--out DIR` writes the executed copies there instead.
"""

from __future__ import annotations

import sys
from pathlib import Path

from protein_performer import command_line

IMAGE_TYPES = ("image/png", "image/svg+xml", "image/jpeg")


def count_images(notebook) -> int:
    """Image outputs (display data or execute results) over all code cells."""
    return sum(
        1
        for cell in notebook.cells
        if cell.cell_type == "code"
        for output in cell.get("outputs", [])
        if any(kind in output.get("data", {}) for kind in IMAGE_TYPES)
    )


def expected_figures(notebook) -> int:
    """`metadata.protein_performer.min_figures`, else 1 for a notebook that draws our plots."""
    declared = notebook.metadata.get("protein_performer", {}).get("min_figures")
    if declared is not None:
        return int(declared)
    sources = (cell.source for cell in notebook.cells if cell.cell_type == "code")
    return int(any("protein_performer.plots" in source for source in sources))


def execute(path: Path, timeout: int = 600):
    """The executed notebook (outputs filled in); raises on the first failing cell."""
    import nbformat
    from nbclient import NotebookClient

    notebook = nbformat.read(path, as_version=4)
    client = NotebookClient(
        notebook,
        timeout=timeout,
        kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
    )
    client.execute()
    return notebook


def check(path: Path, out_dir: Path | None = None, in_place: bool = False) -> str | None:
    """None if `path` runs and shows its figures, else a one-line reason."""
    import nbformat

    try:
        notebook = execute(path)
    except Exception as error:  # a failing cell: report its first line
        return f"{path}: failed to execute ({str(error).strip().splitlines()[-1]})"
    wanted = expected_figures(notebook)
    found = count_images(notebook)
    print(f"{path}: executed, {found} images (at least {wanted} expected)")
    if found < wanted:
        return f"{path}: {found} images in the executed notebook, expected at least {wanted}"
    if out_dir is not None:
        out_dir.mkdir(parents=True, exist_ok=True)
        nbformat.write(notebook, out_dir / path.name)
    if in_place:  # only a notebook that passed replaces the committed one
        tmp = path.with_name(f".{path.name}.tmp")
        nbformat.write(notebook, tmp)
        tmp.replace(path)
    return None


def main(argv: list[str] | None = None) -> int:
    parser = command_line.ArgumentParser(prog="python -m protein_performer.notebook_check")
    parser.add_argument("notebooks", nargs="+", type=Path)
    parser.add_argument("--out", type=Path, default=None, help="write executed copies here")
    parser.add_argument(
        "--in-place", **command_line.SWITCH, help="write each executed notebook over its file"
    )
    args = parser.parse_args(argv)
    failures = [
        reason for path in args.notebooks if (reason := check(path, args.out, args.in_place))
    ]
    for reason in failures:
        print(reason, file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
