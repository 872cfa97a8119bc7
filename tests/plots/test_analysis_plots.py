import numpy as np
import pytest

from protein_performer.analysis.similarity import PROPERTY_GROUPS, PROPERTY_ORDER, blosum62
from protein_performer.plots.attention import attention_grid, head_summary_scatter, single_map
from protein_performer.plots.contacts import contact_map, precision_bars
from protein_performer.plots.similarity import matrices_side_by_side, scatter_vs_blosum
from protein_performer.plots.style import save

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _saved_png(fig, path):
    out = save(fig, path)
    data = out.read_bytes()
    assert data[:8] == PNG_MAGIC and len(data) > 2000
    return out


def test_attention_grid_has_one_panel_per_layer_and_head(tmp_path):
    rng = np.random.default_rng(0)
    maps = rng.random((3, 4, 30, 30))
    seq = "M" + "ACDEFGHIKLMNPQRSTVWY" + "ACDEFGHIK"
    fig = attention_grid(maps, seq, layers=(0, 1))
    assert len(fig.axes) == 2 * 4
    assert fig.axes[0].get_xticklabels()[0].get_text() == "M1"
    _saved_png(fig, tmp_path / "grid.png")
    _saved_png(single_map(maps[0, 0], seq, title="x"), tmp_path / "single.png")
    kinds = np.array([["diagonal", "vertical", "diffuse", "diffuse"]] * 3)
    _saved_png(
        head_summary_scatter(rng.random((3, 4)), rng.random((3, 4)), kinds), tmp_path / "heads.png"
    )


def test_contact_map_marks_correct_and_wrong_predictions(tmp_path):
    length = 30
    contacts = np.zeros((length, length), dtype=bool)
    contacts[0, 20] = contacts[20, 0] = True
    scores = np.zeros((length, length))
    scores[0, 20] = scores[20, 0] = 2.0  # correct
    scores[3, 25] = scores[25, 3] = 1.0  # wrong
    fig = contact_map(contacts, scores, top_k=2)
    ax = fig.axes[0]
    true_pts, hits, misses = (c.get_offsets() for c in ax.collections[:3])
    assert true_pts.tolist() == [[0, 20]]  # lower triangle: (row 20, col 0) drawn at x=0, y=20
    assert hits.tolist() == [[20, 0]] and misses.tolist() == [[25, 3]]
    _saved_png(fig, tmp_path / "contacts.png")


def test_precision_bars_and_similarity_figures(tmp_path):
    row = {"P@L": 0.3, "P@L/2": 0.4, "P@L/5": 0.5, "random": 0.05}
    results = {
        "a": {"short": row, "medium": row, "long": row},
        "b": {"short": row, "medium": row, "long": {**row, "P@L": 0.9}},
    }
    fig = precision_bars(results)
    assert [ax.get_title() for ax in fig.axes] == ["P@L", "P@L/2", "P@L/5"]
    heights = [p.get_height() for p in fig.axes[0].patches]
    assert heights == pytest.approx([0.3, 0.3, 0.3, 0.3, 0.3, 0.9])
    assert [p.get_height() for p in fig.axes[2].patches] == pytest.approx([0.5] * 6)
    _saved_png(fig, tmp_path / "bars.png")
    b = blosum62(PROPERTY_ORDER)
    fig = matrices_side_by_side(b * 0.1, b, PROPERTY_ORDER, groups=PROPERTY_GROUPS)
    assert [t.get_text() for t in fig.axes[0].get_xticklabels()] == list(PROPERTY_ORDER)
    _saved_png(fig, tmp_path / "matrices.png")
    fig = scatter_vs_blosum({"attention": b, "embedding": -b}, b, {"attention": 1.0})
    assert "r = 1.00" in fig.axes[0].get_title()
    _saved_png(fig, tmp_path / "scatter.png")
