"""Book pages generated at build time from the repository's own data, never typed by hand.

Directives (used in ``book/*.md``):

* ``rnnbook-runtimes``: per chapter, the measured run time of the smoke and full profiles
  (``metadata.rnnbook.runtime_s`` of each notebook, ``book/smoke_times.json``) and a Colab link
  built from ``repository.url`` and ``launch_buttons.colab_url`` in ``_config.yml``.
* ``rnnbook-migration``: the TF1 → TF 2 / Keras 3 table of ``book/migration.yml``; a row links to
  the MyST label in its chapter and appears once that chapter is part of the book.
* ``rnnbook-claims``: the claims ledger of ``book/claims.yml``, with the figures each chapter
  recorded in ``book/metrics/<notebook>.json`` and the verdict its rule computes. A claim whose
  metric is missing fails the build (``:pending:`` lists the claims whose chapter has no
  figures yet).
* ``rnnbook-errata``: the errata of ``book/errata.yml``, each linked to where the book shows
  the correct form (plain text while that chapter is not yet part of the book).
* ``rnnbook-versions``: the supported range of the main libraries, read from the two locks that
  ``make test`` runs every notebook with: ``constraints-compat.txt`` (the lowest, ``make compat``)
  and ``requirements.txt`` (the pinned versions that produced the outputs).
* ``rnnbook-gpu-results``: what a run on a GPU showed (``book/gpu_results.yml``); until there is
  one, every GPU statement of the page is listed as "not yet run on a GPU".

Each directive renders Markdown with the pure functions below (``*_markdown``), which the
tests call directly, and lets MyST parse it, so roles such as {ref} and {doc} are checked by
the build like any others.
"""

from __future__ import annotations

import ast
import json
import math
import operator
import re
import string
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any, ClassVar

import yaml
from docutils import nodes
from docutils.parsers.rst import directives
from docutils.statemachine import StringList
from sphinx.errors import ExtensionError
from sphinx.util.docutils import SphinxDirective

from utils.paths import CHAPTERS_DIR, METRICS_DIR, REPO_ROOT, REPRODUCIBILITY_FILE
from utils.paths import SMOKE_TIMES as SMOKE_TIMES_FILE
from utils.stats import MIN_RUNS as MIN_TRAINED_RUNS

BOOK_DIR = REPO_ROOT / "book"
MIGRATION_FILE = BOOK_DIR / "migration.yml"
CLAIMS_FILE = BOOK_DIR / "claims.yml"
ERRATA_FILE = BOOK_DIR / "errata.yml"
GPU_RESULTS_FILE = BOOK_DIR / "gpu_results.yml"
REQUIREMENTS_FILE = REPO_ROOT / "requirements.txt"
COMPAT_LOCK_FILE = REPO_ROOT / "constraints-compat.txt"

# "not shown": the figures cannot decide (a difference within the seed spread, both sides at a
# ceiling); "outdated": the claim held for the TensorFlow the source used and no longer does.
VERDICTS = ("confirmed", "partly", "not shown", "outdated", "refuted")
# optional rules, tried in this order before "confirmed"
PRE_RULES = (("outdated", "outdated"), ("not_shown", "not shown"))
# The evidence rule (utils.stats): a verdict that rests on trained models (a claim's
# `trained_runs`, a number or the metric that holds it) needs MIN_TRAINED_RUNS training runs per
# setting to be decisive; with fewer, one run's luck could decide it, and the verdict is "not shown".
_STEM = re.compile(r"^(\d{2})_[a-z0-9_]+$")
_LABEL = re.compile(r"^[a-z0-9][a-z0-9-]*$")

# Whether the chapter notebook `stem` is part of the book being built (in the table of contents).
IsBuilt = Callable[[str], bool]


# ------------------------------------------------------------------------------ chapters

def chapter_stems(chapters_dir: Path = CHAPTERS_DIR) -> dict[int, str]:
    """{chapter number: notebook stem} of the notebooks ``NN_name.ipynb`` in `chapters_dir`."""
    stems: dict[int, str] = {}
    for path in sorted(Path(chapters_dir).glob("[0-9][0-9]_*.ipynb")):
        match = _STEM.match(path.stem)
        if not match:
            continue
        number = int(match.group(1))
        if number in stems:
            raise ExtensionError(f"two notebooks for chapter {number}: {stems[number]} and {path.stem}")
        stems[number] = path.stem
    return stems


def metrics_files(metrics_dir: Path = METRICS_DIR) -> dict[int, Path]:
    """{chapter number: path} of the recorded figures ``NN_name.json`` in `metrics_dir`."""
    files: dict[int, Path] = {}
    for path in sorted(Path(metrics_dir).glob("[0-9][0-9]_*.json")):
        match = _STEM.match(path.stem)
        if match:
            number = int(match.group(1))
            if number in files:
                raise ExtensionError(f"two metrics files for chapter {number}: {files[number].name} and {path.name}")
            files[number] = path
    return files


