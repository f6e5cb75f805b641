"""Fixes to the generated pages: clean loading, readable on a phone, a first view without scripts.

* sphinx-thebe registers its inline configuration script twice under Jupyter Book 1.x, and
  the second ``const THEBE_JS_URL`` is a SyntaxError: keep one copy of each identical script.
* The site's own stylesheet and script (``book/_static_widgets/rnnbook-site.*``): tables,
  equations and inline code that fit the text column, a CJK font stack, the widgets' labels.
* Widgets: the saved widget state moves from ``<head>`` to a JSON file beside the fallback
  images, which the widgets' loader (``widgets-setup.js``) fetches with the widget bundle when a
  widget nears the viewport; each widget's selected view is written out at build time as a
  plain image (or HTML) with a caption, which the live widget replaces once it renders. With
  JavaScript off, before the 3.6 MB of widget JavaScript arrives, and in print, a reader sees it.
* Inline code gets break opportunities (``<wbr>``) after ``.``, ``_``, ``,``, ``(`` and ``=``,
  so that long API names wrap instead of widening tables and the page.
* Every image of the site's ``_images/`` (notebook figures, widget fallbacks, plots) links to
  itself, so that a reader can open it at full size.
* A notebook figure's text alternative is the ``alt`` its output metadata carries (the book's
  diagrams, ``utils.diagrams.show``); myst-nb keeps only ``width`` and ``height`` of that metadata.
* Other notebook figures get an alt text naming their section instead of their hashed file name;
  figures much wider than tall are marked ``rnnbook-wide-figure`` (a minimum width on phones).
* Each chapter ends with the glossary terms it introduces or links, in English and Chinese, so
  that a search in Chinese finds the chapter that teaches a term, not only the glossary.
* Runs of Chinese text are marked ``<span lang="zh">`` in every page (titles, navigation, body).
* Markup that axe-core reports is fixed in every page: the sidebar is a navigation landmark,
  the references are list items of their list.
* Maths: sphinxcontrib-katex renders every equation to HTML at build time with the KaTeX
  renderer vendored in book/_vendor (tools/vendor_widgets.py); KaTeX's stylesheet (and so its
  fonts) is linked only from pages that show maths.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import re
import struct
from pathlib import Path
from typing import Any

from docutils import nodes

KATEX_RENDERER = Path(__file__).resolve().parents[1] / "_vendor" / "katex" / "katex.min.js"
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
FALLBACK_DIR = "_images/widgets"
WIDE_FIGURE_RATIO = 2.0  # width / height from which a figure keeps a minimum width on phones
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


# ------------------------------------------------------------------------------ scripts

def _script_key(script) -> tuple:
    attributes = getattr(script, "attributes", {}) or {}
    # an inline script may carry filename None or "" for the same thing
    return (getattr(script, "filename", None) or "", tuple(sorted(attributes.items())))


def _dedupe_scripts(app, pagename, templatename, context, doctree) -> None:
    scripts = context.get("script_files")
    if not scripts:
        return
    seen, unique = set(), []
    for script in scripts:
        key = _script_key(script)
        if key not in seen:
            seen.add(key)
            unique.append(script)
    context["script_files"] = unique


# ------------------------------------------------------------------------------ maths

def _katex_renderer(app, config) -> None:
    """The build renders maths with the pinned, vendored KaTeX (not the copy inside the extension)."""
    if getattr(config, "html_math_renderer", None) == "katex":
        if not KATEX_RENDERER.is_file():
            raise FileNotFoundError(f"{KATEX_RENDERER} is missing: run tools/vendor_widgets.py (make vendor)")
        config.katex_js_path = str(KATEX_RENDERER)


def _katex_css_where_needed(app, pagename, templatename, context, doctree) -> None:
    """Drop KaTeX's stylesheets from pages without maths (the fonts come with the stylesheet)."""
    css = context.get("css_files")
    if not css or 'class="katex' in context.get("body", ""):
        return
    context["css_files"] = [c for c in css if "katex" not in str(getattr(c, "filename", c))]


# ------------------------------------------------------------------------------ widget fallbacks

def png_size(data: bytes) -> tuple[int, int] | None:
    """(width, height) of PNG bytes, or None when they are not a PNG."""
    if len(data) < 24 or not data.startswith(PNG_MAGIC) or data[12:16] != b"IHDR":
        return None
    return struct.unpack(">II", data[16:24])


