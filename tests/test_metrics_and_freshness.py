import json
import shutil
from pathlib import Path

import nbformat
import pytest

from utils import freshness, metrics
from utils.paths import CHAPTERS_DIR, METRICS_DIR, REPRODUCIBILITY_FILE


def _write(nb, path):
    """Store a notebook as `make execute` does: in the form Jupyter saves."""
    nbformat.write(freshness.jupyter_form(nb), path)


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
        nbformat.v4.new_code_cell("%matplotlib inline\nfrom utils.data import load_mnist\nx = 1"),
        nbformat.v4.new_code_cell("print(x)"),
    ])
    path = tmp_path / "tmp_chapter.ipynb"
    _write(_stamp(nb), path)
    _settings_beside(path)
    return path


def _settings_beside(path):
    """The settings file every chapter notebook has beside it (budgets 60 s and 360 s)."""
    path.with_suffix(".toml").write_text("[budget_seconds]\nsmoke = 60\nfull = 360\n[smoke]\nn = 1\n[full]\nn = 2\n")


def _metrics_output(stem, profile="full", **figures):
    record = {"notebook": stem, "profile": profile, "metrics": figures}
    table = metrics.metrics_table(record)  # what record_metrics displays
    return nbformat.v4.new_output("display_data", data={metrics.METRICS_MIME: record, "text/markdown": table,
                                                        "text/plain": table})


@pytest.fixture
def recorded(tmp_path):
    """A stamped notebook whose outputs record two figures, and its derived metrics file."""
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1"), nbformat.v4.new_code_cell("y = 2")])
    nb.cells[1].outputs = [_metrics_output("tmp_chapter", accuracy=0.95, lag=8)]
    (tmp_path / "recorded").mkdir()
    path = tmp_path / "recorded" / "tmp_chapter.ipynb"
    _write(_stamp(nb), path)
    _settings_beside(path)
    metrics_dir = tmp_path / "metrics"
    freshness.write_metrics(nb, path, metrics_dir)
    return path, metrics_dir


# ----------------------------------------------------------------- the stamp


def test_a_fresh_notebook_passes(notebook):
    assert freshness.check_notebook(notebook) == []


def test_outputs_missing(notebook):
    nb = nbformat.read(notebook, as_version=4)
    del nb.metadata[freshness.METADATA_KEY]
    _write(nb, notebook)
    assert "never executed" in freshness.check_notebook(notebook)[0]
    nb = _stamp(nb)
    nb.cells[2].execution_count = None
    _write(nb, notebook)
    assert any("has no outputs" in p for p in freshness.check_notebook(notebook))


def test_outputs_from_the_smoke_profile(notebook):
    _write(_stamp(nbformat.read(notebook, as_version=4), profile="smoke"), notebook)
    assert any("'smoke' profile" in p for p in freshness.check_notebook(notebook))


def test_outputs_from_other_cell_code(notebook):
    nb = nbformat.read(notebook, as_version=4)
    nb.cells[2].source = "print(x + 1)"
    _write(nb, notebook)
    problems = freshness.check_notebook(notebook)
    assert any("other code (changed: its code cells" in p for p in problems)


def test_outputs_from_another_version_of_an_imported_module(notebook):
    nb = nbformat.read(notebook, as_version=4)
    stamp = nb.metadata[freshness.METADATA_KEY]
    assert "utils/data.py" in stamp["utils_hashes"]
    stamp["utils_hashes"]["utils/data.py"] = "0" * 64
    stamp["code_hash"] = "1" * 64
    _write(nb, notebook)
    assert any("utils/data.py" in p for p in freshness.check_notebook(notebook))


def test_a_new_library_version_in_the_lock_makes_notebooks_stale(notebook, tmp_path, monkeypatch):
    lock = tmp_path / "constraints.txt"
    text = freshness.LOCK_FILE.read_text()
    assert "keras==3.15.1" in text
    lock.write_text(text.replace("keras==3.15.1", "keras==3.16.0"))
    monkeypatch.setattr(freshness, "LOCK_FILE", lock)
    problems = freshness.check_notebook(notebook)
    assert any("library versions" in p and "3.16.0" in p for p in problems)
    assert set(freshness.locked_versions(lock)) == {"tensorflow_cpu", "keras", "numpy"}


