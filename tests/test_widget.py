"""The live latent map: the decoder exported to ONNX (vaelib.export), served by _ext/latent_maps.py,
run in the reader's browser by _ext/static/latent_map.js.

1. In Python, onnxruntime runs the exported model and must give the PyTorch decoder's pixel
   probabilities within 1e-5, for the MLP and the convolutional decoder (batch norm in eval mode).
2. A tiny book (one notebook with two maps: an MLP and a convolutional decoder) is built, and
   headless Chromium moves the point by click, drag, touch and arrow keys; each time the digit on the
   widget's canvas must match the PyTorch decoder at the z the widget shows, within the 8-bit grey
   levels the canvas stores (half a level, 0.5/255, plus 1e-5), and the probabilities onnxruntime-web
   computed within 1e-5. No console errors; the map is reached with Tab and labelled for screen
   readers; the page's extra download stays under 15 MB.
3. Built without onnxruntime-web (a reader who skipped npm), the book still builds and the page
   keeps the note that says why the live map is missing; so it does without JavaScript.
"""

from __future__ import annotations

import base64
import inspect
import json
import os
import re
import sys
import textwrap
import time
from pathlib import Path

import nbformat
import numpy as np
import pytest
import torch

import vaelib
from vaelib.book import export
from vaelib.plots import normal_quantile_grid

from . import browser
from .conftest import build_book

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "_ext"))

import latent_maps  # noqa: E402

RUNTIME = ROOT / "node_modules" / "onnxruntime-web" / "dist"
PIXEL_TOLERANCE = 0.5 / 255 + 1e-5  # the canvas holds round(255 (1 - p)): half a grey level, plus float error
DOWNLOAD_BUDGET = 15e6  # bytes the widget adds to its page: script, style, runtime, model, data


def decoders(seed: int = 0) -> dict[str, torch.nn.Module]:
    """An MLP and a convolutional decoder with z_dim=2 whose outputs span (0, 1), in eval mode.

    Their weights are random but reproducible; the batch-norm running statistics are set away from
    (0, 1), so an export in training mode (batch statistics) would not pass.
    """
    torch.manual_seed(seed)
    mlp, conv = vaelib.MLPDecoder(z_dim=2), vaelib.ConvDecoder(z_dim=2)
    with torch.no_grad():
        mlp.logits.weight.mul_(8.0)  # pixel probabilities from near 0 to near 1
        for module in conv.modules():
            if isinstance(module, torch.nn.BatchNorm2d):
                module.running_mean.uniform_(-0.5, 0.5)
                module.running_var.uniform_(0.5, 2.0)
        conv.upsample[-1].weight.mul_(8.0)
    return {"mlp": mlp.eval(), "conv": conv.eval()}


def probabilities(decoder: torch.nn.Module, z) -> np.ndarray:
    with torch.no_grad():
        return torch.sigmoid(decoder(torch.as_tensor(z, dtype=torch.float32))).numpy()


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    """(name, exporter) -> (decoder, path of its ONNX export, seconds the export took)."""
    folder = tmp_path_factory.mktemp("onnx")
    found = {}
    for name, decoder in decoders().items():
        for exporter in export.EXPORTERS:
            start = time.perf_counter()
            path = vaelib.export_decoder_onnx(decoder, folder / f"{name}-{exporter}.onnx", exporter=exporter)
            found[name, exporter] = (decoder, path, time.perf_counter() - start)
    return found


@pytest.mark.parametrize("exporter", export.EXPORTERS)
@pytest.mark.parametrize("name", ["mlp", "conv"])
def test_onnx_model_gives_the_decoders_probabilities(exported, name, exporter):
    import onnxruntime

    decoder, path, seconds = exported[name, exporter]
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    assert [i.name for i in session.get_inputs()] == [export.INPUT_NAME]
    assert [o.name for o in session.get_outputs()] == [export.OUTPUT_NAME]
    grid = normal_quantile_grid(20).numpy()  # (400, 2), the map's grid
    far = np.array([[0.0, 0.0], [-3.5, 2.0], [4.0, -4.0]], dtype=np.float32)  # beyond the grid too
    for z in (grid, far, grid[:1]):  # the batch size is free, down to one
        (onnx_probs,) = session.run(None, {export.INPUT_NAME: z})
        torch_probs = probabilities(decoder, z)
        assert onnx_probs.shape == torch_probs.shape == (len(z), 1, 28, 28)
        assert np.abs(onnx_probs - torch_probs).max() < 1e-5
    print(f"{name} ({exporter}): {path.stat().st_size / 1e6:.2f} MB, exported in {seconds:.1f} s")


