"""Freshness of committed notebook outputs, and the executor that makes them.

Each notebook executed by ``make execute`` carries ``metadata.rnnbook``: the profile it
ran in, its run time, and a *code hash* covering its code cells and the ``utils``
modules it imports (comments, docstrings and formatting of the modules do not count).
:func:`check_notebook` fails when outputs are missing, come from the smoke profile,
or come from code other than the code committed.

Command line::

    python -m utils.freshness execute chapters/01_bptt.ipynb [...]   # full profile
    python -m utils.freshness check chapters/*.ipynb
"""

from __future__ import annotations

import argparse
import ast
import hashlib
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import nbformat

REPO_ROOT = Path(__file__).resolve().parents[1]
UTILS_DIR = Path(__file__).resolve().parent
METADATA_KEY = "rnnbook"
# Budgets on a 2-core CPU, seconds, per notebook stem (default for the others).
# 02_mnist_rnn: the plan was 720 s; its full run (6 SimpleRNN runs of 15 epochs, LSTM, GRU)
# measured 1,056 s on the reference 2-core machine, so its budget is set to what it needs.
# 06_dropout: planned for 360 s; the run whose outputs are committed (12 runs of 10 epochs)
# measured 398 s while other jobs shared the 2 cores.
FULL_BUDGET_S = {"02_mnist_rnn": 1200, "04_creative_rnn": 720, "06_dropout": 480, "08_embeddings": 480,
                 "09_seq2seq": 1500}
DEFAULT_FULL_BUDGET_S = 360
SMOKE_BUDGET_S = {"09_seq2seq": 90}
DEFAULT_SMOKE_BUDGET_S = 60


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


def _imported_utils_modules(tree: ast.Module, package_relative: bool) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "utils":
                    found.add(".".join(alias.name.split(".")[1:2]))
        elif isinstance(node, ast.ImportFrom):
            if node.level and package_relative:
                base = node.module or ""
            elif node.module and node.module.split(".")[0] == "utils":
                base = ".".join(node.module.split(".")[1:2])
            else:
                continue
            if base:
                found.add(base.split(".")[0])
            else:  # from utils import x / from . import x: x may be a module
                found.update(alias.name for alias in node.names)
    return {name for name in found if name == "" or (UTILS_DIR / f"{name}.py").is_file()}


def _module_path(name: str) -> Path:
    return UTILS_DIR / ("__init__.py" if name == "" else f"{name}.py")


SIZES_NAME = "CHAPTER_SIZES"  # in utils/profile.py: each notebook depends on its own entry only


def _sizes_node(tree: ast.Module) -> ast.stmt | None:
    for node in tree.body:
        targets = node.targets if isinstance(node, ast.Assign) else [getattr(node, "target", None)]
        if any(isinstance(t, ast.Name) and t.id == SIZES_NAME for t in targets):
            return node
    return None


def chapter_sizes_source(stem: str) -> str:
    """The full-profile sizes of `stem` in utils/profile.py, as a canonical string ('' if none).

    Only the full profile's sizes produce the committed outputs; the smoke sizes can be
    tuned without making them stale.
    """
    node = _sizes_node(ast.parse(_module_path("profile").read_text()))
    sizes = ast.literal_eval(node.value).get(stem, {}).get("full") if node is not None else None
    return "" if sizes is None else repr(sorted(sizes.items()))


def module_hash(path: Path) -> str:
    """sha256 of a module's syntax tree without docstrings: comments and layout don't count.

    In utils/profile.py the table of all chapters' sizes is left out: a notebook's
    fingerprint includes its own sizes instead (see `fingerprint`).
    """
    tree = ast.parse(path.read_text())
    sizes = _sizes_node(tree)
    if sizes is not None:
        tree.body.remove(sizes)
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if (isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
                and body and isinstance(body[0], ast.Expr)
                and isinstance(body[0].value, ast.Constant) and isinstance(body[0].value.value, str)):
            node.body = body[1:] or [ast.Pass()]
    return hashlib.sha256(ast.dump(tree, include_attributes=False).encode()).hexdigest()


# Modules that execute, check and record, but compute none of a chapter's results: editing the
# checker must not make every notebook stale.
NOT_HASHED = {"freshness"}


def utils_dependencies(nb: nbformat.NotebookNode) -> list[str]:
    """The ``utils`` modules a notebook imports, directly or through other modules
    (except the tooling in NOT_HASHED)."""
    pending = {""}
    for cell in nb.cells:
        if cell.cell_type == "code":
            pending |= _imported_utils_modules(_parse_python(cell.source), package_relative=False)
    pending -= NOT_HASHED
    seen: set[str] = set()
    while pending:
        name = pending.pop()
        if name in seen:
            continue
        seen.add(name)
        tree = ast.parse(_module_path(name).read_text())
        pending |= _imported_utils_modules(tree, package_relative=True) - seen - NOT_HASHED
    return sorted(seen)


