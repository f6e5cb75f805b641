"""The built site in headless Chromium: every page loads cleanly, every slider switches views,
every page reads on a phone and on a wide screen, widgets show a first view before (and without)
their scripts, and Chinese search finds the glossary.

Needs `make site` first (`make test` runs it) and Debian's chromium. Screenshots are written to
_build/browser-screenshots/ (not part of the site, not committed).
"""

from __future__ import annotations

import functools
import http.server
import json
import re
import threading
from urllib.parse import quote, urlparse

import pytest
import slow_link
from axe_report import axe_violations

from utils.paths import CHAPTERS_DIR, REPO_ROOT

SITE = REPO_ROOT / "_build" / "html"
SHOTS = REPO_ROOT / "_build" / "browser-screenshots"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
PAGES = sorted(str(p.relative_to(SITE)) for p in SITE.rglob("*.html")
               if not p.relative_to(SITE).parts[0].startswith("_")) if SITE.is_dir() else []
# pages with an article (not the redirecting index, the search page or the index of terms)
ARTICLES = [p for p in PAGES if p.startswith(("book/", "chapters/"))]
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}


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
        # real scrollbars, as on a desktop: playwright hides them by default
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS,
                                             ignore_default_args=["--hide-scrollbars"])
        yield browser
        browser.close()


def _shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / (re.sub(r"[^A-Za-z0-9_.-]+", "_", name) + ".png")))


class PageVisit:
    """Open one page, recording JS errors and any request that leaves 127.0.0.1."""

    def __init__(self, browser, url: str, viewport: dict | None = None, javascript: bool = True,
                 hold: str | None = None, wait_until: str = "networkidle"):
        self.errors: list[str] = []
        self.outside: list[str] = []
        self.failed: list[str] = []
        self.held: list = []  # requests whose URL contains `hold`, answered by release()
        self.hold = hold
        self.context = browser.new_context(viewport=viewport or DESKTOP, java_script_enabled=javascript)
        self.page = self.context.new_page()
        self.page.on("pageerror", lambda exc: self.errors.append(f"pageerror: {exc}"))
        self.page.on("console", lambda msg: self.errors.append(f"console: {msg.text}")
                     if msg.type == "error" else None)
        self.page.on("requestfailed", lambda req: self.failed.append(f"{req.url} {req.failure}"))
        self.page.on("response", lambda resp: self.failed.append(f"{resp.url} HTTP {resp.status}")
                     if resp.status >= 400 else None)
        self.page.route("**/*", self._route)
        self.page.goto(url, wait_until=wait_until)

    def _route(self, route):
        url = route.request.url
        if urlparse(url).scheme in ("data", "blob") or urlparse(url).hostname == "127.0.0.1":
            if self.hold and self.hold in url:
                self.held.append(route)
            else:
                route.continue_()
        else:
            self.outside.append(url)
            route.abort()

    def release(self):
        self.hold = None
        while self.held:
            self.held.pop().continue_()

    def close(self):
        self.context.close()


def test_the_site_has_pages():
    chapters = {f"chapters/{path.stem}.html" for path in CHAPTERS_DIR.glob("[0-9][0-9]_*.ipynb")}
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
        # images are described, not named by their hashed file name
        bad_alt = visit.page.evaluate(
            "() => [...document.images].map(i => i.getAttribute('alt') || '')"
            ".filter(a => !a.trim() || /\\.(png|jpe?g|svg)$/i.test(a))")
        assert bad_alt == [], f"images without a real alt text: {bad_alt[:3]}"
        # every figure of the site opens at full size
        unlinked = visit.page.evaluate(
            "() => [...document.querySelectorAll('.bd-article img')].filter(i => i.src.includes('/_images/'))"
            ".filter(i => { const a = i.closest('a[href]'); return !a || a.href !== i.src; }).map(i => i.src)")
        assert unlinked == [], f"figures that do not link to their full size: {unlinked[:3]}"
    finally:
        visit.close()


# ------------------------------------------------------------------------------ layout

