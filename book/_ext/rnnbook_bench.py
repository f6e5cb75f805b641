"""The Performance page, generated at build time from the benchmark results (``bench/results/*.json``).

Directives (MyST: ```` ```{bench-table} throughput ```` ````):

* ``bench-table NAME``: the table(s) of one benchmark and the verdicts computed from them;
* ``bench-figure NAME``: its plot (``book/bench_figures/NAME.png``, drawn by ``bench/plots.py``);
  the build warns (and so fails under ``-W``) when the plot was drawn from other results;
* ``bench-machine``: the machine and library versions each benchmark ran on;
* ``bench-machines NAME``: one benchmark's headline figures on every machine that ran it
  (``bench/results/machines/<id>/NAME.json``), and the verdicts that hold on all of them.

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
FULL_PROFILE_GOAL_MIN = 60  # the whole book in the full profile, on 2 cores


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

def _interval(ratio: dict | None) -> str:
    """A ratio with its 95 % interval: 0.78× (0.71–0.91)."""
    if not ratio:
        return "—"
    return f"{ratio['median']:.2f}× ({ratio['low']:.2f}–{ratio['high']:.2f})"


def _verdict(ratio: dict, faster: str = "faster", slower: str = "slower") -> str:
    """What a ratio's interval (above 1: the first contender is faster) lets the page say."""
    if ratio["low"] > 1:
        return faster
    if ratio["high"] < 1:
        return slower
    return "no measurable difference"


def _percent(value: float | None) -> str:
    return "—" if value is None else f"{100 * value:.0f} %"