def _children(state: dict[str, Any], model_id: str) -> list[str]:
    children = state.get(model_id, {}).get("state", {}).get("children") or []
    return [c.removeprefix("IPY_MODEL_") for c in children if isinstance(c, str)]


def _descendants(state: dict[str, Any], model_id: str) -> list[str]:
    found, queue = [], [model_id]
    while queue:
        current = queue.pop(0)
        found.append(current)
        queue.extend(_children(state, current))
    return found


def _strip_tags(text: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", text)).strip()


def widget_fallback(state: dict[str, Any], model_id: str) -> dict[str, Any] | None:
    """The view a slider box shows first, read from the saved widget state.

    Returns {"png": bytes} or {"html": str}, with "label" (the slider's name and value),
    "count" (how many views) and "labels" (all values), or None when `model_id` is not a box
    of a slider over a Stack of views.
    """
    models = _descendants(state, model_id)
    kinds = {m: state.get(m, {}).get("model_name") for m in models}
    stacks = [m for m in models if kinds[m] == "StackModel"]
    if not stacks:
        return None
    stack = state[stacks[0]]["state"]
    views = _children(state, stacks[0])
    index = stack.get("selected_index") or 0
    if not views or not 0 <= index < len(views):
        return None
    view = state.get(views[index], {})
    result: dict[str, Any] = {"count": len(views)}
    if view.get("model_name") == "ImageModel":
        buffers = [b for b in view.get("buffers") or [] if b.get("path") == ["value"]]
        if not buffers:
            return None
        data = base64.b64decode(buffers[0]["data"])
        if png_size(data) is None:
            return None
        result["png"] = data
    elif view.get("model_name") == "HTMLModel":
        result["html"] = view.get("state", {}).get("value", "")
    else:
        return None
    sliders = [state[m]["state"] for m in models if kinds[m] in ("SelectionSliderModel", "IntSliderModel")]
    names = [_strip_tags(state[m]["state"].get("value", "")) for m in models
             if kinds[m] == "HTMLModel" and m not in views and m not in _descendants(state, stacks[0])]
    name = next((n for n in names if n), "")
    labels: list[str] = []
    value = ""
    if sliders:
        labels = [str(label) for label in sliders[0].get("_options_labels") or []]
        position = sliders[0].get("index", index)
        value = labels[position] if labels and 0 <= position < len(labels) else str(sliders[0].get("value", ""))
    result["labels"] = labels
    result["label"] = f"{name} = {value}" if name and value else (name or value)
    return result


def fallback_html(fallback: dict[str, Any], src: str | None) -> str:
    """The <figure> that stands for a widget until (or unless) its script renders it."""
    label = fallback.get("label") or "first view"
    count = fallback.get("count", 1)
    labels = fallback.get("labels") or []
    span = f" ({labels[0]} … {labels[-1]})" if len(labels) > 1 else ""
    # true on paper, without scripts and before the widget loads alike
    caption = (f"{html.escape(label)}, one of {count} views{html.escape(span)}. "
               "On the web page, with JavaScript on, a slider switches between them.")
    if src is not None:
        width, height = png_size(fallback["png"]) or (0, 0)
        wide = ' class="rnnbook-wide-figure"' if height and width / height >= WIDE_FIGURE_RATIO else ""
        body = (f'<img src="{html.escape(src)}" alt="{html.escape(label)} (the view shown first)" '
                f'width="{width}" height="{height}"{wide} decoding="async">')
    else:
        body = f'<div class="rnnbook-widget-fallback-html">{fallback["html"]}</div>'
    return (f'<figure class="rnnbook-widget-fallback">{body}'
            f'<figcaption>{caption}</figcaption></figure>')


_VIEW_SCRIPT = re.compile(r'(<script type="' + re.escape(WIDGET_VIEW) + r'">(.*?)</script>)', re.S)


def _widget_pages(app, pagename, templatename, context, doctree) -> None:
    """Move the widget state to the end of the body and write each widget's fallback view."""
    scripts = context.get("script_files") or []
    states = [s for s in scripts if (getattr(s, "attributes", {}) or {}).get("type") == WIDGET_STATE]
    if not states or "body" not in context:
        return
    context["script_files"] = [s for s in scripts if s not in states]
    state: dict[str, Any] = {}
    outdir = Path(app.builder.outdir)
    state_files = []
    for script in states:
        body = script.attributes.get("body", "").replace("<\\/", "</")
        try:
            state.update(json.loads(body).get("state", {}))
        except (json.JSONDecodeError, AttributeError):
            pass
        data = body.encode("utf-8")
        name = "state-" + hashlib.sha256(data).hexdigest()[:24] + ".json"
        target = outdir / FALLBACK_DIR / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if not target.exists():
            target.write_bytes(data)
        state_files.append(context["pathto"](f"{FALLBACK_DIR}/{name}", 1))
    # where the widgets' loader finds the state (fetched with the widget bundle, not with the page)
    holder = f'<span hidden data-rnnbook-widget-state="{html.escape(" ".join(state_files))}"></span>'

    def add_fallback(match: re.Match) -> str:
        try:
            model_id = json.loads(match.group(2))["model_id"]
        except (json.JSONDecodeError, KeyError, TypeError):
            return match.group(1)
        fallback = widget_fallback(state, model_id)
        if fallback is None:
            return match.group(1)
        src = None
        if "png" in fallback:
            name = hashlib.sha256(fallback["png"]).hexdigest()[:24] + ".png"
            target = outdir / FALLBACK_DIR / name
            target.parent.mkdir(parents=True, exist_ok=True)
            if not target.exists():
                target.write_bytes(fallback["png"])
            src = context["pathto"](f"{FALLBACK_DIR}/{name}", 1)
        return match.group(1) + fallback_html(fallback, src)

    context["body"] = _VIEW_SCRIPT.sub(add_fallback, context["body"]) + holder


# ------------------------------------------------------------------------------ inline code

_PRE_SPAN = re.compile(r'(<span class="pre">)([^<]*)(</span>)')
_BREAK_AFTER = re.compile(r"(?<=[._,(=/])(?=[^\s._,)=/])")


def add_word_breaks(body: str) -> str:
    """Break opportunities in inline code: after . _ , ( = / when followed by more text."""
    def fix(match: re.Match) -> str:
        text = match.group(2)
        if len(text) <= 12:
            return match.group(0)
        return match.group(1) + _BREAK_AFTER.sub("<wbr>", text) + match.group(3)
    return _PRE_SPAN.sub(fix, body)


def _inline_code(app, pagename, templatename, context, doctree) -> None:
    if "body" in context:
        context["body"] = add_word_breaks(context["body"])


# ------------------------------------------------------------------------------ figures

_IMAGE = re.compile(r'(<a\b[^>]*>\s*)?(<img\b[^>]*\bsrc="([^"]*_images/[^"]+)"[^>]*>)')


def link_full_size(body: str) -> str:
    """Each image of the site's _images/ not already in a link opens full size when tapped."""
    def wrap(match: re.Match) -> str:
        if match.group(1):  # already a link (an image reference)
            return match.group(0)
        return (f'<a class="rnnbook-full-size" href="{match.group(3)}" title="Open the image at full size">'
                f'{match.group(2)}</a>')
    return _IMAGE.sub(wrap, body)


def _figure_links(app, pagename, templatename, context, doctree) -> None:
    if "body" in context:
        context["body"] = link_full_size(context["body"])


def _section_title(node: nodes.Node) -> str:
    parent = node.parent
    while parent is not None:
        if isinstance(parent, nodes.section) and parent.children and isinstance(parent[0], nodes.title):
            return parent[0].astext()
        parent = parent.parent
    return ""


def _figures(app, doctree, docname) -> None:
    """Alt text and a wide-figure class for the images of notebook outputs."""
    srcdir = Path(app.srcdir)
    page_title = ""
    for section in doctree.findall(nodes.section):
        if section.children and isinstance(section[0], nodes.title):
            page_title = section[0].astext()
            break
    for image in doctree.findall(nodes.image):
        uri = image.get("uri", "")
        if not uri.endswith(".png"):
            continue
        path = Path(uri) if Path(uri).is_absolute() else srcdir / uri
        if not image.get("alt") and "jupyter_execute" in uri:
            where = _section_title(image) or page_title
            image["alt"] = f"Figure from the code above, section “{where}”" if where else "Figure from the code above"
        try:
            with path.open("rb") as handle:
                size = png_size(handle.read(24))
        except OSError:
            size = None
        if "jupyter_execute" in uri and size and size[1] and size[0] / size[1] >= WIDE_FIGURE_RATIO:
            image["classes"].append("rnnbook-wide-figure")
        if "bench_figures" in uri:  # the Performance page's plots: not shrunk below their pixel size on phones
            image["classes"].append("rnnbook-plot")


# ------------------------------------------------------------------------------ Chinese

_HAN = "\u2e80-\u2fdf\u3000-\u303f\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef"
_CHINESE_RUN = re.compile(f"[{_HAN}]+(?:[ ·/\\-–—]*[{_HAN}]+)*")
_TAG_OR_SKIPPED = re.compile(r"<(script|style|title|textarea)\b.*?</\1\s*>|<!--.*?-->|<[^>]*>", re.S | re.I)
ZH_OPEN = '<span lang="zh">'


def mark_chinese(page: str) -> str:
    """Wrap each run of Chinese text outside tags, scripts and <title> in <span lang="zh">.

    Idempotent: a run already directly inside a ``<span lang="zh">`` is left alone.
    """
    out, position, last_tag = [], 0, ""
    for match in _TAG_OR_SKIPPED.finditer(page):
        text = page[position:match.start()]
        out.append(text if last_tag == ZH_OPEN else _CHINESE_RUN.sub(lambda m: f"{ZH_OPEN}{m.group(0)}</span>", text))
        out.append(match.group(0))
        last_tag = match.group(0)
        position = match.end()
    out.append(page[position:])
    return "".join(out)


# ------------------------------------------------------------------------------ accessibility

_ACCESSIBLE = [
    # the sidebar (site title, search, chapter list) is a landmark, so no content sits outside one
    ('<div id="pst-primary-sidebar" class="bd-sidebar-primary bd-sidebar">',
     '<div id="pst-primary-sidebar" class="bd-sidebar-primary bd-sidebar" role="navigation" aria-label="Book">'),
    # docutils marks each reference of a role="list" as doc-biblioentry (deprecated, and not a
    # child a list may have): a list holds list items
    ('role="doc-biblioentry"', 'role="listitem"'),
]


def accessible(page: str) -> str:
    """The theme's and docutils' markup that axe-core reports, fixed."""
    for old, new in _ACCESSIBLE:
        page = page.replace(old, new)
    return page


def _rewrite_pages(app, exception) -> None:
    """Chinese runs marked, accessibility fixes: on every written page."""
    if exception is not None or app.builder is None or app.builder.format != "html":
        return
    for path in Path(app.builder.outdir).rglob("*.html"):
        text = path.read_text(encoding="utf-8")
        rewritten = accessible(mark_chinese(text))
        if rewritten != text:
            path.write_text(rewritten, encoding="utf-8")


# ------------------------------------------------------------------------------ Chinese search

GLOSSARY = Path(__file__).resolve().parents[1] / "glossary.md"
_GLOSSARY_TERM = re.compile(f"^\\s+([{_HAN}][^·\\n]*?)\\s+·", re.M)


def glossary_chinese_terms(text: str) -> list[str]:
    """The Chinese term that opens each glossary definition ("  注意力机制 · ...")."""
    terms = []
    for match in _GLOSSARY_TERM.finditer(text):
        for term in re.split(r"[ /、,，\-–]+", match.group(1).strip()):
            if re.fullmatch(f"[{_HAN}]+", term) and term not in terms:
                terms.append(term)
    return terms


def _search_dictionary(app) -> None:
    """Give jieba the glossary's terms as words, so that the index holds each term whole."""
    if not str(app.config.html_search_language or "").startswith("zh") or not GLOSSARY.is_file():
        return
    terms = glossary_chinese_terms(GLOSSARY.read_text(encoding="utf-8"))
    path = Path(app.doctreedir) / "rnnbook-search-zh.txt"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(f"{term} 1000 n\n" for term in terms), encoding="utf-8")
    app.config.html_search_options = {**(app.config.html_search_options or {}), "dict": str(path)}