# Elements wider than the viewport that no scroll container holds; display equations and tables
# whose content overflows without a scroll container that shows an edge shadow.
_LAYOUT_PROBLEMS = """() => {
    const vw = document.documentElement.clientWidth;
    const problems = [];
    const visible = el => {
        const s = getComputedStyle(el);
        return s.visibility !== 'hidden' && s.display !== 'none' && el.getClientRects().length > 0;
    };
    const scroller = el => {
        for (let p = el.parentElement; p && p !== document.body; p = p.parentElement) {
            const x = getComputedStyle(p).overflowX;
            if (x === 'auto' || x === 'scroll' || x === 'hidden') return p;
        }
        return null;
    };
    const affordance = el => {
        const s = getComputedStyle(el);
        return (s.overflowX === 'auto' || s.overflowX === 'scroll')
            && (s.backgroundImage.includes('gradient') || el.offsetHeight - el.clientHeight > 0);
    };
    if (document.documentElement.scrollWidth > vw + 1)
        problems.push(`the page is ${document.documentElement.scrollWidth} px wide in a ${vw} px viewport`);
    for (const el of document.querySelectorAll('.bd-main *')) {
        const r = el.getBoundingClientRect();
        if (r.width === 0 || r.right <= vw + 1 || !visible(el)) continue;
        const box = scroller(el);
        if (box && box.getBoundingClientRect().right <= vw + 1) continue;
        if (el.parentElement && el.parentElement.getBoundingClientRect().right > vw + 1) continue;
        problems.push(`${el.tagName.toLowerCase()}.${String(el.className).slice(0, 40)} ends at ${Math.round(r.right)} px`);
    }
    for (const m of document.querySelectorAll('.bd-article .katex-display > .katex > .katex-html')) {
        if (m.scrollWidth > m.clientWidth + 1 && !affordance(m))
            problems.push(`equation clipped without a scroll affordance: ${m.textContent.slice(0, 40)}`);
    }
    for (const c of document.querySelectorAll('.bd-article div.highlight pre')) {
        // phones draw no lasting scrollbar: code needs the edge shadow itself
        if (c.scrollWidth > c.clientWidth + 1 && !getComputedStyle(c).backgroundImage.includes('gradient'))
            problems.push(`code scrolls sideways without a cue: ${c.textContent.slice(0, 40)}`);
    }
    for (const t of document.querySelectorAll('.bd-article table')) {
        const box = t.parentElement;
        if (t.getBoundingClientRect().width > box.clientWidth + 1 && !affordance(box))
            problems.push(`table clipped without a scroll affordance: ${t.textContent.slice(0, 40)}`);
    }
    return problems;
}"""


@pytest.mark.parametrize("page_path", ARTICLES)
def test_page_reads_on_a_phone_and_its_navigation_works(browser, site_url, page_path):
    visit = PageVisit(browser, f"{site_url}/{page_path}", viewport=PHONE)
    page = visit.page
    try:
        page.wait_for_timeout(300)
        problems = page.evaluate(_LAYOUT_PROBLEMS)
        _shot(page, f"phone_{page_path}")
        assert problems == [], f"at 390 px: {problems[:5]}"

        # the "On this page" button opens the page's contents (when the page has sections); Escape
        # closes it, and so does a tap on a section, which shows that section
        secondary = page.locator(".bd-header-article .secondary-toggle")
        if secondary.count() and secondary.first.is_visible():
            secondary.first.click()
            page.wait_for_selector("#pst-secondary-sidebar-modal[open]", timeout=3000)
            page.keyboard.press("Escape")
            page.wait_for_selector("#pst-secondary-sidebar-modal:not([open])", state="attached", timeout=3000)
            secondary.first.click()
            drawer = page.wait_for_selector("#pst-secondary-sidebar-modal[open]", timeout=3000)
            sections = [a for a in drawer.query_selector_all("a[href*='#']") if a.is_visible()]
            if sections:
                section = sections[-1]
                anchor = section.get_attribute("href").split("#")[1]
                section.click()
                page.wait_for_selector("#pst-secondary-sidebar-modal:not([open])", state="attached", timeout=3000)
                page.wait_for_timeout(300)
                top = page.evaluate("id => document.getElementById(decodeURIComponent(id)).getBoundingClientRect().top",
                                    anchor)
                assert -5 <= top < PHONE["height"], f"the tapped section is not shown (top at {top} px)"
                page.evaluate("() => window.scrollTo(0, 0)")

        assert not page.locator(".rnnbook-nojs-nav").is_visible(), "the no-JavaScript list shows with JavaScript on"
        # the hamburger opens the chapter list; a link in it leads to another page
        toggle = page.locator(".bd-header-article .primary-toggle").first
        assert toggle.is_visible(), "no visible navigation button on a phone"
        toggle.click()
        dialog = page.wait_for_selector("#pst-primary-sidebar-modal[open]", timeout=3000)
        links = [a for a in dialog.query_selector_all("nav a.reference.internal") if a.is_visible()]
        assert len(links) >= 8, "the chapter list is not shown"
        _shot(page, f"phone_nav_{page_path}")
        current = page.url.split("#")[0]
        target = next(a for a in links if a.get_attribute("href") not in ("#", "") and
                      not current.endswith(a.get_attribute("href").split("#")[0].lstrip("./")))
        with page.expect_navigation():
            target.click()
        page.wait_for_load_state("networkidle")
        assert page.url.split("#")[0] != current
        assert page.locator("article.bd-article h1").first.is_visible()
        assert visit.errors == [] and visit.outside == [] and visit.failed == []
    finally:
        visit.close()


