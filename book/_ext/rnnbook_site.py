"""Small fixes to the generated pages, so that every page loads with zero JavaScript errors.

* sphinx-thebe registers its inline configuration script twice under Jupyter Book 1.x, and
  the second ``const THEBE_JS_URL`` is a SyntaxError: keep one copy of each identical script.
"""

from __future__ import annotations


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


def setup(app):
    app.connect("html-page-context", _dedupe_scripts, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