_GLOSSARY_ENTRY = re.compile(r"^(\S[^\n]*)\n((?:  [^\n]*\n?)+)", re.M)
_CHAPTER_NAMED = re.compile(r"[Cc]hapters? (\d)\b|chapters/0(\d)_")


def glossary_entries(text: str) -> list[tuple[str, str, int | None]]:
    """(English term, Chinese term, first chapter that treats it) of each glossary entry."""
    body = text.split("```{glossary}", 1)[-1].split("```", 1)[0]
    entries = []
    for term, definition in _GLOSSARY_ENTRY.findall(body):
        if term.startswith(":"):
            continue
        chinese = definition.strip().split(" · ", 1)[0].strip()
        chapters = [int(a or b) for a, b in _CHAPTER_NAMED.findall(definition)]
        entries.append((term.strip(), chinese, min(chapters) if chapters else None))
    return entries


def _chapter_terms(app, doctree, docname) -> None:
    """End each chapter with its terms in English and Chinese, linked to the glossary: the terms
    it links and those the glossary says it introduces. Chinese search then finds the chapter."""
    if not docname.startswith("chapters/") or not GLOSSARY.is_file():
        return
    number = int(docname.split("/")[1][:2])
    std = app.env.get_domain("std")
    linked = {ref.get("refuri", "").rsplit("#", 1)[-1] for ref in doctree.findall(nodes.reference)
              if "glossary" in ref.get("refuri", "")}
    items = []
    for term, chinese, first in glossary_entries(GLOSSARY.read_text(encoding="utf-8")):
        target = std.objects.get(("term", term)) or getattr(std, "_terms", {}).get(term.lower())
        if target is None or (first != number and target[1] not in linked):
            continue
        reference = nodes.reference("", "", internal=True,
                                    refuri=app.builder.get_relative_uri(docname, target[0]) + "#" + target[1])
        reference += nodes.Text(term if chinese == term else f"{term} · {chinese}")
        items.append(nodes.list_item("", nodes.paragraph("", "", reference)))
    if not items:
        return
    box = nodes.container(classes=["rnnbook-chapter-terms"])
    box += nodes.rubric("", "Terms in this chapter · 本章术语")
    box += nodes.bullet_list("", *items)
    sections = list(doctree.findall(nodes.section))
    (sections[0] if sections else doctree).append(box)