@pytest.mark.parametrize("page_path", ARTICLES)
def test_a_phone_without_javascript_reaches_every_chapter(browser, site_url, page_path):
    visit = PageVisit(browser, f"{site_url}/{page_path}", viewport=PHONE, javascript=False, wait_until="load")
    page = visit.page
    try:
        nav = page.locator(".rnnbook-nojs-nav")
        assert nav.is_visible(), "no list of pages without JavaScript"
        dead = [b for b in page.locator(".bd-header-article button").all() if b.is_visible()]
        assert dead == [], f"{len(dead)} buttons that cannot work without JavaScript are shown"
        nav.locator("summary").click()
        links = [a for a in nav.locator("a[href]").all() if a.is_visible()]
        reached = {urlparse(a.evaluate("a => a.href")).path.lstrip("/") for a in links}
        chapters = {f"chapters/{path.stem}.html" for path in CHAPTERS_DIR.glob("[0-9][0-9]_*.ipynb")}
        assert chapters <= reached, f"chapters missing from the list: {sorted(chapters - reached)}"
        target = next(a for a in links if urlparse(a.evaluate("a => a.href")).path.lstrip("/") != page_path)
        with page.expect_navigation():
            target.click()
        assert page.locator("article.bd-article h1").first.is_visible()
        _shot(page, f"nojs_nav_{page_path}")
    finally:
        visit.close()


@pytest.mark.parametrize("page_path", ARTICLES)
def test_page_reads_on_a_wide_screen(browser, site_url, page_path):
    visit = PageVisit(browser, f"{site_url}/{page_path}", viewport=DESKTOP)
    page = visit.page
    try:
        problems = page.evaluate(_LAYOUT_PROBLEMS)
        # the generated tables fit the text column: every column, the verdict included, is seen
        for table in page.query_selector_all("table.rnnbook-table"):
            width, room = table.evaluate("t => [t.getBoundingClientRect().width, t.parentElement.clientWidth]")
            if width > room + 1:
                problems.append(f"{table.get_attribute('class')}: {width:.0f} px in {room} px")
        _shot(page, f"desktop_{page_path}")
        assert problems == [], f"at 1280 px: {problems[:5]}"
        # one search box, and the hamburger collapses and restores the sidebar
        boxes = [b for b in page.query_selector_all(".search-button-field") if b.is_visible()]
        assert len(boxes) == 1, f"{len(boxes)} search boxes"
        sidebar = page.locator("#pst-primary-sidebar")
        assert sidebar.is_visible()
        page.locator(".bd-header-article .primary-toggle").first.click()
        page.wait_for_timeout(600)
        assert not sidebar.is_visible(), "the hamburger did not collapse the sidebar"
        page.locator(".bd-header-article .primary-toggle").first.click()
        page.wait_for_timeout(600)
        assert sidebar.is_visible()
        assert visit.errors == []
    finally:
        visit.close()


# ------------------------------------------------------------------------------ a slow phone link

RESPONSIVE_GOAL_S = 5.0  # menu, "On this page" and search respond within this on 4 Mbit/s, 150 ms
TIMINGS = REPO_ROOT / "_build" / "browser-slow-link.json"


