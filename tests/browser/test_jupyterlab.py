"""Chapter 6 in a real JupyterLab, as a reader runs it after `make jupyter PROFILE=smoke`.

On a clone of the committed book (HEAD) in a temporary folder, with this virtualenv: start
JupyterLab on a free local port (token set, no browser) with the kernelspec, environment and
trust `tools/jupyter_reader.py` sets up, open chapters/06_dropout.ipynb in headless Chromium and

1. save it at once (Ctrl+S): no committed file changes, the freshness check passes;
2. run all cells (smoke profile): no error, no stderr, no TensorFlow log line in any output,
   and every slider changes its view when moved;
3. save it again: the notebook now holds the reader's smoke outputs, which the freshness check
   reports, and nothing else changed (no figure, no other file); `git checkout` (the README's
   reset) makes the book fresh again.

Trains a small model: run it alone on a shared machine. Needs RNNBOOK_DATA and Debian's chromium.
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from test_site import CHROMIUM, CHROMIUM_ARGS  # tests/browser is on sys.path (pytest prepends it)

from tools.jupyter_reader import reader_environment, write_kernelspec
from utils.freshness import TF_LOG_LINE
from utils.metrics import METRICS_MIME
from utils.paths import REPO_ROOT

CHAPTER = "06_dropout.ipynb"
JUPYTER = Path(sys.executable).parent / "jupyter"
RUN_TIMEOUT_S = 600  # chapter 6 runs in about 15 s in the smoke profile


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _git(book: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=book, check=True, capture_output=True, text=True).stdout


def _freshness(book: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "utils.freshness", "check", f"chapters/{CHAPTER}"], cwd=book,
                          env=env, capture_output=True, text=True)


class JupyterLab:
    """A JupyterLab server on `book`'s chapters, as `make jupyter` starts it, logging to a file."""

    def __init__(self, book: Path, home: Path, data: Path):
        self.book, self.port, self.token = book, _free_port(), "rnnbook-test"
        self.log = home / "jupyterlab.log"
        # the clone's package, not the one the virtualenv's editable install points at
        base = dict(os.environ, RNNBOOK_DATA=str(data), PYTHONPATH=str(book), HOME=str(home),
                    JUPYTER_CONFIG_DIR=str(home / "config"), JUPYTER_DATA_DIR=str(home / "data"),
                    JUPYTER_RUNTIME_DIR=str(home / "runtime"), IPYTHONDIR=str(home / "ipython"))
        self.env = reader_environment("smoke", write_kernelspec(home / "kernels"), base)
        chapters = sorted(str(p) for p in (book / "chapters").glob("[0-9][0-9]_*.ipynb"))
        subprocess.run([str(JUPYTER), "trust", *chapters], env=self.env, check=True, capture_output=True)
        command = [str(JUPYTER), "lab", "--no-browser", f"--port={self.port}", "--ip=127.0.0.1",
                   f"--IdentityProvider.token={self.token}", f"--ServerApp.root_dir={book / 'chapters'}"]
        if os.geteuid() == 0:
            command.append("--allow-root")
        self.process = subprocess.Popen(command, env=self.env, stdout=self.log.open("w"), stderr=subprocess.STDOUT)
        self.url = f"http://127.0.0.1:{self.port}"
        deadline = time.monotonic() + 90
        while True:
            try:
                urllib.request.urlopen(f"{self.url}/api/status?token={self.token}", timeout=5)
                break
            except OSError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    pytest.fail(f"JupyterLab did not start:\n{self.log.read_text()[-3000:]}")
                time.sleep(0.5)

    def saves(self) -> int:
        return self.log.read_text().count(f"Saving file at /{CHAPTER}")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()


@pytest.fixture
def book(tmp_path):
    """A clone of the committed book, checked out at this repository's HEAD."""
    head = _git(REPO_ROOT, "rev-parse", "HEAD").strip()
    clone = tmp_path / "book"
    subprocess.run(["git", "clone", "--quiet", "--no-hardlinks", "--no-checkout", str(REPO_ROOT), str(clone)],
                   check=True)
    _git(clone, "checkout", "--quiet", "--detach", head)
    return clone


def _save(page, lab: JupyterLab) -> None:
    """Ctrl+S in the notebook, as a reader saves; wait until the server has written the file."""
    before = lab.saves()
    page.locator(".jp-NotebookPanel:visible .jp-Notebook").first.click(position={"x": 5, "y": 5})
    page.keyboard.press("Control+s")
    deadline = time.monotonic() + 30
    while lab.saves() == before:
        assert time.monotonic() < deadline, "Ctrl+S did not save the notebook"
        time.sleep(0.2)
    page.wait_for_timeout(500)


def _wait_idle(page) -> None:
    page.wait_for_selector('.jp-NotebookPanel:visible .jp-Notebook-ExecutionIndicator[data-status="idle"]',
                           state="attached", timeout=90_000)


def _reader_visible_problems(notebook: dict) -> list[str]:
    """What a learner would take for an error: error outputs, stderr, TensorFlow log lines."""
    problems = []
    for index, cell in enumerate(notebook["cells"]):
        for output in cell.get("outputs", []):
            if output["output_type"] == "error":
                problems.append(f"code cell {index}: {output['ename']}: {output['evalue']}")
            if output["output_type"] == "stream" and output["name"] == "stderr":
                problems.append(f"code cell {index} writes to stderr: {''.join(output['text'])[:300]!r}")
            texts = [output.get("text", "")] + list(output.get("data", {}).values())
            for text in texts:
                text = "".join(text) if isinstance(text, list) else text
                if isinstance(text, str) and TF_LOG_LINE.search(text):
                    line = next(line for line in text.splitlines() if TF_LOG_LINE.match(line))
                    problems.append(f"code cell {index} shows a TensorFlow log line: {line[:200]!r}")
    return problems


