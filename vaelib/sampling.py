r"""Drawing z from q(z|x) for any vaelib encoder, with the log-density of each draw.

A diagonal encoder (:mod:`vaelib.models`) returns ``(loc, scale)``; the richer encoders of chapter 7
(:mod:`vaelib.bounds.encoders`) return *local parameters* and draw with their own ``rsample``. These
functions treat both alike, so the importance weights of :func:`vaelib.log_importance_weights` (chapters
6, 7 and 9), per-image optimisation and refinement work with every encoder. A diagonal encoder's local
parameters are ``(loc, log scale)``: unconstrained, so they can be optimised per image.
"""

from __future__ import annotations

from typing import NamedTuple

import torch
import torch.nn as nn

from .gaussians import standard_normal_log_prob
from .settings import check_generator


class DiagonalParams(NamedTuple):
    """A diagonal Gaussian q's local parameters: ``loc`` and ``log_scale``, each (B, d).

    Not what a diagonal encoder returns, ``(loc, scale)``: the log makes them unconstrained, so they can
    be optimised per image. Wherever ``params=`` stands for a diagonal encoder's q, only this type is
    accepted, so a ``(loc, scale)`` pair is refused instead of read as ``(loc, log scale)``. Used in
    chapter 7 through inference_gaps and refine.
    """

    loc: torch.Tensor
    log_scale: torch.Tensor


def same_kind(params: tuple, values) -> tuple:
    """``values`` as local parameters of the same kind as ``params`` (a DiagonalParams stays one)."""
    values = tuple(values)
    return DiagonalParams(*values) if isinstance(params, DiagonalParams) else values


def standard_normal_noise(shape, like: torch.Tensor, eps=None, generator=None) -> torch.Tensor:
    """eps ~ N(0, I) of ``shape`` on ``like``'s device and dtype, or the given ``eps`` after a shape check."""
    if eps is None:
        check_generator(generator, like.device)
        return torch.randn(shape, device=like.device, dtype=like.dtype, generator=generator)
    if tuple(eps.shape) != tuple(shape):
        raise ValueError(f"eps has shape {tuple(eps.shape)}; this draw needs {tuple(shape)} (samples, batch, z_dim)")
    return eps


def diagonal_rsample(params, n: int, *, eps=None, generator=None, stop_gradient: bool = False):
    r"""``n`` draws z = loc + exp(log_scale) * eps per image and log N(z; loc, diag scale^2): (n, B, d), (n, B).

    ``stop_gradient`` evaluates log q(z) with the parameters held fixed (detached) while z keeps its
    path to them: what the doubly reparameterized gradient needs (Tucker et al., 2019).
    """
    loc, log_scale = params  # (B, d) each
    eps = standard_normal_noise((n, *loc.shape), loc, eps, generator)
    z = loc + log_scale.exp() * eps  # (n, B, d)
    if not stop_gradient:
        return z, standard_normal_log_prob(eps) - log_scale.sum(-1)
    loc, log_scale = loc.detach(), log_scale.detach()
    return z, standard_normal_log_prob((z - loc) / log_scale.exp()) - log_scale.sum(-1)


def local_params(encoder: nn.Module, x: torch.Tensor) -> tuple[torch.Tensor, ...]:
    """The per-image parameters of q(z|x): ``encoder(x)`` for the encoders of this module, and
    ``(loc, log scale)`` for a diagonal encoder of :mod:`vaelib.models`. Used in chapter 7 through inference_gaps."""
    if hasattr(encoder, "rsample"):
        return tuple(encoder(x))
    loc, scale = encoder(x)
    return DiagonalParams(loc, scale.log())


def rsample_posterior(encoder: nn.Module, params, n: int, *, eps=None, generator=None, stop_gradient=False):
    """``n`` reparameterized draws from q(z|x) with the local parameters ``params`` and their log-density:
    z (n, B, d), log q(z|x) (n, B). Any encoder of vaelib. Used in chapter 7 through inference_gaps."""
    if hasattr(encoder, "rsample"):
        return encoder.rsample(params, n, eps=eps, generator=generator, stop_gradient=stop_gradient)
    if not isinstance(params, DiagonalParams):
        raise TypeError(
            f"params for a diagonal encoder ({type(encoder).__name__}) must be its local parameters, "
            "vaelib.local_params(encoder, x), a DiagonalParams(loc, log_scale); a plain pair such as the encoder's "
            "(loc, scale) would be read as (loc, log scale). Wrap yours: vaelib.DiagonalParams(loc, scale.log())."
        )
    return diagonal_rsample(params, n, eps=eps, generator=generator, stop_gradient=stop_gradient)
