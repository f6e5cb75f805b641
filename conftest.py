"""Run times of the smoke profile: nbval's run of each notebook is printed and recorded.

The time of a notebook is the sum of its cells' set-up, run and tear-down, kernel start
included. A time over the notebook's budget is a benchmark figure, reported, not a failure:
the machine may be shared with other work. Only a run over BUDGET_FAILURE_FACTOR times its
budget fails the session, which still catches a notebook running its full sizes. With
RNNBOOK_RECORD_SMOKE_TIMES=1 (`make smoke-times`) a passing session also writes the times to
book/smoke_times.json, which the landing page's run-time table and the README read.
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


def _budgets() -> dict[str, float]:
    from utils.freshness import smoke_budget_s
    from utils.paths import REPO_ROOT

    # node ids are relative to the root the tests run from; the settings file sits beside the notebook
    return {path: smoke_budget_s(REPO_ROOT / path) for path in _seconds}


def _far_over_budget() -> dict[str, tuple[float, float]]:
    from utils.freshness import BUDGET_FAILURE_FACTOR

    return {path: (_seconds[path], budget) for path, budget in _budgets().items()
            if _seconds[path] > BUDGET_FAILURE_FACTOR * budget}


def pytest_terminal_summary(terminalreporter):
    if not _seconds:
        return
    from utils.freshness import BUDGET_FAILURE_FACTOR, budget_note

    terminalreporter.section("notebook run times (smoke profile)")
    for path, budget in sorted(_budgets().items()):
        terminalreporter.write_line(budget_note(path, _seconds[path], budget))
    for path, (seconds, budget) in _far_over_budget().items():
        terminalreporter.write_line(f"FAILED {path}: {seconds:.1f} s is over {BUDGET_FAILURE_FACTOR} x its budget "
                                    f"of {budget} s: is it running its full sizes?")


def pytest_sessionfinish(session, exitstatus):
    from utils.paths import SMOKE_TIMES

    if _far_over_budget() and session.exitstatus == 0:
        session.exitstatus = 1
    if _seconds and session.exitstatus == 0 and os.environ.get("RNNBOOK_RECORD_SMOKE_TIMES") == "1":
        times = json.loads(SMOKE_TIMES.read_text()) if SMOKE_TIMES.is_file() else {}
        times.update({Path(path).stem: round(seconds, 1) for path, seconds in _seconds.items()})
        SMOKE_TIMES.write_text(json.dumps(dict(sorted(times.items())), indent=2) + "\n")