def _chapter_number(value: Any, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 99:
        raise ExtensionError(f"{where}: 'chapter' must be a chapter number from 1 to 99, not {value!r}")
    return value


def _cell(text: Any) -> str:
    """Text for one Markdown table cell: on one line, with its pipes escaped."""
    return " ".join(str(text).split()).replace("|", "\\|")


def _load_yaml_list(path: Path, what: str) -> list[dict[str, Any]]:
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        raise ExtensionError(f"cannot read the {what} file {path}: {error}") from error
    if not isinstance(data, list) or not all(isinstance(item, dict) for item in data):
        raise ExtensionError(f"{path}: the {what} file must be a list of mappings")
    return data


def _require(item: Mapping[str, Any], keys: Iterable[str], where: str) -> None:
    missing = [key for key in keys if not item.get(key)]
    if missing:
        raise ExtensionError(f"{where}: missing {', '.join(missing)}")


# ------------------------------------------------------------------------------ run times

def format_seconds(seconds: float) -> str:
    """'35 s', or '204 s (3.4 min)' from a minute on."""
    if seconds < 60:
        return f"{seconds:.0f} s"
    return f"{seconds:,.0f} s ({seconds / 60:.1f} min)"


def read_smoke_times(path: Path = SMOKE_TIMES_FILE) -> dict[str, float]:
    """{notebook stem: seconds} of the last smoke run, or {} when the file does not exist.

    The file is a JSON object ``{"01_bptt": 29.4, ...}``: the time of each notebook in the
    smoke profile (kernel start included), measured on the 2-core CPU.
    """
    path = Path(path)
    if not path.is_file():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise ExtensionError(f"{path}: not valid JSON: {error}") from error
    if not isinstance(data, dict) or not all(
            isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) and v >= 0
            for v in data.values()):
        raise ExtensionError(f"{path}: expected an object of notebook stem -> seconds")
    return {str(k): float(v) for k, v in data.items()}


def colab_base(repository_url: str, branch: str, colab_url: str) -> str | None:
    """'https://colab.research.google.com/github/ORG/REPO/blob/BRANCH/' or None when not on GitHub."""
    match = re.match(r"^https://github\.com/([^/\s]+)/([^/\s]+?)(?:\.git)?/?$", repository_url or "")
    if not match or not colab_url:
        return None
    return f"{colab_url.rstrip('/')}/github/{match.group(1)}/{match.group(2)}/blob/{branch or 'main'}/"


def runtimes_markdown(chapters_dir: Path, smoke_times: Mapping[str, float], is_built: IsBuilt,
                      colab: str | None) -> str:
    """The run-time table of the chapters in the book, from their notebooks' stamps."""
    import nbformat

    header = "| chapter | smoke profile | full profile |" + (" Colab |" if colab else "")
    rule = "|---|---:|---:|" + ("---|" if colab else "")
    rows = [header, rule]
    for number, stem in sorted(chapter_stems(chapters_dir).items()):
        if not is_built(stem):
            continue
        notebook = nbformat.read(Path(chapters_dir) / f"{stem}.ipynb", as_version=4)
        stamp = notebook.metadata.get("rnnbook") or {}
        full = stamp.get("runtime_s") if stamp.get("profile") == "full" else None
        smoke = smoke_times.get(stem)
        row = (f"| {number}. {{doc}}`/chapters/{stem}` | {format_seconds(smoke) if smoke is not None else '—'} "
               f"| {format_seconds(full) if full is not None else '—'} |")
        if colab:
            row += f" [open in Colab]({colab}reader/{stem}.ipynb) |"  # the plain-Markdown copy (tools/reader_copies.py)
        rows.append(row)
    if len(rows) == 2:
        raise ExtensionError("no chapter notebook is part of the book: nothing to time")
    return "\n".join(rows) + "\n"


# ------------------------------------------------------------------------------ migration

MIGRATION_KEYS = ("api", "equivalent", "chapter", "label")


def load_migration(path: Path = MIGRATION_FILE) -> list[dict[str, Any]]:
    rows = _load_yaml_list(path, "migration")
    seen: set[tuple[str, str]] = set()
    for index, row in enumerate(rows):
        where = f"{Path(path).name} row {index + 1}"
        _require(row, MIGRATION_KEYS, where)
        _chapter_number(row["chapter"], where)
        label = str(row["label"])
        if not label.startswith("migrate-") or not _LABEL.match(label):
            raise ExtensionError(f"{where}: label {label!r} must look like 'migrate-some-name'")
        key = (str(row["api"]), label)
        if key in seen:
            raise ExtensionError(f"{where}: {row['api']!r} is listed twice")
        seen.add(key)
    return rows


