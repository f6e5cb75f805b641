"""Every number in the prose is shown by an output of its page (tools/prose_numbers.py)."""

import importlib.util
from decimal import Decimal

import nbformat
import pytest

from utils.paths import CHAPTERS_DIR, REPO_ROOT

_spec = importlib.util.spec_from_file_location("prose_numbers", REPO_ROOT / "tools" / "prose_numbers.py")
prose_numbers = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(prose_numbers)

CHAPTERS = sorted(CHAPTERS_DIR.glob("[0-9][0-9]_*.ipynb"))


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_every_prose_number_of_a_chapter_is_in_its_outputs(path):
    assert prose_numbers.unsupported_numbers(path) == []


@pytest.mark.parametrize("path", prose_numbers.book_pages(), ids=lambda p: p.name)
def test_every_prose_number_of_a_page_is_in_the_records_it_renders(path):
    assert prose_numbers.unsupported_page_numbers(path) == []


def test_numbers_that_are_structure_or_code_are_not_results():
    text = prose_numbers.prose("In chapter 14, figure 14-9 and TensorFlow 2.19.0, `Dense(150)` and $W^{128}$ "
                               "after 3 epochs (2024), see [here](https://x.org/500).")
    assert prose_numbers.numbers_in(text) == []


def test_a_number_is_supported_to_the_precision_it_is_written():
    outputs = prose_numbers.output_values("accuracy 0.98466 after 1,500 steps; rmse 3.2e-05")
    found = {w: (v, d, p) for w, v, d, p in prose_numbers.numbers_in(
        "It reaches 98.47 % (or 0.985) after 1,500 steps, an RMSE of 3.2e-5, not 98.6 % nor 1,600.")}
    assert set(found) == {"98.47 %", "0.985", "1,500", "3.2e-5", "98.6 %", "1,600"}
    verdicts = {w: prose_numbers.supported(*found[w], outputs) for w in found}
    assert verdicts == {"98.47 %": True, "0.985": True, "1,500": True, "3.2e-5": True, "98.6 %": False,
                        "1,600": False}
    assert prose_numbers.supported(Decimal("62"), 0, True, prose_numbers.output_values("tau=6: 0.62")) is True


def test_the_check_reports_a_number_no_output_shows(tmp_path):
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell("The loss falls to 0.31 and the accuracy to 91.2 %."),
        nbformat.v4.new_code_cell("print(loss)", outputs=[nbformat.v4.new_output("stream", text="loss 0.3104\n")]),
    ])
    path = tmp_path / "42_x.ipynb"
    nbformat.write(nb, path)
    problems = prose_numbers.unsupported_numbers(path)
    assert len(problems) == 1 and problems[0].startswith("91.2 %")
