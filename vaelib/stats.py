r"""Comparing two models on the same test images: the paired difference and its standard error.

When models A and B are scored on the same N images, most of the spread of each score comes from
the images (a "1" costs fewer nats than an "8") and cancels in the per-image differences
d_n = a_n - b_n. The standard error of the mean difference is then sd(d) / sqrt(N), usually far
smaller than the standard error of either mean, and the one to compare the difference with.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class PairedDifference:
    """Mean of a - b over paired items, with its standard error and the unpaired one for contrast.

    What :func:`paired_difference` returns (chapter 6 and the capstone).
    """

    mean: float  # mean over items of a_n - b_n
    se: float  # sd(a - b) / sqrt(n): the paired standard error
    unpaired_se: float  # sqrt(se(a)^2 + se(b)^2): what ignoring the pairing would give
    n: int  # number of pairs

    @property
    def z(self) -> float:
        """mean / se: how many standard errors the difference is from zero."""
        if self.se > 0:
            return self.mean / self.se
        return 0.0 if self.mean == 0 else math.copysign(math.inf, self.mean)

    def __str__(self) -> str:
        return f"{self.mean:+.3f} +- {self.se:.3f} (paired SE; unpaired {self.unpaired_se:.3f}; n = {self.n})"


def paired_difference(a: torch.Tensor, b: torch.Tensor) -> PairedDifference:
    """Mean difference a - b of two per-item scores of shape (N,), with paired and unpaired standard errors.

    Taught in chapter 6; used in chapters 7, 10, 11.
    """
    a, b = torch.as_tensor(a, dtype=torch.float64).cpu(), torch.as_tensor(b, dtype=torch.float64).cpu()
    if a.dim() != 1 or a.shape != b.shape:
        raise ValueError(f"expected two per-item scores of the same shape (N,), got {tuple(a.shape)}, {tuple(b.shape)}")
    n = len(a)
    if n < 2:
        raise ValueError(f"a standard error needs at least 2 pairs, got {n}")
    if not (torch.isfinite(a).all() and torch.isfinite(b).all()):
        raise ValueError("the scores contain NaN or infinite values")
    d = a - b
    unpaired = math.sqrt((a.var() / n + b.var() / n).item())
    return PairedDifference(d.mean().item(), (d.std() / math.sqrt(n)).item(), unpaired, n)
