r"""A VAE with categorical latents and four ways to get a gradient through the discrete choice.

The model: ``L`` independent categorical latents of ``K`` classes each, q(z | x) = prod_l Cat(z_l; softmax(logits_l)),
a uniform prior p(z_l) = 1 / K, and a Bernoulli decoder of the one-hot codes. Its ELBO is

.. math::
    \mathrm{ELBO}(x) = \mathbb{E}_{q(z|x)}[\log p(x \mid z)] - \sum_l \mathrm{KL}(q(z_l|x) \,\|\, \mathrm{Unif}(K)),
    \qquad \mathrm{KL} = \sum_k q_k \log q_k + \log K

with the KL in closed form. Every estimator below differentiates the same reconstruction term
E_q[log p(x | z)] in a different way (``ESTIMATORS``):

- ``"score"``: the score function (REINFORCE, chapter 2's estimator), with ``n_samples`` hard samples and a
  baseline b: (f(z) - b) grad log q(z | x) + grad f(z), f = log p(x | z). ``baseline="none"``; ``"loo"``, the
  leave-one-out mean of the other samples' f (Kool et al., 2019; needs ``n_samples >= 2``); ``"mean"``, a
  moving average of f over past steps (held by the objective). Each keeps the estimator unbiased.
- ``"gumbel_softmax"``: the relaxation of Jang et al. (2017) and Maddison et al. (2017): the decoder reads
  y = softmax((logits + g) / tau), g ~ Gumbel(0, 1), and the gradient flows through y. It is the exact
  gradient of a *different* objective (the relaxed one), so it is biased for the ELBO above; the bias
  vanishes as tau -> 0 while the variance grows. Which KL: ``kl="categorical"`` is Jang et al.'s choice
  (section 4.2: a uniform categorical prior, not a Gumbel-Softmax one: the closed-form KL of the discrete q
  beside the relaxed reconstruction; Maddison et al.'s eq. 22, which they warn is not necessarily a lower
  bound in the relaxed model); ``kl="concrete"`` is Maddison et al.'s relaxed objective (their eqs. 20 and
  25): the single-sample log q_tau(y | x) - log p_lambda(y) of the relaxed sample under two Concrete densities
  (posterior temperature tau, prior temperature ``prior_temperature``), computed for the log-space sample
  (ExpConcrete, their appendix C.3), a lower bound on the *relaxed* model's log-likelihood. Neither is a
  bound on the discrete model: test scores use hard codes (:func:`categorical_elbo`).
- ``"straight_through"``: Jang et al.'s straight-through Gumbel-softmax: the decoder reads the hard one-hot
  argmax of the same Gumbel perturbation, the gradient is that of the relaxed y. Biased at every tau.
- ``"exact"``: enumeration of all K^L joint codes (affordable only when K^L is small): the exact
  E_q[log p(x | z)] = sum_z q(z | x) log p(x | z) and hence the exact gradient. Chapter 8 enumerates its
  label y with Pyro's ``TraceEnum_ELBO``; here the sum is one matrix product.

For chapter 10 (discrete latents). The gradient measurements (bias and variance against the exact
gradient) are in :mod:`vaelib.discrete.estimators`.
"""

from __future__ import annotations

import itertools
import math

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.distributions.relaxed_categorical import ExpRelaxedCategorical

from .. import checks
from ..data import IMAGE_SHAPE, N_PIXELS
from ..losses import ELBOTerms, bernoulli_log_likelihood, log_mean_exp
from ..settings import check_generator

ESTIMATORS = ("score", "gumbel_softmax", "straight_through", "exact")
BASELINES = ("none", "loo", "mean")
KL_KINDS = ("categorical", "concrete")
MAX_CONFIGURATIONS = 4096  # the most joint codes K^L that "exact" will enumerate
GUMBEL_TINY = 1e-10  # keeps -log(-log u) finite at u = 0 or 1


def check_temperature(temperature, name: str = "temperature") -> float:
    """``temperature`` as a float, or a clear error unless it is a finite number > 0."""
    try:
        return checks.real_number(temperature, name, positive=True)
    except ValueError as err:
        raise ValueError(
            f"{err} The relaxation's temperature must be > 0: softmax(logits / tau) becomes the hard argmax "
            "only in the limit tau -> 0. For hard samples use estimator='straight_through' or 'score'."
        ) from None


