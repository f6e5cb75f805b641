"""Every number in a chapter's prose is one of its outputs, to the precision the prose writes it.

A number written in a Markdown cell must agree, once rounded to as many decimals as the prose
gives, with a number printed in an output of the same chapter (text, Markdown, HTML; a fraction
also matches as a percentage and the other way round), or be one of the chapter's quoted figures
of the source listed in ``book/quoted_figures.yml`` (each with the source line it quotes), or be
structure rather than a result: an integer up to 12, a year, a chapter, figure, equation or
listing number, a version number. Code spans, maths and links' targets are not prose.

The book's Markdown pages and the README are checked the same way against the records their
directives render (:data:`PAGE_RECORDS`).

Command line: ``python tools/prose_numbers.py [chapters/*.ipynb book/*.md]`` prints every unsupported
number with its sentence and exits 1 when there is one.
"""

from __future__ import annotations

import functools
import html
import re
import sys
from decimal import Decimal, InvalidOperation
from pathlib import Path

import nbformat
import yaml

ROOT = Path(__file__).resolve().parents[1]
QUOTED = ROOT / "book" / "quoted_figures.yml"
SMALL_INTEGER = 12

_NOT_PROSE = [
    re.compile(r"<!-- run-times:.*?<!-- /run-times -->", re.S),  # tools/sync_run_times.py writes it
    re.compile(r"^- \*\*To (?:learn|run)\b.*$", re.M),  # an estimate, and generated run times
    re.compile(r"\b\d+(?:\.\d+){2,}\b"),  # versions, addresses
    re.compile(r"```.*?```", re.S),  # fenced code and directives' bodies
    re.compile(r"\$\$.*?\$\$", re.S),
    re.compile(r"(?<![\\\w])\$[^$\n]+\$"),  # inline maths
    re.compile(r"\{(?:math|cite(?::[pt])?|doc|ref|eq|numref|download)\}`[^`]*`"),
    re.compile(r"`[^`\n]*`"),  # code spans (after the roles above, whose argument is in backticks)
    re.compile(r"\]\([^)]*\)"),  # link targets
    re.compile(r"<[^>\n]+>"),  # HTML tags and autolinks
    re.compile(r"\(https?://[^)]*\)|https?://\S+"),
]
_STRUCTURE = re.compile(
    r"(?:[Cc]hapters?|[Ff]igures?|[Ee]quations?|[Ll]istings?|[Ss]ections?|[Ee]xercises?|[Tt]ables?|[Pp]ages?|"
    r"issue|PEP|Python|TensorFlow|TF|Keras|NumPy|PyTorch|Jupyter(?: Book)?|matplotlib|scikit-learn|CUDA|cuDNN|"
    r"myst-nb|Sphinx|JupyterLab|Notebook|v|version|step|layer|worker|run|seed|epoch|run\s#)"
    r"\s*(?:\d+(?:[-.–]\d+)*)(?:\s*(?:and|,|–|to|or)\s*\d+(?:[-.–]\d+)*)*")
_NUMBER = re.compile(r"(?<![\w.,^/#])(?<![A-Za-z]-)(?P<sign>[-−])?(?P<int>\d{1,3}(?:,\d{3})+|\d+)(?P<frac>\.\d+)?"
                     r"(?:[eE](?P<exp>[-−+]?\d+))?(?P<pct>\s?%)?(?![\w])")
_OUTPUT_NUMBER = re.compile(r"[-−]?\d[\d,]*(?:\.\d+)?(?:[eE][-−+]?\d+)?")


def prose(markdown: str) -> str:
    """The reader's text of a Markdown cell: no code, maths, roles with arguments, link targets."""
    for pattern in _NOT_PROSE:
        markdown = pattern.sub(" ", markdown)
    return _STRUCTURE.sub(" ", markdown)


def _decimal(text: str) -> Decimal | None:
    try:
        return Decimal(text.replace(",", "").replace("−", "-"))
    except InvalidOperation:
        return None


def numbers_in(text: str) -> list[tuple[str, Decimal, int, bool]]:
    """(as written, value, decimals, is a percentage) of each number of `text` that is not structure."""
    found = []
    for match in _NUMBER.finditer(text):
        written = match.group(0).strip()
        value = _decimal((match["sign"] or "") + match["int"] + (match["frac"] or "")
                         + (f"e{match['exp']}" if match["exp"] else ""))
        if value is None:
            continue
        decimals = len(match["frac"]) - 1 if match["frac"] else 0
        if match["exp"]:
            decimals = max(0, decimals - int(match["exp"].replace("−", "-")))
        is_integer = not match["frac"] and not match["exp"]
        if is_integer and not match["pct"] and (abs(value) <= SMALL_INTEGER or 1900 <= value <= 2030):
            continue
        found.append((written, value, decimals, bool(match["pct"])))
    return found