def fingerprint(nb: nbformat.NotebookNode, stem: str) -> dict[str, Any]:
    """The code hash of notebook `stem` and its parts: cells, imported modules, its sizes."""
    modules = {f"utils/{_module_path(name).name}": module_hash(_module_path(name))
               for name in utils_dependencies(nb)}
    cells = cells_hash(nb)
    sizes = hashlib.sha256(chapter_sizes_source(stem).encode()).hexdigest()
    combined = hashlib.sha256(json.dumps([cells, modules, sizes], sort_keys=True).encode()).hexdigest()
    return {"code_hash": combined, "cells_hash": cells, "utils_hashes": modules, "sizes_hash": sizes}


def notebook_fingerprint(path: str | os.PathLike[str]) -> dict[str, Any]:
    return fingerprint(nbformat.read(path, as_version=4), Path(path).stem)


def full_budget_s(stem: str) -> int:
    return FULL_BUDGET_S.get(stem, DEFAULT_FULL_BUDGET_S)


def smoke_budget_s(stem: str) -> int:
    return SMOKE_BUDGET_S.get(stem, DEFAULT_SMOKE_BUDGET_S)


def check_notebook(path: str | os.PathLike[str]) -> list[str]:
    """Problems that make a committed notebook's outputs stale; empty when fresh."""
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
            changed.insert(0, "its sizes in utils/profile.py")
        if stamp.get("cells_hash") != current["cells_hash"]:
            changed.insert(0, "its code cells")
        problems.append(f"{path.name}: outputs come from other code (changed: {', '.join(changed) or 'imports'}); "
                        f"run `make execute NB={path}`")
    for index, cell in enumerate(nb.cells):
        if (cell.cell_type == "code" and cell.source.strip() and not _is_bootstrap(cell)
                and cell.get("execution_count") is None):
            problems.append(f"{path.name}: code cell {index} has no outputs from the run")
            break
    runtime = stamp.get("runtime_s")
    if runtime is None or runtime > full_budget_s(path.stem):
        problems.append(f"{path.name}: full-profile run time {runtime} s is over the budget "
                        f"of {full_budget_s(path.stem)} s")
    metrics_file = REPO_ROOT / "book" / "metrics" / f"{path.stem}.json"
    if metrics_file.exists():
        recorded = json.loads(metrics_file.read_text())
        if recorded.get("code_hash") != current["code_hash"] or recorded.get("profile") != "full":
            problems.append(f"{metrics_file.name}: metrics come from other code or profile than the notebook")
    return problems


def execute_notebook(path: str | os.PathLike[str], profile: str = "full",
                     store: bool = True) -> float:
    """Run every cell in `profile` in a fresh kernel; stamp and save when `store`. Returns seconds."""
    from nbclient import NotebookClient

    path = Path(path).resolve()
    nb = nbformat.read(path, as_version=4)
    previous = os.environ.get("RNNBOOK_PROFILE")
    os.environ["RNNBOOK_PROFILE"] = profile  # inherited by the kernel
    try:
        client = NotebookClient(nb, timeout=None, kernel_name="python3",
                                resources={"metadata": {"path": str(path.parent)}})
        start = time.perf_counter()
        client.execute()
        seconds = time.perf_counter() - start
    finally:
        if previous is None:
            os.environ.pop("RNNBOOK_PROFILE", None)
        else:
            os.environ["RNNBOOK_PROFILE"] = previous
    if store:
        nb.metadata[METADATA_KEY] = {"profile": profile, "runtime_s": round(seconds, 1),
                                     **fingerprint(nb, path.stem)}
        nbformat.write(nb, path)
    return seconds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m utils.freshness")
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("execute", help="execute notebooks and store their outputs")
    run.add_argument("--profile", default="full", choices=("smoke", "full"))
    run.add_argument("--no-store", action="store_true", help="time the run, keep the file as is")
    run.add_argument("notebooks", nargs="+")
    check = sub.add_parser("check", help="fail when committed outputs are stale")
    check.add_argument("notebooks", nargs="+")
    args = parser.parse_args(argv)
    if args.command == "execute":
        for notebook in args.notebooks:
            seconds = execute_notebook(notebook, args.profile, store=not args.no_store)
            print(f"{notebook}: {args.profile} profile ran in {seconds:.1f} s")
        return 0
    problems = [p for notebook in args.notebooks for p in check_notebook(notebook)]
    for problem in problems:
        print(f"STALE {problem}")
    print(f"{len(args.notebooks) - len({p.split(':')[0] for p in problems})} fresh, "
          f"{len({p.split(':')[0] for p in problems})} stale")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
