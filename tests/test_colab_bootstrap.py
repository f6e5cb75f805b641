"""Each chapter's Colab bootstrap cell, run end to end as Colab would run it.

For every chapter the cell tagged ``colab-bootstrap`` runs in a fresh interpreter that cannot
import the book's package (no ``.pth`` files, so not the editable install either, and a working
directory outside the repository), with a stand-in ``google.colab`` module. The repository
address is replaced by a ``file://`` URL of a bare repository holding the current commit, and the
clone's folder (``/content/...`` on Colab) by a temporary one. The interpreter then runs every
``utils`` and ``chapter_code`` import of the chapter's cells, and the test checks that each
module came from the clone. No model is trained.
"""

from __future__ import annotations

import ast
import json
import os
import site
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from tools import sync_colab_bootstrap as sync
from utils.paths import REPO_ROOT

PACKAGES = ("utils", "chapter_code")

# Runs in the fresh interpreter (python -I -S): reads its task as JSON on stdin, prints a JSON report.
CHILD = r"""
import importlib.util
import json
import sys
import types

task = json.load(sys.stdin)
sys.path.extend(task["site_packages"])  # the libraries, without the .pth files of site-packages
for name in task["packages"]:
    spec = importlib.util.find_spec(name)
    if spec is not None:
        raise SystemExit(f"{name} is importable before the bootstrap cell ran: {spec.origin}")
if task["colab"]:
    sys.modules["google.colab"] = types.ModuleType("google.colab")
namespace = {"__name__": "__main__"}
exec(compile(task["cell"], "<bootstrap cell>", "exec"), namespace)
report = {"path0": sys.path[0], "importable": {n: importlib.util.find_spec(n) is not None for n in task["packages"]}}
for statement in task["imports"]:
    exec(statement, namespace)
report["modules"] = {name: getattr(module, "__file__", None) for name, module in sys.modules.items()
                     if name.split(".")[0] in task["packages"]}
if "utils.paths" in sys.modules:
    report["repo_root"] = str(sys.modules["utils.paths"].REPO_ROOT)
print(json.dumps(report))
"""


def bootstrap_cell(notebook: Path) -> str:
    cells = [c for c in nbformat.read(notebook, as_version=4).cells if sync.TAG in c.metadata.get("tags", [])]
    assert len(cells) == 1, f"{notebook.name}: {len(cells)} cells tagged {sync.TAG!r}"
    return cells[0].source


def _code(cell_source: str) -> ast.Module:
    # IPython lines (%magic, !shell) are not Python; the imports are in the other lines.
    lines = [line for line in cell_source.splitlines() if not line.lstrip().startswith(("%", "!"))]
    return ast.parse("\n".join(lines))


def package_imports(notebook: Path) -> list[str]:
    """Every import statement of the notebook's cells (bootstrap cell excepted) that names the book's package."""
    statements: list[str] = []
    for cell in nbformat.read(notebook, as_version=4).cells:
        if cell.cell_type != "code" or sync.TAG in cell.metadata.get("tags", []):
            continue
        for node in ast.walk(_code(cell.source)):
            if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            else:
                continue
            if any(name.split(".")[0] in PACKAGES for name in names):
                statement = ast.unparse(node)
                if statement not in statements:
                    statements.append(statement)
    return statements


@pytest.fixture(scope="module")
def remote(tmp_path_factory) -> tuple[str, str]:
    """(file:// URL, branch) of a bare repository whose configured branch is the current commit."""
    url, branch = sync.repository()
    bare = tmp_path_factory.mktemp("remote") / "book.git"
    subprocess.run(["git", "init", "--quiet", "--bare", str(bare)], check=True)
    # accepted even when the checkout under test is itself a shallow clone
    subprocess.run(["git", "-C", str(bare), "config", "receive.shallowUpdate", "true"], check=True)
    subprocess.run(["git", "-C", str(REPO_ROOT), "push", "--quiet", str(bare), f"HEAD:refs/heads/{branch}"],
                   check=True)
    return bare.as_uri(), branch


def run_bootstrap(notebook: Path, remote_url: str, clone: Path, workdir: Path, colab: bool = True) -> dict:
    url, _ = sync.repository()
    cell = bootstrap_cell(notebook)
    folder = sync.clone_folder(url)
    for original in (f'"{url}"', f'"{folder}"'):
        assert cell.count(original) == 1, f"{notebook.name}: the bootstrap cell should name {original} once"
    cell = cell.replace(f'"{url}"', json.dumps(remote_url)).replace(f'"{folder}"', json.dumps(str(clone)))
    task = {"site_packages": site.getsitepackages(), "packages": PACKAGES, "colab": colab, "cell": cell,
            "imports": package_imports(notebook) if colab else []}
    env = {key: value for key, value in os.environ.items() if not key.startswith("PYTHON")}
    env.update(RNNBOOK_PROFILE="smoke", TF_CPP_MIN_LOG_LEVEL="2")
    result = subprocess.run([sys.executable, "-I", "-S", "-c", CHILD], input=json.dumps(task), cwd=workdir,
                            env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, f"{notebook.name}: the bootstrap or an import failed:\n{result.stderr[-4000:]}"
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("notebook", sync.chapter_notebooks(), ids=lambda path: path.stem)
def test_the_bootstrap_cell_makes_the_chapter_importable_on_colab(notebook, remote, tmp_path):
    clone, workdir = tmp_path / "content" / "book", tmp_path / "elsewhere"
    workdir.mkdir()
    imports = package_imports(notebook)
    assert imports, f"{notebook.name} imports nothing from {PACKAGES}: nothing to test"

    report = run_bootstrap(notebook, remote[0], clone, workdir)

    assert (clone / ".git").is_dir() and (clone / "chapters" / notebook.name).is_file()
    assert Path(report["path0"]) == clone  # the clone comes first on sys.path
    assert report["repo_root"] == str(clone)  # so the chapter's settings and data paths are the clone's
    imported = {name.split(".")[0] for name in report["modules"]}
    assert imported >= {statement.split()[1].split(".")[0] for statement in imports}
    outside = {name: path for name, path in report["modules"].items()
               if path is None or not Path(path).resolve().is_relative_to(clone.resolve())}
    assert not outside, f"{notebook.name}: modules not imported from the clone: {outside}"


def test_outside_colab_the_bootstrap_cell_does_nothing(remote, tmp_path):
    clone, workdir = tmp_path / "content" / "book", tmp_path / "elsewhere"
    workdir.mkdir()
    report = run_bootstrap(sync.chapter_notebooks()[0], remote[0], clone, workdir, colab=False)
    assert not clone.exists()
    assert report["importable"] == {name: False for name in PACKAGES}  # the test's interpreter hides the package
