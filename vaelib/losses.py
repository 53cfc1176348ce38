r"""The evidence lower bound, term by term, and the importance-weighted bound.

For an encoder q(z|x) = N(loc, diag(scale^2)), prior p(z) = N(0, I) and decoder p(x|z),

.. math::
    \mathrm{ELBO}(x) = \mathbb{E}_{q(z|x)}[\log p(x|z)] - \mathrm{KL}(q(z|x)\,\|\,p(z))
    \le \log p(x)

(Kingma & Welling, 2013, eq. 3). Every function returns one value per example, shape (B,);
averaging or summing over the batch is the caller's choice, made once in ``train``. Every
log-density takes its parameters (or condition) first and the value last, ``f(logits, x)``.

Shapes and dtypes are always checked (free: no tensor values are read). With ``validate=True``,
the default, the likelihoods also check that the data lie in their support and the Gaussian
functions that scales are positive: one pass over the tensor and one host sync, like
``torch.distributions``' ``validate_args``. vaelib's own loops (``fit``, ``evaluate``, ``elbo``'s
KL term) pass ``validate=False``: their images were checked once, when the :class:`ImageData` was
made, and vaelib's encoders return positive scales by construction.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch.distributions import ContinuousBernoulli

from . import checks
from .gaussians import LOG_2PI, diagonal_normal_log_prob, gaussian_kl_to_standard, standard_normal_log_prob
from .sampling import local_params, rsample_posterior
from .settings import check_generator


def _check_pair(logits: torch.Tensor, x: torch.Tensor, names: str) -> None:
    """Free checks of a likelihood's two arguments: tensors, floating point, one shape."""
    first, second = names.split(" and ")
    checks.tensor(logits, first, floating=True)
    checks.tensor(x, second)
    if not x.is_floating_point():
        raise TypeError(f"{second} must be floating point, got {x.dtype}; for 0-255 pixels use x.float() / 255.")
    checks.same_shape(logits, x, names)


def _check_unit_interval(x: torch.Tensor, what: str) -> None:
    """Raise unless every value of ``x`` lies in [0, 1] (one host sync)."""
    if x.numel():
        problem = checks.pixel_range_problem(*checks.value_range(x))
        if problem:
            raise ValueError(f"{what} must lie in [0, 1], but these {problem}.")


def bernoulli_log_likelihood(logits: torch.Tensor, x: torch.Tensor, *, validate: bool = True) -> torch.Tensor:
    r"""log p(x|z) = sum_d [x_d log sigma(l_d) + (1 - x_d) log(1 - sigma(l_d))], per example (B,).

    Computed from logits with ``binary_cross_entropy_with_logits`` (stable for large |l|).
    For grey-scale x in (0, 1) this is a cross-entropy, not a normalised log-likelihood.
    ``validate`` checks that x lies in [0, 1] (outside it the "log-likelihood" can be positive).

    Taught in chapter 1; used in chapters 2, 3, 6, 8.
    """
    _check_pair(logits, x, "logits and data")
    if validate:
        _check_unit_interval(x, "Bernoulli data")
    bce = F.binary_cross_entropy_with_logits(logits, x, reduction="none")
    return -bce.flatten(1).sum(1)


def continuous_bernoulli_log_likelihood(
    logits: torch.Tensor, x: torch.Tensor, *, validate: bool = True
) -> torch.Tensor:
    r"""log CB(x | lambda) summed over pixels, per example (B,), for grey-scale x in [0, 1].

    The continuous Bernoulli (Loaiza-Ganem & Cunningham, 2019) is a proper density on [0, 1]:
    the Bernoulli term plus the log normalising constant log C(lambda). Its values are densities,
    not probabilities, so they are on another scale than the Bernoulli's: never compare the two.
    ``validate`` checks that x lies in [0, 1] (torch's own validation is then skipped, so a
    training loop that passes ``validate=False`` pays no host sync for it).

    Taught in chapter 6.
    """
    _check_pair(logits, x, "logits and data")
    if validate:
        _check_unit_interval(x, "continuous Bernoulli data")
    return ContinuousBernoulli(logits=logits, validate_args=False).log_prob(x).flatten(1).sum(1)


