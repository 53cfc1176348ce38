r"""Paths through a latent space, and where the prior N(0, I_d) puts its mass.

In d dimensions a draw from N(0, I_d) has squared norm chi-squared with d degrees of freedom, so
its norm concentrates near sqrt(d) (for d = 50: between about 5.5 and 8.5 in 98% of draws). The
straight line between two such codes passes closer to the origin, where the prior has high density
but almost none of its mass: for two orthogonal codes of equal norm r the midpoint has norm
r / sqrt(2). Spherical interpolation (White, 2016) follows the great circle instead, and keeps the
norm when the two ends have the same norm.
"""

from __future__ import annotations

import torch


def _check_ends(z_start: torch.Tensor, z_end: torch.Tensor) -> None:
    if z_start.dim() != 1 or z_start.shape != z_end.shape:
        raise ValueError(
            f"expected two codes of the same shape (z_dim,), got {tuple(z_start.shape)} and {tuple(z_end.shape)}"
        )


def _steps(t: torch.Tensor | int, like: torch.Tensor) -> torch.Tensor:
    if isinstance(t, int):
        if t < 2:
            raise ValueError(f"a path needs at least 2 steps, got {t}")
        t = torch.linspace(0, 1, t)
    return torch.as_tensor(t, dtype=like.dtype, device=like.device).reshape(-1, 1)  # (T, 1)


def lerp(z_start: torch.Tensor, z_end: torch.Tensor, t: torch.Tensor | int = 10) -> torch.Tensor:
    """Points (1 - t) z_start + t z_end for each t (or ``t`` evenly spaced steps from 0 to 1): (T, z_dim).

    Taught in chapter 5.
    """
    _check_ends(z_start, z_end)
    t = _steps(t, z_start)
    return (1 - t) * z_start + t * z_end


def slerp(z_start: torch.Tensor, z_end: torch.Tensor, t: torch.Tensor | int = 10) -> torch.Tensor:
    r"""Spherical interpolation (White, 2016): (T, z_dim) points

    .. math::
        \frac{\sin((1 - t)\Omega)}{\sin \Omega} z_0 + \frac{\sin(t\Omega)}{\sin \Omega} z_1,
        \qquad \cos \Omega = \frac{z_0 \cdot z_1}{\lVert z_0 \rVert \lVert z_1 \rVert}.

    The angle to z_0 grows linearly in t; for ends of equal norm every point keeps that norm. For
    (nearly) parallel ends, where sin(Omega) vanishes, it is the straight line. Opposite ends
    (Omega = pi) have no unique great circle and raise a ValueError.

    Taught in chapter 5.
    """
    _check_ends(z_start, z_end)
    t = _steps(t, z_start)
    norms = z_start.norm() * z_end.norm()
    if norms == 0:
        raise ValueError("slerp needs two nonzero codes: the angle to the zero vector is undefined")
    cos = (z_start @ z_end / norms).clamp(-1, 1)
    omega = torch.arccos(cos)
    if torch.sin(omega) < 1e-6:
        if cos < 0:
            raise ValueError("the two codes point in opposite directions: no unique great circle joins them")
        return (1 - t) * z_start + t * z_end
    return (torch.sin((1 - t) * omega) * z_start + torch.sin(t * omega) * z_end) / torch.sin(omega)


def prior_norm_interval(z_dim: int, mass: float = 0.98) -> tuple[float, float]:
    """The central interval that holds ``mass`` of the norms ||z|| of draws z ~ N(0, I_d) (a chi distribution).

    Taught in chapter 5.
    """
    from scipy.stats import chi

    if not 0 < mass < 1:
        raise ValueError(f"mass must lie strictly between 0 and 1, got {mass}")
    tail = (1 - mass) / 2
    return float(chi.ppf(tail, z_dim)), float(chi.ppf(1 - tail, z_dim))