def test_export_leaves_the_decoder_as_it_was(tmp_path):
    decoder = decoders()["conv"].train()  # training mode: batch norm would use batch statistics
    before = {k: v.clone() for k, v in decoder.state_dict().items()}
    content = vaelib.decoder_onnx_bytes(decoder)
    assert decoder.training, "the caller's decoder must stay in training mode"
    assert all(torch.equal(before[k], v) for k, v in decoder.state_dict().items()), "running statistics moved"
    import onnxruntime

    session = onnxruntime.InferenceSession(content, providers=["CPUExecutionProvider"])
    z = normal_quantile_grid(5).numpy()
    (onnx_probs,) = session.run(None, {"z": z})
    assert np.abs(onnx_probs - probabilities(decoder.eval(), z)).max() < 1e-5, "the export is the eval-mode decoder"


def test_auto_export_falls_back_to_the_torch_export_based_exporter(monkeypatch):
    calls = []

    def gone(model, probe):  # as in a PyTorch without the TorchScript-based exporter
        calls.append("torchscript")
        raise RuntimeError("the TorchScript-based exporter was removed")

    monkeypatch.setattr(export, "_torchscript_bytes", gone)
    decoder = decoders()["mlp"]
    import onnxruntime

    session = onnxruntime.InferenceSession(vaelib.decoder_onnx_bytes(decoder), providers=["CPUExecutionProvider"])
    z = normal_quantile_grid(5).numpy()
    (onnx_probs,) = session.run(None, {export.INPUT_NAME: z})
    assert calls == ["torchscript"] and np.abs(onnx_probs - probabilities(decoder, z)).max() < 1e-5
    with pytest.raises(ValueError, match="exporter must be one of auto, torchscript, dynamo, got 'jit'"):
        vaelib.decoder_onnx_bytes(decoder, exporter="jit")


def test_export_refuses_what_is_not_a_decoder(tmp_path):
    flat = torch.nn.Sequential(torch.nn.Linear(2, 784))  # logits (B, 784), not images
    with pytest.raises(ValueError, match="z_dim="):
        vaelib.export_decoder_onnx(flat, tmp_path / "flat.onnx")
    with pytest.raises(ValueError, match=r"\(B, 1, 28, 28\); got \(4, 784\)"):
        vaelib.export_decoder_onnx(flat, tmp_path / "flat.onnx", z_dim=2)
    assert not list(tmp_path.iterdir()), "nothing is written when the export fails"


def test_latent_map_checks_its_input_before_exporting():
    decoder = decoders()["mlp"]
    with pytest.raises(ValueError, match="2-D latent space"):
        vaelib.LatentMap(vaelib.MLPDecoder(z_dim=3))
    with pytest.raises(ValueError, match="together"):
        vaelib.LatentMap(decoder, points=torch.zeros(5, 2))
    with pytest.raises(ValueError, match=r"shape \(N, 2\)"):
        vaelib.LatentMap(decoder, torch.zeros(5, 3), torch.zeros(5))
    with pytest.raises(ValueError, match="one digit per point"):
        vaelib.LatentMap(decoder, torch.zeros(5, 2), torch.zeros(4))
    with pytest.raises(ValueError, match="digits 0-9"):
        vaelib.LatentMap(decoder, torch.zeros(5, 2), torch.full((5,), 10))
    with pytest.raises(ValueError, match="NaN"):
        vaelib.LatentMap(decoder, torch.full((5, 2), float("nan")), torch.zeros(5))


@pytest.fixture(scope="module")
def overlay_points():
    return torch.randn(3000, 2, generator=torch.Generator().manual_seed(0)), torch.arange(3000) % 10


