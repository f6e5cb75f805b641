"""The built site in headless Chromium: every page loads cleanly, every slider switches views.

Needs `make site` first (`make test` runs it) and Debian's chromium.
"""

from __future__ import annotations

import functools
import http.server
import threading
from pathlib import Path
from urllib.parse import urlparse

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
SITE = REPO_ROOT / "_build" / "html"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
PAGES = sorted(str(p.relative_to(SITE)) for p in SITE.rglob("*.html")
               if not p.relative_to(SITE).parts[0].startswith("_")) if SITE.is_dir() else []


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="session")
def site_url():
    if not (SITE / "index.html").is_file():
        pytest.fail(f"{SITE} has no built site: run `make site` first")
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_QuietHandler, directory=str(SITE)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


class PageVisit:
    """Open one page, recording JS errors and any request that leaves 127.0.0.1."""

    def __init__(self, browser, url: str):
        self.errors: list[str] = []
        self.outside: list[str] = []
        self.failed: list[str] = []
        self.context = browser.new_context(viewport={"width": 1280, "height": 900})
        self.page = self.context.new_page()
        self.page.on("pageerror", lambda exc: self.errors.append(f"pageerror: {exc}"))
        self.page.on("console", lambda msg: self.errors.append(f"console: {msg.text}")
                     if msg.type == "error" else None)
        self.page.on("requestfailed", lambda req: self.failed.append(f"{req.url} {req.failure}"))
        self.page.on("response", lambda resp: self.failed.append(f"{resp.url} HTTP {resp.status}")
                     if resp.status >= 400 else None)
        self.page.route("**/*", self._route)
        self.page.goto(url, wait_until="networkidle")

    def _route(self, route):
        url = route.request.url
        if urlparse(url).scheme in ("data", "blob") or urlparse(url).hostname == "127.0.0.1":
            route.continue_()
        else:
            self.outside.append(url)
            route.abort()

    def close(self):
        self.context.close()


def test_the_site_has_pages():
    chapters = {f"chapters/{path.stem}.html" for path in (REPO_ROOT / "chapters").glob("[0-9][0-9]_*.ipynb")}
    book_pages = {"book/migration.html", "book/claims.html", "book/errata.html", "book/glossary.html",
                  "book/references.html"}
    assert len(chapters) >= 8
    assert "index.html" in PAGES and chapters <= set(PAGES) and book_pages <= set(PAGES)


@pytest.mark.parametrize("page_path", PAGES)
def test_page_loads_without_errors_or_outside_requests(browser, site_url, page_path):
    visit = PageVisit(browser, f"{site_url}/{page_path}")
    try:
        visit.page.wait_for_timeout(300)
        assert visit.outside == [], f"requests outside 127.0.0.1: {visit.outside}"
        assert visit.errors == [], f"JavaScript errors: {visit.errors}"
        assert visit.failed == [], f"failed requests: {visit.failed}"
    finally:
        visit.close()


WIDGET_PAGES = [p for p in PAGES
                if "application/vnd.jupyter.widget-view+json" in (SITE / p).read_text(errors="ignore")]


def _visible_view(page, box) -> str:
    """An identifier of the Stack child that is visible now (the image data or the HTML)."""
    return page.evaluate(
        """(box) => {
            const shown = [...box.querySelectorAll('img, .widget-html-content')]
                .filter(el => el.offsetParent !== null && el.getClientRects().length > 0);
            return shown.map(el => el.src || el.innerHTML).join('|');
        }""", box)


def test_the_chapters_with_sliders_have_widgets():
    expected = {"chapters/01_bptt.html", "chapters/04_creative_rnn.html", "chapters/06_dropout.html",
                "chapters/08_embeddings.html", "chapters/09_seq2seq.html"}
    present = {f"chapters/{path.stem}.html" for path in (REPO_ROOT / "chapters").glob("[0-9][0-9]_*.ipynb")}
    assert expected & present <= set(WIDGET_PAGES)


@pytest.mark.parametrize("page_path", WIDGET_PAGES)
def test_every_slider_switches_the_visible_view(browser, site_url, page_path, tmp_path):
    visit = PageVisit(browser, f"{site_url}/{page_path}")
    page = visit.page
    try:
        page.wait_for_selector(".rnnbook-slider-views .noUi-handle", timeout=20_000)
        boxes = page.query_selector_all(".rnnbook-slider-views")
        assert boxes, "no slider view rendered"
        for number, box in enumerate(boxes):
            box.scroll_into_view_if_needed()
            handle = box.query_selector(".noUi-handle")
            readout = box.query_selector(".widget-readout")
            seen_views = [_visible_view(page, box)]
            seen_labels = [readout.inner_text()]
            shots = [box.screenshot(path=str(tmp_path / f"view{number}_0.png"))]
            assert seen_views[0], "no visible view at the first position"
            key = "ArrowRight"
            for position in (1, 2):
                handle.focus()
                page.keyboard.press(key)
                page.wait_for_timeout(300)
                if readout.inner_text() == seen_labels[-1] and key == "ArrowRight":
                    key = "ArrowLeft"  # the slider starts at its last position: walk the other way
                    page.keyboard.press(key)
                    page.wait_for_timeout(300)
                seen_views.append(_visible_view(page, box))
                seen_labels.append(readout.inner_text())
                shots.append(box.screenshot(path=str(tmp_path / f"view{number}_{position}.png")))
            assert len(set(seen_labels)) == 3, f"the slider did not move: {seen_labels}"
            assert len(set(seen_views)) == 3, "moving the slider did not change the visible view"
            assert len(set(shots)) == 3, "the screenshots at three positions are not all different"
        assert visit.errors == [] and visit.outside == []
    finally:
        visit.close()
