"""The Performance page, generated at build time from the benchmark results (``bench/results/*.json``).

Directives (MyST: ```` ```{bench-table} throughput ```` ````):

* ``bench-table NAME``: the table(s) of one benchmark and the verdicts computed from them;
* ``bench-figure NAME``: its plot (``book/bench_figures/NAME.png``, drawn by ``bench/plots.py``);
  the build warns (and so fails under ``-W``) when the plot was drawn from other results;
* ``bench-machine``: the machine and library versions each benchmark ran on.

The page holds no number of its own: every figure comes from a results file, and a missing,
tiny or unreadable results file is a build warning.
"""

from __future__ import annotations

import hashlib
import json
import struct
from pathlib import Path
from typing import Any

from docutils import nodes
from docutils.parsers.rst import Directive
from sphinx.util import logging

logger = logging.getLogger(__name__)

RESULTS_DIR = Path("bench") / "results"
FIGURES_DIR = Path("book") / "bench_figures"
DIGEST_KEY = "rnnbook-results-sha256"  # written by bench/plots.py
NAMES = ("throughput", "projection", "time_to_accuracy", "sampled_softmax", "book_times")
CELL_NAMES = {"simple": "SimpleRNN", "lstm": "LSTM", "gru": "GRU"}


# ------------------------------------------------------------------------------- helpers

def _fmt(value: Any, digits: int = 3) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (int, float)):
        if abs(value) >= 1000:
            return f"{value:,.0f}"
        if abs(value) >= 100:
            return f"{value:.0f}"
        return f"{value:.{digits}g}"
    return str(value)


def _ratio(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f}×"


def _table(headers: list[str], rows: list[list[str]], caption: str | None = None) -> nodes.table:
    table = nodes.table(classes=["rnnbook-bench"])
    if caption:
        table += nodes.title(text=caption)
    group = nodes.tgroup(cols=len(headers))
    table += group
    for _ in headers:
        group += nodes.colspec(colwidth=1)
    head = nodes.thead()
    group += head
    head += _row(headers)
    body = nodes.tbody()
    group += body
    for row in rows:
        body += _row(row)
    return table


def _row(cells: list[str]) -> nodes.row:
    row = nodes.row()
    for cell in cells:
        entry = nodes.entry()
        entry += nodes.paragraph(text=str(cell))
        row += entry
    return row


def _paragraph(*parts: str | tuple[str, str]) -> nodes.paragraph:
    """A paragraph of plain strings and ("strong" | "code", text) pieces."""
    paragraph = nodes.paragraph()
    for part in parts:
        if isinstance(part, tuple):
            paragraph += nodes.literal(text=part[1]) if part[0] == "code" else nodes.strong(text=part[1])
        else:
            paragraph += nodes.Text(part)
    return paragraph


def _bullets(items: list[nodes.Node | str]) -> nodes.bullet_list:
    bullets = nodes.bullet_list()
    for item in items:
        entry = nodes.list_item()
        entry += item if isinstance(item, nodes.Node) else nodes.paragraph(text=item)
        bullets += entry
    return bullets


def _png_text(path: Path) -> dict[str, str]:
    data = path.read_bytes()
    found, offset = {}, 8
    while offset + 8 <= len(data):
        length, kind = struct.unpack(">I4s", data[offset:offset + 8])
        body = data[offset + 8:offset + 8 + length]
        if kind in (b"tEXt", b"iTXt"):
            key, _, value = body.partition(b"\x00")
            if kind == b"iTXt" and value[:1] == b"\x00":  # uncompressed iTXt: skip flags, language, keyword
                value = value[2:].split(b"\x00", 2)[-1]
            found[key.decode("latin-1")] = value.decode("utf-8", "replace")
        elif kind == b"IEND":
            break
        offset += 12 + length
    return found