@pytest.fixture(scope="module")
def latent_map(overlay_points):
    return vaelib.LatentMap(decoders()["mlp"], *overlay_points, max_points=500)


def test_latent_map_output_carries_model_and_overlay(latent_map, overlay_points):
    points, _ = overlay_points
    text = latent_map._repr_html_()
    assert f'data-latent-map="{latent_map.id}"' in text
    assert "JavaScript" in text, "without the widget's script, the note says what is missing"
    (payload,) = latent_maps.take_maps(text)[1].values()  # the JSON the output carries
    assert payload == latent_map.payload()
    assert payload["id"] == latent_map.id and payload["format"] == export.FORMAT
    assert base64.b64decode(payload["model"]) == latent_map.model
    assert payload["grid"]["z"] == pytest.approx(normal_quantile_grid(20)[:20, 0].tolist())
    overlay = payload["points"]
    assert len(overlay["z"]) == len(overlay["labels"]) == 500 and overlay["total"] == 3000
    kept = {tuple(p) for p in np.round(points.numpy().astype(float), 3).tolist()}
    assert all(tuple(p) in kept for p in overlay["z"]), "the overlay holds (rounded) input points"
    assert len(payload["colours"]) == 10
    assert repr(latent_map).startswith(f"LatentMap({latent_map.id}: decoder as ONNX")


def test_extension_takes_the_data_out_of_the_page(latent_map, tmp_path):
    assert export.DATA_CLASS in latent_maps.DATA.pattern
    text, found = latent_maps.take_maps("<p>before</p>" + latent_map._repr_html_() + "<p>after</p>")
    assert list(found) == [latent_map.id] and latent_maps.PLACEHOLDER.findall(text) == [latent_map.id]
    assert len(text) < 1000 and text.startswith("<p>before</p>") and text.endswith("<p>after</p>")
    model, data = latent_maps.write_map(found[latent_map.id], tmp_path / "static")
    assert model.read_bytes() == latent_map.model and model.name == f"{latent_map.id}.onnx"
    written = json.loads(data.read_text())
    assert "model" not in written and written["model_bytes"] == len(latent_map.model)
    assert written["points"] == latent_map.points and written["grid"] == latent_map.grid


# --- the built page ----------------------------------------------------------------------------------

NOTEBOOK_CELLS = [
    "import numpy as np\nimport torch\n\nimport vaelib\n\n\n" + inspect.getsource(decoders),
    """\
    nets = decoders()
    torch.save({name: net.state_dict() for name, net in nets.items()}, "decoders.pt")
    points, labels = torch.randn(400, 2, generator=torch.Generator().manual_seed(1)), torch.arange(400) % 10
    """,
    "vaelib.LatentMap(nets['mlp'], points, labels)",
    "vaelib.LatentMap(nets['conv'])",
]


def write_tiny_book(folder: Path) -> None:
    """A one-page book with the widget's extension, and two configurations: with and without the runtime.

    Both share one execution cache, so the second build takes the notebook's outputs from the first.
    """
    folder.mkdir(parents=True)
    notebook = nbformat.v4.new_notebook(
        cells=[nbformat.v4.new_markdown_cell("# Live latent maps")]
        + [nbformat.v4.new_code_cell(textwrap.dedent(source)) for source in NOTEBOOK_CELLS],
        metadata={"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"}},
    )
    nbformat.write(notebook, folder / "maps.ipynb")
    (folder / "_toc.yml").write_text("format: jb-book\nroot: maps\n")
    for name, runtime in [("with_runtime", RUNTIME), ("without_runtime", folder / "no_node_modules")]:
        config = {
            "title": "latent map test",
            "only_build_toc_files": True,
            "exclude_patterns": ["with_runtime", "without_runtime"],
            "execute": {"execute_notebooks": "cache", "cache": str(folder.parent / "cache"), "timeout": 600},
            "sphinx": {
                "local_extensions": {"latent_maps": str(ROOT / "_ext"), "unique_scripts": str(ROOT / "_ext")},
                "config": {"latent_maps_runtime": str(runtime)},
            },
        }
        (folder / f"{name}.yml").write_text(json.dumps(config))  # JSON is YAML


