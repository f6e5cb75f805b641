"""Write the reader's copies of the chapters (reader/NN_name.ipynb): `make reader-copies`.

    python tools/reader_copies.py            # write reader/ from chapters/
    python tools/reader_copies.py --check    # exit 1 when a copy is missing, stale or holds raw MyST

Colab and a downloaded notebook show Markdown, not the book's MyST markup. A copy is its
chapter with every Markdown cell made plain: a role becomes a link to the built site
(``{term}`Dropout``` to the glossary entry, ``{cite:p}`key``` to "[Author, year]" on the
references page, ``{ref}``, ``{numref}`` and ``{doc}`` to their page and anchor), a label line
``(name)=`` is dropped, a relative link to a page of the book points at the site. A note
opens the copy. Code cells, outputs and metadata are the chapter's. The site's address is
``html.baseurl`` in ``_config.yml``; the site's Colab and download buttons open these copies
(``book/_ext/rnnbook_site.py``).
"""

from __future__ import annotations

import argparse
import re
import sys
from functools import cache
from pathlib import Path

import nbformat
import yaml

from utils.freshness import jupyter_form
from utils.paths import CHAPTERS_DIR, REPO_ROOT

READER_DIR = REPO_ROOT / "reader"
CONFIG_FILE = REPO_ROOT / "_config.yml"
BIB_FILE = REPO_ROOT / "book" / "references.bib"
GLOSSARY_PAGE = "book/glossary"
REFERENCES_PAGE = "book/references"
NOTE_ID = "reader-copy-note"

ROLE = re.compile(r"\{(?P<name>[a-z][\w:-]*)\}`(?P<content>[^`]*)`")
LABEL_LINE = re.compile(r"^\((?P<label>[^)\s]+)\)=[ \t]*$", re.M)
DIRECTIVE = re.compile(r"^[ \t]*(?:`{3,}|~{3,}|:{3,})[ \t]*\{[\w:-]+\}", re.M)
TEXT_AND_TARGET = re.compile(r"^(?P<text>.*?)\s*<(?P<target>[^<>]+)>$", re.S)
RELATIVE_PAGE_LINK = re.compile(r"\]\((?P<path>(?!https?:|#|mailto:)[^)\s#]+\.(?:md|ipynb))(?P<anchor>#[^)\s]*)?\)")
HEADING = re.compile(r"^#{1,6}\s+(?P<title>.+?)\s*#*\s*$", re.M)


class ReaderCopyError(ValueError):
    """Markup a reader's copy cannot turn into plain Markdown."""


def site_url(config_file: Path = CONFIG_FILE) -> str:
    """The built site's address, ``html.baseurl`` in `config_file`, ending in '/'."""
    config = yaml.safe_load(Path(config_file).read_text(encoding="utf-8")) or {}
    url = (config.get("html") or {}).get("baseurl")
    if not isinstance(url, str) or not re.fullmatch(r"https://[\w.-]+(/[\w.~-]+)*/?", url):
        raise ValueError(f"{config_file}: html.baseurl must be the site's https address, not {url!r}")
    return url.rstrip("/") + "/"


def term_anchor(term: str) -> str:
    """The id Sphinx gives a glossary term's entry (sphinx.util.nodes.make_id, prefix 'term')."""
    from sphinx.util.nodes import _make_id

    return _make_id(f"term-{term}")


def label_anchor(label: str) -> str:
    """The id a MyST label ``(label)=`` gets in the page (docutils' make_id)."""
    from docutils.nodes import make_id

    return make_id(label)


def _markdown_sources() -> dict[str, list[str]]:
    """The Markdown of each page a label may live on: {docname: [cell or file text]}."""
    pages = {f"chapters/{p.stem}": [c.source for c in nbformat.read(p, as_version=4).cells
                                    if c.cell_type == "markdown"]
             for p in sorted(CHAPTERS_DIR.glob("*.ipynb"))}
    pages.update({f"book/{p.stem}": [p.read_text(encoding="utf-8")] for p in sorted((REPO_ROOT / "book").glob("*.md"))})
    return pages


@cache
def labels() -> dict[str, tuple[str, str]]:
    """{label: (docname, title of the heading it marks)} over the chapters and the book's pages."""
    found: dict[str, tuple[str, str]] = {}
    for docname, texts in _markdown_sources().items():
        for text in texts:
            for match in LABEL_LINE.finditer(text):
                heading = HEADING.search(text, match.end())
                found[match.group("label")] = (docname, heading.group("title") if heading else match.group("label"))
    return found


@cache
def page_titles() -> dict[str, str]:
    titles = {}
    for docname, texts in _markdown_sources().items():
        heading = next((h for h in map(HEADING.search, texts) if h), None)
        titles[docname] = heading.group("title") if heading else docname
    return titles


@cache
def citation_texts(bib_file: Path = BIB_FILE) -> dict[str, str]:
    """{key: "Author and Author, year"}, as the site's author-year citations read."""
    from pybtex.database import parse_file

    texts = {}
    for key, entry in parse_file(str(bib_file)).entries.items():
        names = [" ".join(person.last_names) for person in entry.persons.get("author", [])] or [key]
        names = [re.sub(r"[{}]", "", name) for name in names]
        who = names[0] if len(names) == 1 else " and ".join(names) if len(names) == 2 else f"{names[0]} et al."
        texts[key] = f"{who}, {entry.fields.get('year', 'n.d.')}"
    return texts


def _text_and_target(content: str) -> tuple[str | None, str]:
    match = TEXT_AND_TARGET.match(content.strip())
    return (match.group("text"), match.group("target").strip()) if match else (None, content.strip())


