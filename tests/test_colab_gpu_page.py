"""The Colab and GPU page's generated parts: the supported versions and the GPU results."""

from __future__ import annotations

import importlib.util
import sys

import pytest
from sphinx.errors import ExtensionError

from utils.paths import REPO_ROOT


def _pages():
    """The page extension, loaded once from its file as Sphinx loads it (shared with test_book_pages)."""
    if "rnnbook_pages" not in sys.modules:
        spec = importlib.util.spec_from_file_location("rnnbook_pages", REPO_ROOT / "book" / "_ext" / "rnnbook_pages.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules["rnnbook_pages"] = module
        spec.loader.exec_module(module)
    return sys.modules["rnnbook_pages"]


pages = _pages()


def test_the_version_range_is_read_from_the_two_locks(tmp_path):
    lowest, pinned = tmp_path / "constraints-compat.txt", tmp_path / "requirements.txt"
    lowest.write_text("# lock\ntensorflow-cpu==2.19.0\nKeras == 3.10.0  # lowest\nnumpy==2.0.2\n"
                      "matplotlib==3.10.0\nipywidgets==8.0.0\nabsl-py==2.3.1\n")
    pinned.write_text("tensorflow_cpu==2.21.0\nkeras==3.15.1\nnumpy==2.4.6\nmatplotlib==3.11.2\nipywidgets==8.1.9\n")
    table = pages.versions_markdown(lowest, pinned).splitlines()
    assert table[2] == "| TensorFlow | 2.19.0 | 2.21.0 |"
    assert "| Keras | 3.10.0 | 3.15.1 |" in table and "| ipywidgets | 8.0.0 | 8.1.9 |" in table
    assert len(table) == 2 + len(pages.RANGE_LIBRARIES)

    pinned.write_text("tensorflow-cpu==2.21.0\n")
    with pytest.raises(ExtensionError, match="requirements.txt pins no version of keras"):
        pages.versions_markdown(lowest, pinned)


def test_the_book_declares_its_range_the_same_way_in_the_readme_and_on_the_page():
    table = pages.versions_markdown()  # what the page shows, from the committed locks
    assert table in (REPO_ROOT / "README.md").read_text(encoding="utf-8"), \
        "README.md's supported-versions table differs from constraints-compat.txt / requirements.txt"
    page = (REPO_ROOT / "book" / "colab_gpu.md").read_text(encoding="utf-8")
    assert "```{rnnbook-versions}" in page and "```{rnnbook-gpu-results}" in page
    lowest, pinned = pages.read_pins(pages.COMPAT_LOCK_FILE), pages.read_pins(pages.REQUIREMENTS_FILE)
    for name, _ in pages.RANGE_LIBRARIES:
        assert tuple(map(int, lowest[name].split(".")[:2])) <= tuple(map(int, pinned[name].split(".")[:2])), name


def test_gpu_statements_are_marked_not_yet_run_until_a_gpu_run_records_them(tmp_path):
    results = tmp_path / "gpu_results.yml"
    results.write_text("run: null\nstatements:\n  - id: a\n    statement: LSTM takes | cuDNN\n"
                       "  - id: b\n    statement: masks fail\n")
    text = pages.gpu_results_markdown(pages.load_gpu_results(results))
    assert "```{admonition} Not yet run on a GPU" in text
    assert "| LSTM takes \\| cuDNN | **not yet run on a GPU** |" in text
    assert text.count(pages.NOT_RUN) == 3  # both statements and the admonition

    results.write_text("run: {GPU: T4, driver: '550', tensorflow: 2.19.0}\nstatements:\n"
                       "  - id: a\n    statement: LSTM takes cuDNN\n    result: confirmed\n"
                       "    evidence: the kernel CudnnRNNV3 ran\n  - id: b\n    statement: masks fail\n")
    text = pages.gpu_results_markdown(pages.load_gpu_results(results))
    assert "Not yet run" not in text and "Measured on a GPU (GPU: T4; driver: 550; tensorflow: 2.19.0)" in text
    assert "| LSTM takes cuDNN | **confirmed**: the kernel CudnnRNNV3 ran |" in text
    assert "| masks fail | **not yet run on a GPU** |" in text


@pytest.mark.parametrize("body, message", [
    ("run: null\nstatements: []\n", "non-empty list"),
    ("run: null\nstatements:\n  - id: a\n    statement: s\n    result: confirmed\n    evidence: e\n",
     "without a 'run'"),
    ("run: {GPU: T4}\nstatements:\n  - id: a\n    statement: s\n    result: maybe\n    evidence: e\n",
     "must be one of"),
    ("run: {GPU: T4}\nstatements:\n  - id: a\n    statement: s\n    result: refuted\n", "with 'evidence'"),
    ("run: null\nstatements:\n  - id: a\n    statement: s\n  - id: a\n    statement: t\n", "used twice"),
    ("run: null\nstatements:\n  - id: a\n    statment: s\n", "missing statement"),
])
def test_a_malformed_gpu_results_file_fails_the_build(tmp_path, body, message):
    results = tmp_path / "gpu_results.yml"
    results.write_text(body)
    with pytest.raises(ExtensionError, match=message):
        pages.load_gpu_results(results)


def test_the_committed_gpu_results_file_is_valid():
    data = pages.load_gpu_results()
    assert pages.gpu_results_markdown(data).count("|") > 4
