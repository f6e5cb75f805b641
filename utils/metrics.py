"""Headline figures of a chapter, written where the claims ledger and the checks read them.

``record_metrics("01_bptt", grad_check_max_rel_error=3e-10)`` shows the figures in the
notebook and, in the full profile only, writes ``book/metrics/01_bptt.json``:
``{"notebook", "profile", "code_hash", "metrics": {name: value}}``. Metric names are
part of the book's interface: keep them stable.
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Any

from .freshness import REPO_ROOT, notebook_fingerprint
from .profile import current_profile

METRICS_DIR = REPO_ROOT / "book" / "metrics"
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


def _plain(name: str, value: Any) -> float | int | str | list:
    if isinstance(value, (list, tuple)):
        return [_plain(name, v) for v in value]
    if hasattr(value, "item"):  # numpy / tf scalars
        value = value.item()
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise TypeError(f"metric {name!r} must be a number, string or list of them, not {type(value).__name__}")
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"metric {name!r} is {value}: a headline figure must be finite")
    return value


def record_metrics(notebook: str, **metrics: Any) -> dict[str, Any]:
    """Record a chapter's headline figures; write them to disk in the full profile.

    Returns the record. `notebook` is the notebook's stem, e.g. ``"01_bptt"``.
    """
    if not metrics:
        raise ValueError("record_metrics needs at least one metric")
    for name in metrics:
        if not _NAME.match(name):
            raise ValueError(f"metric name {name!r} must be snake_case")
    notebook_path = REPO_ROOT / "chapters" / f"{notebook}.ipynb"
    if not notebook_path.is_file():
        raise FileNotFoundError(f"no notebook {notebook_path.name} in chapters/")
    record = {
        "notebook": notebook,
        "profile": current_profile(),
        "code_hash": notebook_fingerprint(notebook_path)["code_hash"],
        "metrics": {name: _plain(name, value) for name, value in sorted(metrics.items())},
    }
    if record["profile"] == "full":
        METRICS_DIR.mkdir(parents=True, exist_ok=True)
        (METRICS_DIR / f"{notebook}.json").write_text(json.dumps(record, indent=2) + "\n")
    return record


def read_metrics(notebook: str) -> dict[str, Any]:
    """The metrics a full-profile run of `notebook` recorded."""
    path = METRICS_DIR / f"{notebook}.json"
    if not path.is_file():
        raise FileNotFoundError(f"{path} does not exist: run `make execute NB=chapters/{notebook}.ipynb`")
    return json.loads(path.read_text())["metrics"]