@pytest.fixture(scope="session")
def slow_link_timings():
    timings: dict[str, dict] = {}
    yield timings
    if timings:
        TIMINGS.write_text(json.dumps(timings, indent=1, sort_keys=True) + "\n")
        print("\nslow link (4 Mbit/s, 150 ms), phone: first paint / menu / On this page / search, seconds")
        for page_path, t in sorted(timings.items()):
            print(f"  {page_path}: " + " / ".join(f"{t[k]:.1f}" if t[k] is not None else "-"
                                                  for k in ("first_paint_s", "menu_s", "contents_s", "search_s")))


@pytest.mark.parametrize("page_path", ARTICLES)
def test_the_navigation_responds_soon_on_a_slow_phone_link(browser, site_url, page_path, slow_link_timings):
    # a time is a recorded figure (_build/browser-slow-link.json); only three times the goal fails
    timing = slow_link.menu_timing(browser, f"{site_url}/{page_path}", give_up_s=3 * RESPONSIVE_GOAL_S)
    slow_link_timings[page_path] = {k: v for k, v in timing.items() if k != "requests"}
    for control in ("menu_s", "search_s") + (("contents_s",) if timing["has_contents"] else ()):
        assert timing[control] is not None, (
            f"{control[:-2]} did not respond within {3 * RESPONSIVE_GOAL_S:.0f} s: {timing}")
    # and nothing it downloaded before the menu worked was widget or maths code
    code = [r for r in timing["requests"] if re.search(r"embed-amd|require\.js|mathjax|fontawesome\.js|katex[^/]*\.js", r)]
    assert code == [], f"loaded before the page was used: {code}"


# ------------------------------------------------------------------------------ accessibility

@pytest.mark.parametrize("width", [390, 1280])
@pytest.mark.parametrize("page_path", PAGES)
def test_axe_finds_no_violations(browser, site_url, page_path, width):
    visit = PageVisit(browser, f"{site_url}/{page_path}", viewport={"width": width, "height": 844})
    page = visit.page
    try:
        page.wait_for_timeout(300)
        violations = axe_violations(page)
        if page.locator(".rnnbook-widget-fallback").count():  # and once the widgets have rendered
            page.locator(".rnnbook-widget-fallback").first.scroll_into_view_if_needed()
            page.wait_for_selector(".rnnbook-slider-views .noUi-handle", timeout=30_000)
            page.wait_for_timeout(500)
            violations += axe_violations(page, within=".cell_output:has(.rnnbook-slider-views)")
        assert violations == [], "\n".join(f"{v['id']} ({v['impact']}): {v['nodes']}" for v in violations)
    finally:
        visit.close()


def test_the_widget_readout_is_no_tab_stop_of_its_own(browser, site_url):
    page_path = next(p for p in WIDGET_PAGES if p.startswith("chapters/"))
    visit = PageVisit(browser, f"{site_url}/{page_path}")
    page = visit.page
    try:
        page.locator(".rnnbook-widget-fallback").first.scroll_into_view_if_needed()
        page.wait_for_selector(".rnnbook-slider-views .noUi-handle", timeout=30_000)
        page.wait_for_timeout(300)
        handle = page.locator(".rnnbook-slider-views .noUi-handle").first
        handle.focus()
        page.keyboard.press("Tab")
        focused = page.evaluate("""() => { const e = document.activeElement;
            return {readout: !!e.closest('.widget-readout'), name: e.getAttribute('aria-label') || e.textContent.trim()}; }""")
        assert not focused["readout"], "Tab after the slider lands on its value label"
    finally:
        visit.close()


def test_the_performance_plots_are_not_shrunk_on_a_phone(browser, site_url):
    visit = PageVisit(browser, f"{site_url}/book/performance.html", viewport=PHONE)
    try:
        scales = visit.page.evaluate("() => [...document.querySelectorAll('.bd-article img.rnnbook-plot')]"
                                     ".map(i => i.getBoundingClientRect().width / i.naturalWidth)")
        assert len(scales) >= 3 and min(scales) >= 0.99, f"plots shown at {scales} of their pixel size"
    finally:
        visit.close()


