"""Freshness of committed notebook outputs, and the executor that makes them.

Each notebook executed by ``make execute`` carries ``metadata.rnnbook``: the profile it
ran in, its run time, and a *code hash*. :func:`check_notebook` fails when outputs are
missing, come from the smoke profile, come from code or library versions other than those
committed, when an output shows a machine path, an unintended traceback or a TensorFlow log
line, or when ``book/metrics/<stem>.json`` differs from the figures the notebook recorded
(compared as values: ``1.0`` equals ``1``).

Notebooks are stored in the form JupyterLab 4 and Notebook 7 save (:func:`jupyter_form`), so
that opening a chapter and saving it changes no byte of it.

What the code hash covers, and why:

* the notebook's code cells (whitespace at line ends aside; the Colab bootstrap cell, which
  only fetches the package on Colab, left out);
* the syntax tree, without docstrings and comments, of every module of ``utils`` and of the
  generated ``chapter_code`` the notebook
  imports, directly or through other modules: they compute the results. Left out are the
  modules in :data:`NOT_HASHED`, which compute none of a chapter's figures (this checker and
  executor, the metrics display, the widget views built from figures already computed, the
  package's paths and its ``__init__``): editing them must not make every notebook stale;
* the chapter's full-profile settings in ``chapters/<stem>.toml`` (not its smoke settings,
  which produce no committed output, nor its budgets);
* the versions of the libraries that compute the results (:data:`RESULT_PACKAGES`), as pinned
  in ``constraints.txt``: upgrading TensorFlow, Keras or NumPy in the lock makes every
  notebook stale.

Command line::

    python -m utils.freshness execute chapters/01_bptt.ipynb [...]   # profile: RNNBOOK_PROFILE
    python -m utils.freshness check chapters/*.ipynb
    python -m utils.freshness metrics chapters/*.ipynb    # rewrite book/metrics from the notebooks
    python -m utils.freshness normalise chapters/*.ipynb  # store them as Jupyter saves them
"""

from __future__ import annotations

import argparse
import ast
import decimal
import hashlib
import importlib.metadata
import json
import os
import re
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import nbformat

from .metrics import (
    METRICS_MIME,
    MetricsError,
    is_timing_metric,
    metrics_differences,
    metrics_json,
    metrics_table,
    recorded_metrics,
    same_value,
)
from .paths import CHAPTERS_DIR, LOCK_FILE, METRICS_DIR, REPO_ROOT, REPRODUCIBILITY_FILE
from .profile import PROFILE_ENV, budget_seconds, current_profile, read_settings_file, settings_path
from .timing import cpu_model

METADATA_KEY = "rnnbook"
# Each chapter's run-time budgets on a 2-core CPU are in its settings file (chapters/<stem>.toml).
# A budget is a benchmark figure, not a test: a run over it is reported, and only a run over
# BUDGET_FAILURE_FACTOR times it fails (that still catches a notebook running the wrong sizes,
# while a machine shared with other work cannot fail the check).
BUDGET_FAILURE_FACTOR = 3

# Libraries whose version changes the figures a notebook computes (names as in constraints.txt).
RESULT_PACKAGES = ("tensorflow_cpu", "keras", "numpy")
# TensorFlow's C++ logging (absl banner, CPU feature notes, harmless grappler errors) is no
# output of the chapter. Its info and warning lines are silenced before TF loads; what TF 2.21
# prints before its logging starts ignores that variable, so the kernel also leaves C-level
# output on the executor's console instead of copying it into the notebook (Python's own
# warnings still reach the notebook: their causes are fixed, not hidden).
QUIET_TF_ENV = {"TF_CPP_MIN_LOG_LEVEL": "2"}
# Figures are stored at twice their displayed pixel density (with their 1x size in the output's
# metadata, which the site's image tags take), so that they stay sharp on phones and high-DPI screens.
KERNEL_ARGUMENTS = ["--IPKernelApp.capture_fd_output=False", "--InlineBackend.figure_formats=retina"]