def test_a_reader_runs_chapter_6_in_jupyterlab_and_saves(book, tmp_path, real_data_dir):
    from playwright.sync_api import TimeoutError as PlaywrightTimeout
    from playwright.sync_api import sync_playwright

    started = time.perf_counter()
    home = tmp_path / "home"
    home.mkdir()
    lab = JupyterLab(book, home, real_data_dir)
    notebook_file = book / "chapters" / CHAPTER
    metrics_before = {p.name: p.read_bytes() for p in (book / "book" / "metrics").glob("*.json")}
    failures: list[str] = []
    timings: dict[str, float] = {}
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
            page.goto(f"{lab.url}/lab/tree/{CHAPTER}?reset&token={lab.token}")
            _wait_idle(page)
            # trusted: the committed slider views show as widgets (restored from the saved state), not as text
            try:
                page.wait_for_selector(".jp-OutputArea-output .rnnbook-slider-views", state="attached", timeout=60_000)
            except PlaywrightTimeout:
                failures.append("the committed slider views do not show as widgets")
            as_text = page.locator(".jp-OutputArea-output", has_text="VBox(children=").count()
            if as_text:
                failures.append(f"{as_text} committed slider views show as text: is the notebook trusted?")

            # 1. open and save: the committed file does not change
            _save(page, lab)
            status = _git(book, "status", "--porcelain")
            if status:
                failures.append(f"opening and saving the chapter changed committed files:\n{status}"
                                f"{_git(book, 'diff', '--stat')}{_git(book, 'diff')[:2000]}")
                _git(book, "checkout", "--", ".")  # go on from the committed chapter
                page.reload()
                _wait_idle(page)
            checked = _freshness(book, lab.env)
            if checked.returncode:
                failures.append(f"the freshness check fails after opening and saving:\n{checked.stdout}")

            # 2. run all cells, as from the Run menu
            run_start = time.perf_counter()
            page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(r"^Run$")).click()
            page.locator(".lm-Menu-itemLabel", has_text=re.compile(r"^Run All Cells$")).click()
            page.wait_for_function("() => [...document.querySelectorAll('.jp-InputPrompt')]"
                                   ".some(p => p.textContent.includes('*'))", timeout=30_000)
            page.wait_for_function("() => ![...document.querySelectorAll('.jp-InputPrompt')]"
                                   ".some(p => p.textContent.includes('*'))", timeout=RUN_TIMEOUT_S * 1000)
            _wait_idle(page)
            timings["run all cells (s)"] = time.perf_counter() - run_start

            boxes = page.locator(".jp-OutputArea-output .rnnbook-slider-views")
            timings["sliders moved"] = boxes.count()
            if boxes.count() == 0:
                failures.append("no slider view rendered after running the chapter")
            for number in range(boxes.count()):
                box = boxes.nth(number)
                box.scroll_into_view_if_needed()
                handle, readout = box.locator(".noUi-handle").first, box.locator(".widget-readout").first
                label, shot = readout.inner_text(), box.screenshot()
                for key in ("ArrowRight", "ArrowLeft"):  # the other way when it starts at its last position
                    handle.focus()
                    page.keyboard.press(key)
                    page.wait_for_timeout(500)
                    if readout.inner_text() != label:
                        break
                if readout.inner_text() == label:
                    failures.append(f"slider {number} did not move (still {label!r})")
                elif box.screenshot() == shot:
                    failures.append(f"moving slider {number} from {label!r} to {readout.inner_text()!r} "
                                    f"did not change its view")

            # 3. save the reader's run
            _save(page, lab)
            browser.close()
    finally:
        lab.stop()

    saved = json.loads(notebook_file.read_text())
    failures += _reader_visible_problems(saved)
    profiles = {output["data"][METRICS_MIME]["profile"] for cell in saved["cells"] for output in cell.get("outputs", [])
                if METRICS_MIME in output.get("data", {})}
    if profiles != {"smoke"}:
        failures.append(f"the saved run recorded its figures in the profiles {profiles}, not the smoke profile")
    status = _git(book, "status", "--porcelain")
    if status.splitlines() != [f" M chapters/{CHAPTER}"]:
        failures.append(f"running and saving changed other files than the chapter:\n{status}")
    if {p.name: p.read_bytes() for p in (book / "book" / "metrics").glob("*.json")} != metrics_before:
        failures.append("running the chapter in JupyterLab changed the committed figures (book/metrics)")
    if "'smoke' profile" not in _freshness(book, lab.env).stdout:
        failures.append("the freshness check does not report the chapter's smoke outputs")
    _git(book, "checkout", "--", f"chapters/{CHAPTER}")  # the README's way back to the committed chapter
    checked = _freshness(book, lab.env)
    if checked.returncode or _git(book, "status", "--porcelain"):
        failures.append(f"after `git checkout` the book is not as committed:\n{checked.stdout}")

    timings["whole test (s)"] = time.perf_counter() - started
    print("\nreal-client test: " + ", ".join(f"{name} {value:.0f}" for name, value in timings.items()))
    assert not failures, "\n\n".join(failures)
