"""A built page on a slow phone link: first paint, a working menu, bytes moved.

The browser test uses `menu_timing` on every page; run by hand, this module prints the whole
table (first paint, working menu, bytes raw and gzip, what was requested) for a built site:

    .venv/bin/python tests/browser/slow_link.py [site folder] [page ...]

The link is emulated through the DevTools protocol (4 Mbit/s down, 150 ms round trip), with the
cache off, so each visit downloads every file again. "A working menu" is the first moment a tap
on the phone's menu button opens the chapter list, which needs the theme's scripts to have run.
"""

from __future__ import annotations

import functools
import gzip
import http.server
import sys
import threading
from pathlib import Path
from urllib.parse import unquote, urlparse

BYTES_PER_S = 4e6 / 8
LATENCY_MS = 150
PHONE = {"width": 390, "height": 844}
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
MENU_BUTTON = ".bd-header-article .primary-toggle"
MENU_DIALOG = "pst-primary-sidebar-modal"
CONTENTS_BUTTON = ".bd-header-article .secondary-toggle"
CONTENTS_DIALOG = "pst-secondary-sidebar-modal"
SEARCH_BUTTON = ".bd-header-article .search-button"
SEARCH_DIALOG = "pst-search-dialog"


def throttle(context, page) -> None:
    """4 Mbit/s with 150 ms latency, no cache, for `page`."""
    cdp = context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})
    cdp.send("Network.emulateNetworkConditions", {"offline": False, "latency": LATENCY_MS,
             "downloadThroughput": BYTES_PER_S, "uploadThroughput": BYTES_PER_S})


def _tap_until_open(page, button_selector: str, dialog_id: str, give_up_s: float) -> float | None:
    """Tap the first `button_selector` until the dialog `dialog_id` opens; when it opened, in seconds
    since the navigation started (as the page saw it: the test's polling comes later)."""
    button = page.locator(button_selector).first
    opened = f"() => (window.__rnnbookOpened || {{}})['{dialog_id}'] || null"
    while page.evaluate("performance.now()") < give_up_s * 1000:
        try:
            button.tap(timeout=250, no_wait_after=True)
        except Exception:  # not painted yet, covered, or already open (its backdrop covers it)
            pass
        try:
            page.wait_for_function(opened, timeout=250)
        except Exception:  # the theme's scripts have not bound the button yet
            continue
        return page.evaluate(opened) / 1000
    return None


# records when each <dialog> first opens
_DIALOG_WATCH = """window.__rnnbookOpened = {};
new MutationObserver(changes => changes.forEach(change => {
    const d = change.target;
    if (d.tagName === 'DIALOG' && d.open && !(d.id in window.__rnnbookOpened))
        window.__rnnbookOpened[d.id] = performance.now();
})).observe(document, {attributes: true, subtree: true, attributeFilter: ['open']});"""


def _close_dialogs(page) -> None:
    page.keyboard.press("Escape")
    page.wait_for_selector("dialog[open]", state="detached", timeout=3000)
    # focus goes back to the button that opened the dialog, whose tooltip then covers its neighbour
    page.evaluate("() => document.activeElement && document.activeElement.blur()")
    page.wait_for_selector(".tooltip", state="detached", timeout=3000)
    page.wait_for_timeout(100)  # the closing dialog's backdrop