def test_the_lock_must_pin_every_result_library(tmp_path):
    lock = tmp_path / "constraints.txt"
    lock.write_text("keras==3.15.1\nnumpy==2.4.6\n")
    with pytest.raises(ValueError, match="pins no version of tensorflow_cpu"):
        freshness.locked_versions(lock)


def test_modules_that_compute_nothing_are_not_hashed():
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
        "from utils.metrics import record_metrics\nfrom utils.widgets import slider_views\n"
        "from utils.repro import seed_everything\nfrom utils.profile import chapter_settings")])
    hashed = freshness.utils_dependencies(nb)
    assert "utils/repro.py" in hashed and "utils/profile.py" in hashed  # seeding and sizes decide results
    assert not {"utils/__init__.py", "utils/metrics.py", "utils/widgets.py", "utils/freshness.py",
                "utils/paths.py"} & set(hashed)


def test_full_budget_is_reported_and_fails_only_far_beyond(notebook):
    budget = freshness.full_budget_s(notebook)
    assert budget == 360  # from the settings file beside the notebook
    _write(_stamp(nbformat.read(notebook, as_version=4), runtime=2 * budget), notebook)
    assert freshness.check_notebook(notebook) == []  # a busy machine: slow, not stale
    _write(_stamp(nbformat.read(notebook, as_version=4), runtime=4 * budget), notebook)
    assert any("over 3 x its budget" in p for p in freshness.check_notebook(notebook))
    assert "OVER (2.0 x)" in freshness.budget_note("x", 2 * budget, budget)
    assert "within" in freshness.budget_note("x", budget / 2, budget)


def test_whitespace_in_cells_does_not_count_but_code_does():
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1")])
    before = freshness.cells_hash(nb)
    nb.cells[0].source = "x = 1   \n\n"
    assert freshness.cells_hash(nb) == before
    nb.cells[0].source = "x = 2"
    assert freshness.cells_hash(nb) != before


def test_a_chapter_depends_on_its_own_full_settings_only(monkeypatch, tmp_path):
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("from utils.profile import chapter_settings")])
    for stem in ("01_bptt", "03_time_series"):
        shutil.copy(CHAPTERS_DIR / f"{stem}.toml", tmp_path)
    monkeypatch.setattr(freshness, "CHAPTERS_DIR", tmp_path)
    before = {stem: freshness.fingerprint(nb, stem)["code_hash"] for stem in ("01_bptt", "03_time_series")}
    settings = tmp_path / "01_bptt.toml"
    source = settings.read_text()
    full_part = source.index("[full]")
    for unstale in (source.replace("echo_lag = 8", "echo_lag = 7", 1),  # the first is the smoke profile's
                    source.replace("full = 360", "full = 999", 1),  # a budget
                    source.replace('units = "', 'units = "the ', 1)):  # an explanation
        assert unstale != source
        settings.write_text(unstale)
        assert freshness.fingerprint(nb, "01_bptt")["code_hash"] == before["01_bptt"]
    settings.write_text(source[:full_part] + source[full_part:].replace("echo_lag = 8", "echo_lag = 9", 1))
    after = {stem: freshness.fingerprint(nb, stem)["code_hash"] for stem in before}
    assert after["01_bptt"] != before["01_bptt"]  # its full-profile settings changed
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
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("from chapter_code.ch06_dropout import DropoutCellWrapper")])
    assert freshness.utils_dependencies(nb) == ["chapter_code/ch05_deep_rnn_devices.py", "chapter_code/ch06_dropout.py"]