def _throughput(record: dict) -> list[nodes.Node]:
    rows, summary, settings, out = record["rows"], record["summary"], record["settings"], []
    cells = [c for c in CELL_NAMES if c in summary]
    for cell in cells:
        table_rows = []
        for r in (r for r in rows if r["cell"] == cell):
            label = r["variant"] + (" ←" if r.get("book_settings") else "")
            table_rows.append([label, _fmt(r["samples_per_s"]), f"{_fmt(r['min'])}–{_fmt(r['max'])}",
                               _interval(r["vs_best_pytorch"]), _fmt(r["gflops"]), _percent(r.get("share_of_gemm")),
                               _fmt(r["setup_s"])])
        out.append(_table(["contender (← the book's settings)", "samples / s (median)", "min–max",
                           "× best PyTorch (95 % interval)", "GFLOP/s", "share of GEMM", "set-up s"], table_rows,
                          caption=f"{CELL_NAMES[cell]}({settings['units']}), batch {settings['batch']}, "
                                  f"{settings['repeats']} interleaved turns"))
    if not any(summary[c].get("best_pytorch") for c in cells):
        return out
    items, met, not_met, even = [], [], [], []
    for cell in cells:
        s = summary[cell]
        book = s["book_vs_best_pytorch"]
        book_verdict = _verdict(book) if book else None
        word = {"faster": "faster than", "slower": "slower than"}.get(book_verdict, "no measurable difference from")
        best_torch = s["best_pytorch"].split(": ", 1)[-1]
        text = (f": {s['book_settings'].replace('Keras: ', '')} runs at {_interval(book)} the speed of the best "
                f"PyTorch set-up ({best_torch}): {word} it." if book else
                f": the book's settings were not timed in this run (best PyTorch set-up: {best_torch}).")
        text += (f" Fastest Keras set-up: {s['best_keras'].replace('Keras: ', '')}, "
                 f"{_interval(s['best_keras_vs_best_pytorch'])}.")
        if s.get("compiled_vs_eager_pytorch"):
            text += (f" torch.compile against PyTorch eager: {_interval(s['compiled_vs_eager_pytorch'])}, after "
                     f"{s['pytorch_compile_setup_s']:.0f} s of set-up (compilation and one untimed turn).")
        items.append(_paragraph(("strong", CELL_NAMES[cell]), text))
        if not book:
            continue
        (met if book_verdict == "faster" else not_met if book_verdict == "slower" else even).append(
            CELL_NAMES[cell])
    out.append(_bullets(items))
    parts = []
    if met:
        parts.append(f"met for {', '.join(met)}")
    if even:
        parts.append(f"within the noise for {', '.join(even)} (the interval includes 1.0×: no measurable difference)")
    if not_met:
        parts.append(f"not met for {', '.join(not_met)}")
    if not parts:
        parts.append("not measured in this run")
    out.append(_paragraph(("strong", "Goal, the book's settings ≥ 1.0× the best PyTorch set-up: "), "; ".join(parts) + "."))
    limit = summary.get("limit")
    if limit:
        gemm = limit["gemm"]
        out.append(_table(["matrix product (m×k×n)", "what it is", "TensorFlow GFLOP/s", "PyTorch GFLOP/s"],
                          [[g["shape"], "a large product" if g["shape"] == limit["large_shape"] else
                            "one step of " + ", ".join(CELL_NAMES[c] for c, shape in limit["workload_shapes"].items()
                                                       if shape == g["shape"]),
                            _fmt(g["tensorflow_gflops"]), _fmt(g.get("pytorch_gflops"))] for g in gemm],
                          caption="This machine's fp32 matrix-product speed (median of 5 turns)"))
        large = gemm[0]
        flops = ", ".join(f"{CELL_NAMES[c]} {summary[c]['flops_per_sample'] / 1e6:.1f} MFLOP" for c in cells)
        small = gemm[1:]
        out.append(_paragraph(
            ("strong", "The limit. "),
            f"A training sample costs {settings['flops_per_sample']} multiply-add FLOPs ({flops}). "
            f"A step's products are small: at the workload's shapes TensorFlow reaches "
            f"{min(g['tensorflow_gflops'] for g in small):.0f}–{max(g['tensorflow_gflops'] for g in small):.0f} GFLOP/s "
            f"against {large['tensorflow_gflops']:.0f} on a {large['shape']} product"
            + (f", PyTorch {min(g['pytorch_gflops'] for g in small):.0f}–{max(g['pytorch_gflops'] for g in small):.0f} "
               f"against {large['pytorch_gflops']:.0f}" if large.get("pytorch_gflops") else "")
            + ". The “share of GEMM” column divides each contender's GFLOP/s by its own framework's speed "
              "on its cell's step shape. Three things keep training below the large product's speed: the "
              "products are small (the step shapes above); they are sequential (each step's product waits for "
              "the previous step's state, so the 28 recurrent products cannot be merged into one large one: "
              "only the input half can, which is what the hoisted layer does); and the work outside the "
              "products (element-wise gates, the loss, Adam, each framework's overhead) takes the time the "
              "share leaves: at a share near 100 % the small products alone account for the time, far below "
              "it the rest dominates. A share above 100 % means the contender ran larger products than the "
              "step shape (XLA or the hoisted layer merged the input products across steps)."))
    return out


def _growth_exponent(times: dict[int, float]) -> float | None:
    """The power a of T in time ~ T^a between the shortest and the longest length measured."""
    import math

    lengths = sorted(times)
    if len(lengths) < 2 or not all(times[k] > 0 for k in lengths):
        return None
    return math.log(times[lengths[-1]] / times[lengths[0]]) / math.log(lengths[-1] / lengths[0])


