"""What every benchmark shares: the machine description, alternating timings, tables, results files.

A results file is ``{"name", "tiny", "machine", "settings", "rows": [...], "summary": {...}}``;
the book's Performance page and ``bench/plots.py`` read nothing else. ``results/<name>.json`` is
the newest run, wherever it ran; ``results/machines/<machine id>/<name>.json`` keeps each machine's
own newest run, so that a run on one machine never replaces another machine's figures and the page
can show how far they travel.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import os
import platform
import sys
from importlib import metadata
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

import numpy as np

from utils.paths import REPO_ROOT
from utils.timing import Contender, alternate, cpu_model  # noqa: F401  (the benchmarks' timer is the chapters')

RESULTS_DIR = REPO_ROOT / "bench" / "results"
MACHINES_DIR_NAME = "machines"
# fp32 FLOPs one core can issue per cycle in fused multiply-adds, by (vendor, family, models):
# two 256-bit FMA pipes (8 lanes x 2 FLOPs x 2) on AMD Zen 2, 3 and 4 (Zen 4 splits AVX-512 into
# two halves), two 512-bit pipes on Zen 5 server parts. Unknown processors get no peak.
FLOPS_PER_CYCLE = [("AuthenticAMD", 23, range(0x30, 0x100), 32), ("AuthenticAMD", 25, range(0, 0x100), 32),
                   ("AuthenticAMD", 26, range(0, 0x100), 64)]
LIBRARIES = ("tensorflow-cpu", "tensorflow", "keras", "numpy", "torch", "jupyter-book", "sphinx", "nbclient")


# ----------------------------------------------------------------------------- machine

def _memory_gib() -> float | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return round(int(line.split()[1]) / 2**20, 1)
    except OSError:
        pass
    return None


def _version(dist: str) -> str | None:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return None


def _cpuinfo() -> dict[str, str]:
    fields: dict[str, str] = {}
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            key, _, value = line.partition(":")
            if not line.strip():
                break  # the first processor is enough
            fields.setdefault(key.strip(), value.strip())
    except OSError:
        pass
    return fields


def flops_per_cycle(vendor: str | None, family: int | None, model: int | None) -> int | None:
    """fp32 FLOPs per cycle and core of a known processor (FLOPS_PER_CYCLE), else None."""
    for known_vendor, known_family, models, flops in FLOPS_PER_CYCLE:
        if (vendor, family) == (known_vendor, known_family) and model in models:
            return flops
    return None


def machine_id() -> str:
    """A short, stable name for this machine: a digest of its machine-id (or host name) and CPU."""
    try:
        identity = Path("/etc/machine-id").read_text().strip()
    except OSError:
        identity = platform.node()
    return hashlib.sha256(f"{identity}|{cpu_model()}".encode()).hexdigest()[:10]


def describe_machine() -> dict[str, Any]:
    """CPU, cores, memory, load and library versions: what a reader needs to weigh the numbers."""
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    load = os.getloadavg() if hasattr(os, "getloadavg") else None
    info = _cpuinfo()
    family = int(info["cpu family"]) if info.get("cpu family", "").isdigit() else None
    model = int(info["model"]) if info.get("model", "").isdigit() else None
    return {
        "id": machine_id(),
        "cpu_vendor": info.get("vendor_id"),
        "cpu_family": family,
        "cpu_model_number": model,
        "cpu_mhz": round(float(info["cpu MHz"])) if info.get("cpu MHz") else None,
        "fp32_flops_per_cycle": flops_per_cycle(info.get("vendor_id"), family, model),
        "cpu": cpu_model(),
        "cores": usable,
        "memory_gib": _memory_gib(),
        # Shared machines are noisy: the load average when the run started says how noisy.
        "load_average_1m": round(load[0], 2) if load else None,
        "os": platform.platform(terse=True),
        "python": platform.python_version(),
        "libraries": {name: v for name in LIBRARIES if (v := _version(name)) is not None},
        "date": _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
    }


# ----------------------------------------------------------------------------- timing

def spread(values: Iterable[float]) -> tuple[float, float]:
    """(min, max): printed beside a median so that a reader sees how noisy it was."""
    values = list(values)
    return min(values), max(values)


def paired_ratio(numerators: Sequence[float], denominators: Sequence[float], resamples: int = 2000,
                 level: float = 0.95, seed: int = 0) -> dict[str, float]:
    """The median of per-turn ratios numerators[i] / denominators[i] and its bootstrap interval.

    Turn i of two contenders ran back to back (``alternate``), so their ratio cancels the load the
    machine had during that turn; resampling the turns gives a percentile interval of the median.
    """
    a, b = np.asarray(numerators, float), np.asarray(denominators, float)
    if a.shape != b.shape or a.ndim != 1 or len(a) == 0:
        raise ValueError("paired_ratio needs two equally long, non-empty sequences")
    if not 0 < level < 1 or resamples < 1:
        raise ValueError("level must be in (0, 1) and resamples >= 1")
    ratios = a / b
    picks = np.random.default_rng(seed).integers(0, len(ratios), (resamples, len(ratios)))
    medians = np.median(ratios[picks], axis=1)
    tail = 100 * (1 - level) / 2
    return {"median": float(np.median(ratios)), "low": float(np.percentile(medians, tail)),
            "high": float(np.percentile(medians, 100 - tail))}



# ----------------------------------------------------------------------------- output

def format_table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A plain-text table for the terminal (the book renders the JSON itself)."""
    cells = [[_fmt(v) for v in row] for row in rows]
    widths = [max(len(str(h)), *(len(r[i]) for r in cells)) if cells else len(str(h))
              for i, h in enumerate(headers)]
    line = "  ".join(str(h).ljust(w) for h, w in zip(headers, widths))
    out = [line, "  ".join("-" * w for w in widths)]
    out += ["  ".join(c.rjust(w) if _numeric(c) else c.ljust(w) for c, w in zip(r, widths)) for r in cells]
    return "\n".join(out)


