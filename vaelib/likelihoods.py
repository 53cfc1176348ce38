r"""Decoder likelihoods beyond the Bernoulli: a categorical over grey levels, and a Gaussian whose
standard deviation is fixed or learned.

Each ``*_log_likelihood`` returns one value per example, shape (B,), like the functions in
:mod:`vaelib.losses`, so it can be passed as ``log_likelihood=`` to ``elbo``, ``iwae_bound``,
``evaluate``, ``estimate_log_likelihood`` and ``fit``.

* The **categorical** likelihood treats each pixel as one of ``levels`` grey levels (256 for 8-bit
  images) and gives each level its own probability (the "reconfigurable likelihood" of Pyro's VAE
  tutorial; Tomczak's *Deep Generative Modeling* uses it for 8-bit images). Its values are
  log-probabilities of the discrete image, so they are at most 0, like a Bernoulli log-likelihood of
  a binary image, but on another data set (256 values per pixel, not 2).
* The **Gaussian** likelihood N(x; mean, sigma^2 I) is a density: its values can be positive and
  depend on sigma. With a fixed sigma, maximizing the ELBO is maximizing
  -||x - mean||^2 - 2 sigma^2 KL, a beta-VAE with beta = 2 sigma^2 on the squared error. With a
  learned sigma (shared by all pixels, as in the sigma-VAE of Rybkin et al., 2021) the model picks
  the trade-off itself; for a given mean the best sigma is the root mean squared error
  (:func:`optimal_sigma`).
"""

from __future__ import annotations

import math

import torch
import torch.nn as nn
import torch.nn.functional as F

from .data import IMAGE_SHAPE, N_PIXELS
from .gaussians import LOG_2PI

GREY_LEVELS = 256  # the values an 8-bit pixel takes


def quantize(x: torch.Tensor, levels: int = GREY_LEVELS) -> torch.Tensor:
    """Grey values in [0, 1] on the grid k / (levels - 1) -> the level index k (int64), same shape.

    Raises a ValueError when a value lies outside [0, 1] or off the grid by more than a tenth of a
    step (e.g. images that were resized or blurred: their values are no longer 8-bit levels).

    Used in chapter 1 through categorical_log_likelihood.
    """
    if levels < 2:
        raise ValueError(f"levels must be at least 2, got {levels}")
    if not x.is_floating_point():
        raise ValueError(f"expected float pixels in [0, 1], got dtype {x.dtype}; use x.float() / 255")
    if x.numel() and (x.min() < 0 or x.max() > 1):
        raise ValueError(f"pixel values must lie in [0, 1], found [{x.min().item():.3g}, {x.max().item():.3g}]")
    scaled = x.double() * (levels - 1)
    index = scaled.round()
    if x.numel() and (scaled - index).abs().max() > 0.1:
        raise ValueError(
            f"pixels are not on the grid of {levels} levels k / {levels - 1}: a categorical likelihood needs "
            "discrete data. Use the data's own number of levels, or round first: "
            f"(x * {levels - 1}).round() / {levels - 1}."
        )
    return index.long()


