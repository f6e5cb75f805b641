import json

import nbformat
import pytest

from utils import freshness, metrics


def _stamp(nb, profile="full", runtime=10.0, stem="tmp_chapter"):
    for index, cell in enumerate(nb.cells):
        if cell.cell_type == "code":
            cell.execution_count = index + 1
    nb.metadata[freshness.METADATA_KEY] = {"profile": profile, "runtime_s": runtime,
                                           **freshness.fingerprint(nb, stem)}
    return nb


@pytest.fixture
def notebook(tmp_path):
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell("# A chapter"),
        nbformat.v4.new_code_cell("%matplotlib inline\nfrom utils.widgets import slider_views\nx = 1"),
        nbformat.v4.new_code_cell("print(x)"),
    ])
    path = tmp_path / "tmp_chapter.ipynb"
    nbformat.write(_stamp(nb), path)
    return path


def test_a_fresh_notebook_passes(notebook):
    assert freshness.check_notebook(notebook) == []


def test_outputs_missing(notebook):
    nb = nbformat.read(notebook, as_version=4)
    del nb.metadata[freshness.METADATA_KEY]
    nbformat.write(nb, notebook)
    assert "never executed" in freshness.check_notebook(notebook)[0]
    nb = _stamp(nb)
    nb.cells[2].execution_count = None
    nbformat.write(nb, notebook)
    assert any("has no outputs" in p for p in freshness.check_notebook(notebook))


def test_outputs_from_the_smoke_profile(notebook):
    nbformat.write(_stamp(nbformat.read(notebook, as_version=4), profile="smoke"), notebook)
    assert any("'smoke' profile" in p for p in freshness.check_notebook(notebook))


def test_outputs_from_other_cell_code(notebook):
    nb = nbformat.read(notebook, as_version=4)
    nb.cells[2].source = "print(x + 1)"
    nbformat.write(nb, notebook)
    problems = freshness.check_notebook(notebook)
    assert any("other code (changed: its code cells" in p for p in problems)


def test_outputs_from_another_version_of_an_imported_module(notebook):
    nb = nbformat.read(notebook, as_version=4)
    stamp = nb.metadata[freshness.METADATA_KEY]
    assert "utils/widgets.py" in stamp["utils_hashes"] and "utils/__init__.py" in stamp["utils_hashes"]
    stamp["utils_hashes"]["utils/widgets.py"] = "0" * 64
    stamp["code_hash"] = "1" * 64
    nbformat.write(nb, notebook)
    assert any("utils/widgets.py" in p for p in freshness.check_notebook(notebook))


def test_over_budget_full_run(notebook):
    nbformat.write(_stamp(nbformat.read(notebook, as_version=4), runtime=10_000), notebook)
    assert any("over the budget" in p for p in freshness.check_notebook(notebook))


def test_whitespace_in_cells_does_not_count_but_code_does():
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1")])
    before = freshness.cells_hash(nb)
    nb.cells[0].source = "x = 1   \n\n"
    assert freshness.cells_hash(nb) == before
    nb.cells[0].source = "x = 2"
    assert freshness.cells_hash(nb) != before


def test_a_chapter_depends_on_its_own_sizes_only(monkeypatch, tmp_path):
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("from utils.profile import chapter_sizes")])
    before = {stem: freshness.fingerprint(nb, stem)["code_hash"] for stem in ("01_bptt", "03_time_series")}
    profile = tmp_path / "profile.py"
    source = (freshness.UTILS_DIR / "profile.py").read_text()
    full_part = source.index('"full"', source.index('"01_bptt"'))
    changed = source[:full_part] + source[full_part:].replace('"echo_lag": 8,', '"echo_lag": 9,', 1)
    assert changed != source
    smoke_only = source.replace('"echo_lag": 8,', '"echo_lag": 7,', 1)  # the first is the smoke profile's
    profile.write_text(smoke_only)
    real_module_path = freshness._module_path
    monkeypatch.setattr(freshness, "_module_path",
                        lambda name: profile if name == "profile" else real_module_path(name))
    assert freshness.fingerprint(nb, "01_bptt")["code_hash"] == before["01_bptt"]  # smoke sizes don't count
    profile.write_text(changed)
    after = {stem: freshness.fingerprint(nb, stem)["code_hash"] for stem in before}
    assert after["01_bptt"] != before["01_bptt"]  # its sizes changed
    assert after["03_time_series"] == before["03_time_series"]  # another chapter's did not


def test_module_hash_ignores_comments_and_docstrings(tmp_path):
    a = tmp_path / "a.py"
    b = tmp_path / "b.py"
    a.write_text('"""Doc."""\ndef f(x):\n    """Doc."""\n    return x + 1  # why\n')
    b.write_text("def f(x):\n\n    return x + 1\n")
    assert freshness.module_hash(a) == freshness.module_hash(b)
    b.write_text("def f(x):\n    return x + 2\n")
    assert freshness.module_hash(a) != freshness.module_hash(b)


def test_dependencies_are_followed_through_modules():
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("from utils.metrics import record_metrics")])
    assert freshness.utils_dependencies(nb) == ["", "metrics", "profile"]  # the checker is not hashed


def test_record_metrics_writes_only_in_the_full_profile(tmp_path, monkeypatch):
    monkeypatch.setattr(metrics, "METRICS_DIR", tmp_path)
    monkeypatch.setenv("RNNBOOK_PROFILE", "smoke")
    record = metrics.record_metrics("01_bptt", grad_check_max_rel_error=1e-9)
    assert record["profile"] == "smoke" and not list(tmp_path.iterdir())
    monkeypatch.setenv("RNNBOOK_PROFILE", "full")
    metrics.record_metrics("01_bptt", grad_check_max_rel_error=2e-9, curve=[0.5, 0.9])
    written = json.loads((tmp_path / "01_bptt.json").read_text())
    assert written["metrics"] == {"curve": [0.5, 0.9], "grad_check_max_rel_error": 2e-9}
    expected_hash = freshness.notebook_fingerprint(freshness.REPO_ROOT / "chapters" / "01_bptt.ipynb")["code_hash"]
    assert written["profile"] == "full" and written["code_hash"] == expected_hash
    assert metrics.read_metrics("01_bptt")["grad_check_max_rel_error"] == 2e-9


@pytest.mark.parametrize("kwargs, error", [
    ({}, ValueError), ({"BadName": 1.0}, ValueError), ({"x": float("nan")}, ValueError),
    ({"x": {"a": 1}}, TypeError), ({"x": True}, TypeError),
])
def test_bad_metrics_are_clear_errors(kwargs, error, monkeypatch):
    monkeypatch.setenv("RNNBOOK_PROFILE", "smoke")
    with pytest.raises(error):
        metrics.record_metrics("01_bptt", **kwargs)


def test_unknown_notebook():
    with pytest.raises(FileNotFoundError, match="no notebook"):
        metrics.record_metrics("42_nothing", x=1)