def migration_markdown(rows: list[dict[str, Any]], chapters_dir: Path, is_built: IsBuilt) -> str:
    """The migration table: only rows whose chapter is in the book, so every link resolves."""
    stems = chapter_stems(chapters_dir)
    lines = ["| TensorFlow 1 (the source) | TensorFlow 2.21 / Keras 3 (this book) | shown in |", "|---|---|---|"]
    for row in rows:
        stem = stems.get(row["chapter"])
        if stem is None or not is_built(stem):
            continue
        lines.append(f"| {_cell(row['api'])} | {_cell(row['equivalent'])} "
                     f"| {{ref}}`chapter {row['chapter']} <{row['label']}>` |")
    return "\n".join(lines) + "\n"


def labels_in_notebook(path: Path) -> set[str]:
    """The MyST labels ``(name)=`` that open a line of a markdown cell of notebook `path`."""
    import nbformat

    notebook = nbformat.read(path, as_version=4)
    found: set[str] = set()
    for cell in notebook.cells:
        if cell.cell_type == "markdown":
            found.update(re.findall(r"^\(([A-Za-z0-9_.:-]+)\)=\s*$", cell.source, flags=re.MULTILINE))
    return found


# ------------------------------------------------------------------------------ claims

_COMPARE = {ast.Lt: operator.lt, ast.LtE: operator.le, ast.Gt: operator.gt, ast.GtE: operator.ge,
            ast.Eq: operator.eq, ast.NotEq: operator.ne}
_ARITH = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv}
_FUNCTIONS = {"abs": abs, "min": min, "max": max, "len": len, "sum": sum,
              "mean": lambda values: sum(values) / len(values)}


def rule_names(expression: str) -> set[str]:
    """The metric names a verdict rule reads (its free names other than the functions)."""
    try:
        tree = ast.parse(expression, mode="eval")
    except SyntaxError as error:
        raise ExtensionError(f"rule {expression!r} is not a valid expression: {error.msg}") from error
    return {node.id for node in ast.walk(tree) if isinstance(node, ast.Name)} - set(_FUNCTIONS)


def evaluate_rule(expression: str, metrics: Mapping[str, Any]) -> Any:
    """Evaluate a verdict rule such as ``a >= 0.98 and b < 2 * c`` on `metrics`.

    Only numbers, metric names, arithmetic, comparisons, ``and``/``or``/``not``, constant
    indexing (``a[0]``) and the functions abs, min, max, len, sum, mean are allowed.
    """
    tree = ast.parse(expression, mode="eval")

    def value(node: ast.AST) -> Any:
        if isinstance(node, ast.Expression):
            return value(node.body)
        if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) and not isinstance(node.value, bool):
            return node.value
        if isinstance(node, ast.Name):
            if node.id not in metrics:
                raise KeyError(node.id)
            return metrics[node.id]
        if isinstance(node, ast.BoolOp):
            results = [value(v) for v in node.values]
            return all(results) if isinstance(node.op, ast.And) else any(results)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            return not value(node.operand)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            return -value(node.operand)
        if isinstance(node, ast.BinOp) and type(node.op) in _ARITH:
            return _ARITH[type(node.op)](value(node.left), value(node.right))
        if isinstance(node, ast.Compare):
            left = value(node.left)
            for op, right_node in zip(node.ops, node.comparators, strict=True):
                if type(op) not in _COMPARE:
                    break
                right = value(right_node)
                if not _COMPARE[type(op)](left, right):
                    return False
                left = right
            else:
                return True
        if (isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Constant)
                and isinstance(node.slice.value, int)):
            return value(node.value)[node.slice.value]
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in _FUNCTIONS
                and not node.keywords):
            return _FUNCTIONS[node.func.id](*[value(a) for a in node.args])
        raise ExtensionError(f"rule {expression!r}: {ast.unparse(node)!r} is not allowed in a rule")

    return value(tree)


def format_names(template: str) -> set[str]:
    """The metric names a 'measured' template reads, e.g. {a:.2%} and {b[0]}."""
    names = set()
    for _, field, _, _ in string.Formatter().parse(template):
        if field is not None:
            match = re.match(r"[A-Za-z_]\w*", field)
            if not match:
                raise ExtensionError(f"template {template!r}: every field must name a metric")
            names.add(match.group(0))
    return names


CLAIM_KEYS = ("id", "chapter", "source", "claim", "measured", "confirmed")


