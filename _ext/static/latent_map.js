/* Live latent maps of the VAE book: a trained decoder runs in the reader's browser.
 *
 * Every <div class="vae-latent-map" data-latent-map="ID"> on the page (written by vaelib.LatentMap)
 * becomes a widget: the decoded Normal-quantile grid as a map, a point the reader moves with the
 * mouse, a finger or the arrow keys, and the digit the decoder draws at that point, large, with its
 * z values. The model (_static/latent_maps/ID.onnx) runs with onnxruntime-web's WebAssembly backend,
 * served from _static/onnxruntime-web/ (see _ext/latent_maps.py). When any of that is missing the
 * placeholder's note stays, saying why; the static figure above it shows the same decoder.
 *
 * State for tests and for anyone curious, on the placeholder: data-state ("loading", "ready",
 * "failed"), data-z (the point, "z1 z2"), data-drawn-z (the point whose digit is on the canvas) and,
 * as a property, decodedProbabilities (that digit's 784 pixel probabilities).
 */
(() => {
  "use strict";

  const script = document.currentScript;
  const STATIC = new URL(".", script.src); // this file lives in _static/
  const RUNTIME = script.dataset.runtime; // "" when onnxruntime-web is not part of the build
  const SIDE = 28; // the decoder's images are SIDE x SIDE
  const ZOOM = 8; // the digit is drawn ZOOM times larger, one block of ZOOM x ZOOM per pixel
  const TILE = 28; // map pixels per grid cell
  const KEY_STEP = 0.25; // arrow keys move a quarter of a grid cell; with Shift a whole cell
  const STILL = "The static figure above shows the same decoder.";

  // --- the standard Normal ------------------------------------------------------------------------

  // erf(x) from its Taylor series (to ~1e-13 for |x| < 3); beyond, the leading terms of the asymptotic
  // expansion of erfc, which there is below 2.3e-5 and only places points that lie off the map.
  function erf(x) {
    const a = Math.abs(x);
    if (a >= 3) {
      const tail = (Math.exp(-a * a) / (a * Math.sqrt(Math.PI))) * (1 - 1 / (2 * a * a) + 3 / (4 * a ** 4));
      return Math.sign(x) * (1 - tail);
    }
    let term = x; // x^(2k+1) (-1)^k / k!
    let sum = x;
    for (let k = 1; k < 80 && Math.abs(term) > 1e-17; k++) {
      term *= (-x * x) / k;
      sum += term / (2 * k + 1);
    }
    return (2 / Math.sqrt(Math.PI)) * sum;
  }

  const normalCdf = (z) => 0.5 * (1 + erf(z / Math.SQRT2));

  // The quantile function, by Newton's method on normalCdf.
  function normalQuantile(u) {
    let z = Math.sign(u - 0.5) * Math.sqrt(-1.6 * Math.log(4 * u * (1 - u))); // within ~0.1 on (0.01, 0.99)
    for (let i = 0; i < 50; i++) {
      const step = (normalCdf(z) - u) / (Math.exp(-0.5 * z * z) / Math.sqrt(2 * Math.PI));
      z -= step;
      if (Math.abs(step) < 1e-12) break;
    }
    return z;
  }

  // --- loading ------------------------------------------------------------------------------------

  let runtime = null; // one onnxruntime-web for all maps on the page
  function loadRuntime() {
    runtime ??= import(new URL(RUNTIME, STATIC).href).then((ort) => {
      // Only the .wasm is fetched: a prefix here would make the bundle fetch its (embedded) loader too.
      ort.env.wasm.wasmPaths = { wasm: new URL("onnxruntime-web/ort-wasm-simd-threaded.wasm", STATIC).href };
      ort.env.wasm.numThreads = 1; // threads need a cross-origin-isolated page; one is plenty here
      ort.env.logLevel = "error";
      return ort;
    });
    return runtime;
  }

  async function fetchOk(url) {
    const response = await fetch(url);
    if (!response.ok) throw new Error(`${url.pathname.split("/").pop()}: HTTP ${response.status}`);
    return response;
  }

  function whyNot(element) {
    if (location.protocol === "file:") {
      return "This page was opened as a file, and browsers do not let such a page load the decoder. " +
        "Serve the book over HTTP to use the live map, e.g. python -m http.server --directory _build/html";
    }
    if (!RUNTIME) return "This build of the book lacks onnxruntime-web: run npm ci, then build the book again.";
    if (element.dataset.format !== "1") return "This map was written by another version of the book.";
    return null;
  }

  function say(element, text) {
    let note = element.querySelector(".vae-latent-map-note");
    if (!note) {
      note = document.createElement("p");
      note.className = "vae-latent-map-note";
      element.prepend(note);
    }
    note.textContent = text;
    note.hidden = !text;
  }

  async function start(element) {
    const reason = whyNot(element);
    if (reason) {
      element.dataset.state = "failed";
      say(element, `The live map cannot start. ${reason} ${STILL}`);
      return;
    }
    element.dataset.state = "loading";
    say(element, "Loading the decoder for the live map…");
    const id = element.dataset.latentMap;
    try {
      const [ort, meta, model] = await Promise.all([
        loadRuntime(),
        fetchOk(new URL(`latent_maps/${id}.json`, STATIC)).then((r) => r.json()),
        fetchOk(new URL(`latent_maps/${id}.onnx`, STATIC)).then((r) => r.arrayBuffer()),
      ]);
      const session = await ort.InferenceSession.create(new Uint8Array(model), { executionProviders: ["wasm"] });
      const decode = async (zs) => {
        const input = new ort.Tensor("float32", Float32Array.from(zs), [zs.length / 2, 2]);
        const outputs = await session.run({ [meta.input]: input });
        return outputs[meta.output].data; // (B, 1, 28, 28) probabilities, row by row
      };
      await build(element, meta, decode);
      say(element, "");
      element.dataset.state = "ready";
    } catch (error) {
      element.dataset.state = "failed";
      say(element, `The live map could not load the decoder (${error.message}). ${STILL}`);
      console.error("latent map", id, error);
    }
  }

  // --- drawing ------------------------------------------------------------------------------------

  function make(tag, attributes = {}, parent = null) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attributes)) {
      if (key === "text") node.textContent = value;
      else node.setAttribute(key, value);
    }
    if (parent) parent.append(node);
    return node;
  }

  // Probabilities p -> grey levels as in the book's figures (ink dark): 255 (1 - p), rounded.
  function paint(image, probs, offset, x0, y0, zoom) {
    const width = image.width;
    for (let row = 0; row < SIDE; row++) {
      for (let col = 0; col < SIDE; col++) {
        const grey = Math.round(255 * (1 - probs[offset + row * SIDE + col]));
        for (let dy = 0; dy < zoom; dy++) {
          let at = 4 * ((y0 + row * zoom + dy) * width + x0 + col * zoom);
          for (let dx = 0; dx < zoom; dx++, at += 4) {
            image.data[at] = image.data[at + 1] = image.data[at + 2] = grey;
            image.data[at + 3] = 255;
          }
        }
      }
    }
  }

  const fixed = (v) => v.toFixed(2).replace("-", "\u2212");

  async function build(element, meta, decode) {
    const n = meta.grid.n;
    const q = meta.grid.z; // the grid's quantiles of N(0, 1), increasing
    const h = (meta.grid.high - meta.grid.low) / (n - 1); // one cell, in probability
    const uMin = meta.grid.low - h / 2;
    const uMax = meta.grid.high + h / 2; // the map spans [uMin, uMax] in Phi(z) on both axes
    const side = n * TILE;

    // The grid, decoded here by the same model that draws the digit. Row i holds z2 = q[n-1-i].
    const zs = [];
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) zs.push(q[j], q[n - 1 - i]);
    const gridProbs = await decode(zs);
    const grid = document.createElement("canvas");
    grid.width = grid.height = side;
    const gridImage = new ImageData(side, side);
    for (let k = 0; k < n * n; k++) {
      paint(gridImage, gridProbs, k * SIDE * SIDE, (k % n) * TILE, Math.floor(k / n) * TILE, TILE / SIDE);
    }
    grid.getContext("2d").putImageData(gridImage, 0, 0);

    // The widget's parts; the ids tie the labels to what they describe.
    const uid = `vlm-${element.dataset.latentMap}`;
    const panels = make("div", { class: "vlm-panels" }, element);
    const mapPanel = make("div", { class: "vlm-map-panel" }, panels);
    const map = make("canvas", {
      class: "vlm-map", width: side, height: side, tabindex: "0", role: "application",
      "aria-roledescription": "latent-space map",
      "aria-label": "Latent-space map of the decoder: click or drag to move the point; with the keyboard, " +
        "the arrow keys move it, Shift and an arrow key a whole cell, Home goes to the centre.",
      "aria-describedby": `${uid}-z`,
    }, mapPanel);
    make("p", { class: "vlm-axes", text: `horizontal z\u2081, vertical z\u2082, each from ${fixed(normalQuantile(uMin))} ` +
      `to ${fixed(normalQuantile(uMax))}, spaced by Normal quantiles (${n}\u00d7${n} cells)` }, mapPanel);
    const digitPanel = make("div", { class: "vlm-digit-panel" }, panels);
    const digit = make("canvas", { class: "vlm-digit", width: SIDE * ZOOM, height: SIDE * ZOOM, role: "img" }, digitPanel);
    const readout = make("output", { class: "vlm-readout", id: `${uid}-z`, "aria-live": "polite" }, digitPanel);
    let overlay = null;
    if (meta.points) {
      const label = make("label", { class: "vlm-toggle" }, digitPanel);
      overlay = make("input", { type: "checkbox" }, label);
      const shown = meta.points.z.length;
      label.append(` show ${shown.toLocaleString("en")} test posterior means` +
        (shown < meta.points.total ? ` (of ${meta.points.total.toLocaleString("en")})` : ""));
      const legend = make("ul", { class: "vlm-legend", "aria-label": "colour of each digit" }, digitPanel);
      meta.colours.forEach((colour, d) => {
        const item = make("li", {}, legend);
        make("span", { class: "vlm-swatch", style: `background:${colour}` }, item);
        item.append(String(d));
      });
      legend.hidden = true;
      overlay.addEventListener("change", () => { legend.hidden = !overlay.checked; redraw(); });
    }

    const context = map.getContext("2d");
    const toX = (u) => ((u - uMin) / (uMax - uMin)) * side;
    let u = [0.5, 0.5]; // the point, in (Phi(z1), Phi(z2)); starts at z = 0

    function redraw() {
      context.drawImage(grid, 0, 0);
      if (overlay?.checked) {
        meta.points.z.forEach(([z1, z2], k) => {
          const x = toX(normalCdf(z1));
          const y = side - toX(normalCdf(z2));
          if (x < 0 || x > side || y < 0 || y > side) return; // beyond the grid
          context.fillStyle = meta.colours[meta.points.labels[k]];
          context.globalAlpha = 0.85;
          context.beginPath();
          context.arc(x, y, 2.5, 0, 2 * Math.PI);
          context.fill();
        });
        context.globalAlpha = 1;
      }
      const x = toX(u[0]);
      const y = side - toX(u[1]);
      for (const [colour, width] of [["#fff", 5], ["#000", 2]]) {
        context.strokeStyle = colour;
        context.lineWidth = width;
        context.beginPath();
        context.arc(x, y, 10, 0, 2 * Math.PI);
        context.moveTo(x - 16, y); context.lineTo(x - 4, y); context.moveTo(x + 4, y); context.lineTo(x + 16, y);
        context.moveTo(x, y - 16); context.lineTo(x, y - 4); context.moveTo(x, y + 4); context.lineTo(x, y + 16);
        context.stroke();
      }
    }

    // Decoding is asynchronous: while one runs, only the latest point waits for the next.
    const digitContext = digit.getContext("2d");
    const digitImage = new ImageData(SIDE * ZOOM, SIDE * ZOOM);
    let busy = false;
    let waiting = null;
    async function show(z) {
      if (busy) { waiting = z; return; }
      busy = true;
      try {
        const probs = await decode(z);
        paint(digitImage, probs, 0, 0, 0, ZOOM);
        digitContext.putImageData(digitImage, 0, 0);
        const text = `z\u2081 = ${fixed(z[0])}, z\u2082 = ${fixed(z[1])}`;
        digit.setAttribute("aria-label", `the digit decoded at ${text}`);
        readout.textContent = text;
        element.decodedProbabilities = probs; // the decoder's output before rounding to grey levels
        element.dataset.drawnZ = `${z[0]} ${z[1]}`;
      } catch (error) {
        console.error("latent map: decoding failed", error);
      } finally {
        busy = false;
        if (waiting) { const next = waiting; waiting = null; show(next); }
      }
    }

    function moveTo(u1, u2) {
      const clamp = (v) => Math.min(uMax, Math.max(uMin, v));
      u = [clamp(u1), clamp(u2)];
      const z = [normalQuantile(u[0]), normalQuantile(u[1])];
      element.dataset.z = `${z[0]} ${z[1]}`;
      redraw();
      show(z);
    }

    function fromPointer(event) {
      const box = map.getBoundingClientRect();
      const fx = (event.clientX - box.left) / box.width;
      const fy = (event.clientY - box.top) / box.height;
      moveTo(uMin + fx * (uMax - uMin), uMin + (1 - fy) * (uMax - uMin));
    }

    map.addEventListener("pointerdown", (event) => {
      map.setPointerCapture(event.pointerId);
      map.focus();
      fromPointer(event);
      event.preventDefault();
    });
    map.addEventListener("pointermove", (event) => { if (map.hasPointerCapture(event.pointerId)) fromPointer(event); });
    map.addEventListener("keydown", (event) => {
      const step = (event.shiftKey ? 1 : KEY_STEP) * h;
      const moves = { ArrowLeft: [-step, 0], ArrowRight: [step, 0], ArrowUp: [0, step], ArrowDown: [0, -step] };
      if (event.key === "Home") moveTo(0.5, 0.5);
      else if (event.key in moves) moveTo(u[0] + moves[event.key][0], u[1] + moves[event.key][1]);
      else return;
      event.preventDefault(); // no scrolling while the map has the keys
    });

    moveTo(0.5, 0.5);
  }

  function startAll() {
    document.querySelectorAll(".vae-latent-map[data-latent-map]").forEach(start);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", startAll);
  else startAll();
})();