BOOTSTRAP_TAG = "colab-bootstrap"  # tools/sync_colab_bootstrap.py: fetches the package on Colab, computes no result


def _is_bootstrap(cell: nbformat.NotebookNode) -> bool:
    return BOOTSTRAP_TAG in cell.get("metadata", {}).get("tags", [])


def _normalise_cell(source: str) -> str:
    return "\n".join(line.rstrip() for line in source.strip().splitlines())


def cells_hash(nb: nbformat.NotebookNode) -> str:
    """sha256 of the notebook's non-empty code cells, in order (the Colab bootstrap cell aside)."""
    digest = hashlib.sha256()
    for cell in nb.cells:
        if cell.cell_type == "code" and cell.source.strip() and not _is_bootstrap(cell):
            digest.update(_normalise_cell(cell.source).encode())
            digest.update(b"\x00")
    return digest.hexdigest()


def _parse_python(source: str) -> ast.Module:
    # IPython magics and shell escapes are not Python: blank them out.
    lines = ["" if line.lstrip().startswith(("%", "!")) else line for line in source.splitlines()]
    try:
        return ast.parse("\n".join(lines))
    except SyntaxError:
        return ast.parse("")


# Packages whose modules compute a notebook's results: the plumbing, and the modules generated
# from the chapters' exported cells (tools/export_chapters.py). A module is named by its
# path relative to the repository root, e.g. "utils/data.py", "chapter_code/ch01_bptt.py".
HASHED_PACKAGES = ("utils", "chapter_code")


def _module_file(package: str, name: str) -> str:
    return f"{package}/{'__init__' if name == '' else name}.py"


def _imported_modules(tree: ast.Module, package: str | None) -> set[str]:
    """Modules of HASHED_PACKAGES that `tree` imports (relative imports resolve in `package`)."""
    found: set[tuple[str, str]] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                parts = alias.name.split(".")
                if parts[0] in HASHED_PACKAGES:
                    found.add((parts[0], parts[1] if len(parts) > 1 else ""))
        elif isinstance(node, ast.ImportFrom):
            if node.level and package:
                source, base = package, node.module or ""
            elif node.module and node.module.split(".")[0] in HASHED_PACKAGES:
                source, base = node.module.split(".")[0], ".".join(node.module.split(".")[1:2])
            else:
                continue
            if base:
                found.add((source, base.split(".")[0]))
            else:  # from utils import x / from . import x: x may be a module
                found.add((source, ""))
                found.update((source, alias.name) for alias in node.names)
    return {_module_file(p, n) for p, n in found if (REPO_ROOT / _module_file(p, n)).is_file()}


def _module_path(module: str) -> Path:
    """The file of `module` ("utils/data.py"; a bare name means a module of utils)."""
    return REPO_ROOT / (module if module.endswith(".py") else _module_file("utils", module))


def chapter_settings_source(stem: str) -> str:
    """The full-profile settings of `stem` (chapters/<stem>.toml) as a canonical string ('' if none).

    Only the full profile's values produce the committed outputs: the smoke values, the
    budgets and the explanations can change without making the notebook stale.
    """
    if not settings_path(stem, CHAPTERS_DIR).is_file():
        return ""
    return json.dumps(read_settings_file(stem, CHAPTERS_DIR)["full"], sort_keys=True)


def module_hash(path: Path) -> str:
    """sha256 of a module's syntax tree without docstrings: comments and layout don't count."""
    tree = ast.parse(path.read_text())
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if (isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
                and body and isinstance(body[0], ast.Expr)
                and isinstance(body[0].value, ast.Constant) and isinstance(body[0].value.value, str)):
            node.body = body[1:] or [ast.Pass()]
    return hashlib.sha256(ast.dump(tree, include_attributes=False).encode()).hexdigest()


# Modules that execute, check, record or display, but compute none of a chapter's figures.
NOT_HASHED = {"utils/__init__.py", "utils/freshness.py", "utils/metrics.py", "utils/paths.py", "utils/widgets.py",
              "chapter_code/__init__.py"}