def _projection(record: dict) -> list[nodes.Node]:
    summary = record["summary"]
    lengths = sorted(summary, key=int)

    def ratio(entry: dict) -> dict:
        return {"median": entry["projection_speed_ratio"], "low": entry["ratio_low"], "high": entry["ratio_high"]}

    with_no_xla = all("no_xla" in summary[k] for k in lengths)
    table = _table(["sequence length", "projection s / 1,000 it.", "stacked s / 1,000 it.",
                    "projection / stacked time (95 % interval)",
                    *(["without XLA: projection / stacked time"] if with_no_xla else [])],
                   [[k, _fmt(summary[k]["projection_s_per_1000"]), _fmt(summary[k]["stacked_s_per_1000"]),
                     _interval(ratio(summary[k])), *([_interval(ratio(summary[k]["no_xla"]))] if with_no_xla else [])]
                    for k in lengths],
                   caption=f"ReLU SimpleRNN({record['settings']['units']}), batch {record['settings']['batch']}, "
                           f"median of {record['settings']['repeats']} interleaved turns")
    # a time ratio above 1: the projection takes longer, the stacked head is faster
    groups = {"stacked": [], "projection": [], "even": []}
    for k in lengths:
        word = _verdict(ratio(summary[k]), "stacked", "projection")
        groups["even" if word.startswith("no ") else word].append(k)
    parts = []
    if groups["stacked"]:
        parts.append(f"the stacked Dense head is faster at {', '.join(groups['stacked'])} steps")
    if groups["projection"]:
        parts.append(f"the per-step projection is faster at {', '.join(groups['projection'])} steps"
                     + (", every length measured" if len(groups["projection"]) == len(lengths) else ""))
    if groups["even"]:
        parts.append(f"no measurable difference at {', '.join(groups['even'])} steps")
    verdict = "; ".join(parts)
    out = [table, _paragraph(("strong", "Verdict: "), verdict[0].upper() + verdict[1:] + ".")]
    if with_no_xla:
        longest = lengths[-1]
        exponents = {head: _growth_exponent({int(k): summary[k][f"{head}_s_per_1000"] for k in lengths})
                     for head in ("projection", "stacked")}
        no_xla_exponents = {head: _growth_exponent({int(k): summary[k]["no_xla"][f"{head}_s_per_1000"] for k in lengths})
                            for head in ("projection", "stacked")}
        off = _verdict(ratio(summary[longest]["no_xla"]), "the stacked head faster", "the per-step projection faster")
        out.append(_paragraph(
            ("strong", "Where the difference comes from. "),
            f"Between {lengths[0]} and {longest} steps, with XLA the stacked head's time grows like "
            f"T^{exponents['stacked']:.2f} and the per-step projection's like T^{exponents['projection']:.2f}; "
            f"without XLA, like T^{no_xla_exponents['stacked']:.2f} and T^{no_xla_exponents['projection']:.2f}, "
            f"and at {longest} steps the two heads show {off} "
            f"({_interval(ratio(summary[longest]['no_xla']))}). So the reversal is XLA's: the compiled loop of "
            "the stacked head does work that grows faster than the sequence. The two loops differ in what they "
            "carry out of every step: the whole 100-unit output (a T × batch × 100 buffer, the Dense comes "
            "after the loop) against one projected value (T × batch × 1). Super-linear growth is what a copy of "
            "that buffer at every step, instead of an update in place, would cost; this page measures the "
            "growth, it does not inspect XLA's compiled program."))
    return out


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
    table = _table(["vocabulary", "full softmax ms / step", "sampled ms / step", "speed-up (95 % interval)",
                    "full, SGD ms", "sampled, SGD ms", "Adam ÷ SGD time, sampled step"],
                   [[f"{int(v):,}", _fmt(summary[v]["full_ms"]), _fmt(summary[v]["sampled_ms"]),
                     _interval(summary[v]["speedup"]), _fmt(summary[v]["full_sgd_ms"]),
                     _fmt(summary[v]["sampled_sgd_ms"]), _interval(summary[v]["adam_over_sgd_sampled"])]
                    for v in vocabularies],
                   caption=f"GRU({settings['units']}) decoder step, batch {settings['batch']} × {settings['steps']} "
                           f"steps, {settings['num_sampled']} sampled classes, {settings['repeats']} interleaved turns")
    speedups = [summary[v]["speedup"]["median"] for v in vocabularies]
    listed = ", ".join(f"{_interval(summary[v]['speedup'])} at {int(v):,} words" for v in vocabularies)
    faster = [v for v in vocabularies if _verdict(summary[v]["speedup"]) == "faster"]
    if len(faster) == len(vocabularies):
        verdict = f"the sampled-softmax step is faster at every vocabulary size: {listed}"
    else:
        verdict = f"speed-ups {listed}"
    verdict += ("; the gain grows with every step up in vocabulary size." if all(b > a for a, b in zip(speedups, speedups[1:]))
                else "; the gain does not grow at every step up in vocabulary size.")
    adam = [summary[v]["adam_over_sgd_sampled"] for v in vocabularies]
    cause = (f"With Adam, the sampled step takes {', '.join(_interval(r) for r in adam)} the time of the same step "
             f"with SGD at {', '.join(f'{int(v):,}' for v in vocabularies)} words. SGD updates only the rows of the "
             "output and embedding matrices a batch touches (their gradients are sparse); Keras's Adam updates its "
             "moments and every row of both matrices at every step, work that grows with the vocabulary and that "
             "the sampled softmax does not remove. ")
    cause += ("Measured: Adam's dense updates are a share of the sampled step that grows with the vocabulary."
              if all(b["median"] > a["median"] for a, b in zip(adam, adam[1:])) and _verdict(adam[-1]) == "faster"
              else "Measured: Adam's share does not grow at every step up in vocabulary size.")
    return [table, _paragraph(("strong", "Verdict: "), verdict[0].upper() + verdict[1:]),
            _paragraph(("strong", "Where the rest of the time goes. "), cause)]


