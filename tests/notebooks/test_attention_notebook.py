"""The attention notebook runs top to bottom (the shipped Kunitz model beside the tiny general
checkpoint) and shows its figures inline (`make notebooks` runs the same check); the committed
copy holds the outputs of the shipped models."""

from pathlib import Path

import nbformat

from protein_performer.notebook_check import count_images

REPO = Path(__file__).resolve().parents[2]
NOTEBOOK = REPO / "notebooks" / "attention_maps.ipynb"


def test_attention_notebook_executes_and_shows_its_figures(
    tiny_checkpoint, tmp_path, execute_notebook
):
    executed = execute_notebook(
        NOTEBOOK, tmp_path, {"PROTEIN_PERFORMER_CHECKPOINT": str(tiny_checkpoint)}
    )
    assert count_images(executed) >= executed.metadata["protein_performer"]["min_figures"] >= 4
    tables = [
        o for c in executed.cells if c.cell_type == "code" for o in c.get("outputs", [])
        if "text/html" in o.get("data", {}) and "<table" in o["data"]["text/html"]
    ]  # fmt: skip
    assert len(tables) >= 4  # per-head precision, Jacobian, attention and side-by-side tables


def test_check_fails_a_notebook_without_its_figures(tmp_path):
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell(
            "import matplotlib\nmatplotlib.use('Agg')\n"
            "import matplotlib.pyplot as plt\nplt.plot([1, 2])"
        )
    ]
    nb.metadata["protein_performer"] = {"min_figures": 1}
    path = tmp_path / "headless.ipynb"
    nbformat.write(nb, path)
    from protein_performer.notebook_check import check

    assert "0 images" in check(path)
    from protein_performer.notebook_check import expected_figures

    del nb.metadata["protein_performer"]
    assert expected_figures(nb) == 0
    nb.cells.append(nbformat.v4.new_code_cell("from protein_performer.plots import style"))
    assert expected_figures(nb) == 1


def test_committed_notebook_holds_its_outputs():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    code_cells = [c for c in nb.cells if c.cell_type == "code"]
    assert code_cells and all(c.execution_count is not None for c in code_cells)
    assert count_images(nb) >= nb.metadata["protein_performer"]["min_figures"]
    text = "".join(o.get("text", "") for c in code_cells for o in c.outputs)
    assert "held out of training: BPT1_BOVIN" in text  # run on the shipped Kunitz model