def test_chinese_is_marked_and_has_a_font_stack(browser, site_url):
    visit = PageVisit(browser, f"{site_url}/book/glossary.html")
    try:
        spans = visit.page.query_selector_all('[lang="zh"]')
        assert len(spans) >= 20
        font = spans[0].evaluate("el => getComputedStyle(el).fontFamily")
        assert "Noto Sans CJK SC" in font and "Microsoft YaHei" in font
        untagged = visit.page.evaluate(r"""() => {
            const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
            const bad = [];
            for (let n = walker.nextNode(); n; n = walker.nextNode()) {
                if (/[\u4e00-\u9fff]/.test(n.textContent) && !n.parentElement.closest('[lang|="zh"], script, noscript'))
                    bad.push(n.textContent.trim().slice(0, 20));
            }
            return bad;
        }""")
        assert untagged == [], f"Chinese text not marked lang=zh: {untagged[:5]}"
    finally:
        visit.close()


@pytest.mark.parametrize("query, expected", [("门控", "book/glossary.html"), ("注意力机制", "book/glossary.html"),
                                             ("dropout", "chapters/06_dropout.html"),
                                             # the chapters' lists of their terms, in both languages
                                             ("循环神经网络", "chapters/01_bptt.html"),
                                             ("梯度裁剪", "chapters/02_mnist_rnn.html"),
                                             ("注意力机制", "chapters/09_seq2seq.html"),
                                             ("门控", "chapters/07_lstm_gru.html")])
def test_search_finds_chinese_and_english_terms(browser, site_url, query, expected):
    visit = PageVisit(browser, f"{site_url}/search.html?q={quote(query)}")
    try:
        visit.page.wait_for_selector("#search-results ul.search li a", timeout=15_000)
        hrefs = [a.get_attribute("href") for a in visit.page.query_selector_all("#search-results ul.search li a")]
        assert any(expected in href for href in hrefs), f"{query!r} found {hrefs[:5]}"
    finally:
        visit.close()


@pytest.mark.parametrize("query, first", [("LSTM", "chapters/07_lstm_gru.html"), ("dropout", "chapters/06_dropout.html"),
                                          ("GRU", "chapters/07_lstm_gru.html"), ("BLEU", "chapters/09_seq2seq.html"),
                                          ("beam search", "chapters/09_seq2seq.html")])
def test_search_ranks_the_chapter_first_with_a_snippet_from_its_text(browser, site_url, query, first):
    visit = PageVisit(browser, f"{site_url}/search.html?q={quote(query)}")
    try:
        page = visit.page
        page.wait_for_selector("#search-results ul.search li a", timeout=15_000)
        page.wait_for_function("() => document.querySelectorAll('#search-results ul.search li p.context').length > 0",
                               timeout=15_000)
        page.wait_for_timeout(500)
        items = page.query_selector_all("#search-results ul.search li")
        hrefs = [item.query_selector("a").get_attribute("href") for item in items]
        assert hrefs[0].split("#")[0].endswith(first), f"{query!r} ranks {hrefs[:4]}"
        assert any("glossary" in href for href in hrefs), "the glossary is no longer found"
        snippet = (items[0].query_selector("p.context") or items[0]).inner_text()
        assert query.lower() in snippet.lower() and "Creative RNN ·" not in snippet, snippet
    finally:
        visit.close()


# ------------------------------------------------------------------------------ maths

MATH_PAGES = [p for p in PAGES if 'class="katex"' in (SITE / p).read_text(errors="ignore")]


def test_the_chapters_with_equations_render_them_at_build_time():
    assert {"chapters/01_bptt.html", "chapters/07_lstm_gru.html"} <= set(MATH_PAGES)


@pytest.mark.parametrize("page_path", MATH_PAGES)
def test_equations_read_without_javascript_and_are_no_tab_stops(browser, site_url, page_path):
    visit = PageVisit(browser, f"{site_url}/{page_path}", javascript=False, wait_until="load")
    page = visit.page
    try:
        page.evaluate("() => document.fonts.ready.then(() => true)")
        found = page.evaluate(r"""() => {
            const article = document.querySelector('article.bd-article');
            const shown = [...article.querySelectorAll('.katex-html')].filter(e => e.getClientRects().length);
            const text = [...article.querySelectorAll('p, li, td, dd')].map(e => e.innerText).join(' ');
            return {shown: shown.length,
                    display: article.querySelectorAll('.katex-display').length,
                    mathml: article.querySelectorAll('.katex-mathml math').length,
                    raw_tex: (text.match(/\\(frac|partial|sum|mathbf|left|right|begin)\b|\$[^$\s]+\$/g) || []).slice(0, 3),
                    font: document.fonts.check('16px KaTeX_Main'),
                    tab_stops: article.querySelectorAll('.katex a[href], .katex [tabindex]:not([tabindex="-1"])').length};
        }""")
        assert found["shown"] >= 1 and found["mathml"] == found["shown"], found  # each with MathML for screen readers
        assert found["raw_tex"] == [], f"TeX left unrendered: {found['raw_tex']}"
        assert found["font"], "KaTeX's fonts are not served"
        assert found["tab_stops"] == 0, "equations hold Tab stops"
        _shot(page, f"nojs_maths_{page_path}")
        # (with JavaScript off the browser refuses the theme's script preloads: not a missing file)
        assert visit.outside == [] and [f for f in visit.failed if not f.endswith(" csp")] == []
    finally:
        visit.close()


