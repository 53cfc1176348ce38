r"""The evidence lower bound, term by term, and the importance-weighted bound.

For an encoder q(z|x) = N(loc, diag(scale^2)), prior p(z) = N(0, I) and decoder p(x|z),

.. math::
    \mathrm{ELBO}(x) = \mathbb{E}_{q(z|x)}[\log p(x|z)] - \mathrm{KL}(q(z|x)\,\|\,p(z))
    \le \log p(x)

(Kingma & Welling, 2013, eq. 3). Every function returns one value per example, shape (B,);
averaging or summing over the batch is the caller's choice, made once in ``train``. Every
log-density takes its parameters (or condition) first and the value last, ``f(logits, x)``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch.distributions import ContinuousBernoulli

from .settings import check_generator

LOG_2PI = math.log(2 * math.pi)


def bernoulli_log_likelihood(logits: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    r"""log p(x|z) = sum_d [x_d log sigma(l_d) + (1 - x_d) log(1 - sigma(l_d))], per example (B,).

    Computed from logits with ``binary_cross_entropy_with_logits`` (stable for large |l|).
    For grey-scale x in (0, 1) this is a cross-entropy, not a normalised log-likelihood.
    """
    if logits.shape != x.shape:
        raise ValueError(f"logits {tuple(logits.shape)} and data {tuple(x.shape)} must have the same shape")
    bce = F.binary_cross_entropy_with_logits(logits, x, reduction="none")
    return -bce.flatten(1).sum(1)


def continuous_bernoulli_log_likelihood(logits: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    r"""log CB(x | lambda) summed over pixels, per example (B,), for grey-scale x in [0, 1].

    The continuous Bernoulli (Loaiza-Ganem & Cunningham, 2019) is a proper density on [0, 1]:
    the Bernoulli term plus the log normalising constant log C(lambda). Its values are densities,
    not probabilities, so they are on another scale than the Bernoulli's: never compare the two.
    """
    if logits.shape != x.shape:
        raise ValueError(f"logits {tuple(logits.shape)} and data {tuple(x.shape)} must have the same shape")
    return ContinuousBernoulli(logits=logits).log_prob(x).flatten(1).sum(1)


def gaussian_log_likelihood(mean: torch.Tensor, x: torch.Tensor, std: float = 1.0) -> torch.Tensor:
    r"""log N(x; mean, std^2 I) per example: -||x - mean||^2 / (2 std^2) - D/2 log(2 pi std^2)."""
    if mean.shape != x.shape:
        raise ValueError(f"mean {tuple(mean.shape)} and data {tuple(x.shape)} must have the same shape")
    d = x[0].numel()
    sq = (x - mean).pow(2).flatten(1).sum(1)
    return -0.5 * sq / std**2 - 0.5 * d * (LOG_2PI + 2 * math.log(std))


def gaussian_kl_to_standard(loc: torch.Tensor, scale: torch.Tensor) -> torch.Tensor:
    r"""KL(N(loc, diag scale^2) || N(0, I)) = 1/2 sum_j (scale_j^2 + loc_j^2 - 1 - log scale_j^2), shape (B,).

    Kingma & Welling (2013), Appendix B.
    """
    return 0.5 * (scale.pow(2) + loc.pow(2) - 1 - 2 * scale.log()).sum(-1)


def diagonal_normal_log_prob(loc: torch.Tensor, scale: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
    """log N(z; loc, diag scale^2), summed over the last dimension (parameters first, value last)."""
    return (-0.5 * ((z - loc) / scale).pow(2) - scale.log() - 0.5 * LOG_2PI).sum(-1)


def reparameterize(
    loc: torch.Tensor,
    scale: torch.Tensor,
    eps: torch.Tensor | None = None,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """z = loc + scale * eps with eps ~ N(0, I): a sample that gradients flow through.

    Pass ``eps`` to fix the noise (tests) or a ``generator`` to seed it.
    """
    if eps is None:
        check_generator(generator, loc.device)
        eps = torch.randn(loc.shape, device=loc.device, dtype=loc.dtype, generator=generator)
    elif eps.shape != loc.shape:
        raise ValueError(f"eps has shape {tuple(eps.shape)} but loc has {tuple(loc.shape)}")
    return loc + scale * eps


@dataclass
class ELBOTerms:
    """Per-example terms of the bound, each of shape (B,)."""

    reconstruction: torch.Tensor  # E_q log p(x|z), one-sample estimate
    kl: torch.Tensor  # KL(q(z|x) || p(z)): analytic, or the one-sample log q - log p
    elbo: torch.Tensor  # reconstruction - beta * kl

    def mean(self) -> dict[str, float]:
        """Batch means as Python floats, for printing and logging."""
        return {name: getattr(self, name).mean().item() for name in ("reconstruction", "kl", "elbo")}


LogLikelihood = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


def elbo(
    encoder: torch.nn.Module,
    decoder: torch.nn.Module,
    x: torch.Tensor,
    beta: float = 1.0,
    analytic_kl: bool = True,
    eps: torch.Tensor | None = None,
    generator: torch.Generator | None = None,
    log_likelihood: LogLikelihood = bernoulli_log_likelihood,
) -> ELBOTerms:
    r"""One-sample estimate of the (beta-weighted) ELBO for each example in ``x``.

    reconstruction = log p(x | z) with z = loc + scale * eps; kl is the closed form of
    :func:`gaussian_kl_to_standard` when ``analytic_kl``, else the one-sample estimate
    log q(z|x) - log p(z) (what Pyro's ``Trace_ELBO`` computes). ``beta`` weights the KL
    (Higgins et al., 2017); beta = 1 gives the ELBO itself.
    """
    loc, scale = encoder(x)  # (B, z), (B, z)
    z = reparameterize(loc, scale, eps=eps, generator=generator)  # (B, z)
    reconstruction = log_likelihood(decoder(z), x)  # (B,)
    if analytic_kl:
        kl = gaussian_kl_to_standard(loc, scale)
    else:
        log_prior = (-0.5 * z.pow(2) - 0.5 * LOG_2PI).sum(-1)
        kl = diagonal_normal_log_prob(loc, scale, z) - log_prior
    return ELBOTerms(reconstruction, kl, reconstruction - beta * kl)


def log_importance_weights(
    encoder: torch.nn.Module,
    decoder: torch.nn.Module,
    x: torch.Tensor,
    k: int,
    *,
    generator: torch.Generator | None = None,
    log_likelihood: LogLikelihood = bernoulli_log_likelihood,
    chunk_size: int = 256,
) -> torch.Tensor:
    r"""Log importance weights of ``k`` draws per example, shape (k, B):

    .. math::
        \log w_k = \log p(x \mid z_k) + \log p(z_k) - \log q(z_k \mid x), \qquad z_k \sim q(z \mid x),

    each w_k an unbiased estimate of p(x) (Burda et al., 2015). Samples are drawn ``chunk_size``
    at a time, so the decoder never sees more than ``chunk_size * B`` codes at once. Taught in
    chapter 6 (its ``log_weights`` is the teaching copy, checked against this); used by
    :func:`iwae_bound` and chapters 6 and 7.
    """
    if isinstance(k, bool) or not isinstance(k, int) or k < 1:
        raise ValueError(f"k must be a whole number of samples, at least 1; got {k!r}")
    loc, scale = encoder(x)  # (B, z)
    check_generator(generator, loc.device)
    chunks = []
    for start in range(0, k, chunk_size):
        n = min(chunk_size, k - start)
        eps = torch.randn((n, *loc.shape), device=loc.device, dtype=loc.dtype, generator=generator)
        z = loc + scale * eps  # (n, B, z)
        logits = decoder(z.flatten(0, 1))  # (n * B, ...)
        log_px_z = log_likelihood(logits, x.repeat(n, *([1] * (x.dim() - 1)))).view(n, -1)  # (n, B)
        log_pz = (-0.5 * z.pow(2) - 0.5 * LOG_2PI).sum(-1)  # (n, B)
        chunks.append(log_px_z + log_pz - diagonal_normal_log_prob(loc, scale, z))  # (n, B)
    return torch.cat(chunks)  # (k, B)


def log_mean_exp(log_w: torch.Tensor, dim: int = 0) -> torch.Tensor:
    """log (1/K) sum_k exp(log_w_k) along ``dim``, computed stably with logsumexp."""
    return torch.logsumexp(log_w, dim=dim) - math.log(log_w.shape[dim])


def iwae_bound(
    encoder: torch.nn.Module,
    decoder: torch.nn.Module,
    x: torch.Tensor,
    k: int,
    *,
    generator: torch.Generator | None = None,
    log_likelihood: LogLikelihood = bernoulli_log_likelihood,
    chunk_size: int = 256,
) -> torch.Tensor:
    r"""The importance-weighted bound of Burda et al. (2015), per example (B,):

    .. math::
        \mathcal{L}_K(x) = \mathbb{E}\Big[\log \frac{1}{K} \sum_{k=1}^K
        \frac{p(x|z_k)\,p(z)}{q(z_k|x)}\Big], \quad z_k \sim q(z|x),

    with L_1 = ELBO <= L_K <= L_{K+1} <= log p(x). For large K this is the standard
    estimate of the test log-likelihood: the log-mean-exp of :func:`log_importance_weights`.
    Taught in chapter 6; used in chapters 6 and 7 (through ``estimate_log_likelihood``).
    """
    weights = log_importance_weights(
        encoder, decoder, x, k, generator=generator, log_likelihood=log_likelihood, chunk_size=chunk_size
    )
    return log_mean_exp(weights)