def test_a_notebook_that_reuses_a_chapter_depends_on_its_generated_module():
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
        "from chapter_code.ch01_bptt import rnn_bptt\nimport chapter_code.ch01_bptt as other")])
    assert freshness.utils_dependencies(nb) == ["chapter_code/ch01_bptt.py"]
    assert "chapter_code/ch01_bptt.py" in freshness.fingerprint(nb, "02_mnist_rnn")["utils_hashes"]


# ----------------------------------------------------------------- metrics


def test_record_metrics_shows_the_figures_and_writes_nothing(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(metrics, "METRICS_DIR", tmp_path)
    before = {p: p.read_bytes() for p in METRICS_DIR.glob("*.json")}
    shown = []
    monkeypatch.setattr("IPython.display.display", lambda data, raw: shown.append(data))
    for profile in ("full", "smoke"):
        monkeypatch.setenv("RNNBOOK_PROFILE", profile)
        assert metrics.record_metrics("01_bptt", grad_check_max_rel_error=2e-9, curve=[0.5, 0.9]) is None
    monkeypatch.delenv("RNNBOOK_PROFILE")  # an interactive run: the full profile by default
    metrics.record_metrics("01_bptt", tbptt_worst_accuracy_tau_gt_lag=0.6)
    assert not list(tmp_path.iterdir())
    assert {p: p.read_bytes() for p in METRICS_DIR.glob("*.json")} == before
    record = shown[0][metrics.METRICS_MIME]
    assert record == {"notebook": "01_bptt", "profile": "full",
                      "metrics": {"curve": [0.5, 0.9], "grad_check_max_rel_error": 2e-9}}
    assert "| `grad_check_max_rel_error` | 2e-09 |" in shown[0]["text/markdown"]
    assert shown[1][metrics.METRICS_MIME]["profile"] == "smoke"


@pytest.mark.parametrize("kwargs, error", [
    ({}, ValueError), ({"BadName": 1.0}, ValueError), ({"x": float("nan")}, ValueError),
    ({"x": {"a": 1}}, TypeError), ({"x": True}, TypeError),
])
def test_bad_metrics_are_clear_errors(kwargs, error, monkeypatch):
    monkeypatch.setenv("RNNBOOK_PROFILE", "smoke")
    with pytest.raises(error):
        metrics.metrics_record("01_bptt", **kwargs)


def test_unknown_notebook():
    with pytest.raises(FileNotFoundError, match="no notebook"):
        metrics.record_metrics("42_nothing", x=1)


def test_the_metrics_file_is_derived_from_the_notebook(recorded):
    path, metrics_dir = recorded
    assert freshness.check_notebook(path, metrics_dir) == []
    written = json.loads((metrics_dir / "tmp_chapter.json").read_text())
    stamp = nbformat.read(path, as_version=4).metadata[freshness.METADATA_KEY]
    assert written == {"notebook": "tmp_chapter", "profile": "full", "code_hash": stamp["code_hash"],
                       "metrics": {"accuracy": 0.95, "lag": 8}}


def test_a_metric_edited_by_hand_fails_the_check_naming_it(recorded):
    path, metrics_dir = recorded
    target = metrics_dir / "tmp_chapter.json"
    record = json.loads(target.read_text())
    record["metrics"]["accuracy"] = 0.6
    target.write_text(json.dumps(record, indent=2) + "\n")
    problems = freshness.check_notebook(path, metrics_dir)
    assert len(problems) == 1 and "accuracy: file 0.6, notebook 0.95" in problems[0]
    del record["metrics"]["lag"]
    target.write_text(json.dumps(record))
    assert "lag: missing from the file" in freshness.check_notebook(path, metrics_dir)[0]
    target.write_text(target.read_text() + " ")  # same figures, other bytes: still a mismatch
    assert freshness.check_notebook(path, metrics_dir)


def test_missing_or_orphan_metrics_files_fail(recorded, notebook):
    path, metrics_dir = recorded
    (metrics_dir / "tmp_chapter.json").unlink()
    assert "are not in book/metrics" in freshness.check_notebook(path, metrics_dir)[0]
    (metrics_dir / "tmp_chapter.json").write_text("{}")
    assert "records no figures" in freshness.check_notebook(notebook, metrics_dir)[0]


def test_contradicting_records_are_errors(recorded):
    path, metrics_dir = recorded
    nb = nbformat.read(path, as_version=4)
    nb.cells[0].outputs = [_metrics_output("tmp_chapter", accuracy=0.5)]
    assert metrics.MetricsError.__name__ in repr(pytest.raises(metrics.MetricsError, freshness.derived_metrics_json,
                                                               nb, "tmp_chapter"))
    nb.cells[0].outputs = [_metrics_output("tmp_chapter", profile="smoke", other=1)]
    with pytest.raises(metrics.MetricsError, match="'smoke' profile"):
        freshness.derived_metrics_json(nb, "tmp_chapter")
    nb.cells[0].outputs = [_metrics_output("tmp_chapter", other=1)]  # a second call, other figures: merged
    assert json.loads(freshness.derived_metrics_json(nb, "tmp_chapter"))["metrics"] == {
        "accuracy": 0.95, "lag": 8, "other": 1}


@pytest.mark.parametrize("stem", sorted(p.stem for p in CHAPTERS_DIR.glob("[0-9][0-9]_*.ipynb")))
def test_a_committed_figure_changed_by_hand_is_caught(stem, tmp_path):
    """The ledger's verdicts read book/metrics: a hand edit there must fail the check."""
    committed = METRICS_DIR / f"{stem}.json"
    record = json.loads(committed.read_text())
    name = sorted(record["metrics"])[0]
    record["metrics"][name] = "edited"
    (tmp_path / committed.name).write_text(json.dumps(record, indent=2) + "\n")
    problems = freshness.check_notebook(CHAPTERS_DIR / f"{stem}.ipynb", tmp_path)
    assert any(f"{name}: file 'edited'" in p for p in problems)


# ----------------------------------------------------------------- the executor and its command line


def _tiny_chapter(tmp_path, stem="01_bptt", fail=False):
    """A notebook named like a chapter that records a figure, then (optionally) fails."""
    cells = [nbformat.v4.new_code_cell("from utils.metrics import record_metrics\n"
                                       f"record_metrics({stem!r}, answer=42)")]
    if fail:
        cells.append(nbformat.v4.new_code_cell("raise RuntimeError('a cell after the figures fails')"))
    path = tmp_path / f"{stem}.ipynb"
    _write(nbformat.v4.new_notebook(cells=cells), path)
    _settings_beside(path)
    return path


def test_a_failed_run_writes_neither_outputs_nor_metrics(tmp_path, monkeypatch):
    monkeypatch.delenv("RNNBOOK_PROFILE", raising=False)
    path = _tiny_chapter(tmp_path, fail=True)
    before = path.read_bytes()
    with pytest.raises(Exception, match="a cell after the figures fails"):
        freshness.execute_notebook(path, metrics_dir=tmp_path / "metrics")
    assert path.read_bytes() == before and not (tmp_path / "metrics").exists()


def test_a_run_that_succeeds_stores_outputs_stamp_and_figures(tmp_path, monkeypatch):
    monkeypatch.delenv("RNNBOOK_PROFILE", raising=False)
    path = _tiny_chapter(tmp_path)
    profile, _ = freshness.execute_notebook(path, metrics_dir=tmp_path / "metrics")
    nb = nbformat.read(path, as_version=4)
    assert profile == "full" and nb.metadata[freshness.METADATA_KEY]["profile"] == "full"
    written = json.loads((tmp_path / "metrics" / "01_bptt.json").read_text())
    assert written["metrics"] == {"answer": 42}
    assert written["code_hash"] == nb.metadata[freshness.METADATA_KEY]["code_hash"]
    assert not [o for c in nb.cells for o in c.outputs if o.get("name") == "stderr"]


def test_a_rerun_with_the_same_figures_is_recorded_as_reproduced_and_a_different_one_is_not(tmp_path, monkeypatch):
    monkeypatch.delenv("RNNBOOK_PROFILE", raising=False)
    metrics_dir, record = tmp_path / "metrics", tmp_path / "reproducibility.json"
    seeded = tmp_path / "01_bptt.ipynb"  # a result, and a wall-clock figure that every run measures anew
    _write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
        "import time\nfrom utils.metrics import record_metrics\n"
        "record_metrics('01_bptt', answer=42, train_seconds=time.perf_counter())")]), seeded)
    _settings_beside(seeded)
    freshness.execute_notebook(seeded, metrics_dir=metrics_dir)
    assert freshness.reproduce_notebook(seeded, metrics_dir, record) == []
    unseeded = tmp_path / "02_mnist_rnn.ipynb"
    _write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
        "import os\nfrom utils.metrics import record_metrics\n"
        "record_metrics('02_mnist_rnn', noise=int.from_bytes(os.urandom(4), 'big'))")]), unseeded)
    _settings_beside(unseeded)
    freshness.execute_notebook(unseeded, metrics_dir=metrics_dir)
    differences = freshness.reproduce_notebook(unseeded, metrics_dir, record)
    assert len(differences) == 1 and differences[0].startswith("noise: file ")
    results = json.loads(record.read_text())
    assert results["01_bptt"]["identical"] is True and results["02_mnist_rnn"]["identical"] is False
    assert results["02_mnist_rnn"]["compared"] == 1 and results["02_mnist_rnn"]["timings_not_compared"] == []
    assert results["01_bptt"]["timings_not_compared"] == ["train_seconds"] and results["01_bptt"]["compared"] == 1
    assert results["01_bptt"]["code_hash"] == json.loads((metrics_dir / "01_bptt.json").read_text())["code_hash"]
    assert results["01_bptt"]["largest_relative_difference"] == 0.0 and results["01_bptt"]["relative_differences"] == {}
    assert 0 < results["02_mnist_rnn"]["largest_relative_difference"] <= 1
    # the ledger's claims of each chapter, judged on both runs (these stand-in figures cannot be judged)
    assert "bptt-is-backpropagation" in results["01_bptt"]["verdicts"]
    assert results["01_bptt"]["verdicts"]["bptt-is-backpropagation"]["committed"].startswith("cannot judge")
    nb = nbformat.read(seeded, as_version=4)
    nb.cells[0].source += "\nx = 1"  # the code changed since its figures were stored
    _write(nb, seeded)
    with pytest.raises(freshness.ExecutionRefused, match="stale"):
        freshness.reproduce_notebook(seeded, metrics_dir, record)


