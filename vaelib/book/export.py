"""A trained decoder, exported for the book's web pages: an ONNX model and the data of a live latent map.

Every decoder in vaelib maps latents z, (B, z_dim), to Bernoulli logits, (B, 1, 28, 28). The pictures
show pixel probabilities, sigmoid(logits), so that is what the exported model computes:

    probs = sigmoid(decoder(z)),   input "z" (B, z_dim) float32  ->  output "probs" (B, 1, 28, 28) float32,

with the batch size B left free. The export runs on a CPU copy of the decoder in evaluation mode, so
batch norm uses its running statistics and the caller's module is left as it was. It uses torch.onnx's
TorchScript-based exporter while this PyTorch still has it: on first use it costs about a quarter of the
torch.export-based one (``benchmarks/onnx_export.py``), and a book build pays for that first use. Where
it is gone, or fails on a decoder, the torch.export-based exporter (the ``onnx`` and ``onnxscript``
packages) does the job; both give the same pixel probabilities (``tests/test_widget.py``).

:class:`LatentMap` bundles such a model with what the widget of ``_ext/latent_maps.py`` draws: the
Normal-quantile grid of Kingma & Welling (2013), Fig. 4 (as in :func:`vaelib.plots.latent_manifold`),
and optionally the posterior means of test images coloured by digit. Shown in a notebook it is a
short note (its HTML output also carries the model, as inert JSON); in the built book the extension
moves the model out of the page into a file beside it, and the widget runs it in the reader's
browser with onnxruntime-web.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import html
import io
import json
import os
import warnings
from pathlib import Path

import matplotlib
import numpy as np
import torch
import torch.nn as nn

from ..data import IMAGE_SHAPE
from ..plots import normal_quantile_grid

# The payload travels inside the HTML output, as <script type="application/json" class=DATA_CLASS>:
# _ext/latent_maps.py takes it out of the page while Sphinx reads it. (Output metadata would not reach
# Sphinx for a notebook served from the execution cache, and a MIME type of its own makes myst-nb warn.)
DATA_CLASS = "vae-latent-map-data"
INPUT_NAME, OUTPUT_NAME = "z", "probs"  # names of the ONNX model's input and output
FORMAT = 1  # version of the payload below; the widget refuses others


class _Probabilities(nn.Module):
    """sigmoid(decoder(z)): the pixel probabilities the figures show."""

    def __init__(self, decoder: nn.Module):
        super().__init__()
        self.decoder = decoder

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.decoder(z))


def _latent_size(decoder: nn.Module, z_dim: int | None) -> int:
    z_dim = getattr(decoder, "z_dim", None) if z_dim is None else z_dim
    if not isinstance(z_dim, int) or z_dim < 1:
        raise ValueError(
            f"cannot tell the latent size of this {type(decoder).__name__} (z_dim={z_dim!r}); "
            "pass z_dim=, the size of the vectors it decodes"
        )
    return z_dim


EXPORTERS = ("auto", "torchscript", "dynamo")  # auto: torchscript where it works, else dynamo


def _torchscript_bytes(model: nn.Module, probe: torch.Tensor) -> bytes:
    """The TorchScript-based (legacy) exporter; deprecated in PyTorch 2.9, so its warnings are silenced."""
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # its deprecation notice, and tracer notes on the decoder's shape checks
        torch.onnx.export(
            model,
            (probe,),
            buffer,
            dynamo=False,
            input_names=[INPUT_NAME],
            output_names=[OUTPUT_NAME],
            dynamic_axes={INPUT_NAME: {0: "batch"}, OUTPUT_NAME: {0: "batch"}},  # any batch size
        )
    return buffer.getvalue()


def _dynamo_bytes(model: nn.Module, probe: torch.Tensor) -> bytes:
    """The torch.export-based exporter (PyTorch's default since 2.9), without its graph optimiser."""
    try:
        import onnxscript  # noqa: F401  (this exporter builds the graph with it)
    except ImportError as err:
        raise ImportError(
            "exporting a decoder needs the onnx and onnxscript packages: pip install onnx onnxscript"
        ) from err
    program = torch.onnx.export(
        model,
        (probe,),
        dynamo=True,
        optimize=False,  # nothing to gain on these small graphs
        input_names=[INPUT_NAME],
        output_names=[OUTPUT_NAME],
        dynamic_shapes=({0: torch.export.Dim("batch")},),  # any batch size
        verbose=False,
    )
    return program.model_proto.SerializeToString()


def decoder_onnx_bytes(decoder: nn.Module, z_dim: int | None = None, exporter: str = "auto") -> bytes:
    """The ONNX model of ``sigmoid(decoder(z))`` as bytes (see the module docstring for its signature).

    ``decoder`` maps (B, z_dim) to logits (B, 1, 28, 28); ``z_dim`` defaults to ``decoder.z_dim``.
    ``exporter`` is one of :data:`EXPORTERS`: "auto" tries the TorchScript-based exporter and falls back
    to the torch.export-based one ("dynamo") when it is missing or fails.
    Used in chapter 3 (through LatentMap, for the live map of the 2-D model).
    """
    if exporter not in EXPORTERS:
        raise ValueError(f"exporter must be one of {', '.join(EXPORTERS)}, got {exporter!r}")
    z_dim = _latent_size(decoder, z_dim)
    model = _Probabilities(copy.deepcopy(decoder)).cpu().float().eval()  # the caller's module stays put
    probe = torch.zeros(4, z_dim)
    with torch.no_grad():
        out = model(probe)
    if tuple(out.shape) != (4, *IMAGE_SHAPE):
        want = ", ".join(["B", *map(str, IMAGE_SHAPE)])
        raise ValueError(f"the decoder should map (B, {z_dim}) to logits of shape ({want}); got {tuple(out.shape)}")
    if exporter == "dynamo":
        return _dynamo_bytes(model, probe)
    if exporter == "torchscript":
        return _torchscript_bytes(model, probe)
    try:
        return _torchscript_bytes(model, probe)
    except Exception:  # removed from this PyTorch, or cannot trace this decoder: the supported exporter
        return _dynamo_bytes(model, probe)


def export_decoder_onnx(decoder: nn.Module, path: str | Path, z_dim: int | None = None, exporter: str = "auto") -> Path:
    """Write the ONNX model of ``sigmoid(decoder(z))`` to ``path`` and return the path.

    ``z_dim`` and ``exporter`` are those of :func:`decoder_onnx_bytes`.
    The file is written under a temporary name and renamed, so a failed export leaves an older file intact.
    Used in chapter 3's build (through LatentMap) and by the tests that run the model in onnxruntime.
    """
    content = decoder_onnx_bytes(decoder, z_dim, exporter)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(content)
    os.replace(tmp, path)
    return path


def _as_array(values) -> np.ndarray:
    return np.asarray(values.detach().cpu() if isinstance(values, torch.Tensor) else values)


class LatentMap:
    """A live map of a 2-D latent space: shown as a widget on the book's page, as a note elsewhere.

    ``decoder`` maps (B, 2) to logits (B, 1, 28, 28). ``points`` (N, 2), optional, are posterior means
    to overlay, with their digit ``labels`` (N,); at most ``max_points`` of them are kept (a random
    subset, fixed by ``seed``), rounded to three decimals. ``n`` is the size of the decoded
    Normal-quantile grid, at the quantiles ``low`` ... ``high`` of each axis, as in
    :func:`vaelib.plots.latent_manifold`.

    Taught in chapter 3.
    """

    def __init__(
        self,
        decoder: nn.Module,
        points: torch.Tensor | np.ndarray | None = None,
        labels: torch.Tensor | np.ndarray | None = None,
        *,
        n: int = 20,
        low: float = 0.05,
        high: float = 0.95,
        max_points: int = 2000,
        seed: int = 0,
    ):
        z_dim = getattr(decoder, "z_dim", 2)
        if z_dim != 2:
            raise ValueError(f"a latent map needs a 2-D latent space; this decoder has z_dim={z_dim}")
        if not (isinstance(n, int) and n >= 2) or not 0 < low < high < 1:
            raise ValueError(f"need an integer n >= 2 and quantiles 0 < low < high < 1; got n={n}, {low}, {high}")
        if (points is None) != (labels is None):
            raise ValueError("pass points and labels together: one digit label per posterior mean")
        self.points = None if points is None else self._overlay(points, labels, max_points, seed)  # checked first
        self.grid = {"n": n, "low": low, "high": high, "z": normal_quantile_grid(n, low, high)[:n, 0].tolist()}
        self.model = decoder_onnx_bytes(decoder, 2)
        payload = {"format": FORMAT, "z_dim": 2, "input": INPUT_NAME, "output": OUTPUT_NAME, "grid": self.grid}
        payload["points"] = self.points
        payload["colours"] = [matplotlib.colors.to_hex(c) for c in matplotlib.colormaps["tab10"].colors]
        digest = hashlib.sha256(self.model + json.dumps(payload, sort_keys=True).encode())
        self.id = digest.hexdigest()[:20]  # names the files in the built book; changes with any content
        self._payload = payload

    @staticmethod
    def _overlay(points, labels, max_points: int, seed: int) -> dict:
        points, labels = _as_array(points), _as_array(labels)
        if points.ndim != 2 or points.shape[1] != 2:
            raise ValueError(f"points must have shape (N, 2), got {points.shape}")
        if labels.shape != (len(points),):
            raise ValueError(f"labels must have shape ({len(points)},), one digit per point; got {labels.shape}")
        if not np.isfinite(points).all():
            raise ValueError("points hold NaN or infinite values; check the encoder's output")
        if len(labels) and (labels.min() < 0 or labels.max() > 9 or not np.all(labels == np.round(labels))):
            raise ValueError("labels must be the digits 0-9")
        keep = np.arange(len(points))
        if len(points) > max_points:
            keep = np.sort(np.random.default_rng(seed).choice(len(points), max_points, replace=False))
        return {
            "z": np.round(points[keep].astype(float), 3).tolist(),
            "labels": labels[keep].astype(int).tolist(),
            "total": len(points),
        }

    def payload(self) -> dict:
        """What the notebook output carries: the model (base64) and the data the widget draws."""
        return {**self._payload, "id": self.id, "model": base64.b64encode(self.model).decode("ascii")}

    def __repr__(self) -> str:
        points = "no overlay" if self.points is None else f"{len(self.points['z']):,} posterior means"
        n = self.grid["n"]
        return (
            f"LatentMap({self.id}: decoder as ONNX, {len(self.model) / 1e6:.2f} MB; "
            f"{n}x{n} Normal-quantile grid; {points})"
        )

    def _repr_html_(self) -> str:
        # On the book's pages the widget's script replaces the note; elsewhere (no script) it stays.
        note = (
            "An interactive version of this map runs on the book's web pages: move a point in the latent "
            "space and the decoder draws its digit. It needs JavaScript; here the static figure above "
            "shows the same decoder."
        )
        data = json.dumps(self.payload(), separators=(",", ":")).replace("</", "<\\/")  # inert inside <script>
        return (
            f'<div class="vae-latent-map" data-latent-map="{self.id}" data-format="{FORMAT}">'
            f'<p class="vae-latent-map-note">{html.escape(note)}</p>'
            f'<script type="application/json" class="{DATA_CLASS}">{data}</script></div>'
        )