class _BenchDirective(Directive):
    has_content = False

    def _load(self, name: str) -> dict | None:
        env = self.state.document.settings.env
        if name not in NAMES:
            logger.warning(f"unknown benchmark {name!r}; expected one of {', '.join(NAMES)}",
                           location=(env.docname, self.lineno))
            return None
        path = Path(env.srcdir) / RESULTS_DIR / f"{name}.json"
        env.note_dependency(str(path))
        if not path.exists():
            logger.warning(f"{RESULTS_DIR / path.name} is missing: run `make bench`", location=(env.docname, self.lineno))
            return None
        try:
            record = json.loads(path.read_text())
        except (OSError, ValueError) as exc:
            logger.warning(f"{RESULTS_DIR / path.name} is unreadable: {exc}", location=(env.docname, self.lineno))
            return None
        if record.get("tiny"):
            logger.warning(f"{RESULTS_DIR / path.name} comes from a --tiny run: its timings mean nothing",
                           location=(env.docname, self.lineno))
        record["_path"] = path
        return record

    def _missing(self, name: str) -> list[nodes.Node]:
        return [_paragraph(("strong", f"No results for {name} yet"), ": run `make bench`.")]


# ------------------------------------------------------------------------------- tables

def _throughput(record: dict) -> list[nodes.Node]:
    rows, out = record["rows"], []
    for cell, name in CELL_NAMES.items():
        cell_rows = [r for r in rows if r["cell"] == cell]
        if not cell_rows:
            continue
        table_rows = []
        for r in cell_rows:
            label = r["variant"] + (" ← the book's settings" if r.get("book_settings") else "")
            table_rows.append([label, _fmt(r["samples_per_s"]), f"{_fmt(r['min'])}–{_fmt(r['max'])}",
                               _ratio(r["vs_pytorch"]), _fmt(r["setup_s"])])
        out.append(_table(["contender", "samples / s (median)", "min–max", "× PyTorch", "set-up s"], table_rows,
                          caption=f"{name}(150), batch {record['settings']['batch']}"))
    summary = record["summary"]
    if any(s.get("pytorch_samples_per_s") for s in summary.values()):
        met_stock = [CELL_NAMES[c] for c in CELL_NAMES if (summary.get(c, {}).get("best_stock_vs_pytorch") or 0) >= 1.0]
        met_any = [CELL_NAMES[c] for c in CELL_NAMES if (summary.get(c, {}).get("best_keras_vs_pytorch") or 0) >= 1.0]
        items = []
        for cell, s in ((c, summary[c]) for c in CELL_NAMES if c in summary):
            items.append(_paragraph(
                ("strong", CELL_NAMES[cell]), f": fastest stock Keras configuration “{(s['best_stock_keras'] or '—').replace('Keras: ', '')}” "
                f"at {_ratio(s['best_stock_vs_pytorch'])} PyTorch; the book's settings {_ratio(s['book_settings_vs_pytorch'])}; "
                f"fastest of all “{s['best_keras'].replace('Keras: ', '')}” {_ratio(s['best_keras_vs_pytorch'])}."))
        out.append(_bullets(items))
        out.append(_paragraph(
            ("strong", "Goal, Keras ≥ 1.0× PyTorch: "),
            f"met with stock Keras layers for {len(met_stock)} of {len(summary)} cells"
            f"{' (' + ', '.join(met_stock) + ')' if met_stock else ''}; "
            f"with the custom layers as well, for {len(met_any)} of {len(summary)}"
            f"{' (' + ', '.join(met_any) + ')' if met_any else ''}."))
    return out


def _projection(record: dict) -> list[nodes.Node]:
    summary = record["summary"]
    lengths = sorted(summary, key=int)
    table = _table(["sequence length", "projection s / 1,000 it.", "stacked s / 1,000 it.", "ratio"],
                   [[k, _fmt(summary[k]["projection_s_per_1000"]), _fmt(summary[k]["stacked_s_per_1000"]),
                     f"{summary[k]['projection_speed_ratio']:.2f}"] for k in lengths],
                   caption=f"ReLU SimpleRNN({record['settings']['units']}), batch {record['settings']['batch']}, "
                           f"median of {record['settings']['repeats']} interleaved repeats")
    faster = [k for k in lengths if summary[k]["projection_speed_ratio"] > 1.1]
    even = [k for k in lengths if 1 / 1.1 <= summary[k]["projection_speed_ratio"] <= 1.1]
    verdict = (f"The stacked Dense head is more than 10 % faster at {', '.join(faster)} steps"
               if faster else "The stacked Dense head is not more than 10 % faster at any length measured")
    verdict += f"; within 10 % of the projection at {', '.join(even)} steps." if even else "."
    return [table, _paragraph(("strong", "Verdict: "), verdict)]


