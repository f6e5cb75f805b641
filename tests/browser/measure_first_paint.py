"""First paint of a built page in Chromium, throttled to 4 Mbit/s (not a test; run by hand).

    .venv/bin/python tests/browser/measure_first_paint.py chapters/06_dropout.html [runs] [site folder]

Network emulation goes through the DevTools protocol (playwright's CDP session), with the cache
off, so each run downloads every file again.
"""

from __future__ import annotations

import functools
import http.server
import sys
import threading

from playwright.sync_api import sync_playwright

from utils.paths import REPO_ROOT as ROOT

ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
BYTES_PER_S = 4e6 / 8


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def main(path: str, runs: int = 2, site: str = str(ROOT / "_build" / "html")) -> None:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=site))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/{path}"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
        for run in range(runs):
            context = browser.new_context(viewport={"width": 1280, "height": 900})
            page = context.new_page()
            cdp = context.new_cdp_session(page)
            cdp.send("Network.enable")
            cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})
            cdp.send("Network.emulateNetworkConditions", {"offline": False, "latency": 20,
                     "downloadThroughput": BYTES_PER_S, "uploadThroughput": BYTES_PER_S})
            page.goto(url, wait_until="load", timeout=180_000)
            paint = page.evaluate("() => Object.fromEntries(performance.getEntriesByType('paint')"
                                  ".map(e => [e.name, e.startTime]))")
            load = page.evaluate("() => performance.getEntriesByType('navigation')[0].loadEventStart")
            print(f"{path} run {run}: first paint {paint.get('first-paint', 0) / 1000:.1f} s, "
                  f"first contentful paint {paint.get('first-contentful-paint', 0) / 1000:.1f} s, "
                  f"load {load / 1000:.1f} s")
            context.close()
        browser.close()
    server.shutdown()


if __name__ == "__main__":
    main(sys.argv[1], *(int(a) if i == 0 else a for i, a in enumerate(sys.argv[2:])))
