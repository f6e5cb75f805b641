"""The chapters read as a textbook: short teaching cells, a diagram of what each teaches, every cell
openable, exercises that check their own answers, and diagrams legible on a phone.

Exercises' collapsed, asserting solutions are checked in ``test_code_on_the_page.py``.
"""

import base64
import re

import matplotlib
import matplotlib.pyplot as plt
import nbformat
import pytest

from utils import diagrams
from utils.freshness import BOOTSTRAP_TAG
from utils.paths import CHAPTERS_DIR

matplotlib.use("Agg")

CHAPTERS = sorted(CHAPTERS_DIR.glob("[0-9][0-9]_*.ipynb"))
MAX_CELL_LINES = 60
DIAGRAM_TAG = "diagram"  # a cell that draws what the chapter teaches (utils.diagrams.show)


@pytest.fixture(autouse=True)
def _close_figures():
    """The diagrams drawn here are closed, so that later tests start without open figures."""
    yield
    plt.close("all")


def _cells(path):
    return nbformat.read(path, as_version=4).cells


def _tags(cell):
    return cell.metadata.get("tags", [])


def _png_outputs(cell):
    return [output for output in cell.get("outputs", []) if "image/png" in output.get("data", {})]


def long_cells(cells):
    """(index, lines) of every code cell over MAX_CELL_LINES lines, the Colab bootstrap aside."""
    return [(i, len(c.source.splitlines())) for i, c in enumerate(cells)
            if c.cell_type == "code" and BOOTSTRAP_TAG not in _tags(c) and len(c.source.splitlines()) > MAX_CELL_LINES]


def hidden_cells(cells):
    """Cells a reader cannot open: `remove-input` anywhere, `remove-cell` except the Colab bootstrap."""
    return [i for i, c in enumerate(cells)
            if "remove-input" in _tags(c) or ("remove-cell" in _tags(c) and BOOTSTRAP_TAG not in _tags(c))]


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_no_code_cell_is_longer_than_a_reader_can_follow(path):
    assert long_cells(_cells(path)) == [], f"cells over {MAX_CELL_LINES} lines (index, lines)"


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_every_cell_can_be_opened(path):
    assert hidden_cells(_cells(path)) == [], "use hide-input (collapsed) instead of remove-input / remove-cell"


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_each_chapter_draws_what_it_teaches(path):
    cells = _cells(path)
    assert any(_png_outputs(c) for c in cells if c.cell_type == "code"), "the chapter shows no image"
    diagram_cells = [c for c in cells if c.cell_type == "code" and DIAGRAM_TAG in _tags(c)]
    assert diagram_cells, f"no cell tagged {DIAGRAM_TAG!r}"
    for cell in diagram_cells:
        assert "diagrams.show(" in cell.source, "a diagram is displayed by utils.diagrams.show (legible, alt text)"
        outputs = _png_outputs(cell)
        assert outputs, "a diagram cell shows its diagram in the committed outputs"
        for output in outputs:
            meta = output.get("metadata", {}).get("image/png", {})
            assert len(meta.get("alt", "").split()) >= 4, "the diagram carries a text alternative"
            png = base64.b64decode(output["data"]["image/png"])
            width = int.from_bytes(png[16:20], "big")
            assert meta["width"] == width // diagrams.RESOLUTION, "stored at twice its displayed size"


def test_the_cell_checks_find_what_they_look_for():
    cells = [nbformat.v4.new_code_cell("x = 1\n" * 61), nbformat.v4.new_code_cell("y = 2"),
             nbformat.v4.new_code_cell("import sys\n" * 70, metadata={"tags": [BOOTSTRAP_TAG, "remove-cell"]}),
             nbformat.v4.new_code_cell("z = 3", metadata={"tags": ["remove-input"]}),
             nbformat.v4.new_code_cell("w = 4", metadata={"tags": ["remove-cell"]})]
    assert long_cells(cells) == [(0, 61)]
    assert hidden_cells(cells) == [3, 4]


def test_a_diagram_with_text_too_small_on_a_phone_is_refused():
    fig, ax = diagrams.canvas(6.4, 3, (0, 4), (0, 3))
    diagrams.box(ax, (0.5, 1), 1, 1, "$h_t$", fontsize=10)
    small = diagrams.small_texts(fig)
    assert small and small[0][0] == "$h_t$" and small[0][1] < diagrams.MIN_DISPLAYED_PT
    with pytest.raises(ValueError, match="under 9"):
        diagrams.show(fig, alt="one hidden state in a box")


def test_a_narrow_diagram_is_legible_and_stored_at_twice_its_size():
    fig, ax = diagrams.canvas(3.6, 2.4, (0, 4), (0, 3))
    diagrams.box(ax, (0.2, 1), 1, 0.8, "$x_t$")
    diagrams.arrow(ax, (1.2, 1.4), (2.6, 1.4), "$W$", label_offset=(0, 0.25))
    diagrams.box(ax, (2.6, 1), 1, 0.8, "$h_t$", filled=False)
    assert diagrams.small_texts(fig) == []
    assert diagrams.displayed_pt(fig, 11) >= diagrams.MIN_DISPLAYED_PT
    data, meta = diagrams.png_output(fig, "an input and a state joined by a weight")
    png = base64.b64decode(data["image/png"])
    assert int.from_bytes(png[16:20], "big") == 2 * meta["image/png"]["width"]
    assert meta["image/png"]["alt"] == "an input and a state joined by a weight"
    with pytest.raises(ValueError, match="text alternative"):
        diagrams.show(fig, alt="")


def _site_module():
    import importlib.util

    from utils.paths import REPO_ROOT

    spec = importlib.util.spec_from_file_location("rnnbook_site_for_tests", REPO_ROOT / "book" / "_ext" / "rnnbook_site.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_each_glossary_term_is_linked_where_the_glossary_says_it_is_taught():
    site = _site_module()
    entries = site.glossary_entries(site.GLOSSARY.read_text(encoding="utf-8"))
    assert len(entries) >= 30
    sources = {int(p.stem[:2]): "\n".join(c.source for c in _cells(p) if c.cell_type == "markdown") for p in CHAPTERS}
    unlinked = []
    for term, chinese, first in entries:
        assert first in sources, f"the glossary entry {term!r} names no chapter"
        link = re.compile(r"\{term\}`(?:[^`<]*<\s*)?" + re.escape(term) + r"\s*>?`", re.I)
        if not link.search(sources[first]):
            unlinked.append(f"{term} (chapter {first})")
    assert unlinked == [], f"terms not linked with {{term}} in the chapter that introduces them: {unlinked}"


def test_glossary_entries_give_the_chinese_term_and_the_chapter():
    site = _site_module()
    entries = site.glossary_entries("```{glossary}\n:sorted:\n\nGate\n  门控 · A vector. Chapter 7.\n\n"
                                    "XLA\n  XLA · A compiler. {doc}`Chapter 2 </chapters/02_mnist_rnn>`, chapter 9.\n```\n")
    assert entries == [("Gate", "门控", 7), ("XLA", "XLA", 2)]