def _time_to_accuracy(record: dict) -> list[nodes.Node]:
    targets = record["settings"]["targets"]
    keys = [f"{t * 100:g}" for t in targets]
    rows = []
    for r in record["rows"]:
        cells = [f"{r['recipe']}", str(r["epochs_run"]), f"{100 * r['best_test_accuracy']:.2f} %"]
        for key in keys:
            seconds, epochs = r.get(f"seconds_to_{key}"), r.get(f"epochs_to_{key}")
            cells.append("not reached" if seconds is None else f"{seconds:.0f} s (epoch {epochs:g})")
        rows.append(cells)
    table = _table(["recipe", "epochs run", "best test accuracy", *(f"time to {k} %" for k in keys)], rows,
                   caption=f"SimpleRNN(150) on MNIST, cap {record['settings']['max_epochs']} epochs, "
                           f"test accuracy every {1 / record['settings']['evals_per_epoch']:g} epoch")
    by_name = {r["recipe"]: r for r in record["rows"]}
    out = [table]
    if {"book", "source"} <= set(by_name):
        items = []
        for key in keys:
            book, source = by_name["book"].get(f"seconds_to_{key}"), by_name["source"].get(f"seconds_to_{key}")
            if book is not None and source is not None:
                items.append(f"{key} %: the book's recipe in {book:.0f} s, the source's in {source:.0f} s "
                             f"({source / book:.2f}× the book's time).")
            elif book is not None:
                items.append(f"{key} %: the book's recipe in {book:.0f} s; the source's recipe did not reach it "
                             f"within {by_name['source']['epochs_run']} epochs.")
            elif source is not None:
                items.append(f"{key} %: the source's recipe in {source:.0f} s; the book's recipe did not reach it "
                             f"within {by_name['book']['epochs_run']} epochs.")
            else:
                items.append(f"{key} %: neither recipe reached it within the cap.")
        out.append(_bullets(items))
    return out


def _sampled_softmax(record: dict) -> list[nodes.Node]:
    summary, settings = record["summary"], record["settings"]
    vocabularies = sorted(summary, key=int)
    table = _table(["vocabulary", "full softmax ms / step", "sampled softmax ms / step", "speed-up"],
                   [[f"{int(v):,}", _fmt(summary[v]["full_ms"]), _fmt(summary[v]["sampled_ms"]),
                     _ratio(summary[v]["speedup"])] for v in vocabularies],
                   caption=f"GRU({settings['units']}) decoder step, batch {settings['batch']} × {settings['steps']} "
                           f"steps, {settings['num_sampled']} sampled classes, median of {settings['repeats']} repeats")
    speedups = [summary[v]["speedup"] for v in vocabularies]
    listed = ", ".join(f"{_ratio(summary[v]['speedup'])} at {int(v):,} words" for v in vocabularies)
    if all(b > a for a, b in zip(speedups, speedups[1:])):
        trend = "the gain grows with every step up in vocabulary size."
    elif speedups[-1] > speedups[0]:
        trend = ("the gain is larger at the largest vocabulary than at the smallest, but not at every step: "
                 "the updates of the embedding and output matrices, dense in Adam, grow with the vocabulary for both losses.")
    else:
        trend = "the gain does not grow with the vocabulary here."
    slower = [f"{int(v):,}" for v in vocabularies if summary[v]["speedup"] < 1]
    verdict = f"the sampled softmax step is faster by {listed}; {trend}"
    if slower:
        verdict += f" It is slower at {', '.join(slower)} words."
    return [table, _paragraph(("strong", "Verdict: "), verdict)]


def _book_times(record: dict) -> list[nodes.Node]:
    rows, summary = record["rows"], record["summary"]
    table_rows = []
    for r in rows:
        smoke = _fmt(r["smoke_s"]) if r["smoke_s"] is not None else f"failed ({r['smoke_error']})"
        full = _fmt(r["full_s"]) if r["full_profile"] == "full" else "not executed in the full profile yet"
        table_rows.append([r["chapter"], r["title"], full, smoke])
    table_rows.append(["total", "", f"{_fmt(summary['full_total_s'])} ({summary['full_chapters']} chapters)",
                       f"{_fmt(summary['smoke_total_s'])} ({summary['smoke_chapters']} chapters)"])
    table = _table(["notebook", "title", "full profile s", "smoke profile s"], table_rows,
                   caption="Execution time of each chapter, kernel start included")
    site = (f"{summary['site_build_s']:.1f} s for {summary['site_pages']} HTML pages"
            if summary["site_build_ok"] else f"failed after {summary['site_build_s']:.1f} s")
    command = "jupyter-book build " + record["settings"]["site"].split("build ", 1)[-1]
    return [table, _paragraph(("strong", "Site build"), " (", ("code", command), "): ", site + ".")]


