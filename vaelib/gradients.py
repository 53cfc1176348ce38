r"""Two Monte-Carlo estimators of the gradient of an expectation under a Gaussian.

For :math:`q_\theta(z) = \mathcal{N}(z; \mu, \operatorname{diag}\sigma^2)` with :math:`\theta = (\mu, \sigma)`
and a function :math:`f`, both estimate

.. math::
    \nabla_\theta\, \mathbb{E}_{q_\theta(z)}[f(z)]

from samples :math:`z = \mu + \sigma \odot \varepsilon`, :math:`\varepsilon \sim \mathcal{N}(0, I)`:

* **score function** (REINFORCE; Williams, 1992):
  :math:`f(z)\, \nabla_\theta \log q_\theta(z)`, with the sample held fixed. It needs only
  the values of :math:`f` and works for any distribution whose log-density can be differentiated
  in :math:`\theta`, discrete ones included.
* **reparameterization** (pathwise; Kingma & Welling, 2013; Rezende et al., 2014):
  :math:`\nabla_\theta f(\mu + \sigma \odot \varepsilon)`, differentiating *through* the sample.
  It needs a differentiable :math:`f` and a sample written as a differentiable function of the
  parameters and parameter-free noise.

Both are unbiased; Mohamed et al. (2020) compare them at length. Each function returns one
gradient estimate *per sample*, so the caller can average them (the n-sample estimator) or
measure their spread (its variance). Pass the noise ``eps`` (or a ``generator``) to make the
result reproducible.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch.distributions import Normal

from . import checks
from .settings import check_generator

Objective = Callable[[torch.Tensor], torch.Tensor]


def _check_arguments(f, loc, scale, eps, n_samples) -> None:
    """Everything the estimators are given, checked before any sample is drawn."""
    if not callable(f):
        raise TypeError(f"f must be a function of z, e.g. lambda z: z.pow(2).sum(-1); got {type(f).__name__}.")
    checks.tensor(loc, "loc", floating=True)
    checks.tensor(scale, "scale", floating=True)
    if loc.shape != scale.shape:
        raise ValueError(f"loc {tuple(loc.shape)} and scale {tuple(scale.shape)} must have the same shape")
    if scale.numel() and not scale.min() > 0:
        raise ValueError(f"scale must hold positive standard deviations, found {scale.min().item():.3g}.")
    if eps is not None:
        checks.tensor(eps, "eps", floating=True)
    elif isinstance(n_samples, (tuple, list)):
        for size in n_samples:
            checks.whole_number(size, "each entry of n_samples")
    else:
        checks.whole_number(n_samples, "n_samples")


def _noise(
    loc: torch.Tensor,
    eps: torch.Tensor | None,
    n_samples: int | tuple[int, ...],
    generator: torch.Generator | None,
) -> torch.Tensor:
    """eps of shape (*sample_shape, *loc.shape): the given one (checked) or a fresh N(0, I) draw."""
    if eps is None:
        check_generator(generator, loc.device)
        sample_shape = (n_samples,) if isinstance(n_samples, int) else tuple(n_samples)
        return torch.randn((*sample_shape, *loc.shape), device=loc.device, dtype=loc.dtype, generator=generator)
    event = tuple(loc.shape)
    if eps.dim() < len(event) or tuple(eps.shape[eps.dim() - len(event) :]) != event:
        raise ValueError(
            f"eps has shape {tuple(eps.shape)}; it must end with the parameters' shape {event} "
            "(one leading dimension per sample dimension)"
        )
    return eps


def _per_sample_copies(loc: torch.Tensor, scale: torch.Tensor, eps: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """One detached copy of the parameters per sample, so autograd returns per-sample gradients.

    The gradient of sum_i g_i with respect to copy i is the gradient of g_i alone, because
    sample i touches no other copy. The caller's ``loc`` and ``scale`` are never modified and
    need not require gradients.
    """
    if loc.shape != scale.shape:
        raise ValueError(f"loc {tuple(loc.shape)} and scale {tuple(scale.shape)} must have the same shape")
    loc_s = loc.detach().expand(eps.shape).clone().requires_grad_(True)  # (*sample, *event)
    scale_s = scale.detach().expand(eps.shape).clone().requires_grad_(True)  # (*sample, *event)
    return loc_s, scale_s


def _values(f: Objective, z: torch.Tensor, sample_shape: torch.Size) -> torch.Tensor:
    values = f(z)
    if values.shape != sample_shape:
        raise ValueError(
            f"f must return one value per sample, shape {tuple(sample_shape)}, got {tuple(values.shape)}; "
            "reduce over the latent dimensions inside f (e.g. z.pow(2).sum(-1))"
        )
    return values


def score_function_gradient(
    f: Objective,
    loc: torch.Tensor,
    scale: torch.Tensor,
    eps: torch.Tensor | None = None,
    n_samples: int | tuple[int, ...] = 1,
    generator: torch.Generator | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    r"""Per-sample score-function (REINFORCE) estimates of :math:`\nabla_{\mu,\sigma} \mathbb{E}_q[f(z)]`.

    .. math::
        \hat g = f(z)\, \nabla_\theta \log \mathcal{N}(z; \mu, \sigma^2)\Big|_{z\ \text{fixed}},
        \qquad \partial_\mu \log q = \frac{\varepsilon}{\sigma},\quad
        \partial_\sigma \log q = \frac{\varepsilon^2 - 1}{\sigma}

    (Williams, 1992), with :math:`z = \mu + \sigma\varepsilon` drawn and then detached: no
    gradient passes through :math:`f` or the sample, only through :math:`\log q`.

    Args:
        f: maps samples ``z`` of shape (*sample_shape, *loc.shape) to one value each, shape
            (*sample_shape); sample ``i`` of the output may depend only on sample ``i`` of ``z``.
        loc, scale: the mean and standard deviation of q, any (equal) shape.
        eps: the standard-normal noise, (*sample_shape, *loc.shape); drawn when None.
        n_samples: the sample shape (an int or a tuple) when ``eps`` is drawn.
        generator: seeds the draw of ``eps`` (it must live on ``loc``'s device).

    Returns:
        ``(grad_loc, grad_scale)``, each of the shape of ``eps``: one estimate per sample.
        Average over the sample dimensions for the n-sample estimator.
    """
    _check_arguments(f, loc, scale, eps, n_samples)
    eps = _noise(loc, eps, n_samples, generator)
    sample_shape = eps.shape[: eps.dim() - loc.dim()]
    loc_s, scale_s = _per_sample_copies(loc, scale, eps)
    with torch.no_grad():
        z = loc_s + scale_s * eps  # (*sample, *event): a sample, cut off from the parameters
        values = _values(f, z, sample_shape)  # (*sample)
    log_q = Normal(loc_s, scale_s).log_prob(z)  # (*sample, *event)
    log_q = log_q.flatten(len(sample_shape)).sum(-1) if loc.dim() else log_q  # (*sample)
    return torch.autograd.grad((values * log_q).sum(), (loc_s, scale_s))


def reparameterization_gradient(
    f: Objective,
    loc: torch.Tensor,
    scale: torch.Tensor,
    eps: torch.Tensor | None = None,
    n_samples: int | tuple[int, ...] = 1,
    generator: torch.Generator | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    r"""Per-sample reparameterization (pathwise) estimates of :math:`\nabla_{\mu,\sigma} \mathbb{E}_q[f(z)]`.

    .. math::
        \hat g = \nabla_\theta f(\mu + \sigma \odot \varepsilon), \qquad
        \partial_\mu = f'(z),\quad \partial_\sigma = f'(z)\,\varepsilon

    (Kingma & Welling, 2013, Sec. 2.4; Rezende et al., 2014). ``f`` must be differentiable;
    the arguments and the returned shapes are those of :func:`score_function_gradient`.
    """
    _check_arguments(f, loc, scale, eps, n_samples)
    eps = _noise(loc, eps, n_samples, generator)
    sample_shape = eps.shape[: eps.dim() - loc.dim()]
    loc_s, scale_s = _per_sample_copies(loc, scale, eps)
    z = loc_s + scale_s * eps  # (*sample, *event): the sample is a function of the parameters
    values = _values(f, z, sample_shape)  # (*sample)
    return torch.autograd.grad(values.sum(), (loc_s, scale_s))
