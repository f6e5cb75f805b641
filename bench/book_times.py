"""Benchmark 5: how long the book takes to execute, chapter by chapter, and to build.

* full profile: each notebook's own record, ``metadata.rnnbook.runtime_s``, written by
  ``make execute`` when its committed outputs were produced;
* smoke profile: measured here, each notebook run in a fresh kernel by nbclient (kernel start
  and TensorFlow import included), outputs discarded;
* the static site: a clean ``jupyter-book build`` of the whole book into a temporary folder,
  with the flags of ``make book``.

    python -m bench.book_times [--tiny] [--out DIR]
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.common import REPO_ROOT, bench_main, format_table, log, write_results

JB_FLAGS = ("--builder", "html", "-W", "-n", "--keep-going")


def chapter_title(notebook: dict) -> str:
    """The notebook's first Markdown heading, without its Chinese title after the '·'."""
    for cell in notebook.get("cells", []):
        if cell.get("cell_type") == "markdown":
            source = "".join(cell.get("source", ""))
            for line in source.splitlines():
                if line.startswith("# "):
                    return line[2:].split("·")[0].strip()
    return ""


def book_chapters(root: Path) -> list[Path]:
    """The notebooks the table of contents lists, in its order (a notebook not in it is not yet in the book)."""
    import yaml

    toc = yaml.safe_load((root / "_toc.yml").read_text())
    files: list[str] = []

    def walk(node) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("file"), str):
                files.append(node["file"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(toc)
    return [root / f"{f}.ipynb" for f in files if (root / f"{f}.ipynb").exists()]


def full_runtimes(paths: list[Path]) -> dict[str, dict[str, Any]]:
    """{stem: {"title", "full_s", "full_profile"}} from the notebooks' execution stamps."""
    out = {}
    for path in paths:
        notebook = json.loads(Path(path).read_text())
        stamp = notebook.get("metadata", {}).get("rnnbook", {})
        out[Path(path).stem] = {"title": chapter_title(notebook), "full_s": stamp.get("runtime_s"),
                                "full_profile": stamp.get("profile")}
    return out


def time_smoke_runs(paths: list[Path]) -> dict[str, dict[str, Any]]:
    """Run each notebook in the smoke profile (fresh kernel, nothing stored); seconds or the error."""
    from utils.freshness import execute_notebook
    from utils.profile import PROFILE_ENV

    out = {}
    previous = os.environ.get(PROFILE_ENV)
    os.environ[PROFILE_ENV] = "smoke"  # the executor runs the profile of the environment
    for path in paths:
        start = time.perf_counter()
        try:
            execute_notebook(path, store=False)
            out[Path(path).stem] = {"smoke_s": time.perf_counter() - start, "smoke_error": None}
        except Exception as exc:  # a broken notebook is a result to report, not a reason to stop
            first_line = (str(exc).strip().splitlines() or [type(exc).__name__])[-1]
            out[Path(path).stem] = {"smoke_s": None, "smoke_error": f"{type(exc).__name__}: {first_line[:200]}"}
        log(f"book times: {Path(path).name} smoke {out[Path(path).stem]}")
    if previous is None:
        os.environ.pop(PROFILE_ENV)
    else:
        os.environ[PROFILE_ENV] = previous
    return out


def time_site_build(book_root: Path) -> dict[str, Any]:
    """A clean build of the book at `book_root` into a temporary folder: seconds and success."""
    jupyter_book = Path(sys.executable).with_name("jupyter-book")
    command = [str(jupyter_book), "build", str(book_root), "--path-output"]
    with tempfile.TemporaryDirectory(prefix="site-build-") as folder:
        start = time.perf_counter()
        result = subprocess.run([*command, folder, *JB_FLAGS], capture_output=True, text=True)
        seconds = time.perf_counter() - start
        pages = len(list(Path(folder).glob("_build/html/**/*.html")))
    tail = (result.stdout + result.stderr).strip().splitlines()[-3:]
    return {"seconds": seconds, "ok": result.returncode == 0, "html_pages": pages,
            "log_tail": None if result.returncode == 0 else tail}


def _tiny_book(folder: Path) -> tuple[Path, list[Path]]:
    """A one-chapter book with a one-cell notebook: the same code paths in seconds."""
    import nbformat

    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_markdown_cell("# Tiny · 小\n\nA page."),
                      nbformat.v4.new_code_cell("import os\nprint(os.environ['RNNBOOK_PROFILE'])")]
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    notebook.metadata["rnnbook"] = {"profile": "full", "runtime_s": 1.5}
    path = folder / "tiny.ipynb"
    nbformat.write(notebook, path)
    (folder / "_config.yml").write_text('title: Tiny\nexecute:\n  execute_notebooks: "off"\n')
    (folder / "_toc.yml").write_text("format: jb-book\nroot: tiny\n")
    return folder, [path]


def main(argv: list[str] | None = None) -> dict[str, Any]:
    return bench_main("book_times", __doc__, run, argv)


def run(tiny: bool, out: Path) -> dict[str, Any]:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    with tempfile.TemporaryDirectory(prefix="tiny-book-") as scratch:
        if tiny:
            root, paths = _tiny_book(Path(scratch))
        else:
            root, paths = REPO_ROOT, book_chapters(REPO_ROOT)
        full = full_runtimes(paths)
        smoke = time_smoke_runs(paths)
        site = time_site_build(root)
    rows = [{"chapter": stem, **full[stem], **smoke[stem]} for stem in full]
    executed = [r["full_s"] for r in rows if r["full_s"] is not None and r["full_profile"] == "full"]
    smoked = [r["smoke_s"] for r in rows if r["smoke_s"] is not None]
    summary = {"chapters": len(rows), "full_total_s": sum(executed), "full_chapters": len(executed),
               "smoke_total_s": sum(smoked), "smoke_chapters": len(smoked),
               "smoke_failures": [r["chapter"] for r in rows if r["smoke_error"]],
               "site_build_s": site["seconds"], "site_build_ok": site["ok"], "site_pages": site["html_pages"]}
    settings = {"full": "metadata.rnnbook.runtime_s of each notebook (written by `make execute`)",
                "smoke": "RNNBOOK_PROFILE=smoke, fresh kernel per notebook (nbclient), outputs discarded",
                "site": "jupyter-book build " + " ".join(JB_FLAGS) + " into an empty folder",
                "book": "a one-page stand-in book (tiny run)" if tiny else "this book"}
    notes = [] if site["ok"] else ["the site build failed: " + " | ".join(site["log_tail"] or [])]
    path = write_results("book_times", out, tiny=tiny, settings=settings, rows=rows, summary=summary, notes=notes)
    print(format_table(["chapter", "full s", "smoke s"],
                       [[r["chapter"], r["full_s"], r["smoke_s"] if r["smoke_s"] is not None else r["smoke_error"]]
                        for r in rows]))
    print(f"site build: {site['seconds']:.1f} s ({'ok' if site['ok'] else 'FAILED'}, {site['html_pages']} pages)")
    print(f"wrote {path}")
    return {"rows": rows, "summary": summary}


if __name__ == "__main__":
    main()
