"""Figures the chapters share. Each function draws on an ``ax`` (made when not given)
and returns the matplotlib ``Figure``, so a notebook cell shows it and a test can inspect it."""

from __future__ import annotations

import matplotlib
import matplotlib.patches
import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.ticker import MaxNLocator
from torchvision.utils import make_grid

from . import checks
from .train import History

_SLACK = 1e-4  # rounding above 1 or below 0 in computed probabilities is not a mistake


def _check_grid_images(images, name: str = "images") -> None:
    """(N, 1, H, W) probabilities in [0, 1]; imshow would silently clip logits or 0-255 pixels."""
    checks.tensor(images, name)
    if images.dim() != 4 or images.shape[1] != 1 or len(images) == 0:
        raise ValueError(
            f"{name} must be a non-empty batch of shape (N, 1, H, W), got {tuple(images.shape)}: "
            f"{checks.image_shape_hint(images.shape)}."
        )
    low, high = checks.value_range(images.float())
    if not (low >= -_SLACK and high <= 1 + _SLACK):
        problem = checks.pixel_range_problem(low, high) or "lie outside [0, 1]"
        raise ValueError(f"{name} must be probabilities in [0, 1], but they {problem}. Logits? Use torch.sigmoid.")


def _axes(ax, figsize):
    if ax is None:
        fig, ax = plt.subplots(figsize=figsize)
        return fig, ax
    return ax.figure, ax


