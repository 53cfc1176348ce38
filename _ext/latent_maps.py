"""Sphinx extension: live latent maps, a decoder running in the reader's browser.

A notebook cell that shows a ``vaelib.LatentMap`` leaves two things in its output: a small HTML
placeholder (``<div class="vae-latent-map" data-latent-map="ID">`` holding a note) and, under the
MIME type below, the exported decoder (ONNX, base64) with the data the map draws. Only the HTML
reaches the page. This extension

* notes which pages hold a placeholder (``doctree-read``);
* adds ``static/latent_map.js`` and ``static/latent_map.css`` to those pages only;
* after the build, writes each map's model and data into ``_static/latent_maps/ID.onnx`` and
  ``ID.json``, taken from the executed notebook that myst-nb keeps in its output folder (so a
  notebook served from the execution cache still gets its files, and never another build's);
* copies the wasm-only build of onnxruntime-web from ``node_modules`` into
  ``_static/onnxruntime-web/`` (two files: the ES module with its glue code, and the .wasm).

Without ``node_modules/onnxruntime-web`` (``npm ci`` skipped) the build goes on, says so once,
and the pages keep the static figure with a note that says why the live map is missing. Nothing is
fetched from a CDN: the book works offline.
"""

from __future__ import annotations

import base64
import json
import re
import shutil
from pathlib import Path

from docutils import nodes
from sphinx.util import logging

LOGGER = logging.getLogger(__name__)
MIME_TYPE = "application/vnd.vae-book.latent-map+json"  # the same string as vaelib.export.MIME_TYPE
PLACEHOLDER = re.compile(r'data-latent-map="([0-9a-f]{8,64})"')
STATIC = Path(__file__).parent / "static"
SCRIPT, STYLE = "latent_map.js", "latent_map.css"
RUNTIME_DIR = "onnxruntime-web"  # under _static/
# onnxruntime-web's smallest browser build: the CPU (WebAssembly) backend alone, its loader bundled in.
RUNTIME_FILES = ("ort.wasm.bundle.min.mjs", "ort-wasm-simd-threaded.wasm")
MAPS_DIR = "latent_maps"  # under _static/


def runtime_source(app) -> Path:
    return Path(app.srcdir) / app.config.latent_maps_runtime


def runtime_missing(app) -> list[str]:
    """The onnxruntime-web files this build cannot find (empty when the live maps can run)."""
    source = runtime_source(app)
    return [name for name in RUNTIME_FILES if not (source / name).is_file()]


def _add_static_path(app) -> None:
    app.config.html_static_path.append(str(STATIC))
    missing = runtime_missing(app)
    app.env.latent_maps_runtime = None if missing else f"{RUNTIME_DIR}/{RUNTIME_FILES[0]}"
    if missing and app.builder.format == "html":
        LOGGER.info(
            "latent_maps: %s lacks %s, so the live latent maps show their static note instead "
            "(run `npm ci` at the project root and build again)",
            runtime_source(app),
            ", ".join(missing),
        )


def _find_placeholders(app, doctree) -> None:
    ids = []
    for node in doctree.findall(nodes.raw):
        if "html" in node.get("format", "").split():
            ids += PLACEHOLDER.findall(node.astext())
    maps = app.env.__dict__.setdefault("latent_maps", {})
    if ids:
        maps[app.env.docname] = sorted(set(ids))
    else:
        maps.pop(app.env.docname, None)


def _purge(app, env, docname) -> None:
    env.__dict__.setdefault("latent_maps", {}).pop(docname, None)


def _merge(app, env, docnames, other) -> None:
    maps = env.__dict__.setdefault("latent_maps", {})
    maps.update({d: ids for d, ids in getattr(other, "latent_maps", {}).items() if d in docnames})


def _add_page_assets(app, pagename, templatename, context, doctree) -> None:
    if pagename not in getattr(app.env, "latent_maps", {}):
        return
    app.add_css_file(STYLE)
    # The script finds the runtime through this attribute; empty means "not in this build".
    app.add_js_file(SCRIPT, loading_method="defer", **{"data-runtime": app.env.latent_maps_runtime or ""})


def payloads(notebook: Path) -> dict[str, dict]:
    """The latent-map payloads in an executed notebook's outputs, by id."""
    found = {}
    for cell in json.loads(notebook.read_text(encoding="utf8")).get("cells", []):
        for output in cell.get("outputs", []):
            payload = output.get("data", {}).get(MIME_TYPE)
            if isinstance(payload, dict) and "id" in payload:
                found[payload["id"]] = payload
    return found


def write_map(payload: dict, folder: Path) -> list[Path]:
    """Write a payload's model (``ID.onnx``) and the rest of it (``ID.json``) into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    model = base64.b64decode(payload["model"])
    data = {key: value for key, value in payload.items() if key != "model"}
    data["model_bytes"] = len(model)
    paths = [folder / f"{payload['id']}.onnx", folder / f"{payload['id']}.json"]
    paths[0].write_bytes(model)
    paths[1].write_text(json.dumps(data, separators=(",", ":")), encoding="utf8")
    return paths


def _write_assets(app, exception) -> None:
    if exception is not None or app.builder.format != "html":
        return
    maps = getattr(app.env, "latent_maps", {})
    if not maps:
        return
    static = Path(app.outdir) / "_static"
    if app.env.latent_maps_runtime:
        (static / RUNTIME_DIR).mkdir(parents=True, exist_ok=True)
        for name in RUNTIME_FILES:  # MIT-licensed; the licence notice heads the .mjs
            shutil.copyfile(runtime_source(app) / name, static / RUNTIME_DIR / name)
    executed = Path(app.env.mystnb_config.output_folder)
    for docname, ids in sorted(maps.items()):
        notebook = executed.joinpath(*docname.split("/")).with_suffix(".ipynb")
        found = payloads(notebook) if notebook.is_file() else {}
        for map_id in ids:
            if map_id in found:
                write_map(found[map_id], static / MAPS_DIR)
            else:
                LOGGER.warning(
                    "latent_maps: %s shows latent map %s, but %s holds no such output; "
                    "delete the build folder and build again",
                    docname,
                    map_id,
                    notebook,
                )


def setup(app):
    app.add_config_value("latent_maps_runtime", "node_modules/onnxruntime-web/dist", "html")
    app.connect("builder-inited", _add_static_path)
    app.connect("doctree-read", _find_placeholders)
    app.connect("env-purge-doc", _purge)
    app.connect("env-merge-info", _merge)
    app.connect("html-page-context", _add_page_assets)
    app.connect("build-finished", _write_assets)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
