"""Headline figures of a chapter: shown in the notebook, which is their only record.

``record_metrics(settings, grad_check_max_rel_error=3e-10)`` displays the figures as an
output of its cell: a table the reader sees, and the same figures as JSON under the MIME type
:data:`METRICS_MIME`. It writes no file. ``book/metrics/<stem>.json``, which the claims ledger
reads, is *derived* from the executed notebook by ``python -m utils.freshness execute`` after
a run that succeeded, and ``python -m utils.freshness check`` fails when the two disagree. So an
interactive run, a smoke run or a failed run cannot change the committed figures, and a figure
edited by hand is caught. Metric names are part of the book's interface: keep them stable.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Mapping
from typing import Any

from .paths import CHAPTERS_DIR, METRICS_DIR
from .profile import current_profile

METRICS_MIME = "application/vnd.rnnbook.metrics+json"
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


# A metric whose name holds one of these words is a wall-clock figure: a benchmark of the machine
# it ran on, which a rerun measures anew (the reproducibility check leaves it out).
TIMING_WORDS = ("seconds", "speedup", "speed_ratio", "time_ratio", "ms_per_step", "step_ms")


def is_timing_metric(name: str) -> bool:
    return any(word in name for word in TIMING_WORDS)


# A confidence interval from one seed has no bounds (utils.stats): such a bound, and only such a
# bound, is recorded as this text rather than refused.
UNBOUNDED = "unbounded"
UNBOUNDED_SUFFIXES = ("_low", "_high")


class MetricsError(ValueError):
    """A notebook's recorded figures are missing, contradictory or disagree with the JSON."""


def _plain(name: str, value: Any) -> float | int | str | list:
    if isinstance(value, (list, tuple)):
        return [_plain(name, v) for v in value]
    if hasattr(value, "item"):  # numpy / tf scalars
        value = value.item()
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise TypeError(f"metric {name!r} must be a number, string or list of them, not {type(value).__name__}")
    if isinstance(value, float) and math.isinf(value) and name.endswith(UNBOUNDED_SUFFIXES):
        return UNBOUNDED  # an interval bound from a single run (utils.stats): there is none
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"metric {name!r} is {value}: a headline figure must be finite")
    return value


def _shown(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.6g}"
    if isinstance(value, list):
        return "[" + ", ".join(_shown(v) for v in value) + "]"
    return str(value)


def metrics_record(notebook: str, **metrics: Any) -> dict[str, Any]:
    """The record of a call to :func:`record_metrics`, checked: names snake_case, values finite."""
    if not metrics:
        raise ValueError("record_metrics needs at least one metric")
    for name in metrics:
        if not _NAME.match(name):
            raise ValueError(f"metric name {name!r} must be snake_case")
    if not (CHAPTERS_DIR / f"{notebook}.ipynb").is_file():
        raise FileNotFoundError(f"no notebook {notebook}.ipynb in chapters/")
    return {"notebook": notebook, "profile": current_profile(),
            "metrics": {name: _plain(name, value) for name, value in sorted(metrics.items())}}


def record_metrics(chapter: Any, **metrics: Any) -> None:
    """Show a chapter's headline figures as an output of this cell, where the book records them.

    `chapter` is the chapter's settings (:func:`utils.profile.chapter_settings`, so that the
    notebook names itself once) or its stem, e.g. ``"01_bptt"``. Nothing is written to disk.
    """
    from IPython.display import display

    record = metrics_record(getattr(chapter, "chapter", chapter), **metrics)
    table = metrics_table(record)
    display({METRICS_MIME: record, "text/markdown": table, "text/plain": table}, raw=True)


def metrics_table(record: Mapping[str, Any]) -> str:
    """The table a reader sees under :func:`record_metrics`: made from the record alone, so that the
    freshness check can tell that what is displayed is what is recorded."""
    rows = "\n".join(f"| `{name}` | {_shown(value)} |" for name, value in sorted(record["metrics"].items()))
    return (f"**Figures recorded by this chapter** ({record['profile']} profile; the claims ledger "
            f"reads them)\n\n| metric | value |\n|---|---|\n{rows}\n")


def recorded_metrics(outputs: Iterable[Mapping[str, Any]], notebook: str,
                     profile: str | None) -> dict[str, Any] | None:
    """Every figure the outputs of `notebook`'s cells recorded, merged; None if none was.

    Several calls may record different figures; one figure recorded twice with two values, a
    record of another notebook, or one made in another profile than `profile` (the run's) are
    errors.
    """
    merged: dict[str, Any] = {}
    for output in outputs:
        record = output.get("data", {}).get(METRICS_MIME)
        if record is None:
            continue
        if record.get("notebook") != notebook:
            raise MetricsError(f"{notebook}: a cell records figures for {record.get('notebook')!r}")
        if record.get("profile") != profile:
            raise MetricsError(f"{notebook}: figures recorded in the {record.get('profile')!r} profile, "
                               f"but the run's profile is {profile!r}")
        for name, value in record["metrics"].items():
            if name in merged and not same_value(merged[name], value):
                raise MetricsError(f"{notebook}: metric {name!r} is recorded twice, as {merged[name]!r} "
                                   f"and {value!r}")
            merged[name] = value
    return dict(sorted(merged.items())) if merged else None


def same_value(a: Any, b: Any) -> bool:
    """Whether two figures (or records) are equal as values: numbers as numbers (``1.0`` equals
    ``1``, as they do once a browser has held the notebook), but a boolean is no number, and
    lists and mappings compare item by item."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return a == b
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(same_value(x, y) for x, y in zip(a, b))
    if isinstance(a, Mapping) and isinstance(b, Mapping):
        return a.keys() == b.keys() and all(same_value(a[key], b[key]) for key in a)
    return type(a) is type(b) and a == b


def metrics_json(notebook: str, profile: str, code_hash: str, metrics: Mapping[str, Any]) -> str:
    """The text of ``book/metrics/<notebook>.json``, byte for byte."""
    record = {"notebook": notebook, "profile": profile, "code_hash": code_hash, "metrics": dict(metrics)}
    return json.dumps(record, indent=2) + "\n"


def metrics_differences(expected: Mapping[str, Any], actual: Mapping[str, Any]) -> list[str]:
    """Each metric (or record field) on which two metrics records disagree (by :func:`same_value`), named."""
    found = [f"{key}: file {actual.get(key)!r}, notebook {expected.get(key)!r}"
             for key in ("notebook", "profile", "code_hash") if not same_value(expected.get(key), actual.get(key))]
    want, have = expected.get("metrics", {}), actual.get("metrics", {})
    for name in sorted(set(want) | set(have)):
        if name not in have:
            found.append(f"{name}: missing from the file (notebook {want[name]!r})")
        elif name not in want:
            found.append(f"{name}: in the file ({have[name]!r}) but not recorded by the notebook")
        elif not same_value(want[name], have[name]):
            found.append(f"{name}: file {have[name]!r}, notebook {want[name]!r}")
    return found


def read_metrics(notebook: str) -> dict[str, Any]:
    """The metrics a full-profile run of `notebook` recorded (from ``book/metrics``)."""
    path = METRICS_DIR / f"{notebook}.json"
    if not path.is_file():
        raise FileNotFoundError(f"{path} does not exist: run `make execute NB=chapters/{notebook}.ipynb`")
    return json.loads(path.read_text())["metrics"]