def test_the_books_record_of_reruns_holds_for_the_committed_code():
    """book/reproducibility.json (written by `make reproduce`) names the code hash each rerun
    checked: when a chapter changes, its entry must be renewed, or the claim would be stale."""
    results = json.loads(REPRODUCIBILITY_FILE.read_text())
    assert "01_bptt" in results  # the chapter that is rerun at least
    for stem, result in results.items():
        committed = json.loads((METRICS_DIR / f"{stem}.json").read_text())
        assert result["code_hash"] == committed["code_hash"], f"{stem}: rerun for other code; `make reproduce`"
        # figures may move in their last digits on another CPU; the verdicts must not
        changed = {k: v for k, v in result["verdicts"].items() if v["committed"] != v["rerun"]}
        assert not changed, f"{stem}: a rerun changed ledger verdicts: {changed}"
    assert len(results) >= 2  # at least two chapters rerun


@pytest.mark.parametrize("committed, rerun, expected", [
    (1.0, 1.0, 0.0), (0.0570, 0.0560, 0.0010 / 0.0570), (2, 3, 1 / 3), (0.0, 0.0, 0.0),
    ([1.0, 2.0], [1.0, 2.2], 0.2 / 2.2), ("a", "b", float("inf")), (1.0, None, float("inf")),
])
def test_relative_difference_of_a_rerun(committed, rerun, expected):
    assert freshness.relative_difference(committed, rerun) == pytest.approx(expected)