def build_tiny_book(folder: Path, name: str) -> tuple[str, Path]:
    """Build the book in ``folder`` with configuration ``name`` (in this process, strict: a warning fails the
    build); returns what the build printed and its html folder."""
    with pytest.MonkeyPatch.context() as env:  # the notebook's kernel inherits this process's environment
        env.setenv("PYTHONPATH", os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]))
        env.delenv("MPLBACKEND", raising=False)
        start = time.perf_counter()
        status, printed = build_book(folder, strict=True, config=folder / f"{name}.yml", output=folder / name)
    print(f"tiny book built {name} in {time.perf_counter() - start:.0f} s")
    assert status == 0, printed[-6000:]
    return printed, folder / name / "_build" / "html"


@pytest.fixture(scope="module")
def tiny_book_source(tmp_path_factory):
    folder = tmp_path_factory.mktemp("book") / "book"
    write_tiny_book(folder)
    return folder


@pytest.fixture(scope="module")
def tiny_book(tiny_book_source):
    """(source folder, html folder) of the tiny book built with onnxruntime-web."""
    if not (RUNTIME / latent_maps.RUNTIME_FILES[0]).exists():
        if os.environ.get("VAE_BOOK_REQUIRE_BROWSER"):
            pytest.fail("the widget's tests need onnxruntime-web: npm ci, at the project root")
        pytest.skip("needs onnxruntime-web (npm ci, at the project root)")
    return tiny_book_source, build_tiny_book(tiny_book_source, "with_runtime")[1]


def test_build_writes_model_data_and_runtime_next_to_the_page(tiny_book):
    folder, html = tiny_book
    page = (html / "maps.html").read_text()
    ids = latent_maps.PLACEHOLDER.findall(page)
    assert len(ids) == 2, "two maps on the page"
    assert export.DATA_CLASS not in page and len(page) < 200_000, "the model is beside the page, not in it"
    static = html / "_static"
    for map_id in ids:
        data = json.loads((static / latent_maps.MAPS_DIR / f"{map_id}.json").read_text())
        model = static / latent_maps.MAPS_DIR / f"{map_id}.onnx"
        assert data["id"] == map_id and data["model_bytes"] == model.stat().st_size > 0
    for name in latent_maps.RUNTIME_FILES:
        assert (static / latent_maps.RUNTIME_DIR / name).read_bytes() == (RUNTIME / name).read_bytes()
    assert "latent_map.js" in page and 'data-runtime="onnxruntime-web/' in page
    assert "latent_map.js" not in (html / "genindex.html").read_text(), "only pages with a map load the widget"
    assert not list(folder.glob("**/*.onnx")) or all("_build" in p.parts for p in folder.glob("**/*.onnx"))


def canvas_greys(page, selector: str, index: int, zoom: int, origin=(0, 0), side: int = 28) -> np.ndarray:
    """The grey levels (0-255) at the centres of a side x side block image drawn at ``zoom`` px per pixel."""
    values = page.evaluate(
        """([selector, index, zoom, x0, y0, side]) => {
            const canvas = document.querySelectorAll(selector)[index];
            const data = canvas.getContext("2d").getImageData(x0, y0, side * zoom, side * zoom).data;
            const out = [];
            for (let r = 0; r < side; r++) for (let c = 0; c < side; c++) {
                const at = 4 * ((r * zoom + (zoom >> 1)) * side * zoom + c * zoom + (zoom >> 1));
                out.push(data[at]);
            }
            return out;
        }""",
        [selector, index, zoom, *origin, side],
    )
    return np.array(values, dtype=float).reshape(side, side)


def wait_until_drawn(page, index: int) -> list[float]:
    """Wait until map ``index`` shows the digit of its current point; return that z."""
    page.wait_for_function(
        "i => { const m = document.querySelectorAll('.vae-latent-map')[i];"
        " return m.dataset.z && m.dataset.drawnZ === m.dataset.z; }",
        arg=index,
        timeout=20_000,
    )
    drawn = page.evaluate("i => document.querySelectorAll('.vae-latent-map')[i].dataset.drawnZ", index)
    return [float(v) for v in drawn.split()]


