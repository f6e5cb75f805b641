"""The code a chapter's prose names is on the page: defined in the chapter's cells, or plumbing.

A chapter may name (in backticks) a function or class that some chapter defines only if it
defines it in its own cells or imports it from the plumbing of ``utils`` or from a module
generated from another chapter (``chapter_code``); a ``utils.<module>.<name>`` it names must
exist in a plumbing module.
"""

import ast
import re
from pathlib import Path

import nbformat
import pytest

from utils.paths import CHAPTERS_DIR, REPO_ROOT

CHAPTERS = sorted(CHAPTERS_DIR.glob("[0-9][0-9]_*.ipynb"))
# utils keeps only what chapters share: data, run profiles, freshness, metrics, widgets, seeding,
# training/timing helpers, statistics, diagram drawing, vetted word lists and paths.
PLUMBING = {"data", "paths", "profile", "repro", "widgets", "metrics", "freshness", "training", "timing", "stats",
            "diagrams", "wordlists"}
# Chapters whose teaching code still lives in utils/ (their conversion is the work of the chapter
# issues: 2-4, 5-7, 8-9). strict: a chapter that passes must leave this list.
NOT_YET_ON_THE_PAGE: set[str] = set()
SPAN = re.compile(r"`([^`\n]+)`")
NAME = re.compile(r"^(?P<name>[A-Za-z_][A-Za-z0-9_.]*)(?:\(.*\))?$")


def _code(nb):
    lines = []
    for cell in nb.cells:
        if cell.cell_type == "code":
            lines += ["" if line.lstrip().startswith(("%", "!")) else line for line in cell.source.splitlines()]
            lines.append("")
    return ast.parse("\n".join(lines))


def _top_level_definitions(tree):
    return {node.name for node in tree.body if isinstance(node, (ast.FunctionDef, ast.ClassDef))}


def _plumbing_or_generated_imports(tree):
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            parts = node.module.split(".")
            if parts[0] == "chapter_code" or (parts[0] == "utils" and len(parts) > 1 and parts[1] in PLUMBING):
                names.update(alias.asname or alias.name for alias in node.names)
    return names


def _chapter_code_names():
    """Every function or class a chapter defines: in notebooks, in utils' chapter modules, generated."""
    names = set()
    for path in CHAPTERS:
        names |= _top_level_definitions(_code(nbformat.read(path, as_version=4)))
    modules = [p for p in (REPO_ROOT / "utils").glob("*.py") if p.stem not in PLUMBING | {"__init__"}]
    for path in modules + list((REPO_ROOT / "chapter_code").glob("ch*.py")):
        names |= _top_level_definitions(ast.parse(path.read_text()))
    return names


def _plumbing_defines(module: str, name: str | None) -> bool:
    path = REPO_ROOT / "utils" / f"{module}.py"
    if module not in PLUMBING or not path.is_file():
        return False
    tree = ast.parse(path.read_text())
    defined = _top_level_definitions(tree) | {t.id for node in tree.body if isinstance(node, ast.Assign)
                                              for t in node.targets if isinstance(t, ast.Name)}
    return name is None or name in defined


def unseen_names(path: Path, chapter_names: set[str]) -> list[str]:
    nb = nbformat.read(path, as_version=4)
    tree = _code(nb)
    available = _top_level_definitions(tree) | _plumbing_or_generated_imports(tree)
    problems = []
    for cell in nb.cells:
        if cell.cell_type != "markdown":
            continue
        for span in SPAN.findall(cell.source):
            match = NAME.match(span.strip())
            if not match:
                continue
            name = match["name"]
            if name.startswith("utils."):
                parts = name.split(".")
                if not _plumbing_defines(parts[1], parts[2] if len(parts) > 2 else None):
                    problems.append(f"`{span}`: not in the plumbing of utils")
            elif name in chapter_names and name not in available:
                problems.append(f"`{span}`: named in the prose, neither defined on the page nor plumbing")
    return sorted(set(problems))


@pytest.mark.parametrize("path", [
    pytest.param(p, marks=pytest.mark.xfail(strict=True, reason="teaching code still in utils/ (chapter issue)"))
    if p.stem in NOT_YET_ON_THE_PAGE else p for p in CHAPTERS], ids=lambda p: p.stem)
def test_the_prose_names_only_code_on_the_page(path):
    assert unseen_names(path, _chapter_code_names()) == []


def test_the_check_finds_a_hidden_function(tmp_path):
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell("The loop `rnn_bptt` and `utils.bptt.rnn_bptt(X)` and `utils.data.load_mnist`."),
        nbformat.v4.new_code_cell("from utils.data import load_mnist\n\ndef helper():\n    pass"),
    ])
    path = tmp_path / "42_x.ipynb"
    nbformat.write(nb, path)
    problems = unseen_names(path, {"rnn_bptt", "helper"})
    assert problems == ["`rnn_bptt`: named in the prose, neither defined on the page nor plumbing",
                        "`utils.bptt.rnn_bptt(X)`: not in the plumbing of utils"]


# The conventional short names every reader knows; any other alias hides what a name refers to.
KNOWN_ALIASES = {("numpy", "np"), ("matplotlib.pyplot", "plt"), ("tensorflow", "tf"), ("pandas", "pd")}


def _aliases(tree):
    for node in ast.walk(tree):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            for alias in node.names:
                full = f"{node.module}.{alias.name}" if isinstance(node, ast.ImportFrom) and node.module else alias.name
                if alias.asname and alias.asname != alias.name.split(".")[-1] and (full, alias.asname) not in KNOWN_ALIASES:
                    yield f"{full} as {alias.asname}"


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_chapters_import_the_book_s_modules_by_their_own_names(path):
    found = [a for a in _aliases(_code(nbformat.read(path, as_version=4))) if a.split(".")[0] in ("utils", "chapter_code")]
    assert found == [], f"{path.name} imports under opaque aliases: {found}"


# Chapters whose exercises are written: each ends with three, every solution in a collapsed cell
# (tag hide-cell) that nbval runs. The other chapters join as their issues land.
WITH_EXERCISES = {"01_bptt", "02_mnist_rnn", "03_time_series", "04_creative_rnn", "05_deep_rnn_devices", "06_dropout",
                  "07_lstm_gru", "08_embeddings", "09_seq2seq"}


@pytest.mark.parametrize("path", [p for p in CHAPTERS if p.stem in WITH_EXERCISES], ids=lambda p: p.stem)
def test_exercises_have_collapsed_solutions_that_run(path):
    cells = nbformat.read(path, as_version=4).cells
    start = next(i for i, c in enumerate(cells) if c.cell_type == "markdown" and c.source.startswith("## Exercises"))
    end = next(i for i, c in enumerate(cells) if i > start and c.cell_type == "markdown" and c.source.startswith("## Summary"))
    solutions = [c for c in cells[start:end] if c.cell_type == "code"]
    assert len(solutions) >= 3
    for cell in solutions:
        assert "hide-cell" in cell.metadata.get("tags", []), "a solution is collapsed on the page"
        assert "assert " in cell.source, "a solution checks its own answer"