def test_storing_smoke_outputs_is_refused(tmp_path, monkeypatch):
    monkeypatch.setenv("RNNBOOK_PROFILE", "smoke")
    path = _tiny_chapter(tmp_path)
    before = path.read_bytes()
    with pytest.raises(freshness.ExecutionRefused, match="would replace its committed full-profile outputs"):
        freshness.execute_notebook(path, metrics_dir=tmp_path / "metrics")
    assert path.read_bytes() == before


def test_the_command_runs_the_profile_of_the_environment_and_says_so(tmp_path, monkeypatch, capsys):
    path = _tiny_chapter(tmp_path)
    before = path.read_bytes()
    monkeypatch.setenv("RNNBOOK_PROFILE", "SMOKE")
    assert freshness.main(["execute", "--no-store", str(path)]) == 0
    out = capsys.readouterr().out
    assert "profile: smoke (not stored)" in out and "smoke profile: 01_bptt:" in out
    assert path.read_bytes() == before
    assert freshness.main(["execute", str(path)]) == 2  # storing a smoke run
    assert "refusing to store smoke-profile outputs" in capsys.readouterr().err
    for blank in ("", "  "):
        monkeypatch.setenv("RNNBOOK_PROFILE", blank)
        assert freshness.main(["execute", str(path)]) == 2
        assert "an empty name is not a profile" in capsys.readouterr().err
    assert path.read_bytes() == before