def _numeric(text: str) -> bool:
    return text.replace(",", "").replace(".", "", 1).replace("×", "").replace("-", "", 1).isdigit()


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        if value >= 1000:
            return f"{value:,.0f}"
        return f"{value:.3g}" if abs(value) < 10 else f"{value:.1f}"
    return "—" if value is None else str(value)


def write_results(name: str, out_dir: Path | str, *, tiny: bool, settings: dict[str, Any],
                  rows: list[dict[str, Any]], summary: dict[str, Any], notes: list[str] | None = None,
                  machine: dict[str, Any] | None = None) -> Path:
    """Write ``<out_dir>/<name>.json`` (small, sorted keys, floats rounded) and return its path."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    machine = dict(machine or describe_machine())
    if hasattr(os, "getloadavg"):  # the load at the end as well: a run can start quiet and end busy
        machine.setdefault("load_average_1m_end", round(os.getloadavg()[0], 2))
    record = {"name": name, "tiny": tiny, "machine": machine,
              "settings": settings, "rows": rows, "summary": summary, "notes": notes or []}
    text = json.dumps(_rounded(record), indent=1, sort_keys=True, ensure_ascii=False) + "\n"
    path = out_dir / f"{name}.json"
    path.write_text(text)
    own = out_dir / MACHINES_DIR_NAME / str(machine.get("id") or "unidentified")
    own.mkdir(parents=True, exist_ok=True)
    (own / f"{name}.json").write_text(text)
    return path


def _rounded(value: Any) -> Any:
    if isinstance(value, float):
        return float(f"{value:.4g}")
    if isinstance(value, dict):
        return {k: _rounded(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_rounded(v) for v in value]
    return value


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def quiet_tensorflow() -> None:
    """Hide TF's C++ start-up banner (it goes to stderr and says nothing about speed)."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def bench_main(name: str, doc: str, run: Callable[[bool, Path], dict[str, Any]],
               argv: list[str] | None = None) -> dict[str, Any]:
    """The command line every benchmark shares: ``python -m bench.NAME [--tiny] [--out DIR]``."""
    import argparse

    parser = argparse.ArgumentParser(prog=f"python -m bench.{name}", description=doc.split("\n")[0])
    parser.add_argument("--tiny", action="store_true", help="prove the harness works: tiny sizes, timings meaningless")
    parser.add_argument("--out", type=Path, default=RESULTS_DIR)
    args = parser.parse_args(argv)
    return run(args.tiny, args.out)
