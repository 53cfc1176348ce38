"""Sphinx extension: keep each reader's browser console free of errors the themes cause.

1. sphinx-thebe and sphinx-togglebutton add their inline configuration (``const THEBE_JS_URL
   = ...``) each time an ``env-before-read-docs`` handler runs; in a Jupyter Book build that
   happens twice, and the second ``const`` declaration is a JavaScript SyntaxError. Each page
   keeps only the first copy of identical scripts.
2. pydata-sphinx-theme logs "Got invalid theme mode" for every first-time visitor, because
   sphinx-book-theme leaves the page's colour mode empty. An inline script sets it to "auto"
   (the theme's own fallback) when the reader has not chosen one.
"""

SET_DEFAULT_MODE = 'if (!document.documentElement.dataset.mode) { document.documentElement.dataset.mode = "auto"; }'


def _drop_repeats(app, pagename, templatename, context, doctree):
    scripts = context.get("script_files")
    if not scripts:
        return
    seen, unique = set(), []
    for script in scripts:
        key = (getattr(script, "filename", None) or "", tuple(sorted(getattr(script, "attributes", {}).items())))
        if key not in seen:
            seen.add(key)
            unique.append(script)
    context["script_files"] = unique


def setup(app):
    app.add_js_file(None, body=SET_DEFAULT_MODE, priority=100)
    app.connect("html-page-context", _drop_repeats, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
