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

:func:`encoder_gradient_estimates` applies either one to a VAE's reconstruction term, image by image,
and carries the estimates through the encoder to its parameters (chapter 2 compares them there).
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch.distributions import Normal

from . import checks
from .losses import bernoulli_log_likelihood
from .settings import check_generator

Integrand = Callable[[torch.Tensor], torch.Tensor]  # z -> f(z), the function whose expectation is differentiated


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


def _values(f: Integrand, z: torch.Tensor, sample_shape: torch.Size) -> torch.Tensor:
    values = f(z)
    if values.shape != sample_shape:
        raise ValueError(
            f"f must return one value per sample, shape {tuple(sample_shape)}, got {tuple(values.shape)}; "
            "reduce over the latent dimensions inside f (e.g. z.pow(2).sum(-1))"
        )
    return values


def score_function_gradient(
    f: Integrand,
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

    Taught in chapter 2.
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
    f: Integrand,
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

    Taught in chapter 2.
    """
    _check_arguments(f, loc, scale, eps, n_samples)
    eps = _noise(loc, eps, n_samples, generator)
    sample_shape = eps.shape[: eps.dim() - loc.dim()]
    loc_s, scale_s = _per_sample_copies(loc, scale, eps)
    z = loc_s + scale_s * eps  # (*sample, *event): the sample is a function of the parameters
    values = _values(f, z, sample_shape)  # (*sample)
    return torch.autograd.grad(values.sum(), (loc_s, scale_s))


def encoder_gradient_estimates(
    estimator: Callable[..., tuple[torch.Tensor, torch.Tensor]],
    encoder: torch.nn.Module,
    decoder: torch.nn.Module,
    x: torch.Tensor,
    params: list[torch.Tensor],
    eps: torch.Tensor | None = None,
    n_samples: int = 1,
    generator: torch.Generator | None = None,
    log_likelihood: Callable[[torch.Tensor, torch.Tensor], torch.Tensor] = bernoulli_log_likelihood,
) -> tuple[torch.Tensor, ...]:
    r"""Per-sample estimates of the gradient of a minibatch's reconstruction term with respect to encoder parameters.

    The quantity is the mean reconstruction term of the ELBO over the minibatch ``x`` of ``M`` images,

    .. math::
        R(\phi) = \frac{1}{M} \sum_{i=1}^{M} \mathbb{E}_{q_\phi(z \mid x_i)}\big[\log p_\theta(x_i \mid z)\big],

    and its gradient in the encoder's parameters :math:`\phi` goes through the encoder's outputs
    :math:`\mu_i = \mu_\phi(x_i)`, :math:`\sigma_i = \sigma_\phi(x_i)`. Image by image, ``estimator``
    (:func:`score_function_gradient` or :func:`reparameterization_gradient`) estimates
    :math:`\nabla_{\mu_i, \sigma_i} \mathbb{E}_q[\log p_\theta(x_i \mid z)]` from the noise ``eps[:, i]``
    (each image's term depends only on its own :math:`q`), and the chain rule, a vector-Jacobian product
    batched over the samples, carries each estimate to ``params``. Sample ``s`` is the one-sample
    (:math:`L = 1`) estimate of :math:`\nabla_\phi R` for the noise ``eps[s]``, the gradient that one
    training step would see for this minibatch (the reconstruction part; the KL is in closed form).

    Args:
        estimator: ``score_function_gradient`` or ``reparameterization_gradient``.
        encoder, decoder: ``x -> (loc, scale)`` and ``z -> logits``, used as they are (call ``.eval()``
            first for networks with batch norm).
        x: the minibatch, (M, 1, 28, 28).
        params: encoder parameters to differentiate, e.g. ``[encoder.loc.bias]``.
        eps: the noise, (S, M, z_dim); drawn (``n_samples`` of it, with ``generator``) when None.
        log_likelihood: ``(logits, x) -> (B,)``, Bernoulli by default.

    Returns:
        One tensor per parameter, shape (S, *p.shape): the S single-sample estimates.

    Taught in chapter 2.
    """
    if estimator not in (score_function_gradient, reparameterization_gradient):
        raise TypeError(
            "estimator must be vaelib.score_function_gradient or vaelib.reparameterization_gradient, "
            f"got {getattr(estimator, '__name__', type(estimator).__name__)}."
        )
    checks.module(encoder, "encoder")
    checks.module(decoder, "decoder")
    checks.tensor(x, "x", floating=True)
    if isinstance(params, torch.Tensor) or not params:
        raise TypeError("params must be a non-empty list of encoder parameters, e.g. [encoder.loc.bias].")
    owned = {id(p) for p in encoder.parameters()}
    if not all(isinstance(p, torch.Tensor) and id(p) in owned for p in params):
        raise ValueError("every entry of params must be a parameter of the encoder (e.g. encoder.loc.bias).")
    loc, scale = encoder(x)  # (M, d) each, differentiable in params
    eps = _noise(loc.detach(), eps, n_samples, generator)  # (S, M, d)
    if eps.dim() != 3:
        raise ValueError(f"eps must have shape (S, M, z_dim) = (S, *{tuple(loc.shape)}), got {tuple(eps.shape)}")
    grad_loc, grad_scale = [], []
    for i in range(len(x)):  # one image at a time: its term depends on its own q only

        def f(z, target=x[i]):  # (S, d) -> (S,): log p(x_i | z) for each sample
            return log_likelihood(decoder(z), target.expand(len(z), *target.shape))

        g_loc, g_scale = estimator(f, loc[i].detach(), scale[i].detach(), eps=eps[:, i])  # (S, d) each
        grad_loc.append(g_loc)
        grad_scale.append(g_scale)
    cotangents = (torch.stack(grad_loc, 1) / len(x), torch.stack(grad_scale, 1) / len(x))  # (S, M, d) each
    grads = torch.autograd.grad((loc, scale), params, cotangents, is_grads_batched=True, allow_unused=True)
    if any(g is None for g in grads):
        raise ValueError("some entry of params does not influence the encoder's loc or scale.")
    return grads