@pytest.fixture
def chromium_ready():
    """Skip (fail in CI, where VAE_BOOK_REQUIRE_BROWSER is set) when headless Chromium cannot run."""
    browser.require("the widget's browser test")


def open_page(chromium, url: str, **context_options):
    """A new page on ``url``, recording console errors, remote requests and the bytes of every response."""
    context = chromium.new_context(viewport={"width": 1280, "height": 1000}, **context_options)
    page = context.new_page()
    log = {"errors": [], "refused": [], "bytes": {}}
    page.on("console", lambda m: m.type == "error" and log["errors"].append(m.text))
    page.on("pageerror", lambda e: log["errors"].append(str(e)))
    page.on("requestfinished", lambda r: log["bytes"].__setitem__(r.url, r.sizes()["responseBodySize"]))
    if url.startswith("file:"):  # the book's own files load; anything remote is refused and recorded
        page.route(re.compile(r"^https?://"), lambda route: (log["refused"].append(route.request.url), route.abort()))
    else:
        browser.route_offline(page, log["refused"])
    page.goto(url, wait_until="load")
    return context, page, log


KEYS = [  # a key, then where the point should be: steps of a quarter cell right and up from the centre
    ("ArrowRight", (1, 0)),
    ("ArrowRight", (2, 0)),
    ("Shift+ArrowUp", (2, 4)),
    ("ArrowDown", (2, 3)),
    ("ArrowLeft", (1, 3)),
    ("Home", (0, 0)),
]
CLICKS = [(0.1, 0.15), (0.85, 0.7), (0.5, 0.5), (0.02, 0.98)]  # fractions of the map's width and height


def check_digit(page, index: int, decoder, what: str) -> tuple[list[float], str]:
    """The digit on map ``index``'s canvas against the PyTorch decoder at the z the widget shows."""
    z = wait_until_drawn(page, index)
    greys = canvas_greys(page, ".vlm-digit", index, 8)
    expected = probabilities(decoder, [z])[0, 0]  # float32 z, as the widget feeds it
    difference = np.abs((1 - greys / 255) - expected).max()
    probs = page.evaluate(
        "i => Array.from(document.querySelectorAll('.vae-latent-map')[i].decodedProbabilities)", index
    )
    runtime_difference = np.abs(np.reshape(probs, (28, 28)) - expected).max()
    line = f"{what} z=({z[0]:+.3f}, {z[1]:+.3f}): max |difference| {difference:.5f} (canvas)"
    line += f", {runtime_difference:.1e} (runtime)"
    assert difference <= PIXEL_TOLERANCE, line
    assert runtime_difference < 1e-5, line  # onnxruntime-web's probabilities, before the canvas rounds them
    readout = page.locator(".vlm-readout").nth(index).inner_text()
    assert f"{z[0]:.2f}".replace("-", "\u2212") in readout and f"{z[1]:.2f}".replace("-", "\u2212") in readout
    return z, line


def check_grid(page, index: int, decoder, name: str) -> None:
    """Cells of the map away from the point (at the centre) are the decoder's images at the grid's z."""
    grid = normal_quantile_grid(20)
    for cell in (0, 19, 380, 399, 45, 250):  # the corners say which way the axes run
        row, col = divmod(cell, 20)
        greys = canvas_greys(page, ".vlm-map", index, 1, origin=(28 * col, 28 * row))
        expected = probabilities(decoder, grid[cell : cell + 1])[0, 0]
        assert np.abs((1 - greys / 255) - expected).max() <= PIXEL_TOLERANCE, f"{name}: grid cell {cell}"