BUILDERS = {"throughput": _throughput, "projection": _projection, "time_to_accuracy": _time_to_accuracy,
            "sampled_softmax": _sampled_softmax, "book_times": _book_times}


# ------------------------------------------------------------------------------- directives

class BenchTable(_BenchDirective):
    required_arguments = 1

    def run(self) -> list[nodes.Node]:
        name = self.arguments[0]
        record = self._load(name)
        if record is None:
            return self._missing(name)
        out = BUILDERS[name](record)
        for note in record.get("notes", []):
            out.append(_paragraph(("strong", "Note: "), note))
        machine = record["machine"]
        libraries = ", ".join(f"{k} {v}" for k, v in machine["libraries"].items()
                              if k in ("tensorflow-cpu", "tensorflow", "keras", "torch"))
        out.append(_paragraph(f"Measured {machine['date']} on {machine['cpu']}, {machine['cores']} cores "
                              f"(1-minute load average {machine['load_average_1m']} at the start); {libraries}."))
        return out


class BenchFigure(_BenchDirective):
    required_arguments = 1

    def run(self) -> list[nodes.Node]:
        name = self.arguments[0]
        env = self.state.document.settings.env
        record = self._load(name)
        if record is None:
            return []
        png = Path(env.srcdir) / FIGURES_DIR / f"{name}.png"
        env.note_dependency(str(png))
        if not png.exists():
            logger.warning(f"{FIGURES_DIR / png.name} is missing: run `python -m bench.plots`",
                           location=(env.docname, self.lineno))
            return []
        digest = hashlib.sha256(record["_path"].read_bytes()).hexdigest()
        if _png_text(png).get(DIGEST_KEY) != digest:
            logger.warning(f"{FIGURES_DIR / png.name} was drawn from other results than {RESULTS_DIR / (name + '.json')}:"
                           " run `python -m bench.plots`", location=(env.docname, self.lineno))
        image = nodes.image(uri="/" + (FIGURES_DIR / png.name).as_posix(), alt=f"{name} benchmark plot")
        return [image]


class BenchMachine(_BenchDirective):
    required_arguments = 0

    def run(self) -> list[nodes.Node]:
        env = self.state.document.settings.env
        machines = {}
        for name in NAMES:
            path = Path(env.srcdir) / RESULTS_DIR / f"{name}.json"
            env.note_dependency(str(path))
            if path.exists():
                machines[name] = json.loads(path.read_text())["machine"]
        if not machines:
            return self._missing("any benchmark")

        def describe(m: dict) -> str:
            lib = m["libraries"]
            versions = [f"{label} {lib[key]}" for key, label in (("tensorflow-cpu", "TensorFlow"), ("tensorflow", "TensorFlow"),
                                                                  ("keras", "Keras"), ("torch", "PyTorch"),
                                                                  ("numpy", "NumPy")) if key in lib]
            return (f"{m['cpu']}, {m['cores']} cores, {m['memory_gib']} GiB, {m['os']}; Python {m['python']}, "
                    + ", ".join(versions))

        descriptions = {name: describe(m) for name, m in machines.items()}
        same = len(set(descriptions.values())) == 1
        rows = [[name, m["date"], _fmt(m["load_average_1m"]), *([] if same else [descriptions[name]])]
                for name, m in machines.items()]
        out = [_table(["benchmark", "run", "load average (1 min)", *([] if same else ["machine"])], rows,
                      caption="When each benchmark ran, and how busy the machine was")]
        if same:
            out.append(_paragraph(("strong", "Machine: "), next(iter(descriptions.values())) + "."))
        return out


def setup(app):
    app.add_directive("bench-table", BenchTable)
    app.add_directive("bench-figure", BenchFigure)
    app.add_directive("bench-machine", BenchMachine)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