def gaussian_log_likelihood(
    mean: torch.Tensor, x: torch.Tensor, std: float = 1.0, *, validate: bool = True
) -> torch.Tensor:
    r"""log N(x; mean, std^2 I) per example: -||x - mean||^2 / (2 std^2) - D/2 log(2 pi std^2).

    ``std`` is the decoder's noise level, a positive number; ``validate`` checks that x is finite.

    Taught in chapter 1.
    """
    _check_pair(mean, x, "mean and data")
    if validate or not isinstance(std, torch.Tensor):  # reading a tensor std would sync the host
        checks.real_number(std, "std (the noise level)", positive=True)
    if validate and x.numel() and not all(math.isfinite(v) for v in checks.value_range(x)):
        raise ValueError("Gaussian data must be finite, but they hold NaN or inf values; check how they were made.")
    d = x[0].numel()
    sq = (x - mean).pow(2).flatten(1).sum(1)
    return -0.5 * sq / std**2 - 0.5 * d * (LOG_2PI + 2 * math.log(std))


def reparameterize(
    loc: torch.Tensor,
    scale: torch.Tensor,
    eps: torch.Tensor | None = None,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """z = loc + scale * eps with eps ~ N(0, I): a sample that gradients flow through.

    Pass ``eps`` to fix the noise (tests) or a ``generator`` to seed it.

    Taught in chapter 1; used in chapters 2, 4, 5, 6, 9.
    """
    checks.gaussian_parameters(loc, scale)
    if eps is None:
        check_generator(generator, loc.device)
        eps = torch.randn(loc.shape, device=loc.device, dtype=loc.dtype, generator=generator)
    elif eps.shape != loc.shape:
        raise ValueError(f"eps has shape {tuple(eps.shape)} but loc has {tuple(loc.shape)}")
    return loc + scale * eps


@dataclass
class ELBOTerms:
    """Per-example terms of the bound, each of shape (B,).

    What :func:`elbo` returns (chapters 1, 2, 4 and 6 read its terms), and what an ``objective`` may return (chapter 9).
    """

    reconstruction: torch.Tensor  # E_q log p(x|z), one-sample estimate
    kl: torch.Tensor  # KL(q(z|x) || p(z)): analytic, or the one-sample log q - log p
    elbo: torch.Tensor  # reconstruction - beta * kl

    def mean(self) -> dict[str, float]:
        """Batch means as Python floats, for printing and logging."""
        return {name: getattr(self, name).mean().item() for name in ("reconstruction", "kl", "elbo")}


LogLikelihood = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


def prior_log_prob(prior, z: torch.Tensor) -> torch.Tensor:
    """``prior.log_prob(z)``, checked: one log-density per code, shape ``z.shape[:-1]``, for codes of its size.

    A ``torch.distributions`` prior over vectors without ``.to_event(1)`` gives one value per coordinate,
    which would broadcast into a wrong KL; a prior of another size would fail deep inside. Both are
    refused here with what to write instead. Used in chapter 9 through elbo and estimate_log_likelihood.
    """
    if not callable(getattr(prior, "log_prob", None)):
        raise TypeError(f"prior must have a log_prob(z) method (e.g. vaelib.MixturePrior), got {type(prior).__name__}.")
    size = getattr(prior, "z_dim", None)
    if size is not None and size != z.shape[-1]:
        raise ValueError(f"the prior is over codes of size {size} but the encoder's codes have {z.shape[-1]}.")
    value = prior.log_prob(z)
    if not isinstance(value, torch.Tensor) or value.shape != z.shape[:-1]:
        got = tuple(value.shape) if isinstance(value, torch.Tensor) else type(value).__name__
        raise ValueError(
            f"prior.log_prob returned {got} for codes {tuple(z.shape)}; a prior gives one log-density per code, "
            f"{tuple(z.shape[:-1])}. For a torch.distributions prior over vectors wrap it, e.g. "
            f"Independent(Normal(torch.zeros({z.shape[-1]}), 1.), 1), or use vaelib.StandardNormalPrior({z.shape[-1]})."
        )
    return value


def elbo(
    encoder: torch.nn.Module,
    decoder: torch.nn.Module,
    x: torch.Tensor,
    *,
    beta: float = 1.0,
    analytic_kl: bool | None = None,
    prior: torch.nn.Module | None = None,
    eps: torch.Tensor | None = None,
    generator: torch.Generator | None = None,
    log_likelihood: LogLikelihood = bernoulli_log_likelihood,
) -> ELBOTerms:
    r"""One-sample estimate of the (beta-weighted) ELBO for each example in ``x``.

    reconstruction = log p(x | z) with z = loc + scale * eps; kl is the closed form of
    :func:`gaussian_kl_to_standard` when ``analytic_kl``, else the one-sample estimate
    log q(z|x) - log p(z) at the same z (what Pyro's ``Trace_ELBO`` computes). ``beta`` weights the KL
    (Higgins et al., 2017); beta = 1 gives the ELBO itself. ``prior`` (an object with ``log_prob(z)``,
    chapter 9) replaces N(0, I); the KL then has no closed form and is sampled (``analytic_kl`` defaults
    to True without a prior and to False with one).

    ``x`` is checked by the likelihood (vaelib's validate it by default; ``fit`` and ``evaluate``
    pass data checked once instead). The KL term does not check the encoder's scales, which
    vaelib's encoders keep positive; a hand-made encoder must too.

    Taught in chapter 1; used in chapters 2, 4, 6, 9, 10.
    """
    if not isinstance(beta, torch.Tensor):  # a tensor beta is not read here: that would sync the host
        checks.real_number(beta, "beta", minimum=0.0)
    analytic_kl = prior is None if analytic_kl is None else checks.flag(analytic_kl, "analytic_kl")
    if analytic_kl and prior is not None:
        raise ValueError("a prior other than N(0, I) has no closed-form KL here: leave analytic_kl unset with prior=.")
    if not callable(log_likelihood):
        raise TypeError(f"log_likelihood must be a function (logits, x) -> (B,), got {type(log_likelihood).__name__}.")
    loc, scale = encoder(x)  # (B, z), (B, z)
    z = reparameterize(loc, scale, eps=eps, generator=generator)  # (B, z)
    reconstruction = log_likelihood(decoder(z), x)  # (B,)
    if analytic_kl:
        kl = gaussian_kl_to_standard(loc, scale, validate=False)
    else:
        log_prior = standard_normal_log_prob(z) if prior is None else prior_log_prob(prior, z)
        kl = diagonal_normal_log_prob(loc, scale, z, validate=False) - log_prior
    return ELBOTerms(reconstruction, kl, reconstruction - beta * kl)


def log_importance_weights(
    encoder: torch.nn.Module,
    decoder: torch.nn.Module,
    x: torch.Tensor,
    k: int,
    *,
    prior: torch.nn.Module | None = None,
    params: tuple[torch.Tensor, ...] | None = None,
    generator: torch.Generator | None = None,
    log_likelihood: LogLikelihood = bernoulli_log_likelihood,
    chunk_size: int = 256,
    stop_gradient: bool = False,
    return_codes: bool = False,
):
    r"""Log importance weights of ``k`` draws per example, shape (k, B):

    .. math::
        \log w_k = \log p(x \mid z_k) + \log p(z_k) - \log q(z_k \mid x), \qquad z_k \sim q(z \mid x),

    each w_k an unbiased estimate of p(x) (Burda et al., 2015). The one path every bound of the book
    takes: ``prior`` (an object with ``log_prob(z)``, chapter 9) replaces N(0, I); ``params`` replaces
    the encoder's local parameters (:func:`vaelib.sampling.local_params`: ``(loc, log scale)`` for a
    diagonal encoder; per-image optimisation and refinement, chapter 7); any encoder of vaelib works,
    the richer ones of chapter 7 through their ``rsample``. ``stop_gradient`` evaluates log q at
    parameters held fixed (the doubly reparameterized gradient); ``return_codes`` also returns the
    list of sampled code chunks z (n, B, d). Samples are drawn ``chunk_size`` at a time, so the decoder
    never sees more than ``chunk_size * B`` codes at once. Taught in chapter 6 (its ``log_weights`` is
    the teaching copy, checked against this); used in chapters 7 and 9 through inference_gaps and
    estimate_log_likelihood.
    """
    k = checks.whole_number(k, "k (importance samples)", minimum=1)
    chunk_size = checks.whole_number(chunk_size, "chunk_size", minimum=1)
    log_prior = standard_normal_log_prob if prior is None else lambda z: prior_log_prob(prior, z)
    if params is None and not hasattr(encoder, "rsample"):
        loc, scale = encoder(x)  # (B, z): a diagonal encoder, drawn from its own (loc, scale)
        check_generator(generator, loc.device)
        fixed = (loc.detach(), scale.detach()) if stop_gradient else (loc, scale)

        def draw(n):
            z = loc + scale * torch.randn((n, *loc.shape), device=loc.device, dtype=loc.dtype, generator=generator)
            return z, diagonal_normal_log_prob(*fixed, z, validate=False)  # (n, B, z), (n, B)
    else:
        params = local_params(encoder, x) if params is None else params

        def draw(n):
            return rsample_posterior(encoder, params, n, generator=generator, stop_gradient=stop_gradient)

    weights, codes = [], []
    for start in range(0, k, chunk_size):
        n = min(chunk_size, k - start)
        z, log_q = draw(n)
        log_px_z = log_likelihood(decoder(z.flatten(0, 1)), x.repeat(n, *([1] * (x.dim() - 1)))).view(n, -1)  # (n, B)
        weights.append(log_px_z + log_prior(z) - log_q)  # (n, B)
        codes.append(z)
    weights = torch.cat(weights)  # (k, B)
    return (weights, codes) if return_codes else weights


def log_mean_exp(log_w: torch.Tensor, dim: int = 0) -> torch.Tensor:
    """log (1/K) sum_k exp(log_w_k) along ``dim``, computed stably with logsumexp.

    Taught in chapter 6.
    """
    return torch.logsumexp(log_w, dim=dim) - math.log(log_w.shape[dim])


def iwae_bound(
    encoder: torch.nn.Module,
    decoder: torch.nn.Module,
    x: torch.Tensor,
    k: int,
    *,
    prior: torch.nn.Module | None = None,
    generator: torch.Generator | None = None,
    log_likelihood: LogLikelihood = bernoulli_log_likelihood,
    chunk_size: int = 256,
) -> torch.Tensor:
    r"""The importance-weighted bound of Burda et al. (2015), per example (B,):

    .. math::
        \mathcal{L}_K(x) = \mathbb{E}\Big[\log \frac{1}{K} \sum_{k=1}^K
        \frac{p(x|z_k)\,p(z)}{q(z_k|x)}\Big], \quad z_k \sim q(z|x),

    with L_1 = ELBO <= L_K <= L_{K+1} <= log p(x). For large K this is the standard
    estimate of the test log-likelihood: the log-mean-exp of :func:`log_importance_weights` (``prior`` as there).
    Taught in chapter 6.
    """
    weights = log_importance_weights(
        encoder, decoder, x, k, prior=prior, generator=generator, log_likelihood=log_likelihood, chunk_size=chunk_size
    )
    return log_mean_exp(weights)