def _book_times(record: dict) -> list[nodes.Node]:
    rows, summary = record["rows"], record["summary"]
    table_rows = []
    for r in rows:
        smoke = _fmt(r["smoke_s"]) if r["smoke_s"] is not None else f"failed ({r['smoke_error']})"
        full = _fmt(r["full_s"]) if r["full_profile"] == "full" else "not executed in the full profile yet"
        table_rows.append([r["chapter"], r["title"], full, smoke])
    table_rows.append(["total", "", f"{_fmt(summary['full_total_s'])} s = {summary['full_total_s'] / 60:.1f} min "
                       f"({summary['full_chapters']} chapters)",
                       f"{_fmt(summary['smoke_total_s'])} ({summary['smoke_chapters']} chapters)"])
    table = _table(["notebook", "title", "full profile s", "smoke profile s"], table_rows,
                   caption="Execution time of each chapter, kernel start included")
    site = (f"{summary['site_build_s']:.1f} s for {summary['site_pages']} HTML pages"
            if summary["site_build_ok"] else f"failed after {summary['site_build_s']:.1f} s")
    command = "jupyter-book build " + record["settings"]["site"].split("build ", 1)[-1]
    goal_s = 60 * FULL_PROFILE_GOAL_MIN
    total = summary["full_total_s"]
    goal = (f"{total / 60:.1f} minutes for the {summary['full_chapters']} chapters executed in the full profile, "
            + (f"within the goal of {FULL_PROFILE_GOAL_MIN} minutes on 2 cores." if total <= goal_s else
               f"over the goal of {FULL_PROFILE_GOAL_MIN} minutes on 2 cores by {(total - goal_s) / 60:.1f} minutes."))
    if summary["full_chapters"] < summary["chapters"]:
        goal += f" {summary['chapters'] - summary['full_chapters']} chapter(s) have no full-profile time yet."
    return [table, _paragraph(("strong", "The whole book, full profile: "), goal),
            _paragraph(("strong", "Site build"), " (", ("code", command), "): ", site + ".")]


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


# ------------------------------------------------------------------------------- across machines

UNDER_LOAD = 0.5  # a 1-minute load average of half the cores or more at the start: other work was running


def _under_load(machine: dict) -> bool:
    load = machine.get("load_average_1m")
    return load is not None and bool(machine.get("cores")) and load >= UNDER_LOAD * machine["cores"]