def image_grid(images: torch.Tensor, nrow: int = 8, ax=None, title: str | None = None):
    """Images (N, 1, 28, 28) in [0, 1] tiled in rows of ``nrow``."""
    _check_grid_images(images)
    checks.whole_number(nrow, "nrow")
    grid = make_grid(images.detach().float().cpu(), nrow=nrow, padding=2, pad_value=1.0)  # (3, H, W)
    fig, ax = _axes(ax, (nrow, max(1, -(-len(images) // nrow))))
    ax.imshow(grid[0].numpy(), cmap="gray_r", vmin=0, vmax=1)
    ax.set_axis_off()
    if title:
        ax.set_title(title)
    return fig


def reconstructions(originals: torch.Tensor, reconstructed: torch.Tensor, ax=None, title: str | None = None):
    """Originals in the top row, their reconstructions beneath."""
    checks.tensor(originals, "originals")
    checks.tensor(reconstructed, "reconstructed")
    if originals.shape != reconstructed.shape:
        raise ValueError(
            f"originals {tuple(originals.shape)} and reconstructed {tuple(reconstructed.shape)} must match, "
            "one reconstruction per original."
        )
    n = len(originals)
    return image_grid(
        torch.cat([originals[:n], reconstructed[:n]]),
        nrow=n,
        ax=ax,
        title=title or "top: originals, bottom: reconstructions",
    )


def normal_quantile_grid(n: int, low: float = 0.05, high: float = 0.95) -> torch.Tensor:
    """(n*n, 2) latent points at Normal quantiles, as in Kingma & Welling (2013), Fig. 4.

    Row i (top to bottom) holds decreasing z_2; column j increasing z_1, so the image
    reads like a plot with z_2 upwards.
    """
    checks.whole_number(n, "n")
    low, high = checks.real_number(low, "low"), checks.real_number(high, "high")
    if not 0 < low < high < 1:
        raise ValueError(f"need 0 < low < high < 1 (probabilities of the Normal's quantiles), got {low} and {high}.")
    q = torch.distributions.Normal(0.0, 1.0).icdf(torch.linspace(low, high, n))
    z1, z2 = torch.meshgrid(q, q.flip(0), indexing="xy")
    return torch.stack([z1.reshape(-1), z2.reshape(-1)], dim=1)


@torch.no_grad()
def latent_manifold(decoder: torch.nn.Module, n: int = 20, ax=None, title: str | None = None):
    """Decode an n x n Normal-quantile grid of a 2-D latent space into one image."""
    checks.module(decoder, "decoder", ("z_dim",))
    if decoder.z_dim != 2:
        raise ValueError(f"the manifold plot needs a 2-D latent space, this decoder has z_dim={decoder.z_dim}")
    device = next(decoder.parameters()).device
    probs = torch.sigmoid(decoder(normal_quantile_grid(n).to(device)))  # (n*n, 1, 28, 28)
    fig = image_grid(probs, nrow=n, ax=ax, title=title or "decoded Normal-quantile grid of z")
    return fig


@torch.no_grad()
def interpolation(
    decoder: torch.nn.Module,
    z_start: torch.Tensor,
    z_end: torch.Tensor,
    steps: int = 10,
    ax=None,
    title: str | None = None,
):
    """Decode ``steps`` points on the straight line from ``z_start`` to ``z_end`` (each (z_dim,))."""
    checks.module(decoder, "decoder", ("z_dim",))
    for name, z in (("z_start", z_start), ("z_end", z_end)):
        checks.tensor(z, name, floating=True)
        if tuple(z.shape) != (decoder.z_dim,):
            raise ValueError(f"{name} must be one latent code of shape ({decoder.z_dim},), got {tuple(z.shape)}.")
    checks.whole_number(steps, "steps", minimum=2)
    t = torch.linspace(0, 1, steps, device=z_start.device).unsqueeze(1)  # (steps, 1)
    z = (1 - t) * z_start + t * z_end  # (steps, z_dim)
    return image_grid(torch.sigmoid(decoder(z)), nrow=steps, ax=ax, title=title)


def latent_scatter(
    points: torch.Tensor | np.ndarray,
    labels: torch.Tensor | np.ndarray,
    ax=None,
    title: str | None = None,
    s: float = 4.0,
):
    """2-D points coloured by digit: ten distinct colours (tab10) and a legend."""
    points = np.asarray(points.cpu() if isinstance(points, torch.Tensor) else points)
    labels = np.asarray(labels.cpu() if isinstance(labels, torch.Tensor) else labels)
    if points.ndim != 2 or points.shape[1] != 2:
        raise ValueError(f"expected points of shape (N, 2), got {points.shape}; embed to 2-D first")
    if labels.shape != points.shape[:1]:
        raise ValueError(f"expected one label per point, {len(points)} in all, got labels of shape {labels.shape}.")
    fig, ax = _axes(ax, (6, 6))
    colours = matplotlib.colormaps["tab10"]
    for digit in range(10):
        mask = labels == digit
        if mask.any():
            ax.scatter(points[mask, 0], points[mask, 1], s=s, color=colours(digit), label=str(digit))
    ax.legend(title="digit", markerscale=3, loc="center left", bbox_to_anchor=(1.0, 0.5), frameon=False)
    ax.set_aspect("equal", adjustable="datalim")
    if title:
        ax.set_title(title)
    return fig


def _points(values, name: str) -> np.ndarray:
    """A tensor or array of shape (N, 2) as a float numpy array, with a clear error otherwise."""
    if not isinstance(values, (torch.Tensor, np.ndarray)):
        raise TypeError(f"{name} must be a torch.Tensor or numpy array of shape (N, 2), got {type(values).__name__}.")
    array = np.asarray(values.detach().cpu() if isinstance(values, torch.Tensor) else values, dtype=float)
    if array.ndim != 2 or array.shape[1] != 2 or len(array) == 0:
        raise ValueError(f"{name} must have shape (N, 2) with N >= 1 (a 2-D latent space), got {array.shape}.")
    if not np.isfinite(array).all():
        raise ValueError(f"{name} holds NaN or infinite values; check the encoder and its input.")
    return array


def posterior_ellipses(
    loc: torch.Tensor | np.ndarray,
    scale: torch.Tensor | np.ndarray,
    labels: torch.Tensor | np.ndarray,
    ax=None,
    title: str | None = None,
    n_sigma: float = 1.0,
    background: torch.Tensor | np.ndarray | None = None,
):
    r"""The posteriors :math:`q_\phi(z \mid x)` of a 2-D latent space as ellipses, one per image.

    For :math:`q_\phi(z \mid x) = \mathcal{N}(\mu, \operatorname{diag}\sigma^2)`, each ellipse is centred at
    ``loc`` (N, 2) with half-axes ``n_sigma * scale`` along :math:`z_1` and :math:`z_2`; a diagonal
    Gaussian's contours are axis-aligned. For ``n_sigma = 1`` an ellipse holds
    :math:`1 - e^{-1/2} \approx 39\%` of its posterior's mass (:math:`P(\chi^2_2 \le n^2) = 1 - e^{-n^2/2}`).
    Colours are by digit (tab10, with a legend), as in :func:`latent_scatter`. ``background`` (M, 2),
    e.g. the posterior means of many more images, is drawn first as small grey points, so that the
    ellipses can be compared with the spread of the codes.

    Taught in chapter 5.
    """
    loc, scale = _points(loc, "loc"), _points(scale, "scale")
    if loc.shape != scale.shape:
        raise ValueError(
            f"loc {loc.shape} and scale {scale.shape} must have the same shape: one (sigma_1, sigma_2) per mean."
        )
    if not (scale > 0).all():
        raise ValueError(f"scale must hold positive standard deviations, found {scale.min():.3g}.")
    labels = np.asarray(labels.cpu() if isinstance(labels, torch.Tensor) else labels)
    if labels.shape != loc.shape[:1]:
        raise ValueError(f"expected one label per ellipse, {len(loc)} in all, got labels of shape {labels.shape}.")
    checks.real_number(n_sigma, "n_sigma", positive=True)
    fig, ax = _axes(ax, (7, 6))
    if background is not None:
        back = _points(background, "background")
        ax.scatter(back[:, 0], back[:, 1], s=3, color="0.75", label="posterior means", zorder=1)
    colours = matplotlib.colormaps["tab10"]
    for (x, y), (sx, sy), digit in zip(loc, scale, labels.tolist(), strict=True):
        colour = colours(int(digit) % 10)
        ellipse = matplotlib.patches.Ellipse(
            (x, y),
            2 * n_sigma * sx,
            2 * n_sigma * sy,
            facecolor=(*colour[:3], 0.15),
            edgecolor=colour,
            lw=1.2,
            zorder=2,
        )
        ax.add_patch(ellipse)
        ax.plot(x, y, "o", ms=3, color=colour, zorder=3)
    handles = [
        matplotlib.patches.Patch(facecolor=(*colours(d)[:3], 0.15), edgecolor=colours(d), label=str(d))
        for d in sorted({int(v) for v in labels.tolist()})
    ]
    if background is not None:
        handles.append(ax.collections[0])
    ax.legend(handles=handles, title="digit", loc="center left", bbox_to_anchor=(1.0, 0.5), frameon=False)
    ax.set_aspect("equal", adjustable="datalim")
    ax.autoscale_view()
    if title:
        ax.set_title(title)
    return fig


def elbo_curves(history: History, ax=None, title: str | None = None, label: str = ""):
    """Train and test ELBO (nats per image) against epochs."""
    if not isinstance(history, History):
        raise TypeError(f"history must be the vaelib.History that fit returns, got {type(history).__name__}.")
    if history.test_elbo and len(history.test_elbo) != len(history.train_elbo):
        raise ValueError(
            f"history has {len(history.train_elbo)} train but {len(history.test_elbo)} test ELBOs; "
            "pass test data to every fit call of the run, or none."
        )
    fig, ax = _axes(ax, (6, 4))
    prefix = f"{label} " if label else ""
    ax.plot(history.epochs, history.train_elbo, "o-", label=f"{prefix}train")
    if history.test_elbo:
        ax.plot(history.epochs, history.test_elbo, "s--", label=f"{prefix}test")
    ax.set_xlabel("epoch")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # epochs are whole numbers
    ax.set_ylabel("ELBO (nats per image)")
    ax.legend()
    if title:
        ax.set_title(title)
    return fig


def activity_per_epoch(
    epochs: list[int], activity: torch.Tensor, threshold: float = 0.01, ax=None, title: str | None = None
):
    """Activity A_j of every latent unit (rows, most active at the end first) against epochs (columns).

    ``activity`` is (E, z_dim), as recorded by :class:`vaelib.ActiveUnits`; colours are log10 A_j, and
    the contour marks the threshold, so a unit switching off shows as a row crossing it.
    """
    activity = torch.as_tensor(activity).detach().double().cpu()
    if activity.dim() != 2 or len(epochs) != len(activity):
        raise ValueError(f"expected activity of shape (len(epochs), z_dim), got {tuple(activity.shape)}")
    order = activity[-1].argsort(descending=True)  # most active at the last epoch on top
    shown = activity[:, order].clamp_min(1e-8).log10().T.numpy()  # (z_dim, E)
    fig, ax = _axes(ax, (7, 4))
    x = np.arange(len(epochs))
    image = ax.imshow(shown, aspect="auto", cmap="viridis", interpolation="nearest", origin="upper")
    if len(epochs) > 1:
        ax.contour(x, np.arange(shown.shape[0]), shown, levels=[np.log10(threshold)], colors="white", linewidths=1)
    ticks = x if len(x) <= 12 else np.linspace(0, len(x) - 1, 8).round().astype(int)
    ax.set_xticks(ticks, [str(epochs[i]) for i in ticks])
    ax.set(xlabel="epoch", ylabel="latent unit (sorted by final activity)")
    fig.colorbar(image, ax=ax, label=r"$\log_{10} A_j$ (white line: threshold)")
    if title:
        ax.set_title(title)
    return fig
