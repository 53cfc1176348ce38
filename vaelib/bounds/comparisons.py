r"""Fair comparisons of bounds and encoders: the controls, the counted work and the measurements of chapter 7.

* :func:`elbo_objective`: the ELBO with its closed-form KL and a reconstruction term averaged over
  ``samples`` draws. With ``samples = K`` it is Burda et al.'s control for an IWAE with K samples (a VAE
  that sees as many samples per step, but averages log-weights instead of weights); with one sample it
  trains a full-covariance encoder with the exact KL of chapter 7.
* :func:`closed_form_kl`: KL(q(z|x) || N(0, I)) of a diagonal or full-covariance encoder.
* :func:`effective_sample_size`: (sum w)^2 / sum w^2 of K importance weights, the number of samples a
  weighted average effectively averages.
* :class:`DecoderRows`: counts the rows a decoder is run on, the cost of a bound in work rather than
  in (machine-dependent) seconds.
* :func:`fit_encoder`: trains a new encoder against a frozen decoder (Cremer et al.'s design: every
  encoder is measured against the same true posterior).
* :func:`score_per_image`: ELBO and L_K of every image, for paired differences between models.

Taught in chapter 7.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn as nn

from .. import checks
from ..data import ImageData, check_data
from ..gaussians import full_covariance_kl_to_standard, kl_from_log_variance
from ..loop import History, eval_mode
from ..losses import LogLikelihood, bernoulli_log_likelihood, log_importance_weights, log_mean_exp
from ..models import VAE
from ..sampling import local_params, rsample_posterior
from ..train import fit
from .encoders import FullCovarianceEncoder


def closed_form_kl(encoder: nn.Module, params: tuple[torch.Tensor, ...]) -> torch.Tensor:
    r"""KL(q(z|x) || N(0, I)) per example, (B,), from an encoder's local parameters.

    A diagonal encoder's ``(loc, log scale)``: :math:`\tfrac12\sum_j(\sigma_j^2 + \mu_j^2 - 1 - 2\log\sigma_j)`;
    a :class:`~vaelib.FullCovarianceEncoder`'s ``(loc, scale_tril)``: :func:`vaelib.full_covariance_kl_to_standard`.
    A flow has no closed form (use the sampled KL of ``bounds.objective(1)``). Used in chapter 7 through
    elbo_objective.
    """
    checks.module(encoder, "encoder")
    if isinstance(encoder, FullCovarianceEncoder):
        loc, tril = params
        return full_covariance_kl_to_standard(loc, tril.tril())
    if hasattr(encoder, "rsample"):
        raise ValueError(
            f"{type(encoder).__name__} has no closed-form KL to the prior; train it with the sampled KL of "
            "vaelib.bounds.objective(1) instead of elbo_objective"
        )
    loc, log_scale = params
    return kl_from_log_variance(loc, 2 * log_scale)


def elbo_objective(samples: int = 1, log_likelihood: LogLikelihood = bernoulli_log_likelihood):
    r"""``objective(model, x) -> (B,)`` for ``vaelib.fit``: the ELBO with the closed-form KL and the
    reconstruction term averaged over ``samples`` reparameterized draws,

    .. math::
        \frac1S \sum_{s=1}^{S} \log p_\theta(x \mid z_s) - \mathrm{KL}\big(q_\phi(z \mid x) \,\Vert\, p(z)\big).

    Its expectation is the ELBO whatever ``samples`` is; more samples only lower the gradient's variance,
    at ``samples`` decoder rows per image. With ``samples = K`` it is the control of an IWAE trained with
    K samples (Burda et al., 2016, train VAEs with k samples for this reason). Diagonal and full-covariance
    encoders (:func:`closed_form_kl`). Taught in chapter 7.
    """
    samples = checks.whole_number(samples, "samples (draws of z per image)")
    if not callable(log_likelihood):
        raise TypeError(f"log_likelihood must be a function (logits, x) -> (B,), got {type(log_likelihood).__name__}")

    def per_example(model, x):
        params = local_params(model.encoder, x)
        z, _ = rsample_posterior(model.encoder, params, samples)  # (S, B, d)
        logits = model.decoder(z.flatten(0, 1))
        reconstruction = log_likelihood(logits, x.repeat(samples, *([1] * (x.dim() - 1)))).view(samples, -1)
        return reconstruction.mean(0) - closed_form_kl(model.encoder, params)

    per_example.__name__ = f"elbo_{samples}_samples"
    return per_example


def effective_sample_size(log_weights: torch.Tensor) -> torch.Tensor:
    r"""Kish's effective sample size of K importance weights per example, (B,), from their logs (K, B):

    .. math::
        \mathrm{ESS} = \frac{(\sum_k w_k)^2}{\sum_k w_k^2} = \frac{1}{\sum_k \tilde w_k^2} \in [1, K].

    1 when one sample carries all the weight, K when all weigh alike. A weighted average over K samples
    has about the variance of a plain average over ESS of them. Taught in chapter 7.
    """
    checks.tensor(log_weights, "log_weights", floating=True)
    if log_weights.dim() != 2:
        raise ValueError(f"log_weights must have shape (K, B), got {tuple(log_weights.shape)}")
    return (2 * torch.logsumexp(log_weights, 0) - torch.logsumexp(2 * log_weights, 0)).exp()


class DecoderRows:
    """Counts the rows (codes z) a decoder is run on while the ``with`` block lasts: ``counter.rows``.

    The work of a K-sample bound is K decoder rows per image; counting them gives a cost that does not
    depend on the machine, its load or its GPU, unlike seconds. A forward pre-hook, removed on exit::

        with vaelib.DecoderRows(model.decoder) as counter:
            vaelib.fit(model, data, ...)
        counter.rows

    Taught in chapter 7.
    """

    def __init__(self, decoder: nn.Module):
        self.decoder = checks.module(decoder, "decoder")
        self.rows = 0
        self._handle = None

    def _count(self, module, inputs):
        self.rows += int(inputs[0].shape[0])

    def __enter__(self) -> DecoderRows:
        self._handle = self.decoder.register_forward_pre_hook(self._count)
        return self

    def __exit__(self, *exc) -> None:
        self._handle.remove()
        self._handle = None


def fit_encoder(encoder: nn.Module, decoder: nn.Module, train: ImageData, **fit_options) -> tuple[VAE, History]:
    """Train only ``encoder`` against a frozen ``decoder`` (which is not changed, and gets no gradients);
    returns ``(VAE(encoder, decoder), history)``. The options are :func:`vaelib.fit`'s (epochs, batch_size,
    lr, binarize, objective, progress); ``lr`` (default 1e-3) builds Adam over the encoder's parameters.

    Cremer et al. (2018) separate the gaps this way: with one decoder, every encoder faces the same true
    posterior, so the approximation gaps of different families can be compared. Taught in chapter 7.
    """
    checks.module(encoder, "encoder")
    checks.module(decoder, "decoder")
    if "optimizer" in fit_options:
        raise ValueError("fit_encoder builds its own optimizer over the encoder's parameters; pass lr= instead")
    lr = checks.real_number(fit_options.pop("lr", 1e-3), "lr", positive=True)
    model = VAE(encoder, decoder)
    frozen = [(p, p.requires_grad) for p in decoder.parameters()]
    for p, _ in frozen:
        p.requires_grad_(False)
    try:
        history = fit(model, train, optimizer=torch.optim.Adam(encoder.parameters(), lr=lr), **fit_options)
    finally:
        for p, flag in frozen:
            p.requires_grad_(flag)
    return model, history


def score_per_image(
    model: nn.Module,
    data: ImageData,
    k: int,
    *,
    batch_size: int = 100,
    params_of: Callable[[torch.Tensor], tuple[torch.Tensor, ...]] | None = None,
    generator: torch.Generator | None = None,
    log_likelihood: LogLikelihood = bernoulli_log_likelihood,
) -> dict[str, torch.Tensor]:
    """ELBO and L_k of every image of ``data`` from the same k draws: ``{"elbo": (N,), "bound": (N,)}``
    (what :func:`vaelib.score_bounds` averages), for paired differences (:func:`vaelib.paired_difference`).
    ``params_of(x)`` gives the local parameters of the proposal (e.g. refined ones, :func:`vaelib.refine`);
    default: the encoder's. Scored in eval mode; the model keeps its mode. Taught in chapter 7.
    """
    k = checks.whole_number(k, "k (importance samples per image)")
    check_data(data)
    ll, encoder, decoder = log_likelihood, model.encoder, model.decoder
    elbo, bound = [], []
    with eval_mode(model):
        for x, _ in data.batches(batch_size, shuffle=False):
            params = None if params_of is None else params_of(x)
            with torch.no_grad():
                w = log_importance_weights(
                    encoder, decoder, x, k, params=params, generator=generator, log_likelihood=ll
                )
            elbo.append(w.mean(0))
            bound.append(log_mean_exp(w))
    return {"elbo": torch.cat(elbo), "bound": torch.cat(bound)}