@pytest.mark.parametrize("page_path", PAGES)
def test_no_page_loads_a_maths_script_and_only_maths_pages_load_the_maths_style(browser, site_url, page_path):
    visit = PageVisit(browser, f"{site_url}/{page_path}")
    try:
        requested = visit.page.evaluate("() => performance.getEntriesByType('resource').map(r => r.name)")
        assert not [r for r in requested if re.search(r"mathjax|katex[^/]*\.js", r, re.I)], requested
        styles = [r for r in requested if "katex" in r]
        has_maths = visit.page.locator(".katex").count() > 0
        assert bool(styles) == has_maths, f"maths on the page: {has_maths}; KaTeX files loaded: {styles[:3]}"
    finally:
        visit.close()


# ------------------------------------------------------------------------------ widgets

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
    present = {f"chapters/{path.stem}.html" for path in CHAPTERS_DIR.glob("[0-9][0-9]_*.ipynb")}
    assert expected & present <= set(WIDGET_PAGES)


_FALLBACKS = """() => [...document.querySelectorAll('.rnnbook-widget-fallback')].map(f => {
    const img = f.querySelector('img'), r = f.getBoundingClientRect();
    return {visible: getComputedStyle(f).display !== 'none' && r.height > 0, height: r.height,
            loaded: img ? img.complete && img.naturalWidth > 0 : !!f.querySelector('.rnnbook-widget-fallback-html'),
            caption: (f.querySelector('figcaption') || {}).textContent || ''};
})"""


_WIDGET_CODE = ("require.js", "embed-amd.js", "/state-")


@pytest.mark.parametrize("page_path", WIDGET_PAGES)
def test_widget_code_loads_only_near_a_widget_and_the_fallback_holds_until_then(browser, site_url, page_path):
    # the widget bundle is held back when it is asked for: the page must paint each widget's first view
    visit = PageVisit(browser, f"{site_url}/{page_path}", hold="embed-amd.js", wait_until="load")
    page = visit.page
    try:
        page.wait_for_function("() => [...document.querySelectorAll('.rnnbook-widget-fallback img')]"
                               ".every(i => i.complete && i.naturalWidth > 0)", timeout=15_000)
        page.wait_for_function("() => performance.getEntriesByName('first-contentful-paint').length > 0",
                               timeout=15_000)
        page.wait_for_load_state("networkidle")
        requested = page.evaluate("() => performance.getEntriesByType('resource').map(r => r.name)")
        near = page.evaluate("""() => [...document.querySelectorAll('.rnnbook-widget-fallback')]
            .some(f => f.getBoundingClientRect().top < 2 * innerHeight)""")
        early = [r for r in requested if any(part in r for part in _WIDGET_CODE)] + [r.request.url for r in visit.held]
        if not near:  # no widget near the first screen: no widget code yet
            assert early == [], f"widget code loaded with no widget in sight: {early}"
        assert page.query_selector(".rnnbook-slider-views") is None, "the widget rendered without its script"
        fallbacks = page.evaluate(_FALLBACKS)
        assert fallbacks and all(f["visible"] and f["loaded"] and f["height"] > 80 and "=" in f["caption"]
                                 for f in fallbacks), fallbacks
        # print shows the fallback too
        page.emulate_media(media="print")
        assert all(f["visible"] for f in page.evaluate(_FALLBACKS))
        page.emulate_media(media="screen")
        # scrolling to a widget fetches its code; the fallback stays until the widget renders
        page.locator(".rnnbook-widget-fallback").first.scroll_into_view_if_needed()
        page.wait_for_function("() => document.documentElement.dataset.rnnbookWidgets === 'loading'", timeout=5_000)
        page.wait_for_timeout(1000)
        assert visit.held, "the widget script was not requested when a widget came into view"
        assert all(f["visible"] for f in page.evaluate(_FALLBACKS)), "the fallback went before the widget came"
        _shot(page, f"fallback_{page_path}")
        # once the script arrives, the live widget replaces the fallback
        visit.release()
        page.wait_for_selector(".rnnbook-slider-views .noUi-handle", timeout=30_000)
        page.wait_for_timeout(300)
        assert not any(f["visible"] for f in page.evaluate(_FALLBACKS)), "the fallback stays beside the widget"
        assert visit.errors == [] and visit.outside == [] and visit.failed == []
    finally:
        visit.release()
        visit.close()