def check_keyboard(page, index: int, decoder, name: str) -> list[str]:
    """Tab reaches the map; the arrow keys move the point by a quarter of a cell, Shift by a whole one."""
    page.evaluate("() => document.activeElement && document.activeElement.blur()")
    for _ in range(400):
        page.keyboard.press("Tab")
        if page.evaluate("i => document.activeElement === document.querySelectorAll('.vlm-map')[i]", index):
            break
    else:
        pytest.fail(f"{name}: Tab never reached the map")
    quarter = (0.95 - 0.05) / 19 / 4
    lines = []
    for key, (right, up) in KEYS:
        page.keyboard.press(key)
        z, line = check_digit(page, index, decoder, f"{name} {key}")
        expected = torch.distributions.Normal(0, 1).icdf(torch.tensor([0.5 + right * quarter, 0.5 + up * quarter]))
        assert z == pytest.approx(expected.tolist(), abs=1e-6), f"{name}: after {key} the point is at {z}"
        lines.append(line)
    return lines


def check_pointer(page, index: int, decoder, name: str) -> list[str]:
    """Clicks, a drag and a tap move the point where they happen (z2 upwards)."""
    box = page.locator(".vlm-map").nth(index).bounding_box()

    def at(fx, fy):
        return box["x"] + fx * box["width"], box["y"] + fy * box["height"]

    lines = []
    for fx, fy in CLICKS:
        page.mouse.click(*at(fx, fy))
        z, line = check_digit(page, index, decoder, f"{name} click at {fx, fy}")
        if fx != 0.5:
            assert (z[0] > 0, z[1] > 0) == (fx > 0.5, fy < 0.5), f"{name}: a click at {fx, fy} gave z={z}"
        lines.append(line)
    page.mouse.move(*at(0.3, 0.3))
    page.mouse.down()
    page.mouse.move(*at(0.6, 0.4), steps=8)
    page.mouse.move(*at(0.7, 0.8), steps=8)
    page.mouse.up()
    z, line = check_digit(page, index, decoder, f"{name} drag")
    assert z[0] > 0 > z[1], f"{name}: the drag ended at z={z}"
    page.touchscreen.tap(*at(0.25, 0.6))
    z, line2 = check_digit(page, index, decoder, f"{name} tap")
    assert z[0] < 0 and z[1] < 0, f"{name}: the tap gave z={z}"
    return [*lines, line, line2]


def check_labels(page, index: int) -> None:
    """What a screen reader reads: the map's role and instructions, the digit's z, a live readout."""
    map_canvas = page.locator(".vlm-map").nth(index)
    assert map_canvas.get_attribute("role") == "application" and map_canvas.get_attribute("tabindex") == "0"
    assert "arrow keys" in map_canvas.get_attribute("aria-label")
    digit = page.locator(".vlm-digit").nth(index)
    assert digit.get_attribute("role") == "img" and "z\u2081 = " in digit.get_attribute("aria-label")
    readout = page.locator("#" + map_canvas.get_attribute("aria-describedby"))
    assert readout.get_attribute("aria-live") == "polite" and "z\u2082 = " in readout.inner_text()


def check_overlay(page) -> None:
    """The MLP map has posterior means: a labelled checkbox shows them in colour, with a legend."""
    toggle = page.get_by_label("test posterior means")
    assert toggle.count() == 1, "only the map with points offers the overlay"
    coloured = (
        "() => { const d = document.querySelector('.vlm-map').getContext('2d').getImageData(0, 0, 560, 560).data;"
        " let n = 0; for (let i = 0; i < d.length; i += 4) if (d[i] !== d[i + 1] || d[i + 1] !== d[i + 2]) n++;"
        " return n; }"
    )
    before = page.evaluate(coloured)  # the point's marker is black and white
    toggle.check()
    assert before == 0 and page.evaluate(coloured) > 500, "coloured points appear on the map"
    assert page.locator(".vlm-legend").first.is_visible()
    toggle.uncheck()
    assert page.evaluate(coloured) == 0


