"""Write the Colab bootstrap cell into the chapter notebooks, from the repository in _config.yml.

    python tools/sync_colab_bootstrap.py            # every chapters/NN_*.ipynb
    python tools/sync_colab_bootstrap.py --check    # exit 1 when a notebook lacks the cell or it is stale
    python tools/sync_colab_bootstrap.py chapters/05_deep_rnn_devices.ipynb

The cell is each notebook's first code cell. Outside Colab it does nothing; on Colab it clones
the repository and puts it first on ``sys.path``, so the notebook imports the book's package
(``utils``) and the loaders download the datasets. It is tagged ``colab-bootstrap`` (the
freshness hash leaves it out: it computes no result) and ``remove-cell`` (the site does not show
it). The repository URL and branch are read from ``_config.yml`` (``repository.url``,
``repository.branch``), the one place that names them. Every other cell is left exactly as it is.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

import nbformat
import yaml

from utils.freshness import jupyter_form
from utils.paths import CHAPTERS_DIR, REPO_ROOT

CONFIG_FILE = REPO_ROOT / "_config.yml"
TAG = "colab-bootstrap"
TAGS = [TAG, "remove-cell"]
CELL_ID = "colab-bootstrap"


def repository(config_file: Path = CONFIG_FILE) -> tuple[str, str]:
    """(url, branch) of the book's repository, from `config_file`."""
    config = yaml.safe_load(Path(config_file).read_text(encoding="utf-8")) or {}
    repo = config.get("repository") or {}
    url, branch = repo.get("url"), repo.get("branch") or "main"
    if not isinstance(url, str) or not re.fullmatch(r"https://[\w.-]+(/[\w.-]+)+", url):
        raise ValueError(f"{config_file}: repository.url must be an https URL, not {url!r}")
    if not isinstance(branch, str) or not re.fullmatch(r"[\w./-]+", branch):
        raise ValueError(f"{config_file}: repository.branch {branch!r} is not a branch name")
    return url, branch


def clone_folder(url: str) -> str:
    """Where the bootstrap cell clones the repository `url` on Colab: /content/<repository name>."""
    return "/content/" + url.rstrip("/").rsplit("/", 1)[-1].removesuffix(".git")


def bootstrap_source(url: str, branch: str) -> str:
    """The code of the bootstrap cell for the repository `url` at `branch`.

    It clones the repository and imports ``utils`` from the clone rather than pip-installing the
    package: an installed copy has no ``chapters/`` beside it, and ``record_metrics`` fingerprints
    the notebook it runs in. Colab already has the libraries the notebooks need.
    """
    folder = clone_folder(url)
    return (
        "# On Google Colab only: fetch this book's repository and import its package (`utils`) from it.\n"
        "# Elsewhere this cell does nothing. Written by tools/sync_colab_bootstrap.py from _config.yml.\n"
        "import sys\n"
        "\n"
        'if "google.colab" in sys.modules:\n'
        "    import os\n"
        "    import subprocess\n"
        "\n"
        f'    book = "{folder}"\n'
        "    if not os.path.isdir(book):\n"
        f'        subprocess.run(["git", "clone", "--quiet", "--depth", "1", "--branch", "{branch}",\n'
        f'                        "{url}", book], check=True)\n'
        "    sys.path.insert(0, book)"
    )


def _is_bootstrap(cell: nbformat.NotebookNode) -> bool:
    return TAG in cell.get("metadata", {}).get("tags", [])


def _first_code_index(nb: nbformat.NotebookNode) -> int:
    return next((i for i, cell in enumerate(nb.cells) if cell.cell_type == "code"), len(nb.cells))


def is_synced(nb: nbformat.NotebookNode, source: str) -> bool:
    """True when `nb` has exactly one bootstrap cell, first among its code cells, holding `source`."""
    found = [i for i, cell in enumerate(nb.cells) if _is_bootstrap(cell)]
    if len(found) != 1:
        return False
    cell = nb.cells[found[0]]
    return (cell.cell_type == "code" and found[0] == _first_code_index(nb) and cell.source == source
            and all(tag in cell.metadata.get("tags", []) for tag in TAGS))


def sync_notebook(nb: nbformat.NotebookNode, source: str) -> bool:
    """Insert or update the bootstrap cell of `nb` in memory; True when `nb` changed."""
    if is_synced(nb, source):
        return False
    found = [i for i, cell in enumerate(nb.cells) if _is_bootstrap(cell)]
    if len(found) > 1:
        raise ValueError(f"{len(found)} cells are tagged {TAG!r}; keep one")
    if found:
        cell = nb.cells.pop(found[0])
        if cell.cell_type != "code":
            raise ValueError(f"the cell tagged {TAG!r} is a {cell.cell_type} cell, not a code cell")
        if cell.source != source:
            cell.source = source
            cell.outputs, cell.execution_count = [], None  # outputs of other code would mislead
        cell.metadata["tags"] = TAGS + [t for t in cell.metadata.get("tags", []) if t not in TAGS]
    else:
        cell = nbformat.v4.new_code_cell(source, metadata={"tags": list(TAGS)})
        if nb.get("nbformat", 4) > 4 or nb.get("nbformat_minor", 0) >= 5:
            ids = {c.get("id") for c in nb.cells}
            cell.id = CELL_ID if CELL_ID not in ids else cell.id
        else:
            cell.pop("id", None)
    nb.cells.insert(_first_code_index(nb), cell)
    return True


def sync_file(path: Path, source: str, check: bool = False) -> bool:
    """Sync the notebook at `path` (or only test it, with `check`); True when it needs / got a change."""
    nb = nbformat.read(path, as_version=4)
    if check:
        return not is_synced(nb, source)
    changed = sync_notebook(nb, source)
    if changed:
        nbformat.write(jupyter_form(nb), path)  # as Jupyter saves it
    return changed


def chapter_notebooks(chapters_dir: Path = CHAPTERS_DIR) -> list[Path]:
    return sorted(Path(chapters_dir).glob("[0-9][0-9]_*.ipynb"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python tools/sync_colab_bootstrap.py", description=__doc__.split("\n")[0])
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 if a notebook is not in sync")
    parser.add_argument("notebooks", nargs="*", type=Path, help="default: every chapter notebook")
    args = parser.parse_args(argv)
    source = bootstrap_source(*repository())
    notebooks = args.notebooks or chapter_notebooks()
    if not notebooks:
        parser.error("no chapter notebook found")
    stale = []
    for path in notebooks:
        if sync_file(path, source, check=args.check):
            stale.append(path)
            print(f"{path}: {'not in sync' if args.check else 'bootstrap cell written'}")
    if not stale:
        print(f"{len(notebooks)} notebooks in sync")
    return 1 if args.check and stale else 0


if __name__ == "__main__":
    sys.exit(main())