def load_claims(path: Path = CLAIMS_FILE) -> list[dict[str, Any]]:
    claims = _load_yaml_list(path, "claims")
    ids: set[str] = set()
    for index, claim in enumerate(claims):
        where = f"{Path(path).name} claim {claim.get('id') or index + 1}"
        _require(claim, CLAIM_KEYS, where)
        _chapter_number(claim["chapter"], where)
        unknown = (set(claim) - set(CLAIM_KEYS)
                   - {"partly", "note", "cite", "evidence", "trained_runs", *dict(PRE_RULES)})
        if unknown:
            raise ExtensionError(f"{where}: unknown keys {', '.join(sorted(unknown))}")
        if claim["id"] in ids:
            raise ExtensionError(f"{where}: the id is used twice")
        ids.add(claim["id"])
        claim_metric_names(claim)  # the rules parse and the template names metrics
        runs = claim.get("trained_runs")
        if runs is not None and not (isinstance(runs, str) and runs.isidentifier()
                                     or isinstance(runs, int) and not isinstance(runs, bool) and runs >= 1):
            raise ExtensionError(f"{where}: trained_runs must be a positive number or a metric name, not {runs!r}")
    return claims


def claim_metric_names(claim: Mapping[str, Any]) -> set[str]:
    """Every metric a claim needs: those of its 'measured' template and of its rules."""
    names = format_names(str(claim["measured"])) | rule_names(str(claim["confirmed"]))
    if claim.get("evidence"):
        names |= format_names(str(claim["evidence"]))
    if isinstance(claim.get("trained_runs"), str):
        names.add(claim["trained_runs"])
    for key in ("partly", *dict(PRE_RULES)):
        if claim.get(key):
            names |= rule_names(str(claim[key]))
    return names


def read_chapter_metrics(path: Path) -> dict[str, Any]:
    try:
        record = json.loads(Path(path).read_text(encoding="utf-8"))
        metrics = record["metrics"]
    except (OSError, json.JSONDecodeError, KeyError, TypeError) as error:
        raise ExtensionError(f"{path}: not a metrics record ({error})") from error
    if record.get("profile") != "full":
        raise ExtensionError(f"{path}: figures from the {record.get('profile')!r} profile; "
                             "the ledger needs those of the full run")
    return metrics


def judge_claim(claim: Mapping[str, Any], metrics: Mapping[str, Any], source: str) -> dict[str, str]:
    """Measured text and verdict of one claim; a metric missing from `metrics` raises."""
    missing = sorted(claim_metric_names(claim) - set(metrics))
    if missing:
        raise ExtensionError(
            f"claim {claim['id']!r} (chapter {claim['chapter']}) needs the metric(s) {', '.join(missing)}, "
            f"which {source} does not record: record them in the notebook (record_metrics) "
            f"or correct book/claims.yml")
    try:
        measured = str(claim["measured"]).format_map(metrics)
        evidence = str(claim.get("evidence") or "").format_map(metrics)
        early = [name for key, name in PRE_RULES if claim.get(key) and evaluate_rule(str(claim[key]), metrics)]
        if early:
            verdict = early[0]
        elif evaluate_rule(str(claim["confirmed"]), metrics):
            verdict = "confirmed"
        elif claim.get("partly") and evaluate_rule(str(claim["partly"]), metrics):
            verdict = "partly"
        else:
            verdict = "refuted"
    except (ValueError, TypeError, IndexError, KeyError, ZeroDivisionError) as error:
        raise ExtensionError(f"claim {claim['id']!r}: cannot evaluate it on {source}: {error!r}") from error
    runs = trained_runs(claim, metrics)
    if runs is not None and runs < MIN_TRAINED_RUNS and verdict in ("confirmed", "partly", "refuted"):
        evidence = (evidence + " " if evidence else "") + (
            f"The rule alone would say {verdict}, but it rests on {runs} training run{'s' if runs != 1 else ''} "
            f"per setting, fewer than the {MIN_TRAINED_RUNS} the book's evidence rule needs to decide.")
        verdict = "not shown"
    return {"measured": measured, "verdict": verdict, "evidence": evidence}


def trained_runs(claim: Mapping[str, Any], metrics: Mapping[str, Any]) -> int | None:
    """How many training runs per setting a claim's verdict rests on (None: no trained model)."""
    runs = claim.get("trained_runs")
    return int(metrics[runs]) if isinstance(runs, str) else runs