def utils_dependencies(nb: nbformat.NotebookNode) -> list[str]:
    """The modules of ``utils`` and ``chapter_code`` a notebook imports, directly or through
    other modules (except those in NOT_HASHED), as paths relative to the repository root."""
    pending: set[str] = set()
    for cell in nb.cells:
        if cell.cell_type == "code":
            pending |= _imported_modules(_parse_python(cell.source), package=None)
    pending -= NOT_HASHED
    seen: set[str] = set()
    while pending:
        module = pending.pop()
        if module in seen:
            continue
        seen.add(module)
        tree = ast.parse(_module_path(module).read_text())
        pending |= _imported_modules(tree, package=module.split("/")[0]) - seen - NOT_HASHED
    return sorted(seen)


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "_", name).lower()


def locked_versions(lock: Path | None = None) -> dict[str, str]:
    """The versions of :data:`RESULT_PACKAGES` pinned in the lock file (constraints.txt)."""
    lock = LOCK_FILE if lock is None else lock
    pins = {}
    for line in lock.read_text().splitlines():
        if "==" in line and not line.lstrip().startswith("#"):
            name, version = line.split("==", 1)
            pins[_canonical(name.strip())] = version.split(";")[0].strip()
    missing = [name for name in RESULT_PACKAGES if name not in pins]
    if missing:
        raise ValueError(f"{lock.name} pins no version of {', '.join(missing)}")
    return {name: pins[name] for name in RESULT_PACKAGES}