@pytest.mark.parametrize("page_path", WIDGET_PAGES)
def test_touching_a_widget_loads_it(browser, site_url, page_path):
    visit = PageVisit(browser, f"{site_url}/{page_path}", viewport=PHONE)
    page = visit.page
    try:
        page.wait_for_load_state("networkidle")
        far = page.evaluate("""() => [...document.querySelectorAll('.rnnbook-widget-fallback')]
            .every(f => f.getBoundingClientRect().top > 2 * innerHeight)""")
        if far:  # nothing in sight yet: nothing loaded
            assert page.evaluate("() => document.documentElement.dataset.rnnbookWidgets") is None
        # a tap on the fallback (an event, without scrolling to it) loads the widgets
        page.locator(".rnnbook-widget-fallback").last.dispatch_event("pointerdown")
        page.wait_for_selector(".rnnbook-slider-views .noUi-handle", timeout=30_000)
        assert visit.errors == []
    finally:
        visit.close()


@pytest.mark.parametrize("page_path", WIDGET_PAGES)
def test_widget_pages_without_javascript_show_the_fallback(browser, site_url, page_path):
    visit = PageVisit(browser, f"{site_url}/{page_path}", javascript=False, wait_until="load")
    try:
        visit.page.locator(".rnnbook-widget-fallback").first.scroll_into_view_if_needed()
        boxes = visit.page.query_selector_all(".rnnbook-widget-fallback")
        assert boxes
        for box in boxes:
            size = box.bounding_box()
            assert size and size["height"] > 80 and size["width"] > 200
            img = box.query_selector("img")
            if img:
                assert img.evaluate("i => i.complete && i.naturalWidth > 0")
            assert "=" in box.query_selector("figcaption").inner_text()
        _shot(visit.page, f"nojs_{page_path}")
    finally:
        visit.close()


@pytest.mark.parametrize("page_path", WIDGET_PAGES)
def test_every_slider_switches_the_visible_view(browser, site_url, page_path, tmp_path):
    visit = PageVisit(browser, f"{site_url}/{page_path}")
    page = visit.page
    try:
        page.locator(".rnnbook-widget-fallback").first.scroll_into_view_if_needed()
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
                # the slider announces its name and value, not its index
                valuetext = handle.get_attribute("aria-valuetext") or ""
                assert valuetext.endswith("= " + seen_labels[-1].strip()), valuetext
            assert len(set(seen_labels)) == 3, f"the slider did not move: {seen_labels}"
            assert len(set(seen_views)) == 3, "moving the slider did not change the visible view"
            assert len(set(shots)) == 3, "the screenshots at three positions are not all different"
            # the Play widget's buttons have names; the slider's name is not under its handle
            for button in box.query_selector_all(".widget-play button"):
                assert button.get_attribute("aria-label"), "a Play/Stop/Repeat button has no label"
            overlap = box.evaluate("""b => {
                const name = b.querySelector('.widget-hbox > .widget-html');
                const handle = b.querySelector('.noUi-handle');
                if (!name || !handle) return false;
                const n = name.getBoundingClientRect(), h = handle.getBoundingClientRect();
                return !(h.right <= n.left || h.left >= n.right || h.bottom <= n.top || h.top >= n.bottom);
            }""")
            assert not overlap, "the slider's handle covers its name"
            readout_cut = readout.evaluate("r => r.scrollWidth > r.clientWidth + 1")
            assert not readout_cut, f"the value label is cut: {readout.inner_text()}"
        _shot(page, f"widgets_{page_path}")
        assert visit.errors == [] and visit.outside == []
    finally:
        visit.close()