def judge_claims(claims: list[dict[str, Any]], metrics_dir: Path, chapters_dir: Path,
                 is_built: IsBuilt) -> tuple[list[tuple[dict, dict]], list[dict]]:
    """(judged claims, pending claims).

    A chapter's claims are judged once its figures exist (``book/metrics/NN_*.json``) or its
    notebook is part of the book (then the figures must exist); until then they are pending.
    """
    files = metrics_files(metrics_dir)
    stems = chapter_stems(chapters_dir)
    reruns = read_reruns(Path(metrics_dir).parent / REPRODUCIBILITY_FILE.name)
    cache: dict[int, dict[str, Any]] = {}
    judged, pending = [], []
    for claim in claims:
        number = claim["chapter"]
        if number not in files:
            stem = stems.get(number)
            if stem is not None and is_built(stem):
                raise ExtensionError(
                    f"chapter {number} ({stem}) is in the book but has no recorded figures "
                    f"(book/metrics/{stem}.json): run `make execute NB=chapters/{stem}.ipynb`")
            pending.append(claim)
            continue
        if number not in cache:
            cache[number] = read_chapter_metrics(files[number])
        result = judge_claim(claim, cache[number], files[number].name)
        rerun = rerun_verdict(claim["id"], files[number], reruns)
        if rerun is not None and rerun != result["verdict"] and result["verdict"] != "not shown":
            result["evidence"] = (result["evidence"] + " " if result["evidence"] else "") + (
                f"A rerun of the chapter gave “{rerun}” instead of “{result['verdict']}”: a verdict that "
                "flips on a rerun is not shown.")
            result["verdict"] = "not shown"
        judged.append((claim, result))
    return judged, pending


def read_reruns(path: Path = REPRODUCIBILITY_FILE) -> dict[str, Any]:
    """The record of `make reproduce` (book/reproducibility.json), or {} when there is none."""
    return json.loads(Path(path).read_text(encoding="utf-8")) if Path(path).is_file() else {}


def rerun_verdict(claim_id: str, metrics_file: Path, reruns: Mapping[str, Any]) -> str | None:
    """The verdict a recorded rerun of the same code gave `claim_id`, if there is one."""
    entry = reruns.get(Path(metrics_file).stem)
    if not entry or "verdicts" not in entry:
        return None
    committed_hash = json.loads(Path(metrics_file).read_text(encoding="utf-8")).get("code_hash")
    if entry.get("code_hash") != committed_hash or claim_id not in entry["verdicts"]:
        return None
    return entry["verdicts"][claim_id]["rerun"]


def _where(number: int, stems: Mapping[int, str], is_built: IsBuilt) -> str:
    stem = stems.get(number)
    if stem is not None and is_built(stem):
        return f"{{doc}}`chapter {number} </chapters/{stem}>`"
    return f"chapter {number} (in preparation)"


def claims_markdown(claims: list[dict[str, Any]], metrics_dir: Path, chapters_dir: Path,
                    is_built: IsBuilt, pending: bool = False) -> str:
    """The claims ledger (or, with `pending`, the list of claims still waiting for figures)."""
    judged, waiting = judge_claims(claims, metrics_dir, chapters_dir, is_built)
    stems = chapter_stems(chapters_dir)
    if pending:
        if not waiting:
            return "Every claim of the source in this ledger has been measured.\n"
        lines = ["| claim of the source | source section | chapter | figures it waits for |", "|---|---|---|---|"]
        for claim in waiting:
            names = ", ".join(f"`{name}`" for name in sorted(claim_metric_names(claim)))
            lines.append(f"| {_cell(claim['claim'])} | {_cell(claim['source'])} "
                         f"| {_where(claim['chapter'], stems, is_built)} | {names} |")
        return "\n".join(lines) + "\n"
    counts = {verdict: sum(1 for _, result in judged if result["verdict"] == verdict) for verdict in VERDICTS}
    summary = (f"{len(judged)} claims checked: "
               + ", ".join(f"**{counts[v]} {v}**" for v in VERDICTS if counts[v] or v in ("confirmed", "refuted"))
               + (f"; {len(waiting)} wait for their chapter's figures (listed below)." if waiting else "."))
    # Five columns, so that the verdict fits the text column: the source section goes under the
    # claim, the rule under the figure it judges.
    lines = [summary, "",
             "| # | claim of the source | measured in this book | verdict | where |",
             "|---:|---|---|---|---|"]
    for number, (claim, result) in enumerate(judged, start=1):
        text = _cell(claim["claim"])
        if claim.get("cite"):
            text += f" {{cite:p}}`{claim['cite']}`"
        text += f' <span class="rnnbook-rule">source: {_cell(claim["source"])}</span>'
        measured = _cell(result["measured"])
        if claim.get("note"):
            measured += " " + _cell(claim["note"])
        rule = "".join(f"{name} if `{_cell(claim[key])}`; " for key, name in PRE_RULES if claim.get(key))
        rule += f"confirmed if `{_cell(claim['confirmed'])}`"
        if result.get("evidence"):
            measured += f" *Evidence:* {_cell(result['evidence'])}"
        if claim.get("partly"):
            rule += f"; partly if `{_cell(claim['partly'])}`"
        measured += f' <span class="rnnbook-rule">rule: {rule}</span>'
        lines.append(f"| {number} | {text} | {measured} | **{result['verdict']}** "
                     f"| {_where(claim['chapter'], stems, is_built)} |")
    return "\n".join(lines) + "\n"


