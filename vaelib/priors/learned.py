r"""Priors other than N(0, I): a mixture of Gaussians and the VampPrior, learned with the model.

A prior here is an ``nn.Module`` with ``z_dim``, ``log_prob(z)`` (shape ``z.shape[:-1]``) and
``sample(n, generator=None)`` (shape (n, z_dim)). With a prior that is not N(0, I) the KL term of
the ELBO has no closed form, so it is estimated from the same sample as the reconstruction:

.. math::
    \mathrm{ELBO}(x) \approx \log p_\theta(x \mid z) + \log p_\lambda(z) - \log q_\phi(z \mid x),
    \qquad z \sim q_\phi(z \mid x).

The core takes any such prior: ``vaelib.elbo(..., prior=)``, ``vaelib.log_importance_weights(..., prior=)``
and ``vaelib.estimate_log_likelihood(..., prior=)``; ``vaelib.fit(..., objective=, parameters=)`` trains a
model and its prior together.

* :class:`StandardNormalPrior`: N(0, I), the prior of chapters 1-8.
* :class:`MixturePrior`: a learned mixture of K diagonal Gaussians.
* :class:`VampPrior`: the "variational mixture of posteriors" of Tomczak & Welling (2018),
  p(z) = (1/K) sum_k q_phi(z | u_k), with K learned pseudo-inputs u_k fed through the encoder.

Taught in chapter 9.
"""

from __future__ import annotations

import math

import torch
import torch.nn as nn

from .. import checks
from ..data import IMAGE_SHAPE
from ..gaussians import mixture_log_prob, standard_normal_log_prob
from ..settings import check_generator


class StandardNormalPrior(nn.Module):
    """p(z) = N(0, I): no parameters. Used in chapter 9, where N(0, I) becomes a prior object like the learned ones."""

    def __init__(self, z_dim: int):
        super().__init__()
        self.z_dim = checks.whole_number(z_dim, "z_dim")
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
        n_components = checks.whole_number(n_components, "n_components")
        self.z_dim = checks.whole_number(z_dim, "z_dim")
        self.loc = nn.Parameter(torch.randn(n_components, z_dim, generator=generator))  # (K, d)
        self.log_scale = nn.Parameter(torch.zeros(n_components, z_dim))  # (K, d)
        self.logits = nn.Parameter(torch.zeros(n_components))  # (K,): mixture weights before softmax

    def log_prob(self, z: torch.Tensor) -> torch.Tensor:
        return mixture_log_prob(self.loc, self.log_scale.exp(), torch.log_softmax(self.logits, -1), z, validate=False)

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
    overlap: :func:`vaelib.fit` removes the duplicates from ``parameters``). ``init`` (K, 1, 28, 28) sets the
    starting pseudo-inputs, e.g. K training images; without it they start near 1/2 plus noise.
    Taught in chapter 9.
    """

    def __init__(self, encoder: nn.Module, n_pseudo: int, init: torch.Tensor | None = None, generator=None):
        super().__init__()
        checks.module(encoder, "encoder")
        n_pseudo = checks.whole_number(n_pseudo, "n_pseudo")
        if init is None:
            init = 0.5 + 0.05 * torch.randn(n_pseudo, *IMAGE_SHAPE, generator=generator)
        checks.tensor(init, "init", floating=True)
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
        return mixture_log_prob(loc, scale, log_weights, z, validate=False)

    @torch.no_grad()
    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        loc, scale = self.components()
        check_generator(generator, loc.device)
        k = torch.randint(len(loc), (n,), device=loc.device, generator=generator)
        return loc[k] + scale[k] * torch.randn(n, self.z_dim, device=loc.device, generator=generator)