# ------------------------------------------------------------------------------ reader's copies

READER_DIR = Path(__file__).resolve().parents[2] / "reader"  # tools/reader_copies.py writes it


def _reader_copy_buttons(app, pagename, templatename, context, doctree) -> None:
    """On a chapter's page, the Colab button and the .ipynb download open the chapter's reader's
    copy (plain Markdown, links to this site) instead of its MyST source."""
    stem = pagename.removeprefix("chapters/")
    if not pagename.startswith("chapters/") or not (READER_DIR / f"{stem}.ipynb").is_file():
        return
    for group in context.get("header_buttons", []):
        for button in group.get("buttons", []) if isinstance(group, dict) else []:
            url = button.get("url", "")
            if group.get("label") == "launch-buttons" and button.get("text") == "Colab":
                button["url"] = url.replace(f"/{pagename}.ipynb", f"/reader/{stem}.ipynb")
            elif group.get("label") == "download-buttons" and url.endswith(f"{pagename}.ipynb"):
                button["url"] = context["pathto"](f"reader/{stem}.ipynb", 1)


def _copy_reader_copies(app, exception) -> None:
    """Serve reader/*.ipynb at <site>/reader/, where the download buttons point."""
    if exception is not None or app.builder.format != "html" or not READER_DIR.is_dir():
        return
    target = Path(app.outdir) / "reader"
    target.mkdir(exist_ok=True)
    for copy in sorted(READER_DIR.glob("*.ipynb")):
        (target / copy.name).write_bytes(copy.read_bytes())