def check_code_logits(logits: torch.Tensor, name: str = "logits") -> tuple[int, int]:
    """(L, K) of logits shaped (..., L, K) with K >= 2; clear errors otherwise (no values read)."""
    checks.tensor(logits, name, floating=True)
    if logits.dim() < 2:
        raise ValueError(
            f"{name} must have shape (..., L, K): L categorical latents of K classes each, got {tuple(logits.shape)}."
        )
    n_latents, n_classes = logits.shape[-2:]
    if n_classes < 2:
        raise ValueError(f"{name} has K = {n_classes} class(es) per latent; a categorical latent needs K >= 2.")
    return n_latents, n_classes


def _check_sizes(n_latents, n_classes, hidden_dim, what: str) -> None:
    checks.whole_number(n_latents, f"{what}'s n_latents")
    checks.whole_number(n_classes, f"{what}'s n_classes")
    checks.whole_number(hidden_dim, f"{what}'s hidden_dim")
    if n_classes < 2:
        raise ValueError(
            f"{what}'s n_classes must be at least 2 (a latent with one class carries no information), got {n_classes}."
        )


def _shape(module: nn.Module, n_latents, n_classes, hidden_dim) -> int:
    """Check the sizes, keep them on ``module`` (n_latents, n_classes, z_dim = L * K); return the narrow width."""
    _check_sizes(n_latents, n_classes, hidden_dim, type(module).__name__)
    module.n_latents, module.n_classes, module.z_dim = n_latents, n_classes, n_latents * n_classes
    return hidden_dim // 2 or 1


def _relu_mlp(*widths: int) -> nn.Sequential:
    """Flatten, then Linear layers of the given widths with ReLUs between them (none after the last)."""
    layers: list[nn.Module] = [nn.Flatten()]
    for i, (n_in, n_out) in enumerate(zip(widths[:-1], widths[1:], strict=True)):
        layers += [nn.Linear(n_in, n_out)] + ([nn.ReLU()] if i < len(widths) - 2 else [])
    return nn.Sequential(*layers)


class CategoricalEncoder(nn.Module):
    """x (B, 1, 28, 28) -> 784 -> hidden -> hidden // 2 -> normalised logits (B, L, K) of q(z_l | x).

    Used in chapter 10 through CategoricalVAE.
    """

    def __init__(self, n_latents: int = 20, n_classes: int = 10, hidden_dim: int = 512):
        super().__init__()
        half = _shape(self, n_latents, n_classes, hidden_dim)
        self.net = _relu_mlp(N_PIXELS, hidden_dim, half, self.z_dim)  # net[1] is the first linear layer

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        checks.network_input(x, IMAGE_SHAPE, type(self).__name__, self.net[1].weight)
        raw = self.net(x).view(-1, self.n_latents, self.n_classes)
        return raw.log_softmax(-1)  # (B, L, K): log q(z_l = k | x)


class CategoricalDecoder(nn.Module):
    """codes (B, L, K), one-hot or relaxed -> hidden // 2 -> hidden -> Bernoulli logits (B, 1, 28, 28).

    Used in chapter 10 through CategoricalVAE.
    """

    def __init__(self, n_latents: int = 20, n_classes: int = 10, hidden_dim: int = 512):
        super().__init__()
        half = _shape(self, n_latents, n_classes, hidden_dim)
        self.net = _relu_mlp(self.z_dim, half, hidden_dim, N_PIXELS)  # net[1] is the first linear layer

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        checks.network_input(z, (self.n_latents, self.n_classes), type(self).__name__, self.net[1].weight)
        return self.net(z).view(-1, *IMAGE_SHAPE)


class CategoricalVAE(nn.Module):
    """L categorical latents of K classes (default 20 x 10, the size of Jang et al.'s, 2017), MLP encoder and decoder.

    ``encoder(x)`` gives log q (B, L, K); ``decoder(z)`` reads one-hot or relaxed codes (B, L, K). Train it
    with ``vaelib.fit(model, train, objective=categorical_objective(...))``. Taught in chapter 10 (discrete latents).
    """

    def __init__(self, n_latents: int = 20, n_classes: int = 10, hidden_dim: int = 512):
        super().__init__()
        self.encoder = CategoricalEncoder(n_latents, n_classes, hidden_dim)
        self.decoder = CategoricalDecoder(n_latents, n_classes, hidden_dim)
        self.n_latents, self.n_classes = n_latents, n_classes
        self.z_dim = self.encoder.z_dim

    @property
    def n_configurations(self) -> int:
        """K^L, the number of joint codes (what exact enumeration sums over)."""
        return self.n_classes**self.n_latents

    @torch.no_grad()
    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """Pixel probabilities decoded from ``n`` draws of the uniform prior: (n, 1, 28, 28)."""
        n = checks.whole_number(n, "n (the number of samples)")
        device = next(self.parameters()).device
        check_generator(generator, device)
        codes = torch.randint(self.n_classes, (n, self.n_latents), device=device, generator=generator)
        return torch.sigmoid(self.decoder(F.one_hot(codes, self.n_classes).float()))