# ------------------------------------------------------------------------------ errata

ERRATA_KEYS = ("title", "chapter", "source", "correct", "line")
# where in the source an erratum is: its text (the default), an equation the source shows only as
# an image (the line is where the image is), or the companion notebook (the line is where the text
# shows what the notebook draws)
ERRATA_ORIGINS = ("text", "equation image", "companion notebook")


def source_lines(value: Any, where: str = "erratum") -> list[int]:
    """The line numbers an erratum cites in the source text: one number or a list of them."""
    lines = value if isinstance(value, list) else [value]
    if not lines or not all(isinstance(n, int) and not isinstance(n, bool) and n > 0 for n in lines):
        raise ExtensionError(f"{where}: 'line' must be a line number of the source text or a list of them, "
                             f"not {value!r}")
    return lines


def _lines_text(lines: list[int]) -> str:
    if len(lines) == 1:
        return f"line {lines[0]}"
    return "lines " + ", ".join(map(str, lines[:-1])) + f" and {lines[-1]}"


def load_errata(path: Path = ERRATA_FILE) -> list[dict[str, Any]]:
    errata = _load_yaml_list(path, "errata")
    for index, erratum in enumerate(errata):
        where = f"{Path(path).name} erratum {index + 1}"
        _require(erratum, ERRATA_KEYS, where)
        _chapter_number(erratum["chapter"], where)
        source_lines(erratum["line"], where)
        unknown = set(erratum) - set(ERRATA_KEYS) - {"label", "kind", "origin"}
        if unknown:
            raise ExtensionError(f"{where}: unknown keys {', '.join(sorted(unknown))}")
        if erratum.get("origin", "text") not in ERRATA_ORIGINS:
            raise ExtensionError(f"{where}: origin must be one of {', '.join(ERRATA_ORIGINS)}")
        if erratum.get("label") and not _LABEL.match(str(erratum["label"])):
            raise ExtensionError(f"{where}: label {erratum['label']!r} is not a MyST label")
    return errata


def errata_markdown(errata: list[dict[str, Any]], chapters_dir: Path, is_built: IsBuilt,
                    kind: str | None = None) -> str:
    """A numbered list of errata (those of `kind` when given): source, correct form, where shown."""
    stems = chapter_stems(chapters_dir)
    items = [e for e in errata if kind is None or e.get("kind", "error") == kind]
    blocks = []
    for number, erratum in enumerate(items, start=1):
        chapter = erratum["chapter"]
        stem = stems.get(chapter)
        if stem is not None and is_built(stem):
            where = (f"{{ref}}`chapter {chapter} <{erratum['label']}>`" if erratum.get("label")
                     else f"{{doc}}`chapter {chapter} </chapters/{stem}>`")
        else:
            where = f"chapter {chapter} (in preparation)"
        indent = " " * (len(str(number)) + 2)
        body = [f"{number}. **{erratum['title'].strip()}**", ""]
        lines = _lines_text(source_lines(erratum["line"]))
        origin = erratum.get("origin", "text")
        if origin == "equation image":
            source_heading = f"The source ({lines}, an equation the source shows only as an image)"
        elif origin == "companion notebook":
            source_heading = f"The source's companion notebook (not its text; the figures are at {lines})"
        else:
            source_heading = f"The source ({lines})"
        for heading, text in ((source_heading, erratum["source"]), ("Correct", erratum["correct"])):
            paragraph = f"*{heading}:* {text.strip()}"
            body.extend(indent + line if line.strip() else "" for line in paragraph.splitlines())
            body.append("")
        body.append(f"{indent}*Shown in:* {where}.")
        blocks.append("\n".join(body))
    return "\n\n".join(blocks) + "\n"


# ------------------------------------------------------------------------------ versions and GPU results

# The libraries whose versions the supported range names, as pip names them, and how a reader knows them.
RANGE_LIBRARIES = (("tensorflow-cpu", "TensorFlow"), ("keras", "Keras"), ("numpy", "NumPy"),
                   ("matplotlib", "matplotlib"), ("ipywidgets", "ipywidgets"))


def read_pins(path: Path) -> dict[str, str]:
    """{normalised name: version} of the ``name==version`` lines of a requirements or lock file."""
    pins: dict[str, str] = {}
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as error:
        raise ExtensionError(f"cannot read {path}: {error}") from error
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        match = re.fullmatch(r"([A-Za-z0-9][A-Za-z0-9._-]*)\s*==\s*([A-Za-z0-9.+!_-]+)", line)
        if match:
            pins[re.sub(r"[-_.]+", "-", match.group(1)).lower()] = match.group(2)
    return pins


