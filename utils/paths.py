"""Where the book's files live, defined once for the package."""

from __future__ import annotations

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
CHAPTERS_DIR = REPO_ROOT / "chapters"
METRICS_DIR = REPO_ROOT / "book" / "metrics"
SMOKE_TIMES = REPO_ROOT / "book" / "smoke_times.json"  # recorded by `make smoke-times`
LOCK_FILE = REPO_ROOT / "constraints.txt"
REPRODUCIBILITY_FILE = REPO_ROOT / "book" / "reproducibility.json"  # written by `make reproduce`
