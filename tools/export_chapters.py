"""Export each chapter's ``#| export`` cells to the generated package ``chapter_code/``.

The code a chapter teaches is defined in the chapter's own cells; what other chapters, the
tests or the benchmarks reuse is marked with a first line ``#| export`` (nbdev's marker, d2l's
``#@save``) and copied, in order, into ``chapter_code/chNN_name.py``, which says it is
generated and must not be edited. ``python tools/export_chapters.py`` (``make export``) writes
the modules; ``--check`` exits 1 when one differs from its notebook (the unit tests run it).
A small exporter of our own rather than nbdev's: nbdev wants its own settings file and
project layout, and this is all the book needs.
"""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat

from utils.paths import CHAPTERS_DIR as CHAPTERS
from utils.paths import REPO_ROOT as ROOT

PACKAGE = ROOT / "chapter_code"
EXPORT_MARK = "#| export"


def module_name(stem: str) -> str:
    """``01_bptt`` -> ``ch01_bptt`` (a module name cannot start with a digit)."""
    return f"ch{stem}"


def is_exported(cell: nbformat.NotebookNode) -> bool:
    return cell.cell_type == "code" and cell.source.lstrip().startswith(EXPORT_MARK)


def exported_module(notebook: Path) -> str | None:
    """The text of the generated module of `notebook`, or None when it exports nothing."""
    nb = nbformat.read(notebook, as_version=4)
    parts = []
    for index, cell in enumerate(nb.cells):
        if is_exported(cell):
            body = cell.source.lstrip().split("\n", 1)[1] if "\n" in cell.source.strip() else ""
            parts.append(f"# chapters/{notebook.name}, cell {index}\n{body.strip()}\n")
    if not parts:
        return None
    title = nb.cells[0].source.splitlines()[0].lstrip("# ").strip() if nb.cells else notebook.stem
    header = (f'"""{title}: the code the chapter defines and others reuse.\n\n'
              f"Generated from chapters/{notebook.name} by tools/export_chapters.py: do not edit.\n"
              f"Edit the cells marked ``{EXPORT_MARK}`` in the notebook and run ``make export``.\n"
              f'"""\n\n'
              f"from __future__ import annotations\n\n")
    return header + "\n\n".join(parts)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    check = args == ["--check"]
    stale = []
    wanted: dict[Path, str] = {}
    for notebook in sorted(CHAPTERS.glob("[0-9][0-9]_*.ipynb")):
        text = exported_module(notebook)
        if text is not None:
            wanted[PACKAGE / f"{module_name(notebook.stem)}.py"] = text
    for path, text in wanted.items():
        if not path.is_file() or path.read_text() != text:
            stale.append(path.name)
            if not check:
                path.write_text(text)
    for path in sorted(PACKAGE.glob("ch*.py")):
        if path not in wanted:  # its chapter exports nothing any more
            stale.append(f"{path.name} (no chapter exports it)")
            if not check:
                path.unlink()
    if check and stale:
        print(f"generated modules differ from their notebooks: {', '.join(stale)}; run `make export`",
              file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
