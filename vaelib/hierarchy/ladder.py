r"""A VAE with two stochastic layers and top-down inference (the ladder VAE of Sønderby et al., 2016).

Generative model, top down: :math:`p(z_2) = \mathcal N(0, I)`, :math:`p(z_1 \mid z_2) = \mathcal N(\mu_p(z_2),
\sigma_p(z_2)^2)` and :math:`p(x \mid z_1)` Bernoulli. Inference runs the same direction: a deterministic
bottom-up pass :math:`x \to d_1 \to d_2` gives :math:`q(z_2 \mid x)` and a bottom-up guess
:math:`(\hat\mu_1, \hat\sigma_1)` for the lower layer, which is merged with the prior's top-down
:math:`(\mu_p, \sigma_p)` by precision weighting (Sønderby et al., 2016, eq. 19-20):

.. math::
    \sigma_{q,1}^{-2} = \hat\sigma_1^{-2} + \sigma_p^{-2}, \qquad
    \mu_{q,1} = \sigma_{q,1}^2 \big(\hat\mu_1 \hat\sigma_1^{-2} + \mu_p \sigma_p^{-2}\big).

The ELBO then has one KL per layer, each in closed form given the sampled layer above:

.. math::
    \mathcal L = \mathbb E_q[\log p(x \mid z_1)]
    - \mathbb E_{q(z_2 \mid x)} \mathrm{KL}\big(q(z_1 \mid z_2, x) \,\|\, p(z_1 \mid z_2)\big)
    - \mathrm{KL}\big(q(z_2 \mid x) \,\|\, p(z_2)\big).

The code of the model is the concatenation ``z = [z_1, z_2]``: the encoder draws it with its
``rsample`` (the interface of the core's :mod:`vaelib.sampling`), the prior scores it with
``log_prob`` and the decoder reads its first part, so the core's importance weights
(:func:`vaelib.log_importance_weights`, :func:`vaelib.estimate_log_likelihood` with ``prior=model.prior``)
give :math:`\mathcal L_K` of the two-layer model unchanged.
"""

from __future__ import annotations

import math

import torch
import torch.nn as nn
import torch.nn.functional as F

from .. import checks
from ..analysis import active_units
from ..data import IMAGE_SHAPE, ImageData, check_data
from ..gaussians import (
    diagonal_gaussian_kl,
    diagonal_normal_log_prob,
    gaussian_kl_to_standard,
    standard_normal_log_prob,
)
from ..loop import eval_mode
from ..losses import ELBOTerms, bernoulli_log_likelihood
from ..models import MIN_SCALE, positive_scale
from ..sampling import standard_normal_noise

# Of every deterministic layer, as in the book's one-layer MLPs. Burda et al. used tanh; here, with Adam and one
# epoch of MNIST, tanh layers reconstructed at -162 nats against softplus's -80 with the KL switched off.
ACTIVATION = F.softplus


def _gaussian_head(n_in: int, n_out: int) -> nn.Linear:
    return nn.Linear(n_in, 2 * n_out)  # loc and raw scale side by side


