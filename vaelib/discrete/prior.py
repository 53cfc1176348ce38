r"""An autoregressive prior over a VQ-VAE's 7x7 code grid: a small PixelCNN, and the bound it gives on log p(x).

:class:`PixelCNNPrior` (van den Oord et al., 2016) factorises p(c) = prod_i p(c_i | c_<i) over the 49
positions in raster order with masked convolutions: the first layer (mask "A") sees only the
positions before i, the next ones (mask "B") also their own position's features, which already
depend only on earlier positions. Its log-likelihood of a grid is exact, so it can be compared with
the uniform prior's -49 log K (:func:`uniform_code_log_prob`) on held-out grids. Sampling draws the 49
positions one after another (:meth:`PixelCNNPrior.sample`). :func:`fit_code_prior` trains it on the
grids of a trained VQ-VAE, on :func:`vaelib.loop.run_epochs`.

:func:`point_mass_bound` then scores images. For chapter 10 (discrete latents).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable

import torch
import torch.nn as nn
import torch.nn.functional as F

from .. import checks
from ..data import N_PIXELS, ImageData, TensorBatches, check_data
from ..loop import History, eval_mode, run_epochs
from ..losses import bernoulli_log_likelihood
from ..settings import check_generator
from .vq import GRID, VQVAE, check_codes


class MaskedConv2d(nn.Conv2d):
    """A square convolution that sees only earlier positions in raster order (mask "A"), or also its own ("B").

    Used in chapter 10 through PixelCNNPrior.
    """

    def __init__(self, c_in: int, c_out: int, kernel: int, mask: str):
        if mask not in ("A", "B"):
            raise ValueError(f"mask must be 'A' (first layer) or 'B' (later layers), got {mask!r}.")
        kernel = checks.whole_number(kernel, "kernel")
        if kernel % 2 == 0:
            raise ValueError(f"kernel must be odd, so that the mask has a centre, got {kernel}.")
        super().__init__(c_in, c_out, kernel, padding=kernel // 2)
        weight_mask = torch.ones_like(self.weight)
        centre = kernel // 2
        weight_mask[:, :, centre, centre + (mask == "B") :] = 0  # the centre row from the centre (A) or after it (B)
        weight_mask[:, :, centre + 1 :, :] = 0  # every row below
        self.register_buffer("mask", weight_mask)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.conv2d(x, self.weight * self.mask, self.bias, padding=self.padding)


class PixelCNNPrior(nn.Module):
    """p(c) over a (grid x grid) grid of codes in [0, n_codes): an embedding, one 5x5 mask-A layer,
    ``n_layers`` 3x3 mask-B layers with ReLUs and residual connections, and 1x1 output logits.

    Taught in chapter 10 (discrete latents).
    """

    def __init__(self, n_codes: int, *, grid: int = GRID, channels: int = 64, n_layers: int = 4):
        super().__init__()
        n_codes = checks.whole_number(n_codes, "n_codes", minimum=2)
        self.grid = checks.whole_number(grid, "grid")
        channels = checks.whole_number(channels, "channels")
        n_layers = checks.whole_number(n_layers, "n_layers", minimum=0)
        self.n_codes = n_codes
        self.embed = nn.Embedding(n_codes, channels)
        self.first = MaskedConv2d(channels, channels, 5, "A")
        self.layers = nn.ModuleList(MaskedConv2d(channels, channels, 3, "B") for _ in range(n_layers))
        self.out = nn.Conv2d(channels, n_codes, 1)

    def forward(self, codes: torch.Tensor) -> torch.Tensor:
        """Logits (B, K, grid, grid) of p(c_i | c_<i) at every position i. Indices are not read here."""
        h = self.first(self.embed(codes).permute(0, 3, 1, 2))
        for layer in self.layers:
            h = h + layer(F.relu(h))
        return self.out(F.relu(h))

    def log_prob(self, codes: torch.Tensor) -> torch.Tensor:
        """log p(c) in nats per grid (B,), exact; ``codes`` are checked (shape, dtype, range: one sync)."""
        check_codes(codes, self.n_codes, self.grid)
        return -F.cross_entropy(self(codes), codes, reduction="none").flatten(1).sum(1)

    @torch.no_grad()
    def sample(self, n: int, *, generator: torch.Generator | None = None) -> torch.Tensor:
        """``n`` grids drawn position by position in raster order: (n, grid, grid) int64 (grid^2 network passes)."""
        n = checks.whole_number(n, "n (the number of samples)")
        device = self.out.weight.device
        check_generator(generator, device)
        codes = torch.zeros(n, self.grid, self.grid, dtype=torch.int64, device=device)
        with eval_mode(self):
            for i in range(self.grid):
                for j in range(self.grid):
                    probs = self(codes)[:, :, i, j].softmax(-1)
                    codes[:, i, j] = torch.multinomial(probs, 1, generator=generator).squeeze(1)
        return codes


def uniform_code_log_prob(n_codes: int, grid: int = GRID) -> float:
    """log p(c) of any grid under the uniform prior: -grid^2 log K nats. Taught in chapter 10 (discrete latents)."""
    n_codes = checks.whole_number(n_codes, "n_codes", minimum=2)
    return -(checks.whole_number(grid, "grid") ** 2) * math.log(n_codes)


@torch.no_grad()
def encode_dataset(model: VQVAE, data: ImageData, *, batch_size: int = 1000, binarize: bool = False) -> torch.Tensor:
    """The code grid of every image of ``data``: (N, 7, 7) int64, in eval mode.

    Taught in chapter 10 (discrete latents).
    """
    if not isinstance(model, VQVAE):
        raise TypeError(f"expected a vaelib.discrete.VQVAE, got {type(model).__name__}.")
    check_data(data, "data")
    with eval_mode(model):
        batches = data.batches(checks.whole_number(batch_size, "batch_size"), shuffle=False, binarize=binarize)
        return torch.cat([model.encode_codes(x) for x, _ in batches])


@torch.no_grad()
def mean_code_log_prob(prior: PixelCNNPrior, codes: torch.Tensor, *, batch_size: int = 1000) -> float:
    """The mean of log p(c) over grids ``codes`` (N, grid, grid), nats per grid, in eval mode.

    Taught in chapter 10 (discrete latents).
    """
    check_codes(codes, prior.n_codes, prior.grid)
    with eval_mode(prior):
        total = sum(prior.log_prob(c).sum() for c in codes.split(checks.whole_number(batch_size, "batch_size")))
    return float(total) / len(codes)


def fit_code_prior(
    prior: PixelCNNPrior,
    train_codes: torch.Tensor,
    test_codes: torch.Tensor | None = None,
    *,
    epochs: int = 1,
    batch_size: int = 128,
    lr: float = 1e-3,
    history: History | None = None,
    on_epoch: Callable[[int, History], None] | None = None,
    progress: bool = True,
    generator: torch.Generator | None = None,
) -> History:
    """Maximum likelihood for ``prior`` on code grids (N, grid, grid) with Adam, on :func:`vaelib.loop.run_epochs`.

    The history's ``train_elbo`` and ``test_elbo`` hold the prior's *exact* mean log p(c) per grid (nats),
    not a bound: the loop's field names are shared with the VAEs. Taught in chapter 10 (discrete latents).
    """
    check_codes(train_codes, prior.n_codes, prior.grid)
    if test_codes is not None:
        check_codes(test_codes, prior.n_codes, prior.grid)
    checks.whole_number(epochs, "epochs")
    lr = checks.real_number(lr, "lr", positive=True)
    optimizer = torch.optim.Adam(prior.parameters(), lr=lr)
    labels = torch.zeros(len(train_codes), dtype=torch.int64, device=train_codes.device)

    def step(batch, progress_epochs, where):
        codes, _ = batch
        log_p = -F.cross_entropy(prior(codes), codes, reduction="none").flatten(1).sum(1)  # (B,), range checked once
        return -log_p.mean(), log_p.sum(), len(codes)

    def score_test():
        return {"test_elbo": mean_code_log_prob(prior, test_codes)}

    batches = functools.partial(TensorBatches, train_codes, labels, batch_size, generator=generator)
    return run_epochs(
        prior,
        optimizer,
        batches,
        step,
        epochs=epochs,
        history=history or History(),
        evaluate=None if test_codes is None else score_test,
        on_epoch=on_epoch,
        progress=progress,
    )


@torch.no_grad()
def point_mass_bound(
    model: VQVAE, prior: PixelCNNPrior | None, data: ImageData, *, batch_size: int = 1000
) -> dict[str, float]:
    r"""The VQ-VAE's bound on log p(x) with the deterministic encoder as q, in nats per image and bits per pixel.

    With q(c | x) the point mass on the encoder's codes c(x), the ELBO is

    .. math::
        \log p(x) \ge \mathbb{E}_q[\log p(x, c) - \log q(c \mid x)] = \log p(c(x)) + \log p(x \mid c(x))

    since log q = 0 at its one code. It is a true lower bound for any encoder, because p(c) (the
    ``prior``, or the uniform 1 / K per position when ``prior`` is None) and p(x | c) (the Bernoulli
    decoder) are normalised distributions over discrete c and binary x: score it on binary images
    (on grey pixels the Bernoulli term is a cross-entropy, not a log-probability). It is an ELBO with a
    degenerate q, not an importance-weighted L_K: every one of K samples of a point mass is the same
    code, so L_K = L_1 for all K and more samples cannot tighten it; the gap is log p(x) minus it,
    the missing probability of every other code grid that explains x. Returns means over ``data``:
    ``log_prior`` (log p(c)), ``reconstruction`` (log p(x | c)), ``bound`` (their sum, nats per image)
    and ``bits_per_dim`` (-bound / (784 ln 2)). Taught in chapter 10 (discrete latents).
    """
    if not isinstance(model, VQVAE):
        raise TypeError(f"expected a vaelib.discrete.VQVAE, got {type(model).__name__}.")
    if prior is not None and not isinstance(prior, PixelCNNPrior):
        raise TypeError(f"prior must be a PixelCNNPrior or None (uniform), got {type(prior).__name__}.")
    if prior is not None and prior.n_codes != model.n_codes:
        raise ValueError(f"the prior models {prior.n_codes} codes but the VQ-VAE's codebook has {model.n_codes}.")
    check_data(data, "data")
    if bool(((data.images != 0) & (data.images != 1)).any()):  # one host sync for the whole set
        raise ValueError(
            "data hold grey pixels; the bound is a log-probability only for binary images: score "
            "data.binarized(generator) (a fixed binarization, the same for every model compared)."
        )
    n = len(data)
    log_prior_total = torch.zeros((), dtype=torch.float64, device=data.images.device)
    reconstruction_total = torch.zeros_like(log_prior_total)
    modules = (model,) if prior is None else (model, prior)
    with eval_mode(*modules):
        for x, _ in data.batches(checks.whole_number(batch_size, "batch_size"), shuffle=False):
            codes = model.encode_codes(x)
            reconstruction_total += bernoulli_log_likelihood(model.decode_codes(codes), x).sum().double()
            if prior is not None:  # the sums stay on the device: no host sync per batch
                log_prior_total += prior.log_prob(codes).sum().double()
    log_prior = uniform_code_log_prob(model.n_codes) if prior is None else log_prior_total.item() / n
    reconstruction = reconstruction_total.item() / n
    bound = log_prior + reconstruction
    return {
        "log_prior": log_prior,
        "reconstruction": reconstruction,
        "bound": bound,
        "bits_per_dim": -bound / (N_PIXELS * math.log(2)),
    }