def output_text(cell) -> str:
    parts = []
    for output in cell.get("outputs", []):
        if "text" in output:
            parts.append(output["text"] if isinstance(output["text"], str) else "".join(output["text"]))
        for mime in ("text/plain", "text/markdown", "text/html", "text/latex"):
            data = output.get("data", {}).get(mime)
            if data:
                parts.append(html.unescape(data if isinstance(data, str) else "".join(data)))
    return "\n".join(parts)


def output_values(text: str) -> set[Decimal]:
    values = set()
    for token in _OUTPUT_NUMBER.findall(text):
        value = _decimal(token)
        if value is not None and value.is_finite() and abs(value.adjusted()) < 30:
            values.add(value)
    return values


def supported(value: Decimal, decimals: int, is_percentage: bool, outputs: set[Decimal]) -> bool:
    """Does an output round to `value` at `decimals` places (as itself, or scaled by 100 either way)?"""
    quantum = Decimal(1).scaleb(-decimals)
    targets = {abs(value)}
    targets.add(abs(value) / 100 if is_percentage else abs(value) * 100)
    for output in outputs:
        output = abs(output)
        for scaled in (output, output * 100, output / 100):
            try:
                if scaled.quantize(quantum) in targets or (value.quantize(quantum) == scaled.quantize(quantum)):
                    return True
            except InvalidOperation:
                continue
    return False


def quoted_figures(stem: str) -> set[str]:
    if not QUOTED.is_file():
        return set()
    entries = yaml.safe_load(QUOTED.read_text(encoding="utf-8")) or []
    return {str(entry["figure"]) for entry in entries if entry.get("chapter") == stem}


def _unsupported(text: str, values: set[Decimal], quoted: set[str] = frozenset()) -> list[str]:
    """'number: …sentence…' for every number of prose `text` that `values` do not support."""
    problems = []
    for written, value, decimals, is_percentage in numbers_in(text):
        if written in quoted or written.replace(" ", "") in quoted:
            continue
        if not supported(value, decimals, is_percentage, values):
            at = text.find(written)
            context = " ".join(text[max(0, at - 60):at + len(written) + 30].split())
            problems.append(f"{written}: …{context}…")
    return problems


def unsupported_numbers(path: Path) -> list[str]:
    """'number: …sentence…' for every prose number of the notebook that no output supports."""
    nb = nbformat.read(path, as_version=4)
    outputs = output_values("\n".join(output_text(c) for c in nb.cells if c.cell_type == "code"))
    quoted = quoted_figures(path.stem)
    return [problem for cell in nb.cells if cell.cell_type == "markdown"
            for problem in _unsupported(prose(cell.source), outputs, quoted)]


# What the book's pages show comes from these records (their directives render them) and from the
# loaders' documented dataset facts.
PAGE_RECORDS = ("book/metrics/*.json", "bench/results/*.json", "book/*.yml", "book/*.json", "utils/data.py")


@functools.cache
def _page_records() -> frozenset[Decimal]:
    """Every number of the records the pages render: read once, for all pages."""
    records = set()
    for pattern in PAGE_RECORDS:
        for record in sorted(ROOT.glob(pattern)):
            records |= output_values(record.read_text(encoding="utf-8"))
    return frozenset(records)


def unsupported_page_numbers(path: Path) -> list[str]:
    """The same check for a Markdown page of the book, against the records its directives render."""
    return _unsupported(prose(path.read_text(encoding="utf-8")), _page_records())


def book_pages() -> list[Path]:
    return sorted((ROOT / "book").glob("*.md")) + [ROOT / "README.md"]


def main(argv: list[str]) -> int:
    paths = [Path(p) for p in argv] or sorted((ROOT / "chapters").glob("[0-9][0-9]_*.ipynb")) + book_pages()
    failed = 0
    for path in paths:
        problems = unsupported_numbers(path) if path.suffix == ".ipynb" else unsupported_page_numbers(path)
        failed += len(problems)
        for problem in problems:
            print(f"{path.name}: {problem}")
    print(f"{failed} prose number(s) without an output that shows them")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