def _split(out: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    loc, raw = out.chunk(2, dim=-1)
    return loc, positive_scale(raw)


class TopDown(nn.Module):
    """p(z1 | z2) = N(loc, scale^2): z2 -> hidden -> (loc, scale), each (..., z1_dim). Shared by prior and encoder."""

    def __init__(self, z1_dim: int, z2_dim: int, hidden_dim: int):
        super().__init__()
        self.hidden = nn.Linear(z2_dim, hidden_dim)
        self.out = _gaussian_head(hidden_dim, z1_dim)

    def forward(self, z2: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return _split(self.out(ACTIVATION(self.hidden(z2))))


class LadderEncoder(nn.Module):
    r"""q(z2 | x) q(z1 | z2, x) with the ladder's precision-weighted merge. Used in chapter 11 through TwoLayerVAE.

    ``forward(x)`` is the bottom-up pass and returns the local parameters
    ``(loc1_hat, log_scale1_hat, loc2, log_scale2)``; ``rsample(params, n)`` draws ``n`` codes
    ``[z1, z2]`` per image top-down and returns them with log q(z1, z2 | x): (n, B, d1 + d2), (n, B).
    """

    def __init__(self, top_down: TopDown, z_dims: tuple[int, int], hidden_dims: tuple[int, int], n_in: int):
        super().__init__()
        (z1, z2), (h1, h2) = z_dims, hidden_dims
        self.z_dims, self.top_down = (z1, z2), top_down
        self.up1, self.up2 = nn.Linear(n_in, h1), nn.Linear(h1, h2)
        self.head1, self.head2 = _gaussian_head(h1, z1), _gaussian_head(h2, z2)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, ...]:
        d1 = ACTIVATION(self.up1(x.flatten(1)))  # (B, h1)
        d2 = ACTIVATION(self.up2(d1))  # (B, h2)
        loc1, scale1 = _split(self.head1(d1))  # bottom-up guess for z1
        loc2, scale2 = _split(self.head2(d2))  # q(z2 | x)
        return loc1, scale1.log(), loc2, scale2.log()

    def merged(self, params, z2: torch.Tensor):
        """q(z1 | z2, x) and p(z1 | z2) at the sampled z2: ((loc_q, scale_q), (loc_p, scale_p))."""
        loc_hat, log_scale_hat = params[0], params[1]
        loc_p, scale_p = self.top_down(z2)
        precision_hat, precision_p = (-2 * log_scale_hat).exp(), scale_p.pow(-2)
        variance = 1 / (precision_hat + precision_p)
        loc_q = variance * (loc_hat * precision_hat + loc_p * precision_p)
        return (loc_q, variance.sqrt() + MIN_SCALE), (loc_p, scale_p)

    def rsample(self, params, n: int, *, eps=None, generator=None, stop_gradient: bool = False):
        if stop_gradient:
            raise NotImplementedError(
                "stop_gradient (the DReG estimator) is not defined for the ladder encoder: its q(z1 | z2, x) shares "
                "the prior's top-down network. Use the plain importance weights (stop_gradient=False)."
            )
        loc2, log_scale2 = params[2], params[3]
        d1 = self.z_dims[0]
        eps = standard_normal_noise((n, loc2.shape[0], sum(self.z_dims)), loc2, eps, generator)
        z2 = loc2 + log_scale2.exp() * eps[..., d1:]  # (n, B, d2)
        (loc_q, scale_q), _ = self.merged(params, z2)
        z1 = loc_q + scale_q * eps[..., :d1]  # (n, B, d1)
        log_q = standard_normal_log_prob(eps[..., d1:]) - log_scale2.sum(-1)  # log q(z2 | x)
        log_q = log_q + standard_normal_log_prob(eps[..., :d1]) - scale_q.log().sum(-1)  # + log q(z1 | z2, x)
        return torch.cat([z1, z2], -1), log_q


class HierarchicalPrior(nn.Module):
    """p(z1, z2) = N(z2; 0, I) N(z1; top_down(z2)) on codes [z1, z2]; ``log_prob(z)`` (...,), ``sample(n)``. For
    chapter 11."""

    def __init__(self, top_down: TopDown, z_dims: tuple[int, int]):
        super().__init__()
        self.top_down, self.z_dims = top_down, z_dims

    def log_prob(self, z: torch.Tensor) -> torch.Tensor:
        z1, z2 = z[..., : self.z_dims[0]], z[..., self.z_dims[0] :]
        loc_p, scale_p = self.top_down(z2)
        return standard_normal_log_prob(z2) + diagonal_normal_log_prob(loc_p, scale_p, z1, validate=False)

    @torch.no_grad()
    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        n = checks.whole_number(n, "n (the number of samples)")
        like = self.top_down.hidden.weight
        z2 = standard_normal_noise((n, self.z_dims[1]), like, None, generator)
        loc_p, scale_p = self.top_down(z2)
        return torch.cat([loc_p + scale_p * standard_normal_noise(loc_p.shape, like, None, generator), z2], -1)


class LayerDecoder(nn.Module):
    """p(x | z1): reads the first ``z1_dim`` entries of a code [z1, z2] -> hidden -> Bernoulli logits of
    ``image_shape``. Used in chapter 11 through TwoLayerVAE."""

    def __init__(self, z1_dim: int, hidden_dim: int, image_shape: tuple[int, ...]):
        super().__init__()
        self.z1_dim, self.image_shape = z1_dim, tuple(image_shape)
        self.hidden = nn.Linear(z1_dim, hidden_dim)
        self.logits = nn.Linear(hidden_dim, math.prod(image_shape))

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        h = ACTIVATION(self.hidden(z[..., : self.z1_dim]))
        return self.logits(h).view(*z.shape[:-1], *self.image_shape)


class TwoLayerVAE(nn.Module):
    r"""Two stochastic layers, x -> z1 -> z2, inferred top down (ladder VAE). Taught in chapter 11.

    ``z_dims = (d1, d2)`` and ``hidden_dims = (h1, h2)`` follow Burda et al.'s two-layer MNIST architecture by
    default (100 and 50 units; deterministic layers of 200 and 100 units, one per side of each stochastic layer
    instead of their two, softplus instead of their tanh: see ``ACTIVATION``). ``encoder``, ``decoder`` and
    ``prior`` work with the core: train with ``vaelib.fit(model, train, objective=LadderObjective())`` and score
    with ``vaelib.estimate_log_likelihood(model, test, k=..., prior=model.prior)``. Always pass ``objective=``:
    fit's default, the one-layer ``vaelib.elbo``, expects an encoder that returns (loc, scale) and fails on this
    one's four local parameters.
    """

    def __init__(
        self,
        z_dims: tuple[int, int] = (100, 50),
        hidden_dims: tuple[int, int] = (200, 100),
        image_shape: tuple[int, ...] = IMAGE_SHAPE,
    ):
        super().__init__()
        for name, pair in (("z_dims", z_dims), ("hidden_dims", hidden_dims)):
            if not isinstance(pair, (tuple, list)) or len(pair) != 2:
                raise ValueError(f"{name} must be two whole numbers (lower layer, upper layer), got {pair!r}.")
            for value in pair:
                checks.whole_number(value, f"each of {name}")
        self.z_dims = tuple(z_dims)
        self.top_down = TopDown(z_dims[0], z_dims[1], hidden_dims[1])
        self.encoder = LadderEncoder(self.top_down, self.z_dims, tuple(hidden_dims), math.prod(image_shape))
        self.prior = HierarchicalPrior(self.top_down, self.z_dims)
        self.decoder = LayerDecoder(z_dims[0], hidden_dims[0], image_shape)
        self.z_dim = sum(z_dims)

    @torch.no_grad()
    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """Pixel probabilities decoded from ``n`` draws of the hierarchical prior."""
        return torch.sigmoid(self.decoder(self.prior.sample(n, generator)))


def ladder_terms(
    model: TwoLayerVAE,
    x: torch.Tensor,
    *,
    eps: torch.Tensor | None = None,
    generator: torch.Generator | None = None,
) -> dict[str, torch.Tensor]:
    r"""One-sample ELBO terms of a :class:`TwoLayerVAE`, each (B,): ``reconstruction`` = log p(x | z1),
    ``kl_z1`` = KL(q(z1 | z2, x) || p(z1 | z2)) at the sampled z2 and ``kl_z2`` = KL(q(z2 | x) || N(0, I)),
    both in closed form, and ``elbo`` = reconstruction - kl_z1 - kl_z2 (its expectation equals that of the
    log importance weight with one sample). ``eps`` (1, B, d1 + d2) fixes the noise. Used in chapter 11 through
    LadderObjective and layer_kls.
    """
    checks.module(model, "model", ("encoder", "decoder", "prior"))
    checks.tensor(x, "x", floating=True)
    encoder = model.encoder
    params = encoder(x)
    z, _ = encoder.rsample(params, 1, eps=eps, generator=generator)  # (1, B, d1 + d2)
    z = z[0]
    d1 = model.z_dims[0]
    (loc_q, scale_q), (loc_p, scale_p) = encoder.merged(params, z[:, d1:])
    reconstruction = bernoulli_log_likelihood(model.decoder(z), x, validate=False)
    kl_z1 = diagonal_gaussian_kl(loc_q, scale_q, loc_p, scale_p)
    kl_z2 = gaussian_kl_to_standard(params[2], params[3].exp(), validate=False)
    return {"reconstruction": reconstruction, "kl_z1": kl_z1, "kl_z2": kl_z2, "elbo": reconstruction - kl_z1 - kl_z2}


class LadderObjective:
    r"""The two-layer ELBO as an ``objective=`` for :func:`vaelib.fit`, with KL warm-up and free bits.
    Taught in chapter 11.

    ``objective(model, x)`` returns :class:`~vaelib.ELBOTerms` whose ``reconstruction`` and ``kl``
    (= kl_z1 + kl_z2) are the plain terms, so fit records the plain ELBO, and whose ``elbo`` is what is
    trained:

    .. math::
        \log p(x \mid z_1) - w \sum_{l} \max\big(\lambda, \overline{\mathrm{KL}}_l\big),

    with :math:`w = \min(1, \text{steps}/\text{warmup\_steps})` the deterministic warm-up of Sønderby et al.
    (2016) and :math:`\lambda` = ``free_bits`` nats per layer, the free bits of Kingma et al. (2016)
    with each layer one group: while a layer's KL averaged over the batch,
    :math:`\overline{\mathrm{KL}}_l`, is below :math:`\lambda`, it is not pushed down further. Warm-up counts
    the calls made while the model is in training mode (fit's steps), not those of scoring.
    ``last`` holds the batch means of the latest call's terms (floats are read only on request).
    """

    def __init__(self, warmup_steps: int = 0, free_bits: float = 0.0):
        self.warmup_steps = checks.whole_number(warmup_steps, "warmup_steps", minimum=0)
        self.free_bits = checks.real_number(free_bits, "free_bits (nats per layer)", minimum=0.0)
        self.steps = 0
        self.last: dict[str, torch.Tensor] = {}

    def weight(self) -> float:
        """The KL weight of the next training step."""
        return min(1.0, self.steps / self.warmup_steps) if self.warmup_steps else 1.0

    def __call__(self, model: TwoLayerVAE, x: torch.Tensor) -> ELBOTerms:
        terms = ladder_terms(model, x)
        weight = self.weight()
        if model.training:
            self.steps += 1
        penalty = torch.zeros_like(terms["reconstruction"])
        for name in ("kl_z1", "kl_z2"):
            kl = terms[name]
            if self.free_bits > 0:
                below = kl.mean() < self.free_bits  # stays on the device: no host sync
                kl = torch.where(below, torch.full_like(kl, self.free_bits), kl)  # no gradient below lambda
            penalty = penalty + kl
        self.last = {name: value.detach().mean() for name, value in terms.items()}
        kl = terms["kl_z1"] + terms["kl_z2"]
        return ELBOTerms(terms["reconstruction"], kl, terms["reconstruction"] - weight * penalty)


@torch.no_grad()
def layer_kls(model: TwoLayerVAE, data: ImageData, *, batch_size: int = 500, generator=None) -> dict[str, float]:
    """Means per image over ``data`` of ladder_terms' parts (reconstruction, kl_z1, kl_z2, elbo), in eval mode.
    Taught in chapter 11."""
    check_data(data, "data")
    checks.whole_number(batch_size, "batch_size")
    sums: dict[str, float] = {}
    with eval_mode(model):
        for x, _ in data.batches(batch_size, shuffle=False):
            for name, value in ladder_terms(model, x, generator=generator).items():
                sums[name] = sums.get(name, 0.0) + value.sum()
    return {name: float(total) / len(data) for name, total in sums.items()}


@torch.no_grad()
def layer_active_units(model: TwoLayerVAE, data: ImageData, *, batch_size: int = 1000) -> dict[str, tuple]:
    r"""Active units of each layer (:func:`vaelib.active_units`, Burda et al.'s A_j > 0.01). Taught in chapter 11.

    ``z2``: the posterior mean loc2(x). ``z1``: the mean of q(z1 | z2, x) at z2 = loc2(x), the posterior
    mean of the layer above (a deterministic stand-in for E_q[z1 | x]); it moves with x also when z1 only
    passes on what z2 carries, through the top-down prior. ``z1_beyond_prior``: the same mean minus the
    prior's mean of p(z1 | z2) there, which moves with x only when the lower layer carries information of
    its own (its KL term is then not near zero). Returns ``{name: (count, activity)}`` for the three.
    """
    check_data(data, "data")
    checks.whole_number(batch_size, "batch_size")
    means1, residuals, means2 = [], [], []
    with eval_mode(model):
        for x, _ in data.batches(batch_size, shuffle=False):
            params = model.encoder(x)
            (loc_q, _), (loc_p, _) = model.encoder.merged(params, params[2])
            means1.append(loc_q)
            residuals.append(loc_q - loc_p)
            means2.append(params[2])
    return {
        "z1": active_units(torch.cat(means1)),
        "z1_beyond_prior": active_units(torch.cat(residuals)),
        "z2": active_units(torch.cat(means2)),
    }


def parameter_count(module: nn.Module) -> int:
    """Number of trained numbers in ``module`` (shared tensors once): to match a one-layer baseline's size.
    Taught in chapter 11."""
    checks.module(module, "module")
    return sum(p.numel() for p in {id(p): p for p in module.parameters()}.values())