def test_widget_draws_what_the_pytorch_decoder_draws(chromium_ready, tiny_book):
    """Clicks, a drag, a tap and keys; each digit is checked (see the module docstring). Chromium is
    checked first, so nothing is built where it is missing."""
    from playwright.sync_api import sync_playwright

    folder, html = tiny_book
    nets = decoders()
    state = torch.load(folder / "decoders.pt", weights_only=True)
    for name, net in nets.items():
        net.load_state_dict(state[name])  # the very weights the notebook exported
    report = []
    with browser.serve(html) as base, sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=browser.chromium_path(), args=browser.CHROMIUM_FLAGS)
        context, page, log = open_page(chromium, base + "maps.html", has_touch=True)
        start = time.perf_counter()
        page.wait_for_function(
            "[...document.querySelectorAll('.vae-latent-map')].every(m => m.dataset.state === 'ready')",
            timeout=60_000,
        )
        report.append(f"both maps ready {time.perf_counter() - start:.1f} s after the page's load event")
        for index, name in enumerate(["mlp", "conv"]):  # the notebook's order
            wait_until_drawn(page, index)
            check_grid(page, index, nets[name], name)
            report += check_keyboard(page, index, nets[name], name)
            report += check_pointer(page, index, nets[name], name)
            check_labels(page, index)
        check_overlay(page)
        page.locator(".vae-latent-map").first.scroll_into_view_if_needed()
        page.screenshot(path=str(shots_folder() / "latent_map.png"))
        context.close()
        chromium.close()
    print("\n".join(report))
    assert not log["errors"] and not log["refused"], log
    widget = {
        url: size for url, size in log["bytes"].items() if "/_static/latent_map" in url or "/onnxruntime-web/" in url
    }
    for url, size in sorted(widget.items(), key=lambda item: -item[1]):
        print(f"  {size / 1e6:7.3f} MB  {url.rsplit('/', 1)[-1]}")
    total = sum(widget.values())
    print(f"the widget's download on this page (two maps): {total / 1e6:.2f} MB")
    assert sum(url.endswith(".onnx") for url in widget) == 2
    assert all(any(url.endswith(name) for url in widget) for name in latent_maps.RUNTIME_FILES)
    assert total < DOWNLOAD_BUDGET, f"the widget adds {total / 1e6:.1f} MB to its page"


def shots_folder() -> Path:
    folder = ROOT / "_build" / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def test_without_javascript_or_served_as_a_file_the_note_explains(chromium_ready, tiny_book):
    from playwright.sync_api import sync_playwright

    _, html = tiny_book
    with browser.serve(html) as base, sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=browser.chromium_path(), args=browser.CHROMIUM_FLAGS)
        context, page, log = open_page(chromium, base + "maps.html", java_script_enabled=False)
        notes = page.locator(".vae-latent-map-note")
        assert notes.count() == 2 and "needs JavaScript" in notes.first.inner_text()
        context.close()
        context, page, log = open_page(chromium, (html / "maps.html").as_uri())
        page.wait_for_function("document.querySelector('.vae-latent-map').dataset.state === 'failed'")
        assert "opened as a file" in page.locator(".vae-latent-map-note").first.inner_text()
        assert not log["errors"] and not log["refused"], log
        context.close()
        chromium.close()


def test_book_builds_without_onnxruntime_web_and_says_why(tiny_book_source):
    """A reader who skipped npm: the build succeeds, and the page keeps the static figure and a note."""
    printed, html = build_tiny_book(tiny_book_source, "without_runtime")
    assert "lacks ort.wasm.bundle.min.mjs" in printed, "the build says what is missing"
    page = (html / "maps.html").read_text()
    assert 'data-runtime=""' in page and not (html / "_static" / latent_maps.RUNTIME_DIR).exists()
    assert "Using cached notebook" in printed or not (RUNTIME / "ort.wasm.bundle.min.mjs").exists()
    for map_id in latent_maps.PLACEHOLDER.findall(page):  # outputs from the execution cache bring their maps
        assert (html / "_static" / latent_maps.MAPS_DIR / f"{map_id}.onnx").is_file()
    missing = browser.missing_requirements()
    if missing:
        return
    from playwright.sync_api import sync_playwright

    with browser.serve(html) as base, sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=browser.chromium_path(), args=browser.CHROMIUM_FLAGS)
        context, page, log = open_page(chromium, base + "maps.html")
        page.wait_for_function("document.querySelector('.vae-latent-map').dataset.state === 'failed'")
        assert "lacks onnxruntime-web" in page.locator(".vae-latent-map-note").first.inner_text()
        assert not log["errors"] and not log["refused"], log
        context.close()
        chromium.close()