def versions_markdown(lowest_file: Path = COMPAT_LOCK_FILE, pinned_file: Path = REQUIREMENTS_FILE) -> str:
    """The supported range: per library, the lowest version (`lowest_file`) and the pinned one."""
    lowest, pinned = read_pins(lowest_file), read_pins(pinned_file)
    lines = [f"| library | lowest supported (`make compat`, `{Path(lowest_file).name}`) "
             f"| pinned (`make test`, `{Path(pinned_file).name}`) |", "|---|---|---|"]
    for name, label in RANGE_LIBRARIES:
        missing = [Path(f).name for f, pins in ((lowest_file, lowest), (pinned_file, pinned)) if name not in pins]
        if missing:
            raise ExtensionError(f"{' and '.join(missing)} pins no version of {name}")
        lines.append(f"| {label} | {lowest[name]} | {pinned[name]} |")
    return "\n".join(lines) + "\n"


GPU_STATEMENT_KEYS = ("id", "statement")
GPU_RESULTS = ("confirmed", "refuted")
NOT_RUN = "not yet run on a GPU"


def load_gpu_results(path: Path = GPU_RESULTS_FILE) -> dict[str, Any]:
    """The GPU results file: ``run`` (null until a GPU run, then what it ran on) and ``statements``."""
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        raise ExtensionError(f"cannot read the GPU results file {path}: {error}") from error
    if not isinstance(data, dict) or not isinstance(data.get("statements"), list) or not data["statements"]:
        raise ExtensionError(f"{path}: expected a mapping with a non-empty list 'statements'")
    run = data.get("run")
    if run is not None and (not isinstance(run, dict) or not run):
        raise ExtensionError(f"{path}: 'run' must be null or a mapping (GPU, driver, library versions)")
    ids: set[str] = set()
    for index, item in enumerate(data["statements"]):
        where = f"{Path(path).name} statement {index + 1}"
        if not isinstance(item, dict):
            raise ExtensionError(f"{where}: must be a mapping")
        _require(item, GPU_STATEMENT_KEYS, where)
        unknown = set(item) - set(GPU_STATEMENT_KEYS) - {"result", "evidence"}
        if unknown:
            raise ExtensionError(f"{where}: unknown keys {', '.join(sorted(unknown))}")
        if item["id"] in ids:
            raise ExtensionError(f"{where}: the id {item['id']!r} is used twice")
        ids.add(item["id"])
        if item.get("result") is not None:
            if run is None:
                raise ExtensionError(f"{where}: a result without a 'run' saying which GPU measured it")
            if item["result"] not in GPU_RESULTS or not item.get("evidence"):
                raise ExtensionError(f"{where}: 'result' must be one of {', '.join(GPU_RESULTS)}, with 'evidence'")
    return data


def gpu_results_markdown(data: Mapping[str, Any]) -> str:
    """Each GPU statement of the page with what a GPU run showed, or "not yet run on a GPU"."""
    run = data.get("run")
    lines = ["| statement of this page | on a GPU |", "|---|---|"]
    for item in data["statements"]:
        if item.get("result"):
            outcome = f"**{item['result']}**: {_cell(item['evidence'])}"
        else:
            outcome = f"**{NOT_RUN}**"
        lines.append(f"| {_cell(item['statement'])} | {outcome} |")
    table = "\n".join(lines)
    if run is None:
        return ("```{admonition} Not yet run on a GPU\n:class: warning\n"
                "No chapter of this book has run on a GPU yet. The GPU statements of this page come from "
                "the Keras documentation and source code, not from a measurement: each is marked "
                f"*{NOT_RUN}* until a GPU run records its outcome in `book/gpu_results.yml`.\n```\n\n"
                + table + "\n")
    machine = "; ".join(f"{_cell(key)}: {_cell(value)}" for key, value in run.items())
    return f"Measured on a GPU ({machine}).\n\n" + table + "\n"


# ------------------------------------------------------------------------------ Sphinx glue

# ------------------------------------------------------------------------------ reruns

def reproducibility_markdown(reruns: Mapping[str, Any]) -> str:
    """A table of the recorded reruns: figures compared, how far they moved, verdicts kept."""
    if not reruns:
        return "No rerun is recorded yet: `make reproduce` records one.\n"
    lines = ["| chapter | CPU of the rerun | figures compared | identical | largest relative difference "
             "| ledger verdicts unchanged |", "|---|---|---:|---|---:|---|"]
    for stem, entry in sorted(reruns.items()):
        verdicts = entry.get("verdicts", {})
        kept = sum(1 for v in verdicts.values() if v["committed"] == v["rerun"])
        largest = entry.get("largest_relative_difference", 0.0 if entry.get("identical") else None)
        lines.append(f"| `{stem}` | {_cell(entry.get('cpu', '?'))} | {entry['compared']} "
                     f"| {'yes' if entry.get('identical') else 'no'} "
                     f"| {'—' if largest is None else f'{largest:.1e}'} "
                     f"| {f'{kept} of {len(verdicts)}' if verdicts else 'no verdict recorded'} |")
    return "\n".join(lines) + "\n"