def _docname(target: str, current: str) -> str:
    """A {doc} target ('/chapters/01_bptt', '01_bptt', '../book/x') as a docname."""
    if target.startswith("/"):
        return target.lstrip("/")
    parts = (Path(current).parent / target).parts
    resolved: list[str] = []
    for part in parts:
        if part == "..":
            resolved.pop()
        elif part != ".":
            resolved.append(part)
    return "/".join(resolved)


def plain_role(name: str, content: str, site: str, current: str) -> str:
    """The Markdown a reader sees for the role ``{name}`content``` on page `current`."""
    text, target = _text_and_target(content)
    if name == "term":
        return f"[{text or target}]({site}{GLOSSARY_PAGE}.html#{term_anchor(target)})"
    if name in ("cite", "cite:p", "cite:t", "cite:ps", "cite:ts"):
        keys = [key.strip() for key in content.split(",") if key.strip()]
        unknown = [key for key in keys if key not in citation_texts()]
        if unknown:
            raise ReaderCopyError(f"{current}: no reference {', '.join(unknown)} in {BIB_FILE.name}")
        cited = "; ".join(citation_texts()[key] for key in keys)
        return f"\\[[{cited}]({site}{REFERENCES_PAGE}.html)\\]"
    if name in ("ref", "numref"):
        if target not in labels():
            raise ReaderCopyError(f"{current}: {{{name}}} names no label {target!r}")
        docname, title = labels()[target]
        return f"[{text or title}]({site}{docname}.html#{label_anchor(target)})"
    if name == "doc":
        docname = _docname(target, current)
        return f"[{text or page_titles().get(docname, docname)}]({site}{docname}.html)"
    if name == "math":
        return f"${content}$"
    raise ReaderCopyError(f"{current}: no plain Markdown for the role {{{name}}}; add it to tools/reader_copies.py")


def plain_markdown(source: str, site: str, current: str) -> str:
    """`source` (a Markdown cell of page `current`) without MyST: roles as links, no labels."""
    text = ROLE.sub(lambda m: plain_role(m.group("name"), m.group("content"), site, current), source)
    text = LABEL_LINE.sub("", text)
    text = re.sub(r"\A\n+", "", text)

    def page_link(match: re.Match) -> str:
        docname = _docname(str(Path(match.group("path")).with_suffix("")), current)
        return f"]({site}{docname}.html{match.group('anchor') or ''})"

    text = RELATIVE_PAGE_LINK.sub(page_link, text)
    if DIRECTIVE.search(text):
        raise ReaderCopyError(f"{current}: a MyST directive has no plain Markdown form: "
                              f"{DIRECTIVE.search(text).group(0).strip()!r}")
    return text


def raw_myst(source: str) -> list[str]:
    """The MyST markup left in `source`: roles, label lines, directives (empty when plain)."""
    return ([m.group(0) for m in ROLE.finditer(source)] + [m.group(0) for m in LABEL_LINE.finditer(source)]
            + [m.group(0).strip() for m in DIRECTIVE.finditer(source)])


def note_cell(stem: str, site: str) -> nbformat.NotebookNode:
    cell = nbformat.v4.new_markdown_cell(
        f"*A copy of the chapter for Colab and download, written by `tools/reader_copies.py` from "
        f"`chapters/{stem}.ipynb`: its cross-references link to [the book's site]({site}chapters/{stem}.html). "
        f"The default profile, `full`, is the experiment the book reports; for a quick look on tiny data, run "
        f"`%env RNNBOOK_PROFILE=smoke` in a cell before the set-up cell.*")
    cell.id = NOTE_ID
    return cell


def reader_copy(chapter: Path, site: str) -> nbformat.NotebookNode:
    """The reader's copy of `chapter`, in the form Jupyter saves."""
    nb = nbformat.read(chapter, as_version=4)
    current = f"chapters/{chapter.stem}"
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            cell.source = plain_markdown(cell.source, site, current)
    nb.cells.insert(0, note_cell(chapter.stem, site))
    return jupyter_form(nb)


def copy_text(chapter: Path, site: str) -> str:
    text = nbformat.writes(reader_copy(chapter, site))
    return text if text.endswith("\n") else text + "\n"


def chapters() -> list[Path]:
    return sorted(CHAPTERS_DIR.glob("[0-9][0-9]_*.ipynb"))


def sync(check: bool = False, reader_dir: Path = READER_DIR) -> list[str]:
    """Write (or with `check` only compare) every copy; the names of those that were stale."""
    site = site_url()
    stale = []
    wanted = {f"{chapter.stem}.ipynb": copy_text(chapter, site) for chapter in chapters()}
    present = {p.name for p in reader_dir.glob("*.ipynb")} if reader_dir.is_dir() else set()
    for name, text in wanted.items():
        path = reader_dir / name
        if not path.is_file() or path.read_text(encoding="utf-8") != text:
            stale.append(name)
            if not check:
                reader_dir.mkdir(exist_ok=True)
                path.write_text(text, encoding="utf-8")
    for orphan in sorted(present - set(wanted)):
        stale.append(orphan)
        if not check:
            (reader_dir / orphan).unlink()
    return stale


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python tools/reader_copies.py", description=__doc__.split("\n")[0])
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 when a copy is stale")
    args = parser.parse_args(argv)
    try:
        stale = sync(check=args.check)
    except ReaderCopyError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if args.check and stale:
        print(f"reader copies out of date: {', '.join(stale)}: run `make reader-copies`", file=sys.stderr)
        return 1
    print(f"reader/: {len(stale)} written" if stale else "reader/: every copy up to date")
    return 0


if __name__ == "__main__":
    sys.exit(main())