def menu_timing(browser, url: str, give_up_s: float = 60.0) -> dict:
    """Open `url` on a throttled phone; tap the menu button until the chapter list opens, then
    "On this page" (where the page has one) and search.

    Returns {"first_paint_s", "menu_s", "contents_s", "search_s", "has_contents", "requests": [urls]};
    a time is None when that control did not respond within `give_up_s` seconds of the navigation
    (contents_s also when the page has no "On this page" button: has_contents is False).
    """
    context = browser.new_context(viewport=PHONE, has_touch=True, is_mobile=True)
    page = context.new_page()
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    page.add_init_script(_DIALOG_WATCH)
    try:
        throttle(context, page)
        page.goto(url, wait_until="commit", timeout=int(give_up_s * 1000))
        menu_s = _tap_until_open(page, MENU_BUTTON, MENU_DIALOG, give_up_s)
        contents_s = search_s = None
        has_contents = False
        if menu_s is not None:
            _close_dialogs(page)
            has_contents = page.locator(CONTENTS_BUTTON).first.is_visible()
            if has_contents:
                contents_s = _tap_until_open(page, CONTENTS_BUTTON, CONTENTS_DIALOG, give_up_s)
                _close_dialogs(page)
            search_s = _tap_until_open(page, SEARCH_BUTTON, SEARCH_DIALOG, give_up_s)
        paint = page.evaluate("() => (performance.getEntriesByName('first-contentful-paint')[0] || {}).startTime")
        return {"first_paint_s": paint / 1000 if paint else None, "menu_s": menu_s, "contents_s": contents_s,
                "search_s": search_s, "has_contents": has_contents, "requests": list(requests)}
    finally:
        context.close()


def transferred(browser, url: str, site: Path, settle_ms: int = 2000) -> dict:
    """What a throttled phone downloads for `url` until the network is quiet (no scrolling).

    Bytes are the served files' sizes, raw and gzip-compressed (level 6), summed over the
    distinct files requested from the site.
    """
    context = browser.new_context(viewport=PHONE, has_touch=True, is_mobile=True)
    page = context.new_page()
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    try:
        throttle(context, page)
        page.goto(url, wait_until="domcontentloaded", timeout=300_000)
        try:
            page.wait_for_load_state("networkidle", timeout=180_000)
        except Exception:  # a page that never goes quiet: count what it fetched in three minutes
            pass
        page.wait_for_timeout(settle_ms)
        raw = packed = 0
        files = []
        for address in dict.fromkeys(requests):
            path = site / unquote(urlparse(address).path).lstrip("/")
            if path.is_dir():
                path = path / "index.html"
            if not path.is_file():
                continue
            data = path.read_bytes()
            raw += len(data)
            packed += len(gzip.compress(data, compresslevel=6))
            files.append(path.relative_to(site).as_posix())
        return {"raw_bytes": raw, "gzip_bytes": packed, "files": files}
    finally:
        context.close()


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def serve_site(argv: list[str]) -> tuple[Path, list[str], http.server.ThreadingHTTPServer]:
    """The command line's built site (default _build/html) served on a free local port, and its
    pages (those named, or every page outside the underscore folders). Shared by the page scripts."""
    site = Path(argv[0]) if argv else Path(__file__).resolve().parents[2] / "_build" / "html"
    pages = argv[1:] or sorted(str(p.relative_to(site)) for p in site.rglob("*.html")
                               if not p.relative_to(site).parts[0].startswith("_"))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(site)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return site, pages, server


def main(argv: list[str]) -> None:
    from playwright.sync_api import sync_playwright

    site, pages, server = serve_site(argv)
    root = f"http://127.0.0.1:{server.server_address[1]}"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        print("| page | first paint | working menu | On this page | search | raw | gzip | files |")
        print("|---|---|---|---|---|---|---|---|")
        for path in pages:
            try:
                timing = menu_timing(browser, f"{root}/{path}", give_up_s=120)
                size = transferred(browser, f"{root}/{path}", site)
            except Exception as exc:  # e.g. the root's redirecting index.html navigates away
                print(f"| {path} | {type(exc).__name__} |", flush=True)
                continue
            paint = f"{timing['first_paint_s']:.1f} s" if timing["first_paint_s"] else "-"
            menu, contents, search = (f"{timing[k]:.1f} s" if timing[k] is not None else "-"
                                      for k in ("menu_s", "contents_s", "search_s"))
            print(f"| {path} | {paint} | {menu} | {contents} | {search} | {size['raw_bytes'] / 1e6:.2f} MB | "
                  f"{size['gzip_bytes'] / 1e6:.2f} MB | {len(size['files'])} |", flush=True)
        browser.close()
    server.shutdown()


if __name__ == "__main__":
    main(sys.argv[1:])