def _peak_gflops(machine: dict) -> float | None:
    """fp32 peak at the reported clock: cores x clock x FLOPs per cycle (None when unknown)."""
    if machine.get("fp32_flops_per_cycle") and machine.get("cpu_mhz") and machine.get("cores"):
        return machine["cores"] * machine["cpu_mhz"] / 1000 * machine["fp32_flops_per_cycle"]
    return None


def _implied_ghz(gflops: float | None, machine: dict) -> float | None:
    """The clock a GEMM speed needs at full use of every core's FMA units."""
    if gflops and machine.get("fp32_flops_per_cycle") and machine.get("cores"):
        return gflops / (machine["cores"] * machine["fp32_flops_per_cycle"])
    return None


def across_machines_verdict(verdicts: list[str]) -> str:
    """One verdict when every machine agrees, else what each says."""
    if verdicts and len(set(verdicts)) == 1:
        return f"{verdicts[0]} on every machine measured ({len(verdicts)})"
    counts = {v: verdicts.count(v) for v in dict.fromkeys(verdicts)}
    return "depends on the machine: " + ", ".join(f"{v} on {n}" for v, n in counts.items())


def _throughput_across(records: list[dict]) -> list[nodes.Node]:
    cells = [c for c in CELL_NAMES if all(c in r["summary"] for r in records)]
    rows, verdicts = [], {c: [] for c in cells}
    for r in records:
        m, s = r["machine"], r["summary"]
        load = _fmt(m.get("load_average_1m"))
        if m.get("load_average_1m_end") is not None:
            load += f" → {_fmt(m['load_average_1m_end'])}"
        if _under_load(m):
            load += " (under load)"
        large = s.get("limit", {}).get("gemm", [{}])[0]
        peak = _peak_gflops(m)
        implied = _implied_ghz(large.get("tensorflow_gflops"), m)
        rows.append([f"{m.get('id', '?')}: {m['cpu']}, {m['cores']} cores", m["date"], load,
                     *[_interval(s[c].get("book_vs_best_pytorch")) for c in cells],
                     _fmt(large.get("tensorflow_gflops")), _fmt(large.get("pytorch_gflops")),
                     "—" if peak is None else f"{peak:.0f} at {m['cpu_mhz'] / 1000:.2f} GHz",
                     "—" if implied is None else f"{implied:.2f} GHz"])
        for c in cells:
            if s[c].get("book_vs_best_pytorch"):
                verdicts[c].append(_verdict(s[c]["book_vs_best_pytorch"]))
    out = [_table(["machine", "run", "load average (start → end)",
                   *[f"{CELL_NAMES[c]}: book ÷ best PyTorch" for c in cells],
                   "TensorFlow GEMM GFLOP/s", "PyTorch GEMM GFLOP/s", "fp32 peak GFLOP/s (reported clock)",
                   "clock TensorFlow's GEMM needs"], rows,
                  caption="The book's settings against the best PyTorch set-up, on every machine that ran the benchmark")]
    out.append(_bullets([_paragraph(("strong", CELL_NAMES[c]), ": " + across_machines_verdict(verdicts[c]) + ".")
                         for c in cells]))
    return out


class BenchMachines(_BenchDirective):
    required_arguments = 1

    def run(self) -> list[nodes.Node]:
        env = self.state.document.settings.env
        name = self.arguments[0]
        if name != "throughput":
            logger.warning(f"bench-machines shows the throughput benchmark only, not {name!r}",
                           location=(env.docname, self.lineno))
            return []
        records = []
        for path in sorted((Path(env.srcdir) / RESULTS_DIR / "machines").glob(f"*/{name}.json")):
            env.note_dependency(str(path))
            record = json.loads(path.read_text())
            if not record.get("tiny"):
                records.append(record)
        if not records:
            return self._missing(f"{name} on any machine")
        records.sort(key=lambda r: r["machine"]["date"])
        return _throughput_across(records)


def setup(app):
    app.add_directive("bench-table", BenchTable)
    app.add_directive("bench-figure", BenchFigure)
    app.add_directive("bench-machine", BenchMachine)
    app.add_directive("bench-machines", BenchMachines)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