def test_storing_is_refused_when_the_installed_libraries_are_not_the_lock(tmp_path, monkeypatch):
    monkeypatch.delenv("RNNBOOK_PROFILE", raising=False)
    monkeypatch.setattr(freshness, "installed_versions", lambda: {"keras": "9.9"})
    with pytest.raises(freshness.ExecutionRefused, match="differ from the lock"):
        freshness.execute_notebook(_tiny_chapter(tmp_path), metrics_dir=tmp_path / "metrics")


def test_check_counts_notebooks_not_problems(notebook, recorded, tmp_path, capsys, monkeypatch):
    path, metrics_dir = recorded
    monkeypatch.setattr(freshness, "METRICS_DIR", metrics_dir)
    other = tmp_path / "other" / "02_other.ipynb"
    other.parent.mkdir()
    nb = nbformat.read(notebook, as_version=4)
    nb.cells[2].source = "print(2)"
    nb.cells[2].execution_count = None  # two problems in one notebook
    _write(nb, other)
    _settings_beside(other)
    (metrics_dir / "02_other.json").write_text("{}")  # and a third, about its metrics file
    assert freshness.main(["check", str(path), str(other)]) == 1
    out = capsys.readouterr().out
    assert out.count("STALE") == 3 and out.strip().endswith("1 fresh, 1 stale")


# ----------------------------------------------------------------- what committed outputs show


@pytest.mark.parametrize("output, found", [
    (nbformat.v4.new_output("stream", name="stderr", text=(
        "/work/main/.venv/lib/python3.11/site-packages/keras/src/trainers/trainer.py:248: UserWarning: x\n")),
     "machine path"),
    (nbformat.v4.new_output("stream", name="stderr", text=(
        "WARNING: All log messages before absl::InitializeLog() is called are written to STDERR\n")),
     "TensorFlow log line"),
    (nbformat.v4.new_output("stream", name="stderr", text=(
        "E0000 00:00:1795870410.700510    6155 node_def_util.cc:682] NodeDef mentions attribute\n")),
     "TensorFlow log line"),
    (nbformat.v4.new_output("stream", name="stdout", text=(
        "WARNING:tensorflow:5 out of the last 5 calls to <function pfor.<locals>.f> triggered retracing\n")),
     "TensorFlow log line"),
    (nbformat.v4.new_output("error", ename="ValueError", evalue="x", traceback=["ValueError: x"]), "ends in ValueError"),
    (nbformat.v4.new_output("stream", name="stderr", text="Traceback (most recent call last):\n  File ..."),
     "shows a traceback"),
    (nbformat.v4.new_output("display_data", data={"text/plain": "saved to /tmp/model.keras"}), "machine path"),
])
def test_outputs_a_reader_should_not_see_are_found(output, found):
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1")])
    nb.cells[0].outputs = [output]
    problems = freshness.output_problems(nb, "nb.ipynb")
    assert len(problems) == 1 and found in problems[0]