def test_the_reader_copies_link_to_pages_and_anchors_of_this_site():
    """Every link of reader/*.ipynb into the site names a built page and an id on it."""
    import nbformat

    from tools import reader_copies

    if not (SITE / "index.html").is_file():
        pytest.fail(f"{SITE} has no built site: run `make site` first")
    base = reader_copies.site_url()
    broken, checked = [], 0
    for copy in sorted(reader_copies.READER_DIR.glob("*.ipynb")):
        for cell in nbformat.read(copy, as_version=4).cells:
            if cell.cell_type != "markdown":
                continue
            for url in re.findall(r"\]\((" + re.escape(base) + r"[^)\s]*)\)", cell.source):
                checked += 1
                page, _, anchor = url.removeprefix(base).partition("#")
                target = SITE / page
                if not target.is_file():
                    broken.append(f"{copy.name}: {url} (no page)")
                elif anchor and f'id="{anchor}"' not in target.read_text(encoding="utf-8"):
                    broken.append(f"{copy.name}: {url} (no id {anchor!r} on the page)")
    assert checked > 50 and not broken, "\n".join(broken)


@pytest.mark.parametrize("stem", [p.stem for p in sorted(CHAPTERS_DIR.glob("[0-9][0-9]_*.ipynb"))])
def test_a_chapters_colab_and_download_buttons_open_its_reader_copy(stem):
    page = (SITE / "chapters" / f"{stem}.html").read_text(encoding="utf-8")
    colab = re.findall(r'href="(https://colab\.research\.google\.com/[^"]+)"', page)
    assert colab and all(url.endswith(f"/reader/{stem}.ipynb") for url in colab), colab
    downloads = re.findall(r'href="([^"]+\.ipynb)"', page)
    assert f"../reader/{stem}.ipynb" in downloads, downloads
    assert (SITE / "reader" / f"{stem}.ipynb").read_bytes() == (REPO_ROOT / "reader" / f"{stem}.ipynb").read_bytes()


_DIAGRAMS = """() => [...document.querySelectorAll('.tag_diagram .cell_output img')].map((img, i) => {
    img.setAttribute('data-diagram', String(i));
    const article = document.querySelector('.bd-article');
    return {alt: img.getAttribute('alt') || '', shown: img.getBoundingClientRect().width,
            natural: Number(img.getAttribute('width')) || img.naturalWidth / 2,
            article: article ? article.clientWidth : 0, viewport: window.innerWidth,
            // a phone's scrollbar overlays the page; this browser's takes width from the article
            scrollbar: window.innerWidth - document.documentElement.clientWidth};
})"""


@pytest.mark.parametrize("stem", [p.stem for p in sorted(CHAPTERS_DIR.glob("[0-9][0-9]_*.ipynb"))])
def test_each_chapter_s_diagram_is_legible_on_a_phone(browser, site_url, stem):
    """A diagram is shrunk at most as much as utils.diagrams assumed when it checked its text sizes
    (text >= 9 pt at PHONE_ARTICLE_PX), carries its own text alternative, and fits the screen."""
    from utils.diagrams import PHONE_ARTICLE_PX

    visit = PageVisit(browser, f"{site_url}/chapters/{stem}.html", viewport=PHONE)
    page = visit.page
    try:
        found = page.evaluate(_DIAGRAMS)
        assert found, "the chapter shows no diagram"
        SHOTS.mkdir(parents=True, exist_ok=True)
        for i, diagram in enumerate(found):
            page.locator(f'img[data-diagram="{i}"]').scroll_into_view_if_needed()
            page.locator(f'img[data-diagram="{i}"]').screenshot(
                path=str(SHOTS / f"diagram_{stem}_{i}.png"))
            assert diagram["shown"] + diagram["scrollbar"] >= min(diagram["natural"], PHONE_ARTICLE_PX) - 1, diagram
            assert diagram["shown"] <= diagram["viewport"], diagram
            assert len(diagram["alt"].split()) >= 4 and not diagram["alt"].startswith("Figure from the code"), diagram
    finally:
        visit.close()