def installed_versions() -> dict[str, str | None]:
    """The versions of :data:`RESULT_PACKAGES` installed where this runs (None if absent)."""
    found: dict[str, str | None] = {}
    for name in RESULT_PACKAGES:
        try:
            found[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            found[name] = None
    return found


def fingerprint(nb: nbformat.NotebookNode, stem: str,
                versions: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The code hash of notebook `stem` and its parts: cells, imported modules, its sizes and
    the library versions (default: those pinned in the lock)."""
    modules = {module: module_hash(_module_path(module)) for module in utils_dependencies(nb)}
    cells = cells_hash(nb)
    sizes = hashlib.sha256(chapter_settings_source(stem).encode()).hexdigest()
    versions = dict(sorted((locked_versions() if versions is None else versions).items()))
    combined = hashlib.sha256(json.dumps([cells, modules, sizes, versions], sort_keys=True).encode()).hexdigest()
    return {"code_hash": combined, "cells_hash": cells, "utils_hashes": modules, "sizes_hash": sizes,
            "versions": versions}


def notebook_fingerprint(path: str | os.PathLike[str]) -> dict[str, Any]:
    return fingerprint(nbformat.read(path, as_version=4), Path(path).stem)


def full_budget_s(path: Path) -> float:
    """The full-profile budget of the notebook at `path`, from the settings file beside it."""
    return budget_seconds(path.stem, "full", path.parent)


def smoke_budget_s(path: Path) -> float:
    return budget_seconds(path.stem, "smoke", path.parent)


def derived_metrics_json(nb: nbformat.NotebookNode, stem: str) -> str | None:
    """The text ``book/metrics/<stem>.json`` must have, from the notebook's stamp and the
    figures its outputs recorded; None when it records none."""
    stamp = nb.metadata.get(METADATA_KEY) or {}
    outputs = (output for cell in nb.cells if cell.cell_type == "code" for output in cell.get("outputs", []))
    figures = recorded_metrics(outputs, stem, profile=stamp.get("profile"))
    if figures is None:
        return None
    return metrics_json(stem, stamp.get("profile"), stamp.get("code_hash"), figures)


def _displayed_table_problems(nb: nbformat.NotebookNode, path: Path) -> list[str]:
    """The figures table a reader sees under each record_metrics call must be the record's own."""
    problems = []
    for index, cell in enumerate(nb.cells):
        for output in cell.get("outputs", []) if cell.cell_type == "code" else []:
            record = output.get("data", {}).get(METRICS_MIME)
            if record is None:
                continue
            table = metrics_table(record)
            shown = {kind: output["data"].get(kind) for kind in ("text/markdown", "text/plain")}
            stale = [kind for kind, text in shown.items() if _joined(text) != table]
            if stale:
                problems.append(f"{path.name}: cell {index} displays a figures table ({', '.join(stale)}) "
                                "that differs from the figures it records")
    return problems


def _joined(text: Any) -> str | None:
    return "".join(text) if isinstance(text, list) else text


def _metrics_problems(nb: nbformat.NotebookNode, path: Path, metrics_dir: Path) -> list[str]:
    problems = _displayed_table_problems(nb, path)
    return problems + _file_problems(nb, path, metrics_dir)


def _file_problems(nb: nbformat.NotebookNode, path: Path, metrics_dir: Path) -> list[str]:
    metrics_file = metrics_dir / f"{path.stem}.json"
    try:
        expected = derived_metrics_json(nb, path.stem)
    except MetricsError as error:
        return [f"{path.name}: {error}"]
    if expected is None:
        return [f"{metrics_file.name}: exists, but {path.name} records no figures"] if metrics_file.exists() else []
    if not metrics_file.is_file():
        return [f"{path.name}: its figures are not in book/metrics/{metrics_file.name}; "
                f"run `python -m utils.freshness metrics {path}`"]
    try:
        actual = json.loads(metrics_file.read_text())
    except json.JSONDecodeError as error:
        return [f"{metrics_file.name}: not JSON ({error})"]
    # Values, not bytes: a notebook saved by Jupyter holds 1 where Python recorded 1.0.
    differences = metrics_differences(json.loads(expected), actual)
    if not differences and not same_value(json.loads(expected), actual):
        differences = ["fields other than the figures"]
    return [f"{metrics_file.name}: differs from the figures {path.name} recorded: {'; '.join(differences)}"
            ] if differences else []


# What a committed output must not show a reader: where the book was run, a traceback nobody
# meant to show, or TensorFlow's process log (see QUIET_TF_ENV).
MACHINE_PATH = re.compile(r"(?:/root/|/home/[^/\s]+/|/work/|/tmp/|/Users/|site-packages|dist-packages|\.venv/"
                          r"|[A-Za-z]:\\Users\\)")
TF_LOG_LINE = re.compile(r"^(?:[IWEF]\d{4} \d\d:\d\d:\d+\.\d+ |WARNING: All log messages before absl"
                         r"|(?:WARNING|INFO|ERROR):tensorflow:)", re.MULTILINE)
TRACEBACK = "Traceback (most recent call last)"
DEMONSTRATION_TAG = "raises-exception"  # a cell whose error is the point (nbval and myst-nb know the tag)


def _output_texts(output: Mapping[str, Any]) -> list[str]:
    if output.get("output_type") == "stream":
        return [output.get("text", "")]
    if output.get("output_type") == "error":
        return ["\n".join(output.get("traceback", []))]
    data = output.get("data", {})
    return [data[kind] for kind in ("text/plain", "text/html", "text/markdown", "text/latex")
            if isinstance(data.get(kind), str)]


def output_problems(nb: nbformat.NotebookNode, name: str) -> list[str]:
    """Committed outputs that show a machine path, an unintended traceback or a TF log line."""
    problems = []
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        demonstration = DEMONSTRATION_TAG in cell.get("metadata", {}).get("tags", [])
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error" and not demonstration:
                problems.append(f"{name}: code cell {index} ends in {output.get('ename')} (tag the cell "
                                f"{DEMONSTRATION_TAG!r} if the error is the point)")
            for text in _output_texts(output):
                found = MACHINE_PATH.search(text)
                if found:
                    problems.append(f"{name}: code cell {index} shows a machine path ({found.group(0)!r})")
                log_line = TF_LOG_LINE.search(text)
                if log_line:
                    problems.append(f"{name}: code cell {index} shows a TensorFlow log line "
                                    f"({log_line.group(0).strip()!r})")
                if TRACEBACK in text and not demonstration:
                    problems.append(f"{name}: code cell {index} shows a traceback")
    return problems


def check_notebook(path: str | os.PathLike[str], metrics_dir: Path | None = None) -> list[str]:
    """Problems that make a committed notebook's outputs or figures stale; empty when fresh."""
    path = Path(path)
    nb = nbformat.read(path, as_version=4)
    stamp = nb.metadata.get(METADATA_KEY)
    if not stamp:
        return [f"{path.name}: never executed by `make execute` (no metadata.{METADATA_KEY})"]
    problems = []
    if stamp.get("profile") != "full":
        problems.append(f"{path.name}: outputs come from the {stamp.get('profile')!r} profile, not 'full'")
    current = fingerprint(nb, path.stem)
    if stamp.get("code_hash") != current["code_hash"]:
        changed = [m for m, h in current["utils_hashes"].items() if stamp.get("utils_hashes", {}).get(m) != h]
        if stamp.get("sizes_hash") != current["sizes_hash"]:
            changed.insert(0, f"its full-profile settings in chapters/{path.stem}.toml")
        if stamp.get("cells_hash") != current["cells_hash"]:
            changed.insert(0, "its code cells")
        if stamp.get("versions") != current["versions"]:
            changed.append(f"library versions {stamp.get('versions')} -> {current['versions']}")
        problems.append(f"{path.name}: outputs come from other code (changed: {', '.join(changed) or 'imports'}); "
                        f"run `make execute NB={path}`")
    for index, cell in enumerate(nb.cells):
        if (cell.cell_type == "code" and cell.source.strip() and not _is_bootstrap(cell)
                and cell.get("execution_count") is None):
            problems.append(f"{path.name}: code cell {index} has no outputs from the run")
            break
    runtime = stamp.get("runtime_s")
    limit = BUDGET_FAILURE_FACTOR * full_budget_s(path)
    if runtime is None or runtime > limit:
        problems.append(f"{path.name}: full-profile run time {runtime} s is over {BUDGET_FAILURE_FACTOR} x its "
                        f"budget of {full_budget_s(path)} s: is it running the right sizes?")
    if not in_jupyter_form(path):
        problems.append(f"{path.name}: not stored in the form Jupyter saves, so opening and saving it in JupyterLab "
                        f"would change it; run `python -m utils.freshness normalise {path}`")
    problems += output_problems(nb, path.name)
    problems += _metrics_problems(nb, path, METRICS_DIR if metrics_dir is None else metrics_dir)
    return problems


def budget_note(stem: str, seconds: float, budget: float) -> str:
    """How a measured run time compares with its budget (a benchmark figure, not a verdict)."""
    share = seconds / budget
    verdict = "within" if share <= 1 else f"OVER ({share:.1f} x)"
    return f"{stem}: {seconds:.1f} s, {verdict} its budget of {budget:.0f} s"


# The kernelspec JupyterLab 4 and Notebook 7 write for ipykernel's kernel "python3" on opening a notebook.
JUPYTER_KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}


def _as_javascript_number(number: int | float) -> int | float:
    """`number` as Python reads it back after a browser's JSON.parse and JSON.stringify.

    JavaScript has one number type: a whole float is written without its ".0" (up to 1e21),
    and an integer beyond 2**53 is rounded to a double and written with its shortest digits.
    """
    if isinstance(number, float):
        return int(decimal.Decimal(repr(number))) if number.is_integer() and abs(number) < 1e21 else number
    if abs(number) > 2**53:
        return _as_javascript_number(float(number))
    return number


def _through_the_browser(value: Any) -> Any:
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, (int, float)):
        return _as_javascript_number(value)
    if isinstance(value, Mapping):
        return type(value)((key, _through_the_browser(item)) for key, item in value.items())
    if isinstance(value, list):
        return [_through_the_browser(item) for item in value]
    return value