def categorical_log_likelihood(logits: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    r"""log p(x|z) = sum_d log softmax(l_d)[k_d], per example (B,), where k_d is pixel d's grey level.

    ``logits`` has the data's shape plus one last dimension of size L (the number of levels):
    (B, 1, 28, 28, L) for images (B, 1, 28, 28) whose values are k / (L - 1). The result is the
    log-probability of the discrete image, so it is at most 0.

    Taught in chapter 1.
    """
    if logits.shape[:-1] != x.shape:
        raise ValueError(
            f"logits {tuple(logits.shape)} must have the data's shape {tuple(x.shape)} plus one dimension "
            "of grey levels at the end"
        )
    index = quantize(x, levels=logits.shape[-1])  # (B, ...) level of every pixel
    log_probs = F.log_softmax(logits, dim=-1)  # (B, ..., L)
    return log_probs.gather(-1, index.unsqueeze(-1)).squeeze(-1).flatten(1).sum(1)


def categorical_mean(logits: torch.Tensor) -> torch.Tensor:
    """The expected grey level sum_k p_k * k / (L - 1) of every pixel, shape ``logits.shape[:-1]``.

    Taught in chapter 1.
    """
    levels = logits.shape[-1]
    values = torch.linspace(0, 1, levels, device=logits.device, dtype=logits.dtype)  # (L,)
    return F.softmax(logits, dim=-1) @ values


class CategoricalMLPDecoder(nn.Module):
    """z (B, z_dim) -> hidden -> ``features`` numbers per pixel -> ``levels`` logits per pixel.

    Returns logits (B, 1, 28, 28, levels) for :func:`categorical_log_likelihood`. A full linear map
    from the hidden layer to 784 x 256 logits would need 80 million weights; instead every pixel gets
    a few features, one linear map shared by all pixels turns features into level logits, and a
    per-pixel, per-level bias lets each pixel keep its own histogram (mostly "blank").

    Taught in chapter 1.
    """

    def __init__(self, z_dim: int = 50, hidden_dim: int = 400, levels: int = GREY_LEVELS, features: int = 8):
        super().__init__()
        self.z_dim, self.levels, self.features = z_dim, levels, features
        self.hidden = nn.Linear(z_dim, hidden_dim)
        self.pixel_features = nn.Linear(hidden_dim, N_PIXELS * features)
        self.to_levels = nn.Linear(features, levels, bias=False)  # shared by every pixel
        self.level_bias = nn.Parameter(torch.zeros(N_PIXELS, levels))  # each pixel's own histogram

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        if z.dim() != 2 or z.shape[1] != self.z_dim:
            raise ValueError(f"{type(self).__name__} expects z of shape (B, {self.z_dim}), got {tuple(z.shape)}")
        h = F.softplus(self.hidden(z))  # (B, hidden)
        f = self.pixel_features(h).view(-1, N_PIXELS, self.features)  # (B, 784, features)
        logits = self.to_levels(f) + self.level_bias  # (B, 784, levels)
        return logits.view(-1, *IMAGE_SHAPE, self.levels)  # (B, 1, 28, 28, levels)


def discrete_to_density_offset(levels: int, n_pixels: int = N_PIXELS) -> float:
    r"""n log(levels): what a log-probability of discrete data gains when read as a density.

    A density on [0, 1]^n that is constant within each grey level's bin of width 1 / levels gives
    every discrete image the probability density x bin volume, so
    log density = log probability + n log(levels). The two scales differ by this constant
    (543.5 nats for 784 binary pixels, 4347.4 nats for 784 8-bit pixels).

    Taught in chapter 1.
    """
    return n_pixels * math.log(levels)


class GaussianLikelihood(nn.Module):
    r"""log N(x; sigmoid(output), sigma^2 I), summed over pixels, per example (B,).

    The decoder's output is read through a sigmoid, so the mean lies in (0, 1) like the data, and
    the same decoders as for the Bernoulli can be used. ``sigma`` is one number shared by all pixels:
    fixed, or learned when ``learn_sigma`` (it is then a parameter of this module, stored as
    log sigma; attach the module to the model, e.g. ``model.likelihood = GaussianLikelihood(...)``,
    so that ``model.parameters()`` includes it and the optimiser trains it).

    Taught in chapter 4.
    """

    def __init__(self, sigma: float = 1.0, learn_sigma: bool = False):
        super().__init__()
        if not (isinstance(sigma, int | float) and math.isfinite(sigma) and sigma > 0):
            raise ValueError(f"sigma must be a positive number, got {sigma!r}")
        log_sigma = torch.tensor(math.log(sigma))
        if learn_sigma:
            self.log_sigma = nn.Parameter(log_sigma)
        else:
            self.register_buffer("log_sigma", log_sigma)
        self.learn_sigma = learn_sigma

    @property
    def sigma(self) -> float:
        return self.log_sigma.exp().item()

    def mean(self, output: torch.Tensor) -> torch.Tensor:
        """The decoder's mean image sigmoid(output)."""
        return torch.sigmoid(output)

    def forward(self, output: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        if output.shape != x.shape:
            raise ValueError(f"decoder output {tuple(output.shape)} and data {tuple(x.shape)} must have the same shape")
        d = x[0].numel()
        sq = (x - self.mean(output)).pow(2).flatten(1).sum(1)  # (B,)
        log_sigma = self.log_sigma.to(x.dtype)
        return -0.5 * sq * torch.exp(-2 * log_sigma) - d * log_sigma - 0.5 * d * LOG_2PI

    @torch.no_grad()
    def sample(self, output: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        """One draw x ~ N(mean, sigma^2 I): mean plus pixel noise, not clipped (a Gaussian ignores [0, 1])."""
        noise = torch.randn(output.shape, device=output.device, dtype=output.dtype, generator=generator)
        return self.mean(output) + self.log_sigma.exp() * noise


def optimal_sigma(mean: torch.Tensor, x: torch.Tensor) -> float:
    r"""The sigma that maximizes sum_n log N(x_n; mean_n, sigma^2 I) for fixed means: the RMS error.

    Setting d/d sigma [-SSE / (2 sigma^2) - D log sigma] = 0 gives sigma^2 = SSE / D, the mean
    squared error per pixel (Rybkin et al., 2021, "optimal sigma").

    Taught in chapter 4, where the learned sigma is compared with it.
    """
    if mean.shape != x.shape:
        raise ValueError(f"mean {tuple(mean.shape)} and data {tuple(x.shape)} must have the same shape")
    return (x - mean).pow(2).mean().sqrt().item()