def test_a_deliberate_error_is_allowed_in_a_tagged_cell_only():
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("raise ValueError")])
    nb.cells[0].outputs = [nbformat.v4.new_output("error", ename="ValueError", evalue="x",
                                                  traceback=["Traceback (most recent call last)", "ValueError"])]
    assert freshness.output_problems(nb, "nb.ipynb")
    nb.cells[0].metadata["tags"] = ["raises-exception"]
    assert freshness.output_problems(nb, "nb.ipynb") == []
    nb.cells[0].outputs = [nbformat.v4.new_output("stream", name="stdout", text="accuracy 0.98 in 6.9 s/epoch\n")]
    assert freshness.output_problems(nb, "nb.ipynb") == []


# ------------------------------------------------------ saved by Jupyter (issue: opening and saving)


@pytest.mark.parametrize(("a", "b", "same"), [
    (1.0, 1, True), (0, 0.0, True), ([1.0, 2], [1, 2.0], True), ({"a": 3.0}, {"a": 3}, True),
    (1, True, False), (0.1, 0.10000001, False), ("1", 1, False), ([1], [1, 1], False), ({"a": 1}, {"b": 1}, False),
])
def test_figures_compare_as_values(a, b, same):
    assert metrics.same_value(a, b) is same
    assert metrics.same_value(b, a) is same


def test_a_whole_number_figure_saved_by_jupyter_is_still_fresh(tmp_path):
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1")])
    nb.cells[0].outputs = [_metrics_output("tmp_chapter", ratio=3.0, error=0.0, accuracy=0.5)]
    path = tmp_path / "tmp_chapter.ipynb"
    _write(_stamp(nb), path)
    _settings_beside(path)
    metrics_dir = tmp_path / "metrics"
    freshness.write_metrics(nb, path, metrics_dir)  # as `make execute`: the figures as Python recorded them
    assert '"ratio": 3.0' in (metrics_dir / "tmp_chapter.json").read_text()
    assert '"ratio": 3\n' in path.read_text()  # the notebook, as a browser holds it
    assert freshness.check_notebook(path, metrics_dir) == []
    nb.cells[0].outputs[0].data[metrics.METRICS_MIME]["metrics"]["ratio"] = 3.5
    _write(nb, path)
    assert any("ratio: file 3.0, notebook 3.5" in p for p in freshness.check_notebook(path, metrics_dir))


@pytest.mark.parametrize(("number", "held"), [
    (1.0, 1), (-0.0, 0), (83659640.0, 83659640), (0.1, 0.1), (1.5e-05, 1.5e-05), (1e21, 1e21), (1e20, 10**20),
    (2**63, 9223372036854776000), (2**53, 2**53), (7, 7),
])
def test_numbers_are_stored_as_a_browser_holds_them(number, held):
    # JSON.stringify(JSON.parse(...)) in a browser: 1.0 -> 1, 1e21 -> 1e+21, 2**63 -> 9223372036854776000
    stored = freshness.jupyter_form(nbformat.from_dict({"metadata": {"x": number}, "cells": [], "nbformat": 4,
                                                        "nbformat_minor": 5})).metadata.x
    assert stored == held and type(stored) is type(held)


def test_the_jupyter_form_names_ipykernels_kernel_and_is_a_fixed_point(tmp_path):
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1.0")])
    nb.metadata.kernelspec = {"display_name": "Python 3", "language": "python", "name": "python3"}
    nb.metadata.rnnbook = {"runtime_s": 12.0}
    path = tmp_path / "a.ipynb"
    nbformat.write(nb, path)
    assert not freshness.in_jupyter_form(path)
    assert freshness.normalise_notebook(path) is True
    once = path.read_text()
    assert '"display_name": "Python 3 (ipykernel)"' in once and '"runtime_s": 12\n' in once
    assert '"x = 1.0"' in once  # code is text: untouched
    assert freshness.normalise_notebook(path) is False and path.read_text() == once
    assert freshness.in_jupyter_form(path)


