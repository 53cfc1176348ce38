r"""Each gradient estimator of a categorical VAE measured against the exact gradient (bias and variance).

On a model small enough to enumerate (a few latents of a few classes, K^L joint codes), the exact
gradient of the ELBO summed over a batch is autograd of the exact sum (:func:`exact_elbo_gradient`).
Every estimator of :mod:`vaelib.discrete.categorical` is then drawn ``n_draws`` times at the same
parameters (:func:`gradient_draws`) and summarised against it (:func:`gradient_stats`):

- bias: the mean of the draws minus the exact gradient. Its squared norm has an unbiased estimate,
  ||mean - exact||^2 - tr(Cov) / n, since the mean's own noise adds tr(Cov) / n on average; and each
  coordinate gets a z-score (mean - exact) / standard error, so "unbiased" is a test that can fail;
- variance: tr(Cov), the mean squared distance of a draw from the draws' mean;
- the mean squared error of one draw, ||bias||^2 + tr(Cov).

The gradients are taken with respect to the encoder's logits of q(z | x) (B, L, K): all estimators
differ only there (the KL's gradient is exact in each), and any encoder parameter's gradient is a
fixed linear map of these, so bias and unbiasedness carry over. For chapter 10 (discrete latents).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from .. import checks
from ..data import IMAGE_SHAPE
from .categorical import CategoricalVAE, all_codes, categorical_kl_to_uniform, check_options, surrogate_terms


def _check(model, x) -> None:
    if not isinstance(model, CategoricalVAE):
        raise TypeError(f"expected a vaelib.discrete.CategoricalVAE, got {type(model).__name__}.")
    checks.network_input(x, IMAGE_SHAPE, "the images x", next(model.parameters()))
    all_codes(model.n_latents, model.n_classes)  # refuses a model too large to enumerate, before any work


def _encoder_logits(model: CategoricalVAE, x: torch.Tensor) -> torch.Tensor:
    with torch.no_grad():
        return model.encoder(x)  # (B, L, K), fixed: the point at which every gradient is taken


def exact_elbo_gradient(model: CategoricalVAE, x: torch.Tensor) -> torch.Tensor:
    """The exact gradient of sum_b ELBO(x_b) with respect to the encoder's logits, flattened: (B * L * K,).

    The ELBO is summed over all K^L joint codes (estimator ``"exact"``), so this is autograd of the
    exact sum. Taught in chapter 10 (discrete latents).
    """
    _check(model, x)
    logits = _encoder_logits(model, x).requires_grad_()
    total = surrogate_terms(model.decoder, logits, x, "exact").elbo.sum()
    (grad,) = torch.autograd.grad(total, logits)
    return grad.flatten()


def exact_elbo(model: CategoricalVAE, x: torch.Tensor) -> torch.Tensor:
    """The exact ELBO per example (B,): the enumerated reconstruction minus the closed-form KL.

    Taught in chapter 10 (discrete latents).
    """
    _check(model, x)
    with torch.no_grad():
        return surrogate_terms(model.decoder, model.encoder(x), x, "exact").elbo


def gradient_draws(
    model: CategoricalVAE,
    x: torch.Tensor,
    estimator: str,
    n_draws: int,
    *,
    temperature: float = 1.0,
    n_samples: int = 1,
    baseline: str = "none",
    generator: torch.Generator | None = None,
    chunk: int = 500,
) -> torch.Tensor:
    """``n_draws`` independent estimates of the gradient of sum_b ELBO(x_b) w.r.t. the encoder's logits: (n_draws, P).

    Each draw is the estimator of :func:`~vaelib.discrete.categorical.surrogate_terms` (the one the
    training objective uses), with ``n_samples`` samples per image and fresh noise; ``chunk`` draws are
    computed per batch (memory grows with chunk x images x samples decoder outputs). ``baseline`` is
    ``"none"`` or ``"loo"`` (a moving mean needs a training run). Used in chapter 10 through compare_estimators.
    """
    _check(model, x)
    n_draws = checks.whole_number(n_draws, "n_draws", minimum=2)
    chunk = checks.whole_number(chunk, "chunk")
    check_options(estimator, n_samples, baseline, "categorical")
    if baseline == "mean":
        raise ValueError("baseline='mean' is a moving average across training steps; measure 'none' or 'loo' here.")
    logits = _encoder_logits(model, x)
    options = dict(temperature=temperature, n_samples=n_samples, baseline=baseline, generator=generator)
    parts = []
    for start in range(0, n_draws, chunk):
        d = min(chunk, n_draws - start)
        copies = logits.repeat(d, 1, 1).requires_grad_()  # (d * B, L, K): draw i holds rows i*B .. (i+1)*B - 1
        terms = surrogate_terms(model.decoder, copies, x.repeat(d, 1, 1, 1), estimator, **options)
        (grad,) = torch.autograd.grad(terms.elbo.sum(), copies)
        parts.append(grad.view(d, -1))
    return torch.cat(parts)


@dataclass(frozen=True)
class GradientStats:
    """One estimator's draws against the exact gradient (module docstring).

    Used in chapter 10 through compare_estimators.
    """

    n_draws: int
    bias_norm: float  # ||mean of the draws - exact||, itself noisy (see bias_squared)
    bias_squared: float  # unbiased estimate of ||E[draw] - exact||^2: ||mean - exact||^2 - tr(Cov) / n
    bias_squared_se: float  # its standard error (delta method, first order)
    max_abs_z: float  # max over coordinates of |mean - exact| / (sd / sqrt(n)): ~N(0, 1) each when unbiased
    variance: float  # tr(Cov): the expected squared distance of one draw from E[draw]
    mse: float  # mean over draws of ||draw - exact||^2 = bias^2 + variance (one draw)
    exact_norm: float  # ||exact gradient||, for scale

    @property
    def relative_bias(self) -> float:
        """||mean - exact|| / ||exact||."""
        return self.bias_norm / self.exact_norm if self.exact_norm > 0 else float("nan")


def gradient_stats(draws: torch.Tensor, exact: torch.Tensor) -> GradientStats:
    """Summarise ``draws`` (n, P) of a gradient estimator against the ``exact`` gradient (P,).

    Used in chapter 10 through compare_estimators.
    """
    checks.tensor(draws, "draws", floating=True)
    checks.tensor(exact, "exact", floating=True)
    if draws.dim() != 2 or exact.dim() != 1 or draws.shape[1] != exact.shape[0]:
        raise ValueError(
            f"draws must be (n, P) and exact (P,), got {tuple(draws.shape)} and {tuple(exact.shape)}; "
            "use gradient_draws and exact_elbo_gradient on the same model and images."
        )
    n = draws.shape[0]
    if n < 2:
        raise ValueError(f"need at least 2 draws to estimate a variance, got {n}.")
    draws, exact = draws.double(), exact.double()
    mean = draws.mean(0)
    var = draws.var(0, unbiased=True)  # (P,) per coordinate
    diff = mean - exact
    trace = var.sum()
    bias_sq = diff.pow(2).sum() - trace / n
    # Var(||mean - exact||^2) ~ 4 diff' Cov diff / n to first order; the diagonal of Cov is used as a scale.
    bias_sq_se = (4 * (diff.pow(2) * var).sum() / n + 2 * (var.pow(2)).sum() / n**2).sqrt()
    se = (var / n).sqrt()
    z = (diff.abs() / se.clamp_min(1e-30))[se > 0]
    return GradientStats(
        n_draws=n,
        bias_norm=float(diff.norm()),
        bias_squared=float(bias_sq),
        bias_squared_se=float(bias_sq_se),
        max_abs_z=float(z.max()) if z.numel() else 0.0,
        variance=float(trace),
        mse=float((draws - exact).pow(2).sum(1).mean()),
        exact_norm=float(exact.norm()),
    )


def compare_estimators(
    model: CategoricalVAE,
    x: torch.Tensor,
    settings: dict[str, dict],
    n_draws: int,
    *,
    generator: torch.Generator | None = None,
) -> dict[str, GradientStats]:
    """:class:`GradientStats` of each named estimator setting, e.g.
    ``{"score + LOO": dict(estimator="score", n_samples=2, baseline="loo"), "GS tau=0.5": dict(estimator=
    "gumbel_softmax", temperature=0.5)}``, all against one exact gradient. Taught in chapter 10 (discrete latents).
    """
    if not isinstance(settings, dict) or not settings:
        raise TypeError("settings must be a non-empty dict: name -> dict(estimator=..., temperature=..., ...).")
    exact = exact_elbo_gradient(model, x)
    result = {}
    for name, options in settings.items():
        if not isinstance(options, dict) or "estimator" not in options:
            raise TypeError(f"settings[{name!r}] must be a dict with at least estimator=..., got {options!r}.")
        options = dict(options)
        estimator = options.pop("estimator")
        draws = gradient_draws(model, x, estimator, n_draws, generator=generator, **options)
        result[name] = gradient_stats(draws, exact)
    return result


def score_function_expectation(model: CategoricalVAE, x: torch.Tensor) -> torch.Tensor:
    """The score-function estimator's expectation computed exactly: sum_z q(z|x) f(z) grad log q(z|x) + grad(-KL).

    A brute-force check, independent of autograd through the enumerated ELBO: it must equal
    :func:`exact_elbo_gradient` (the score-function identity). Flattened, (B * L * K,).
    Taught in chapter 10 (discrete latents).
    """
    _check(model, x)

    logits = _encoder_logits(model, x).requires_grad_()
    codes = all_codes(model.n_latents, model.n_classes, device=logits.device, dtype=logits.dtype)  # (C, L, K)
    with torch.no_grad():
        dec = model.decoder(codes).flatten(1)  # (C, 784)
        f = x.flatten(1) @ dec.T - torch.nn.functional.softplus(dec).sum(-1)  # (B, C): log p(x_b | z_c)
    log_q = torch.einsum("clk,blk->bc", codes, logits.log_softmax(-1))  # (B, C)
    (grad_kl,) = torch.autograd.grad(categorical_kl_to_uniform(logits).sum(), logits)
    total = torch.zeros_like(logits)
    for c in range(codes.shape[0]):  # one configuration at a time: no vectorised shortcut to trust
        (g,) = torch.autograd.grad(log_q[:, c].sum(), logits, retain_graph=True)
        total += (log_q[:, c].exp() * f[:, c]).detach().view(-1, 1, 1) * g
    return (total - grad_kl).flatten()