class _GeneratedMarkdown(SphinxDirective):
    """Render the Markdown returned by `markdown()` in place of the directive."""

    has_content = False
    data_files: tuple[Path, ...] = ()

    def is_built(self, stem: str) -> bool:
        return f"chapters/{stem}" in self.env.found_docs

    def markdown(self) -> str:  # pragma: no cover - overridden
        raise NotImplementedError

    def run(self) -> list[nodes.Node]:
        # Which chapters are in the book can change without any file this page depends on
        # changing (a new notebook, the table of contents): re-read the page on every build.
        self.env.note_reread()
        for path in self.data_files:
            self.env.note_dependency(str(path))
        for path in sorted(CHAPTERS_DIR.glob("[0-9][0-9]_*.ipynb")) + sorted(METRICS_DIR.glob("*.json")):
            self.env.note_dependency(str(path))
        text = self.markdown()
        container = nodes.Element()
        self.state.nested_parse(StringList(text.splitlines(), source=self.get_source_info()[0]),
                                self.content_offset, container)
        # classes for the site's stylesheet: on a phone these tables stack their rows
        for table in container.findall(nodes.table):
            table["classes"].extend(["rnnbook-table", "rnnbook-stack", self.table_class()])
        return container.children

    def table_class(self) -> str:
        return "rnnbook-" + self.name.removeprefix("rnnbook-")


class RuntimesDirective(_GeneratedMarkdown):
    data_files = (SMOKE_TIMES_FILE,)

    def markdown(self) -> str:
        options = self.config.html_theme_options or {}
        launch = options.get("launch_buttons") or {}
        colab = colab_base(options.get("repository_url", ""), options.get("repository_branch", "main"),
                           launch.get("colab_url", ""))
        return runtimes_markdown(CHAPTERS_DIR, read_smoke_times(SMOKE_TIMES_FILE), self.is_built, colab)


class MigrationDirective(_GeneratedMarkdown):
    data_files = (MIGRATION_FILE,)

    def markdown(self) -> str:
        return migration_markdown(load_migration(MIGRATION_FILE), CHAPTERS_DIR, self.is_built)


class ClaimsDirective(_GeneratedMarkdown):
    data_files = (CLAIMS_FILE,)
    option_spec: ClassVar[dict[str, Callable]] = {"pending": directives.flag}

    def markdown(self) -> str:
        return claims_markdown(load_claims(CLAIMS_FILE), METRICS_DIR, CHAPTERS_DIR, self.is_built,
                               pending="pending" in self.options)

    def table_class(self) -> str:
        return "rnnbook-pending" if "pending" in self.options else "rnnbook-claims"


class ErrataDirective(_GeneratedMarkdown):
    data_files = (ERRATA_FILE,)
    option_spec: ClassVar[dict[str, Callable]] = {"kind": directives.unchanged}

    def markdown(self) -> str:
        return errata_markdown(load_errata(ERRATA_FILE), CHAPTERS_DIR, self.is_built,
                               kind=self.options.get("kind"))


class ReproducibilityDirective(_GeneratedMarkdown):
    data_files = (REPRODUCIBILITY_FILE,)

    def markdown(self) -> str:
        return reproducibility_markdown(read_reruns(REPRODUCIBILITY_FILE))


class VersionsDirective(_GeneratedMarkdown):
    data_files = (COMPAT_LOCK_FILE, REQUIREMENTS_FILE)

    def markdown(self) -> str:
        return versions_markdown(COMPAT_LOCK_FILE, REQUIREMENTS_FILE)


class GpuResultsDirective(_GeneratedMarkdown):
    data_files = (GPU_RESULTS_FILE,)

    def markdown(self) -> str:
        return gpu_results_markdown(load_gpu_results(GPU_RESULTS_FILE))


def setup(app):
    app.add_directive("rnnbook-runtimes", RuntimesDirective)
    app.add_directive("rnnbook-migration", MigrationDirective)
    app.add_directive("rnnbook-claims", ClaimsDirective)
    app.add_directive("rnnbook-errata", ErrataDirective)
    app.add_directive("rnnbook-reproducibility", ReproducibilityDirective)
    app.add_directive("rnnbook-versions", VersionsDirective)
    app.add_directive("rnnbook-gpu-results", GpuResultsDirective)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
