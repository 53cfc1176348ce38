r"""Priors other than N(0, I), the ELBO and L_K with any prior, and a training loop for any objective.

A prior here is an ``nn.Module`` with ``z_dim``, ``log_prob(z)`` (shape ``z.shape[:-1]``) and
``sample(n, generator=None)`` (shape (n, z_dim)). With a prior that is not N(0, I) the KL term of
the ELBO has no closed form, so it is estimated from the same sample as the reconstruction:

.. math::
    \mathrm{ELBO}(x) \approx \log p_\theta(x \mid z) + \log p_\lambda(z) - \log q_\phi(z \mid x),
    \qquad z \sim q_\phi(z \mid x).

* :class:`StandardNormalPrior`: N(0, I), the prior of chapters 1-8.
* :class:`MixturePrior`: a learned mixture of K diagonal Gaussians.
* :class:`VampPrior`: the "variational mixture of posteriors" of Tomczak & Welling (2018),
  p(z) = (1/K) sum_k q_phi(z | u_k), with K learned pseudo-inputs u_k fed through the encoder.

Taught in chapter 9.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable

import torch
import torch.nn as nn

from ..data import IMAGE_SHAPE, ImageData
from ..gaussians import diagonal_normal_log_prob, mixture_log_prob, standard_normal_log_prob
from ..losses import ELBOTerms, LogLikelihood, bernoulli_log_likelihood, reparameterize
from ..models import VAE
from ..settings import check_generator
from ..train import History, _guarded_update, progress_bar


class StandardNormalPrior(nn.Module):
    """p(z) = N(0, I): no parameters. Taught in chapter 1; used as a prior object in chapter 9."""

    def __init__(self, z_dim: int):
        super().__init__()
        self.z_dim = z_dim
        self.register_buffer("_anchor", torch.zeros(()), persistent=False)  # carries the device

    def log_prob(self, z: torch.Tensor) -> torch.Tensor:
        return standard_normal_log_prob(z)

    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        check_generator(generator, self._anchor.device)
        return torch.randn(n, self.z_dim, device=self._anchor.device, generator=generator)


class MixturePrior(nn.Module):
    r"""p(z) = sum_k softmax(a)_k N(z; mu_k, diag sigma_k^2) with learned a, mu and sigma.

    The means start as draws from N(0, I) (seeded by ``generator``) and every sigma at 1, so the
    untrained prior is a blurred N(0, I). Taught in chapter 9.
    """

    def __init__(self, z_dim: int, n_components: int, generator: torch.Generator | None = None):
        super().__init__()
        if n_components < 1:
            raise ValueError(f"a mixture needs at least one component, got n_components={n_components}")
        self.z_dim = z_dim
        self.loc = nn.Parameter(torch.randn(n_components, z_dim, generator=generator))  # (K, d)
        self.log_scale = nn.Parameter(torch.zeros(n_components, z_dim))  # (K, d)
        self.logits = nn.Parameter(torch.zeros(n_components))  # (K,): mixture weights before softmax

    def log_prob(self, z: torch.Tensor) -> torch.Tensor:
        return mixture_log_prob(self.loc, self.log_scale.exp(), torch.log_softmax(self.logits, -1), z)

    @torch.no_grad()
    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        check_generator(generator, self.loc.device)
        k = torch.multinomial(torch.softmax(self.logits, -1), n, replacement=True, generator=generator)  # (n,)
        eps = torch.randn(n, self.z_dim, device=self.loc.device, generator=generator)
        return self.loc[k] + self.log_scale[k].exp() * eps


class VampPrior(nn.Module):
    r"""The VampPrior of Tomczak & Welling (2018): p(z) = (1/K) sum_k q_phi(z | u_k).

    The K pseudo-inputs u_k are images in (0, 1), stored as logits; the prior shares the encoder
    with the model (it is registered here, so ``model.parameters()`` and ``prior.parameters()``
    overlap: :func:`fit_with_objective` removes the duplicates). ``init`` (K, 1, 28, 28) sets the
    starting pseudo-inputs, e.g. K training images; without it they start near 1/2 plus noise.
    Taught in chapter 9.
    """

    def __init__(self, encoder: nn.Module, n_pseudo: int, init: torch.Tensor | None = None, generator=None):
        super().__init__()
        if init is None:
            init = 0.5 + 0.05 * torch.randn(n_pseudo, *IMAGE_SHAPE, generator=generator)
        if init.shape != (n_pseudo, *IMAGE_SHAPE):
            raise ValueError(f"init must have shape ({n_pseudo}, 1, 28, 28), got {tuple(init.shape)}")
        self.encoder, self.z_dim = encoder, encoder.z_dim
        self.pseudo_logits = nn.Parameter(torch.logit(init.detach().float().clamp(0.02, 0.98)))  # (K, 1, 28, 28)

    @property
    def pseudo_inputs(self) -> torch.Tensor:
        """The pseudo-inputs u_k as images in (0, 1), (K, 1, 28, 28)."""
        return torch.sigmoid(self.pseudo_logits)

    def components(self) -> tuple[torch.Tensor, torch.Tensor]:
        """loc and scale of the K components q(z | u_k), each (K, d)."""
        return self.encoder(self.pseudo_inputs)

    def log_prob(self, z: torch.Tensor) -> torch.Tensor:
        loc, scale = self.components()
        log_weights = torch.full((len(loc),), -math.log(len(loc)), device=loc.device, dtype=loc.dtype)
        return mixture_log_prob(loc, scale, log_weights, z)

    @torch.no_grad()
    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        loc, scale = self.components()
        check_generator(generator, loc.device)
        k = torch.randint(len(loc), (n,), device=loc.device, generator=generator)
        return loc[k] + scale[k] * torch.randn(n, self.z_dim, device=loc.device, generator=generator)


def elbo_with_prior(
    encoder: nn.Module,
    decoder: nn.Module,
    prior: nn.Module,
    x: torch.Tensor,
    beta: float = 1.0,
    eps: torch.Tensor | None = None,
    generator: torch.Generator | None = None,
    log_likelihood: LogLikelihood = bernoulli_log_likelihood,
) -> ELBOTerms:
    r"""One-sample ELBO under any ``prior``: kl = log q(z|x) - log p(z) at the sampled z, per example (B,).

    With :class:`StandardNormalPrior` its expectation is :func:`vaelib.elbo`'s (the closed-form KL);
    ``beta`` weights the KL as there. Taught in chapter 9.
    """
    loc, scale = encoder(x)  # (B, d)
    z = reparameterize(loc, scale, eps=eps, generator=generator)  # (B, d)
    reconstruction = log_likelihood(decoder(z), x)  # (B,)
    kl = diagonal_normal_log_prob(loc, scale, z, validate=False) - prior.log_prob(z)  # (B,)
    return ELBOTerms(reconstruction, kl, reconstruction - beta * kl)


def log_importance_weights_with_prior(
    encoder: nn.Module,
    decoder: nn.Module,
    prior: nn.Module,
    x: torch.Tensor,
    k: int,
    *,
    generator: torch.Generator | None = None,
    log_likelihood: LogLikelihood = bernoulli_log_likelihood,
    chunk_size: int = 100,
) -> torch.Tensor:
    r"""log w_k = log p(x|z_k) + log p(z_k) - log q(z_k|x) for ``k`` draws z_k ~ q(z|x): shape (k, B).

    :func:`vaelib.log_importance_weights` with ``prior.log_prob`` in place of N(0, I); the
    log-mean-exp over k is L_k (Burda et al., 2015). Taught in chapter 9.
    """
    if isinstance(k, bool) or not isinstance(k, int) or k < 1:
        raise ValueError(f"k must be a whole number of samples, at least 1; got {k!r}")
    loc, scale = encoder(x)  # (B, d)
    check_generator(generator, loc.device)
    chunks = []
    for start in range(0, k, chunk_size):
        n = min(chunk_size, k - start)
        z = loc + scale * torch.randn((n, *loc.shape), device=loc.device, dtype=loc.dtype, generator=generator)
        log_px_z = log_likelihood(decoder(z.flatten(0, 1)), x.repeat(n, *([1] * (x.dim() - 1)))).view(n, -1)
        chunks.append(log_px_z + prior.log_prob(z) - diagonal_normal_log_prob(loc, scale, z, validate=False))  # (n, B)
    return torch.cat(chunks)


@torch.no_grad()
def estimate_log_likelihood_with_prior(
    model: VAE, prior: nn.Module, data: ImageData, k: int, batch_size: int = 100, generator=None
) -> float:
    """Mean L_k = log (1/k) sum_k w_k per image over ``data`` with ``prior`` (Burda et al., 2015), in eval mode.

    The weights come from :func:`log_importance_weights_with_prior` (Bernoulli likelihood). Taught in chapter 9.
    """
    was_training = model.training
    model.eval()
    total = 0.0
    for x, _ in data.batches(batch_size, shuffle=False):
        log_w = log_importance_weights_with_prior(model.encoder, model.decoder, prior, x, k, generator=generator)
        total += (torch.logsumexp(log_w, 0) - math.log(k)).sum().item()
    model.train(was_training)
    return total / len(data)


Objective = Callable[[torch.Tensor], ELBOTerms]


def _unique(parameters: Iterable[nn.Parameter]) -> list[nn.Parameter]:
    return list({id(p): p for p in parameters}.values())


@torch.no_grad()
def evaluate_objective(model: nn.Module, objective: Objective, data: ImageData, batch_size: int = 500) -> dict:
    """Means per image of reconstruction, kl and reconstruction - kl (the plain ELBO) over ``data``, eval mode.

    ``objective`` is as for :func:`fit_with_objective`. Taught in chapter 9.
    """
    was_training = model.training
    model.eval()
    sums = {"reconstruction": 0.0, "kl": 0.0}
    for x, _ in data.batches(batch_size, shuffle=False):
        terms = objective(x)
        sums["reconstruction"] += terms.reconstruction.sum().item()
        sums["kl"] += terms.kl.sum().item()
    model.train(was_training)
    means = {name: value / len(data) for name, value in sums.items()}
    return {**means, "elbo": means["reconstruction"] - means["kl"]}


def fit_with_objective(
    model: nn.Module,
    train: ImageData,
    objective: Objective,
    *,
    parameters: Iterable[nn.Parameter] | None = None,
    test: ImageData | None = None,
    epochs: int = 1,
    batch_size: int = 256,
    lr: float = 1e-3,
    binarize: bool = False,
    progress: bool = True,
) -> History:
    """Maximise the batch mean of ``objective(x).elbo`` with Adam; returns the per-epoch :class:`History`.

    ``objective`` maps a batch to :class:`~vaelib.losses.ELBOTerms` whose ``elbo`` is what is trained
    (a beta-weighted ELBO, the beta-TCVAE objective, the ELBO under a learned prior ...) and whose
    ``reconstruction - kl`` is the plain ELBO; the history records the latter. ``parameters``
    defaults to the model's; pass the prior's too (duplicates, e.g. the VampPrior's encoder, are
    dropped). Like :func:`vaelib.fit` it stops with :class:`~vaelib.train.NonFiniteLossError` before
    applying a NaN step. Taught in chapter 9.
    """
    params = _unique(parameters if parameters is not None else model.parameters())
    optimizer = torch.optim.Adam(params, lr=lr)
    history = History()
    for epoch in progress_bar(range(1, epochs + 1), "epochs", enabled=progress):
        model.train()
        total, start = torch.zeros((), device=train.images.device), time.perf_counter()
        for step, (x, _) in enumerate(train.batches(batch_size, binarize=binarize)):
            terms = objective(x)
            _guarded_update(model, optimizer, params, -terms.elbo.mean(), f"epoch {epoch}, step {step}")
            total += (terms.reconstruction - terms.kl).detach().sum()
        history.seconds.append(time.perf_counter() - start)
        history.train_elbo.append(total.item() / len(train))
        if test is not None:
            history.test_elbo.append(evaluate_objective(model, objective, test)["elbo"])
    return history
