"""Looking inside a trained encoder: latent codes of a whole split, and active units."""

from __future__ import annotations

import torch

from . import checks
from .data import ImageData, check_data
from .loop import eval_mode

ACTIVE_UNIT_THRESHOLD = 0.01  # activity A_j above which a latent unit counts as active (Burda et al., 2015)


@torch.no_grad()
def encode(encoder: torch.nn.Module, data: ImageData, batch_size: int = 1000) -> tuple[torch.Tensor, torch.Tensor]:
    """Posterior parameters (loc, scale) of q(z|x) for every image in ``data``, each (N, z_dim), in order.

    Taught in chapter 3; used in chapters 4, 5, 6, 9, 11.
    """
    checks.module(encoder, "encoder")
    check_data(data)
    locs, scales = [], []
    with eval_mode(encoder):
        for x, _ in data.batches(batch_size, shuffle=False):
            loc, scale = encoder(x)
            locs.append(loc)
            scales.append(scale)
    return torch.cat(locs), torch.cat(scales)


def active_units(loc: torch.Tensor, threshold: float = ACTIVE_UNIT_THRESHOLD) -> tuple[int, torch.Tensor]:
    r"""Number of latent dimensions the encoder uses, after Burda et al. (2015), Sec. 5.2.

    Unit j is active when A_j = Cov_x(E_{q(z|x)}[z_j]) exceeds ``threshold`` (0.01 in the paper):
    a unit whose posterior mean does not move with x carries no information about x.
    ``loc`` holds the posterior means, (N, z_dim). Returns the count and A, shape (z_dim,).

    Taught in chapter 3; used in chapters 4, 5, 6, 7, 11.
    """
    checks.tensor(loc, "loc", floating=True)
    if loc.dim() != 2 or len(loc) < 2:
        raise ValueError(f"expected posterior means of shape (N, z_dim) with N >= 2, got {tuple(loc.shape)}")
    checks.real_number(threshold, "threshold", minimum=0.0)
    if not torch.isfinite(loc).all():
        raise ValueError("loc holds NaN or infinite posterior means; check the encoder and its input.")
    activity = loc.var(dim=0)
    return int((activity > threshold).sum()), activity