CHAPTERS = sorted(path.stem for path in CHAPTERS_DIR.glob("[0-9][0-9]_*.ipynb"))
NOT_IN_JUPYTER_FORM = "not stored in the form Jupyter saves"


@pytest.mark.parametrize("stem", CHAPTERS)
def test_a_chapter_opened_and_saved_by_jupyter_stays_fresh(stem, tmp_path):
    """Open a copy of the chapter as the Jupyter server does, save it as JupyterLab does (the
    browser's form, then nbformat.write), and check it: saving never makes the book stale."""
    original = CHAPTERS_DIR / f"{stem}.ipynb"
    copy = tmp_path / original.name
    shutil.copy(CHAPTERS_DIR / f"{stem}.toml", tmp_path)
    opened = nbformat.read(original, as_version=4)
    nbformat.write(freshness.jupyter_form(opened), copy)
    saved = nbformat.read(copy, as_version=4)
    assert freshness.fingerprint(saved, stem)["code_hash"] == freshness.fingerprint(opened, stem)["code_hash"]
    assert metrics.same_value(saved.cells, opened.cells)  # every source and output equal as values
    del opened.metadata["kernelspec"]["display_name"], saved.metadata["kernelspec"]["display_name"]
    assert metrics.same_value(saved.metadata, opened.metadata)  # the stamp and the widgets' state too
    assert freshness.check_notebook(copy) == [p for p in freshness.check_notebook(original)
                                              if NOT_IN_JUPYTER_FORM not in p]
    text = copy.read_text()
    nbformat.write(freshness.jupyter_form(nbformat.read(copy, as_version=4)), copy)  # saved again
    assert copy.read_text() == text


def test_the_normalise_command_rewrites_once(tmp_path, capsys):
    copy = tmp_path / "06_dropout.ipynb"
    nb = nbformat.read(CHAPTERS_DIR / "06_dropout.ipynb", as_version=4)
    nb.metadata.kernelspec.display_name = "Python 3"  # as nbclient leaves it
    nbformat.write(nb, copy)
    assert freshness.main(["normalise", str(copy)]) == 0
    assert freshness.main(["normalise", str(copy)]) == 0
    assert capsys.readouterr().out.splitlines() == [f"{copy}: rewritten", f"{copy}: already in Jupyter form"]


def test_a_figures_table_edited_by_hand_is_caught_by_the_check():
    """The table under record_metrics is what readers see: it must be the record's own."""
    stem = "06_dropout"
    nb = nbformat.read(CHAPTERS_DIR / f"{stem}.ipynb", as_version=4)
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs
               if metrics.METRICS_MIME in o.get("data", {})]
    assert outputs and freshness._displayed_table_problems(nb, Path(f"{stem}.ipynb")) == []
    shown = outputs[0]["data"]["text/markdown"]
    outputs[0]["data"]["text/markdown"] = shown.replace("| `best_keep_prob` |", "| `best_keep_prob` | 0.9 |", 1) \
        if "| `best_keep_prob` |" in shown else shown + "| `invented` | 1 |\n"
    problems = freshness._displayed_table_problems(nb, Path(f"{stem}.ipynb"))
    assert len(problems) == 1 and "differs from the figures it records" in problems[0] and "text/markdown" in problems[0]


def test_an_interval_bound_from_one_seed_is_recorded_as_unbounded(monkeypatch):
    monkeypatch.setenv("RNNBOOK_PROFILE", "smoke")
    record = metrics.metrics_record("06_dropout", test_gain_low=float("-inf"), test_gain_high=float("inf"))
    assert record["metrics"] == {"test_gain_high": "unbounded", "test_gain_low": "unbounded"}
    with pytest.raises(ValueError, match="must be finite"):
        metrics.metrics_record("06_dropout", test_gain=float("inf"))
