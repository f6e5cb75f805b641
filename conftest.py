"""Run-time budget of the smoke profile: nbval's run of each notebook must fit in it.

The time of a notebook is the sum of its cells' set-up, run and tear-down, kernel start
included; a notebook over its budget fails the session. With RNNBOOK_RECORD_SMOKE_TIMES=1
(`make smoke-times`) a passing session also writes the times to book/smoke_times.json, which
the landing page's run-time table reads.
"""

import json
import os
from collections import defaultdict
from pathlib import Path

_seconds: dict[str, float] = defaultdict(float)


def pytest_runtest_logreport(report):
    path = report.nodeid.split("::")[0]
    if path.endswith(".ipynb"):
        _seconds[path] += report.duration


def _over_budget():
    from utils.freshness import smoke_budget_s

    return {path: (seconds, smoke_budget_s(Path(path).stem)) for path, seconds in _seconds.items()
            if seconds > smoke_budget_s(Path(path).stem)}


def pytest_terminal_summary(terminalreporter):
    if not _seconds:
        return
    terminalreporter.section("notebook run times")
    for path, seconds in sorted(_seconds.items()):
        terminalreporter.write_line(f"{path}: {seconds:.1f} s")
    for path, (seconds, budget) in _over_budget().items():
        terminalreporter.write_line(f"OVER BUDGET {path}: {seconds:.1f} s > {budget} s")


SMOKE_TIMES = Path(__file__).resolve().parent / "book" / "smoke_times.json"


def pytest_sessionfinish(session, exitstatus):
    if _over_budget() and session.exitstatus == 0:
        session.exitstatus = 1
    if _seconds and session.exitstatus == 0 and os.environ.get("RNNBOOK_RECORD_SMOKE_TIMES") == "1":
        times = json.loads(SMOKE_TIMES.read_text()) if SMOKE_TIMES.is_file() else {}
        times.update({Path(path).stem: round(seconds, 1) for path, seconds in _seconds.items()})
        SMOKE_TIMES.write_text(json.dumps(dict(sorted(times.items())), indent=2) + "\n")
