"""Sphinx extension: live latent maps, a decoder running in the reader's browser.

A notebook cell that shows a ``vaelib.LatentMap`` leaves an HTML output: a placeholder
(``<div class="vae-latent-map" data-latent-map="ID">`` holding a note) and inside it, as
``<script type="application/json" class="vae-latent-map-data">``, the exported decoder (ONNX,
base64) with the data the map draws. This extension

* takes that JSON out of the page while Sphinx reads it (``doctree-read``), so the page stays small,
  and keeps it in Sphinx's environment, which is saved with the build (a notebook whose outputs
  come from the execution cache brings its map along, and never another build's);
* adds ``static/latent_map.js`` and ``static/latent_map.css`` to the pages that hold a map;
* after the build, writes each map's model and data into ``_static/latent_maps/ID.onnx`` and
  ``ID.json``, and copies the wasm-only build of onnxruntime-web from ``node_modules`` into
  ``_static/onnxruntime-web/`` (two files: the ES module with its loader, and the .wasm).

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
PLACEHOLDER = re.compile(r'data-latent-map="([0-9a-f]{8,64})"')
# The class is vaelib.export.DATA_CLASS.
DATA = re.compile(r'<script type="application/json" class="vae-latent-map-data">(.*?)</script>', re.DOTALL)
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


def take_maps(text: str) -> tuple[str, dict[str, dict]]:
    """``text`` (HTML) without the maps' JSON, and the maps' payloads by id."""
    found = {}
    for match in DATA.finditer(text):
        payload = json.loads(match.group(1))
        found[payload["id"]] = payload
    return DATA.sub("", text), found


def _take_maps(app, doctree) -> None:
    maps = {}
    for node in list(doctree.findall(nodes.raw)):
        if "html" not in node.get("format", "").split() or "vae-latent-map" not in node.astext():
            continue
        text, found = take_maps(node.astext())
        for map_id in PLACEHOLDER.findall(text):
            if map_id not in found:
                LOGGER.warning("latent_maps: the placeholder of map %s holds no data", map_id, location=node)
        node.children = [nodes.Text(text)]
        maps.update(found)
    store = app.env.__dict__.setdefault("latent_maps", {})
    if maps:
        store[app.env.docname] = maps
    else:
        store.pop(app.env.docname, None)


def _purge(app, env, docname) -> None:
    env.__dict__.setdefault("latent_maps", {}).pop(docname, None)


def _merge(app, env, docnames, other) -> None:
    store = env.__dict__.setdefault("latent_maps", {})
    store.update({d: maps for d, maps in getattr(other, "latent_maps", {}).items() if d in docnames})


def _add_page_assets(app, pagename, templatename, context, doctree) -> None:
    if pagename not in getattr(app.env, "latent_maps", {}):
        return
    app.add_css_file(STYLE)
    # The script finds the runtime through this attribute; empty means "not in this build".
    app.add_js_file(SCRIPT, loading_method="defer", **{"data-runtime": app.env.latent_maps_runtime or ""})


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
    for page_maps in maps.values():
        for payload in page_maps.values():
            write_map(payload, static / MAPS_DIR)


def setup(app):
    app.add_config_value("latent_maps_runtime", "node_modules/onnxruntime-web/dist", "html")
    app.connect("builder-inited", _add_static_path)
    app.connect("doctree-read", _take_maps)
    app.connect("env-purge-doc", _purge)
    app.connect("env-merge-info", _merge)
    app.connect("html-page-context", _add_page_assets)
    app.connect("build-finished", _write_assets)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