def _keep_output_alt() -> None:
    """Make myst-nb copy an image output's ``alt`` metadata to the image, as it does its width."""
    from myst_nb.core.render import NbElementRenderer

    render_image = NbElementRenderer.render_image
    if getattr(render_image, "keeps_alt", False):
        return

    def render_image_with_alt(self, data):
        rendered = render_image(self, data)
        alt = data.output_metadata.get(data.mime_type, {}).get("alt")
        if isinstance(alt, str) and alt.strip():
            for image in rendered:
                if isinstance(image, nodes.image):
                    image["alt"] = alt.strip()
        return rendered

    render_image_with_alt.keeps_alt = True
    NbElementRenderer.render_image = render_image_with_alt


def setup(app):
    _keep_output_alt()
    app.connect("config-inited", _katex_renderer)
    app.connect("html-page-context", _katex_css_where_needed, priority=890)
    app.connect("builder-inited", _search_dictionary)
    app.add_css_file("rnnbook-site.css")
    app.add_js_file("rnnbook-site.js", defer="defer")
    app.connect("html-page-context", _dedupe_scripts, priority=900)
    app.connect("html-page-context", _widget_pages, priority=910)
    app.connect("html-page-context", _inline_code, priority=920)
    app.connect("html-page-context", _figure_links, priority=930)
    app.connect("doctree-resolved", _figures)
    app.connect("doctree-resolved", _chapter_terms)
    app.connect("build-finished", _rewrite_pages)
    app.connect("html-page-context", _reader_copy_buttons, priority=930)  # after the theme's buttons (501)
    app.connect("build-finished", _copy_reader_copies)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