def _check_model(model) -> CategoricalVAE:
    if not isinstance(model, CategoricalVAE):
        raise TypeError(f"expected a vaelib.discrete.CategoricalVAE, got {type(model).__name__}.")
    return model


def gumbel_noise(shape, like: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    """Standard Gumbel draws g = -log(-log u), u ~ U(0, 1), of ``shape`` on ``like``'s device and dtype."""
    check_generator(generator, like.device)
    u = torch.rand(shape, device=like.device, dtype=like.dtype, generator=generator)
    return -torch.log(-torch.log(u.clamp(GUMBEL_TINY, 1 - GUMBEL_TINY)))


def gumbel_softmax(
    logits: torch.Tensor,
    temperature: float,
    *,
    hard: bool = False,
    noise: torch.Tensor | None = None,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """A relaxed one-hot sample softmax((logits + g) / tau) over the last dimension, same shape as ``logits``.

    ``hard=True`` is the straight-through version: the forward value is the one-hot argmax of
    logits + g (an exact sample of Cat(softmax(logits))), the gradient that of the relaxed sample.
    ``noise`` fixes g (a tensor of ``logits``' shape). Used in chapter 10 through categorical_objective.
    """
    check_code_logits(logits)
    tau = check_temperature(temperature)
    checks.flag(hard, "hard")
    if noise is None:
        noise = gumbel_noise(logits.shape, logits, generator)
    else:
        checks.same_shape(noise, logits, "noise and logits")
    soft = ((logits + noise) / tau).softmax(-1)
    if not hard:
        return soft
    index = (logits + noise).argmax(-1)
    one_hot = F.one_hot(index, logits.shape[-1]).to(soft.dtype)
    return one_hot + (soft - soft.detach())  # forward: exactly one-hot; backward: the relaxed sample's gradient


def categorical_kl_to_uniform(logits: torch.Tensor) -> torch.Tensor:
    """sum_l KL(Cat(softmax(logits_l)) || Unif(K)) = sum_l [sum_k q_k log q_k + log K], per example: (...,).

    For chapter 10 (discrete latents).
    """
    _, n_classes = check_code_logits(logits)
    log_q = logits.log_softmax(-1)
    return (log_q.exp() * log_q).sum((-2, -1)) + logits.shape[-2] * math.log(n_classes)


def sample_codes(logits: torch.Tensor, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
    """``n`` exact samples of the codes from Cat(softmax(logits)): one-hot, (n, ..., L, K), no gradient."""
    check_code_logits(logits)
    noise = gumbel_noise((n, *logits.shape), logits, generator)
    index = (logits.detach() + noise).argmax(-1)  # the Gumbel-max trick: an exact categorical sample
    return F.one_hot(index, logits.shape[-1]).to(logits.dtype)


def log_prob_codes(logits: torch.Tensor, codes: torch.Tensor) -> torch.Tensor:
    """log q(z | x) = sum_l log q(z_l | x) of one-hot ``codes`` (..., L, K) under ``logits``: (...,)."""
    return (codes * logits.log_softmax(-1)).sum((-2, -1))


def all_codes(n_latents: int, n_classes: int, *, device=None, dtype=torch.float32) -> torch.Tensor:
    """Every joint code as one-hot rows: (K^L, L, K), in lexicographic order of the class indices.

    Refuses K^L > ``MAX_CONFIGURATIONS``. For chapter 10 (discrete latents).
    """
    n_latents = checks.whole_number(n_latents, "n_latents")
    n_classes = checks.whole_number(n_classes, "n_classes", minimum=2)
    if n_classes**n_latents > MAX_CONFIGURATIONS:
        raise ValueError(
            f"exact enumeration of {n_latents} latents of {n_classes} classes sums over {n_classes}^{n_latents} = "
            f"{n_classes**n_latents:,} joint codes, more than {MAX_CONFIGURATIONS:,}; use a sampled estimator "
            "('score', 'gumbel_softmax', 'straight_through') or a smaller model."
        )
    index = torch.tensor(list(itertools.product(range(n_classes), repeat=n_latents)), device=device)
    return F.one_hot(index, n_classes).to(dtype)  # (K^L, L, K)


def _pixel_log_likelihoods(decoder: nn.Module, codes: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """log p(x_b | codes_c) for every image b and every code c: (B, C), one decoder pass over the C codes."""
    logits = decoder(codes).flatten(1)  # (C, 784)
    return x.flatten(1) @ logits.T - F.softplus(logits).sum(-1)  # x l - log(1 + e^l), summed over pixels


def exact_reconstruction(decoder: nn.Module, logits: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """E_q[log p(x | z)] summed exactly over all K^L joint codes, per example (B,). Differentiable in both."""
    n_latents, n_classes = check_code_logits(logits)
    codes = all_codes(n_latents, n_classes, device=logits.device, dtype=logits.dtype)  # (C, L, K)
    log_q = torch.einsum("clk,blk->bc", codes, logits.log_softmax(-1))  # (B, C): log q(code_c | x_b)
    return (log_q.exp() * _pixel_log_likelihoods(decoder, codes, x)).sum(-1)


def exact_log_likelihood(model: CategoricalVAE, x: torch.Tensor) -> torch.Tensor:
    """log p(x) = log sum_z p(z) p(x | z) exactly, per example (B,), for a model small enough to enumerate.

    Taught in chapter 10 (discrete latents): the number every bound of such a model is measured against.
    """
    model = _check_model(model)
    weight = next(model.parameters())
    checks.network_input(x, IMAGE_SHAPE, "exact_log_likelihood", weight)
    codes = all_codes(model.n_latents, model.n_classes, device=weight.device, dtype=weight.dtype)
    log_prior = -model.n_latents * math.log(model.n_classes)
    return torch.logsumexp(_pixel_log_likelihoods(model.decoder, codes, x), dim=-1) + log_prior


def check_options(estimator: str, n_samples: int, baseline: str, kl: str) -> None:
    """Clear errors for an unknown estimator, baseline or KL, or a combination that cannot work."""
    if estimator not in ESTIMATORS:
        raise ValueError(f"estimator must be one of {ESTIMATORS}, got {estimator!r}.")
    checks.whole_number(n_samples, "n_samples")
    if baseline not in BASELINES:
        raise ValueError(f"baseline must be one of {BASELINES}, got {baseline!r}.")
    if kl not in KL_KINDS:
        raise ValueError(f"kl must be one of {KL_KINDS}, got {kl!r}.")
    if kl == "concrete" and estimator != "gumbel_softmax":
        raise ValueError(
            "kl='concrete' is Maddison et al.'s relaxed objective; it goes with estimator='gumbel_softmax'."
        )
    if estimator == "score" and baseline == "loo" and n_samples < 2:
        raise ValueError(
            "the leave-one-out baseline needs n_samples >= 2 (each sample's baseline is the mean of the others' "
            "signals); pass n_samples=2 or more, or baseline='mean' or 'none'."
        )


class _MovingMean:
    """The running mean of the learning signal over past steps, for ``baseline="mean"``."""

    def __init__(self, decay: float):
        self.decay, self.value = decay, None

    def __call__(self, signal: torch.Tensor) -> torch.Tensor:
        """The baseline for this step (from past steps only: 0 on the first), then fold this step in."""
        baseline = torch.zeros((), device=signal.device) if self.value is None else self.value
        mean = signal.detach().mean()
        self.value = mean if self.value is None else self.decay * self.value + (1 - self.decay) * mean
        return baseline


def surrogate_terms(
    decoder: nn.Module,
    logits: torch.Tensor,
    x: torch.Tensor,
    estimator: str,
    *,
    temperature: float = 1.0,
    n_samples: int = 1,
    baseline: str = "none",
    kl: str = "categorical",
    prior_temperature: float | None = None,
    moving_mean=None,
    generator: torch.Generator | None = None,
) -> ELBOTerms:
    """The estimator's terms at the encoder's ``logits`` (B, L, K): ``elbo``'s gradient is the estimate.

    ``reconstruction`` and ``kl`` are what the estimator computes (for the relaxations, the relaxed
    reconstruction, not a bound on the discrete model); ``elbo`` equals ``reconstruction - kl`` in value,
    and its gradient is the estimator's (for the score function, the surrogate carries the
    (f - b) grad log q term at zero value). The function the objective and the gradient measurements share.
    Used in chapter 10 through categorical_objective and compare_estimators.
    """
    check_code_logits(logits)
    check_options(estimator, n_samples, baseline, kl)
    if estimator == "score" and baseline == "mean" and moving_mean is None:
        raise ValueError("baseline='mean' keeps a moving average across steps: use it through categorical_objective.")
    if estimator in ("gumbel_softmax", "straight_through"):
        temperature = check_temperature(temperature)
    kl_term = categorical_kl_to_uniform(logits)
    if estimator == "exact":
        reconstruction = exact_reconstruction(decoder, logits, x)
        return ELBOTerms(reconstruction, kl_term, reconstruction - kl_term)
    flat = x.unsqueeze(0).expand(n_samples, *x.shape).reshape(-1, *x.shape[1:])  # (S * B, 1, 28, 28)
    if estimator == "score":
        codes = sample_codes(logits, n_samples, generator)  # (S, B, L, K), no gradient
        log_q = log_prob_codes(logits, codes)  # (S, B)
        signal = bernoulli_log_likelihood(decoder(codes.flatten(0, 1)), flat, validate=False).view(n_samples, -1)
        if baseline == "none":
            b = torch.zeros_like(signal)
        elif baseline == "loo":
            b = (signal.sum(0, keepdim=True) - signal) / (n_samples - 1)
        else:
            b = moving_mean(signal)
        score = (signal - b).detach() * (log_q - log_q.detach())  # zero in value, (f - b) grad log q in gradient
        reconstruction = signal.mean(0)
        return ELBOTerms(reconstruction, kl_term, (signal + score).mean(0) - kl_term)
    noise = gumbel_noise((n_samples, *logits.shape), logits, generator)
    hard = estimator == "straight_through"
    y = gumbel_softmax(logits.expand(n_samples, *logits.shape), temperature, hard=hard, noise=noise)
    reconstruction = bernoulli_log_likelihood(decoder(y.flatten(0, 1)), flat, validate=False).view(n_samples, -1)
    if kl == "concrete":
        lam = temperature if prior_temperature is None else prior_temperature  # 0 is refused, not replaced
        kl_term = concrete_kl_sample(logits, noise, temperature, lam)
    else:
        kl_term = kl_term.expand(n_samples, -1)
    reconstruction, kl_term = reconstruction.mean(0), kl_term.mean(0)
    return ELBOTerms(reconstruction, kl_term, reconstruction - kl_term)


def concrete_kl_sample(
    logits: torch.Tensor, noise: torch.Tensor, temperature: float, prior_temperature: float
) -> torch.Tensor:
    """log q_tau(y | x) - log p_lambda(y) of the relaxed samples made from ``noise``, summed over latents: (S, B).

    Both are ExpConcrete densities (Maddison et al., 2017, appendix C) of the log-space sample
    y = log_softmax((logits + g) / tau): q with the encoder's class probabilities and temperature tau,
    the prior with uniform probabilities and temperature lambda. A one-sample estimate, not a closed form.
    For chapter 10 (discrete latents).
    """
    tau = check_temperature(temperature)
    lam = check_temperature(prior_temperature, "prior_temperature")
    log_y = ((logits + noise) / tau).log_softmax(-1)
    q = ExpRelaxedCategorical(torch.tensor(tau, dtype=logits.dtype, device=logits.device), logits=logits)
    uniform = torch.zeros_like(logits)
    p = ExpRelaxedCategorical(torch.tensor(lam, dtype=logits.dtype, device=logits.device), logits=uniform)
    return (q.log_prob(log_y) - p.log_prob(log_y)).sum(-1)


def categorical_elbo(model: CategoricalVAE, x: torch.Tensor, *, generator: torch.Generator | None = None) -> ELBOTerms:
    """The discrete model's ELBO with one exact sample of the codes (closed-form KL), per example.

    What every estimator's model is scored with on a test set, whatever it was trained with: the
    relaxations' own training values are not bounds. Taught in chapter 10 (discrete latents).
    """
    model = _check_model(model)
    logits = model.encoder(x)
    codes = sample_codes(logits, 1, generator)[0]
    reconstruction = bernoulli_log_likelihood(model.decoder(codes), x, validate=False)
    kl_term = categorical_kl_to_uniform(logits)
    return ELBOTerms(reconstruction, kl_term, reconstruction - kl_term)


class CategoricalObjective:
    """``objective(model, x) -> ELBOTerms`` for :func:`vaelib.fit`: the estimator's surrogate while training,
    the discrete ELBO (:func:`categorical_elbo`; exact for ``"exact"``) when the model is in eval mode.

    So fit's history holds, per epoch, the training value of the estimator's own objective (for the
    relaxations: the relaxed one) and the test set's discrete ELBO. Make it with :func:`categorical_objective`.
    Used in chapter 10 through categorical_objective.
    """

    def __init__(self, estimator, temperature, n_samples, baseline, kl, prior_temperature, decay):
        self.options = dict(
            estimator=estimator,
            temperature=temperature,
            n_samples=n_samples,
            baseline=baseline,
            kl=kl,
            prior_temperature=prior_temperature,
        )
        self.moving_mean = _MovingMean(decay) if baseline == "mean" else None

    def __call__(self, model: CategoricalVAE, x: torch.Tensor) -> ELBOTerms:
        model = _check_model(model)
        if not model.training:
            if self.options["estimator"] == "exact":
                logits = model.encoder(x)
                return surrogate_terms(model.decoder, logits, x, "exact")
            return categorical_elbo(model, x)
        logits = model.encoder(x)
        return surrogate_terms(model.decoder, logits, x, moving_mean=self.moving_mean, **self.options)


def categorical_objective(
    estimator: str,
    *,
    temperature: float = 1.0,
    n_samples: int = 1,
    baseline: str = "none",
    kl: str = "categorical",
    prior_temperature: float | None = None,
    decay: float = 0.9,
) -> CategoricalObjective:
    """The training objective of a :class:`CategoricalVAE` with one of ``ESTIMATORS`` (module docstring).

    ``temperature`` is the relaxations' tau (> 0), ``n_samples`` the samples per image, ``baseline`` the score
    function's (``"none"``, the default, so that a baseline is a visible choice; ``"loo"`` with ``n_samples >= 2``;
    ``"mean"`` with moving-average ``decay``), ``kl``
    the relaxation's KL (``"categorical"``, Jang et al.; ``"concrete"``, Maddison et al., with
    ``prior_temperature``, default tau). Use it as ``vaelib.fit(model, train, test, objective=...)``.
    Taught in chapter 10 (discrete latents).
    """
    if estimator in ("gumbel_softmax", "straight_through"):
        check_temperature(temperature)
    if prior_temperature is not None:
        check_temperature(prior_temperature, "prior_temperature")
    decay = checks.real_number(decay, "decay", minimum=0.0)
    if decay >= 1:
        raise ValueError(f"decay must be below 1 (the weight of the past in the moving mean), got {decay}.")
    check_options(estimator, n_samples, baseline, kl)
    options = (estimator, temperature, n_samples, baseline, kl, prior_temperature, decay)
    return CategoricalObjective(*options)


def categorical_log_importance_weights(
    model: CategoricalVAE, x: torch.Tensor, k: int, *, generator: torch.Generator | None = None
) -> torch.Tensor:
    """log w_i = log p(x | z_i) + log p(z_i) - log q(z_i | x), z_i ~ q(z | x) exactly, for i = 1..k: (k, B).

    For chapter 10 (discrete latents): L_K of a categorical VAE (:func:`categorical_iwae_bound`).
    """
    model = _check_model(model)
    k = checks.whole_number(k, "k")
    logits = model.encoder(x)
    codes = sample_codes(logits, k, generator)  # (k, B, L, K)
    flat = x.unsqueeze(0).expand(k, *x.shape).reshape(-1, *IMAGE_SHAPE)
    log_px = bernoulli_log_likelihood(model.decoder(codes.flatten(0, 1)), flat, validate=False).view(k, -1)
    log_prior = -model.n_latents * math.log(model.n_classes)
    return log_px + log_prior - log_prob_codes(logits, codes)


@torch.no_grad()
def categorical_iwae_bound(
    model: CategoricalVAE, x: torch.Tensor, k: int, *, generator: torch.Generator | None = None
) -> torch.Tensor:
    """L_k = log (1/k) sum_i w_i per example (B,) (Burda et al., 2016), with exact categorical samples.

    Taught in chapter 10 (discrete latents).
    """
    return log_mean_exp(categorical_log_importance_weights(model, x, k, generator=generator), dim=0)