def jupyter_form(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """The notebook as JupyterLab 4 and Notebook 7 save it after opening it: every JSON number as
    a browser holds it (whole floats without ".0"; :func:`_as_javascript_number`) and the kernel's
    display name as ipykernel's kernelspec gives it. Code, outputs' values and the code hash are
    unchanged; applying it twice changes nothing. Checked against JupyterLab 4.6 by the
    real-client test (tests/browser/test_jupyterlab.py); Notebook 7.6 saves the same bytes."""
    nb = nbformat.from_dict(_through_the_browser(nb))
    kernelspec = nb.metadata.get("kernelspec")
    if kernelspec and kernelspec.get("name") == JUPYTER_KERNELSPEC["name"]:
        kernelspec.update(JUPYTER_KERNELSPEC)
    return nb


def jupyter_text(text: str) -> str:
    """The file text a notebook whose file text is `text` has once Jupyter has saved it."""
    after = nbformat.writes(jupyter_form(nbformat.reads(text, as_version=nbformat.NO_CONVERT)))
    return after if after.endswith("\n") else after + "\n"  # as nbformat.write, and so the Jupyter server, ends it


def in_jupyter_form(path: str | os.PathLike[str]) -> bool:
    text = Path(path).read_text()
    return jupyter_text(text) == text


def normalise_notebook(path: str | os.PathLike[str]) -> bool:
    """Rewrite the notebook at `path` in :func:`jupyter_form`; whether any byte changed."""
    path = Path(path)
    before = path.read_text()
    after = jupyter_text(before)
    if after == before:
        return False
    temporary = path.with_suffix(".ipynb.tmp")
    temporary.write_text(after)
    os.replace(temporary, path)
    return True


class ExecutionRefused(RuntimeError):
    """An execution that would destroy committed work or stamp a run it cannot vouch for."""


def write_metrics(nb: nbformat.NotebookNode, path: Path, metrics_dir: Path | None = None,
                  text: str | None = None) -> Path | None:
    """Write ``book/metrics/<stem>.json`` from the notebook's recorded figures (None if none);
    `text`, when given, is that file's already derived content."""
    text = derived_metrics_json(nb, path.stem) if text is None else text
    if text is None:
        return None
    target = (METRICS_DIR if metrics_dir is None else metrics_dir) / f"{path.stem}.json"
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_suffix(".json.tmp")
    temporary.write_text(text)
    os.replace(temporary, target)
    return target


def run_in_fresh_kernel(path: Path, profile: str) -> tuple[nbformat.NotebookNode, float]:
    """The notebook at `path` executed in a new kernel in `profile`, and its run time; nothing is written."""
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    saved = {name: os.environ.get(name) for name in (PROFILE_ENV, *QUIET_TF_ENV)}
    os.environ.update({PROFILE_ENV: profile, **QUIET_TF_ENV})  # inherited by the kernel
    try:
        client = NotebookClient(nb, timeout=None, kernel_name="python3", extra_arguments=KERNEL_ARGUMENTS,
                                resources={"metadata": {"path": str(path.parent)}})
        start = time.perf_counter()
        client.execute()  # raises on the first failing cell: nothing below runs
        return nb, time.perf_counter() - start
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def reproduce_notebook(path: str | os.PathLike[str], metrics_dir: Path | None = None,
                       record: Path | None = None) -> list[str]:
    """Run a committed notebook again, in the full profile, in a new process, and compare the
    figures it records with the committed ``book/metrics/<stem>.json``; returns the differences.
    Wall-clock figures (:func:`utils.metrics.is_timing_metric`) are left out: a rerun measures them anew.

    The result is added to ``book/reproducibility.json`` (`record`) with the code hash it holds for,
    so that the book's claim "a rerun gives the same figures" is itself checked for freshness.
    """
    path = Path(path).resolve()
    committed = json.loads(((METRICS_DIR if metrics_dir is None else metrics_dir) / f"{path.stem}.json").read_text())
    if notebook_fingerprint(path)["code_hash"] != committed.get("code_hash"):
        raise ExecutionRefused(f"{path.name}: its committed figures are stale; `make execute` it first")
    nb, seconds = run_in_fresh_kernel(path, "full")
    rerun = recorded_metrics((o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])),
                             path.stem, profile="full") or {}
    # Wall-clock figures are measured anew by every run: compared are the results, not the timings.
    timings = sorted(name for name in committed["metrics"] if is_timing_metric(name))
    results_of = lambda metrics: {k: v for k, v in metrics.items() if not is_timing_metric(k)}  # noqa: E731
    differences = metrics_differences({**committed, "metrics": results_of(rerun)},
                                      {**committed, "metrics": results_of(committed["metrics"])})
    # Other CPUs round differently: what must survive a rerun is each verdict, so the record keeps
    # how far each figure moved and the ledger's verdicts judged on both sets of figures.
    moved = {name: relative_difference(value, rerun.get(name))
             for name, value in results_of(committed["metrics"]).items()}
    record = REPRODUCIBILITY_FILE if record is None else record
    results = json.loads(record.read_text()) if record.is_file() else {}
    results[path.stem] = {"code_hash": committed["code_hash"], "compared": len(results_of(committed["metrics"])),
                          "timings_not_compared": timings, "identical": not differences,
                          "differences": differences,
                          "relative_differences": {k: v for k, v in sorted(moved.items()) if v},
                          "largest_relative_difference": max(moved.values(), default=0.0),
                          "verdicts": ledger_verdicts(path.stem, committed["metrics"], rerun),
                          "rerun_seconds": round(seconds, 1), "cpu": cpu_model()}
    record.write_text(json.dumps(dict(sorted(results.items())), indent=2, ensure_ascii=False) + "\n")
    return differences


