"""axe-core's accessibility rules on built pages (the browser test runs them on every page).

    .venv/bin/python tests/browser/axe_report.py [site folder] [page ...]

axe-core comes from npm at the version pinned in tools/vendor_widgets.py, kept in book/_vendor
(not served by the site): it is injected into the page by the test.
"""

from __future__ import annotations

import sys
from pathlib import Path

AXE = Path(__file__).resolve().parents[2] / "book" / "_vendor" / "axe-core" / "axe.min.js"
WIDTHS = (390, 1280)


def axe_violations(page, within: str | None = None) -> list[dict]:
    """[{id, impact, nodes: [target, ...], count}] for every rule the loaded page (or the elements
    matching the CSS selector `within`) breaks."""
    if not AXE.is_file():
        raise FileNotFoundError(f"{AXE} is missing: run tools/vendor_widgets.py (make vendor)")
    if not page.evaluate("() => typeof axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE))
    found = page.evaluate("""async (within) => {
        const context = within ? {include: [...document.querySelectorAll(within)]} : document;
        const result = await axe.run(context, {resultTypes: ['violations']});
        return result.violations.map(v => ({id: v.id, impact: v.impact,
            nodes: v.nodes.map(n => n.target.join(' ')).slice(0, 5), count: v.nodes.length}));
    }""", within)
    return found


def main(argv: list[str]) -> None:
    from playwright.sync_api import sync_playwright
    from slow_link import CHROMIUM, CHROMIUM_ARGS, serve_site

    site, pages, server = serve_site(argv)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        for path in pages:
            for width in WIDTHS:
                context = browser.new_context(viewport={"width": width, "height": 844})
                page = context.new_page()
                page.goto(f"http://127.0.0.1:{server.server_address[1]}/{path}", wait_until="networkidle")
                violations = axe_violations(page)
                summary = ", ".join(f"{v['id']} ({v['impact']}, {v['count']})" for v in violations) or "none"
                print(f"{path} @ {width}px: {summary}", flush=True)
                for v in violations:
                    print(f"    {v['id']}: {v['nodes']}")
                context.close()
        browser.close()
    server.shutdown()


if __name__ == "__main__":
    main(sys.argv[1:])