def relative_difference(committed: Any, rerun: Any) -> float:
    """|rerun - committed| relative to the larger magnitude (lists: the largest over their items);
    0.0 for equal values, infinity for a missing figure or one that is not a number and differs."""
    if isinstance(committed, (list, tuple)) and isinstance(rerun, (list, tuple)) and len(committed) == len(rerun):
        return max((relative_difference(a, b) for a, b in zip(committed, rerun)), default=0.0)
    if committed == rerun:
        return 0.0
    numbers = (int, float)
    if isinstance(committed, numbers) and isinstance(rerun, numbers) and not isinstance(committed, bool):
        scale = max(abs(committed), abs(rerun))
        return float(abs(rerun - committed) / scale) if scale else 0.0
    return float("inf")


def ledger_verdicts(stem: str, committed: Mapping[str, Any], rerun: Mapping[str, Any]) -> dict[str, dict[str, str]]:
    """For each ledger claim of chapter `stem`: its verdict on the committed figures and on a rerun's."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("rnnbook_pages", REPO_ROOT / "book" / "_ext" / "rnnbook_pages.py")
    pages = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(pages)
    verdicts = {}
    for claim in pages.load_claims():
        if claim["chapter"] == int(stem[:2]):
            def judged(metrics: Mapping[str, Any]) -> str:
                try:
                    return pages.judge_claim(claim, metrics, stem)["verdict"]
                except Exception as error:  # a figure missing from a run: that is the finding
                    return f"cannot judge: {error}"
            verdicts[claim["id"]] = {"committed": judged(committed), "rerun": judged(rerun)}
    return verdicts


def execute_notebook(path: str | os.PathLike[str], store: bool = True,
                     metrics_dir: Path | None = None) -> tuple[str, float]:
    """Run every cell in a fresh kernel, in the profile of ``RNNBOOK_PROFILE`` (default full).

    With `store`, a run that finishes writes the outputs and stamp into the notebook and its
    figures into ``book/metrics``; a run that fails writes neither. Storing is refused for a
    smoke run (it would replace the committed full-profile outputs) and when the installed
    library versions differ from the lock (the stamp would name versions that did not run).
    Returns (profile, seconds).
    """
    path = Path(path).resolve()
    profile = current_profile()
    if store and profile != "full":
        raise ExecutionRefused(
            f"refusing to store {profile}-profile outputs in {path.name}: they would replace its committed "
            f"full-profile outputs and figures; use --no-store to run it without saving")
    if store:
        installed, locked = installed_versions(), locked_versions()
        if installed != locked:
            raise ExecutionRefused(f"installed {installed} differ from the lock {locked}: `make venv` first")
    nb, seconds = run_in_fresh_kernel(path, profile)
    if store:
        nb.metadata[METADATA_KEY] = {"profile": profile, "runtime_s": round(seconds, 1),
                                     **fingerprint(nb, path.stem)}
        figures = derived_metrics_json(nb, path.stem)  # contradicting records fail here, before any write
        nbformat.write(jupyter_form(nb), path)  # so that opening and saving it in Jupyter changes nothing
        write_metrics(nb, path, metrics_dir, text=figures)
    return profile, seconds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m utils.freshness")
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("execute", help="execute notebooks (profile: RNNBOOK_PROFILE, default full) "
                                         "and store their outputs and figures")
    run.add_argument("--no-store", action="store_true", help="time the run, keep the files as they are")
    run.add_argument("notebooks", nargs="+")
    check = sub.add_parser("check", help="fail when committed outputs or figures are stale")
    check.add_argument("notebooks", nargs="+")
    again = sub.add_parser("reproduce", help="run committed notebooks again (full profile, nothing stored) "
                                             "and compare their figures with book/metrics")
    again.add_argument("notebooks", nargs="+")
    rewrite = sub.add_parser("metrics", help="rewrite book/metrics/<stem>.json from the notebooks' figures "
                                             "(a file whose figures are equal as values is left as it is)")
    rewrite.add_argument("notebooks", nargs="+")
    normalise = sub.add_parser("normalise", help="rewrite notebooks in the form JupyterLab and Notebook 7 save")
    normalise.add_argument("notebooks", nargs="+")
    args = parser.parse_args(argv)
    if args.command == "execute":
        try:
            profile = current_profile()
        except ValueError as error:
            print(f"error: {error}", file=sys.stderr)
            return 2
        print(f"profile: {profile} ({'stored' if not args.no_store else 'not stored'})", flush=True)
        for notebook in args.notebooks:
            try:
                profile, seconds = execute_notebook(notebook, store=not args.no_store)
            except ExecutionRefused as error:
                print(f"error: {error}", file=sys.stderr)
                return 2
            stem = Path(notebook).stem
            budget = (full_budget_s if profile == "full" else smoke_budget_s)(Path(notebook))
            print(f"{profile} profile: {budget_note(stem, seconds, budget)}", flush=True)
        return 0
    if args.command == "reproduce":
        failed = 0
        for notebook in args.notebooks:
            differences = reproduce_notebook(notebook)
            failed += bool(differences)
            print(f"{notebook}: " + ("the rerun recorded the same figures" if not differences else
                                     "the rerun differs:\n  " + "\n  ".join(differences)), flush=True)
        return 1 if failed else 0
    if args.command == "metrics":
        for notebook in args.notebooks:
            nb = nbformat.read(notebook, as_version=4)
            if not _metrics_problems(nb, Path(notebook), METRICS_DIR):
                print(f"{notebook}: book/metrics/{Path(notebook).stem}.json already holds its figures")
                continue
            written = write_metrics(nb, Path(notebook))
            print(f"{notebook}: {written.relative_to(REPO_ROOT) if written else 'records no figures'}")
        return 0
    if args.command == "normalise":
        for notebook in args.notebooks:
            print(f"{notebook}: {'rewritten' if normalise_notebook(notebook) else 'already in Jupyter form'}")
        return 0
    stale = {}
    for notebook in args.notebooks:
        problems = check_notebook(notebook)
        if problems:
            stale[notebook] = problems
        for problem in problems:
            print(f"STALE {problem}")
    print(f"{len(args.notebooks) - len(stale)} fresh, {len(stale)} stale")
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main())
