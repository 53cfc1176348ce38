r"""Disentanglement: the total correlation of q(z), the beta-TCVAE objective, the MIG, latent traversals.

Chen et al. (2018) split the average KL of the ELBO a step further than Hoffman & Johnson (2016):

.. math::
    \mathbb{E}_n \mathrm{KL}(q(z|x_n) \| p(z)) = I_q(n; z)
    + \underbrace{\mathrm{KL}\big(q(z) \,\|\, \textstyle\prod_j q(z_j)\big)}_{\text{total correlation}}
    + \sum_j \mathrm{KL}\big(q(z_j) \,\|\, p(z_j)\big)

for a factorised prior. beta-VAE (Higgins et al., 2017) multiplies all three by beta; beta-TCVAE
only the total correlation (TC), the term that measures how far the coordinates of the aggregate
posterior are from independent. The mutual information gap (MIG; Chen et al., 2018) scores a code
against known factors v_k: for each factor, the gap between the two coordinates that know most
about it, in units of the factor's entropy,

.. math::
    \mathrm{MIG} = \frac{1}{K} \sum_{k=1}^K \frac{I(z_{j^{(k)}}; v_k) - \max_{j \ne j^{(k)}} I(z_j; v_k)}{H(v_k)},
    \qquad j^{(k)} = \arg\max_j I(z_j; v_k),

between 0 (every factor spread over several coordinates) and 1 (each factor in exactly one).
The mutual information is estimated from a histogram of each coordinate of the posterior means
(20 bins), as in the study of Locatello et al. (2019). Taught in chapter 9.
"""

from __future__ import annotations

import torch

from .. import checks
from ..gaussians import diagonal_normal_log_prob, standard_normal_log_prob
from ..loop import eval_mode
from ..losses import ELBOTerms, LogLikelihood, bernoulli_log_likelihood, reparameterize
from .aggregate import log_aggregate_marginals, log_aggregate_posterior, minibatch_log_density

MIG_BINS = 20  # histogram bins per code coordinate when estimating I(z_j; v_k)


def beta_tcvae_terms(
    encoder: torch.nn.Module,
    decoder: torch.nn.Module,
    x: torch.Tensor,
    dataset_size: int,
    beta: float,
    generator: torch.Generator | None = None,
    log_likelihood: LogLikelihood = bernoulli_log_likelihood,
) -> ELBOTerms:
    r"""The beta-TCVAE objective of Chen et al. (2018) on a minibatch, per example (B,).

    elbo = log p(x|z) - [I + beta TC + dimension-wise KL], each term a one-sample estimate at
    z ~ q(z|x) with log q(z) and log q(z_j) from minibatch-weighted sampling
    (:func:`vaelib.minibatch_log_density`, ``"mws"``). The three terms add up to the
    one-sample KL log q(z|x) - log p(z), so this is the ELBO minus (beta - 1) TC; ``kl`` holds the
    full one-sample KL, so reconstruction - kl is the plain ELBO. Prior N(0, I). Taught in chapter 9.
    """
    loc, scale = encoder(x)  # (B, d)
    z = reparameterize(loc, scale, generator=generator)  # (B, d)
    reconstruction = log_likelihood(decoder(z), x)
    log_q_given_x = diagonal_normal_log_prob(loc, scale, z, validate=False)  # (B,)
    log_p = standard_normal_log_prob(z)  # (B,)
    log_qz, log_qz_dims = minibatch_log_density(loc, scale, z, dataset_size=dataset_size, estimator="mws")
    total_correlation = log_qz - log_qz_dims.sum(-1)  # (B,)
    kl = log_q_given_x - log_p
    return ELBOTerms(reconstruction, kl, reconstruction - kl - (beta - 1) * total_correlation)


@torch.no_grad()
def total_correlation(
    loc: torch.Tensor,
    scale: torch.Tensor,
    batch_size: int | None = None,
    generator: torch.Generator | None = None,
) -> float:
    r"""The total correlation KL(q(z) || prod_j q(z_j)) of the aggregate posterior of N posteriors.

    One code z_n ~ q(z | x_n) per posterior. With ``batch_size`` None, log q(z) and log q(z_j) are
    the exact mixtures over all N (cost N^2 d); with a ``batch_size`` they are minibatch-stratified
    estimates from shuffled batches of that size (Chen et al., 2018), averaged over the batches.
    Taught in chapter 9.
    """
    checks.rows(loc, "loc (the codes' posterior means)", minimum=2)
    device = generator.device if generator is not None else loc.device
    z = loc + scale * torch.randn(loc.shape, generator=generator, device=device).to(loc)
    if batch_size is None:
        return (log_aggregate_posterior(loc, scale, z) - log_aggregate_marginals(loc, scale, z).sum(-1)).mean().item()
    order = torch.randperm(len(loc), generator=generator, device=device).to(loc.device)
    total, count = 0.0, 0
    for idx in order.split(batch_size):
        if len(idx) < 2:
            continue
        log_qz, log_qz_dims = minibatch_log_density(
            loc[idx].double(), scale[idx].double(), z[idx].double(), dataset_size=len(loc), estimator="mss"
        )
        total += (log_qz - log_qz_dims.sum(-1)).sum().item()
        count += len(idx)
    return total / count


def _discretize(codes: torch.Tensor, bins: int) -> torch.Tensor:
    """Each column of ``codes`` (N, d) cut into ``bins`` equal-width bins between its min and max: int64 (N, d)."""
    low, high = codes.min(0).values, codes.max(0).values
    width = (high - low).clamp_min(1e-12) / bins
    return ((codes - low) / width).long().clamp_(0, bins - 1)


def _mutual_information(a: torch.Tensor, b: torch.Tensor) -> float:
    """I(a; b) in nats of two int64 label vectors (N,), from their joint histogram."""
    joint = torch.zeros(int(a.max()) + 1, int(b.max()) + 1, dtype=torch.float64)
    joint.index_put_((a, b), torch.ones(len(a), dtype=torch.float64), accumulate=True)
    joint /= len(a)
    outer = joint.sum(1, keepdim=True) * joint.sum(0, keepdim=True)
    nonzero = joint > 0
    return (joint[nonzero] * (joint[nonzero] / outer[nonzero]).log()).sum().item()


def _entropy(labels: torch.Tensor) -> float:
    p = torch.bincount(labels).double() / len(labels)
    p = p[p > 0]
    return -(p * p.log()).sum().item()


def mutual_information_gap(codes: torch.Tensor, factors: torch.Tensor, bins: int = MIG_BINS) -> dict:
    r"""The MIG of ``codes`` (N, d) against discrete ``factors`` (N, K) (indices of factor values).

    Returns ``mig`` (mean over factors), ``gaps`` (K,), the normalised gap of each factor, and
    ``mutual_information`` (d, K), the estimates I(z_j; v_k) in nats. Factors with one value only
    (entropy 0) are refused. Needs d >= 2. The equation is in the module docstring (Chen et al., 2018);
    taught in chapter 9.
    """
    checks.rows(codes, "codes", minimum=2)
    checks.rows(factors, "factors", minimum=2)
    if codes.dim() != 2 or factors.dim() != 2 or len(codes) != len(factors):
        raise ValueError(
            f"need codes (N, d) and factors (N, K) with the same N; got {tuple(codes.shape)}, {tuple(factors.shape)}"
        )
    if codes.shape[1] < 2:
        raise ValueError("the MIG compares the two best coordinates: the code needs at least 2 dimensions")
    codes, factors = codes.detach().double().cpu(), factors.detach().long().cpu()
    binned = _discretize(codes, bins)
    entropies = torch.tensor([_entropy(factors[:, k]) for k in range(factors.shape[1])], dtype=torch.float64)
    if (entropies <= 0).any():
        raise ValueError(f"factors {(entropies <= 0).nonzero().flatten().tolist()} take one value only; drop them")
    info = torch.tensor(
        [
            [_mutual_information(binned[:, j], factors[:, k]) for k in range(factors.shape[1])]
            for j in range(codes.shape[1])
        ],
        dtype=torch.float64,
    )  # (d, K)
    top = info.topk(2, dim=0).values  # (2, K)
    gaps = (top[0] - top[1]) / entropies
    return {"mig": gaps.mean().item(), "gaps": gaps, "mutual_information": info}


@torch.no_grad()
def latent_traversal(decoder: torch.nn.Module, base: torch.Tensor, values: torch.Tensor) -> torch.Tensor:
    """Decode ``base`` (d,) with one coordinate at a time replaced by each of ``values`` (T,).

    Returns pixel probabilities (d * T, 1, 28, 28): row j (T images) moves coordinate j only, the
    picture of a latent traversal (Higgins et al., 2017). The decoder runs in eval mode, without
    gradients, and keeps its mode (a batch-norm decoder's statistics are not changed). Taught in chapter 9.
    """
    checks.tensor(base, "base", floating=True)
    checks.tensor(values, "values", floating=True)
    if base.dim() != 1 or values.dim() != 1 or not len(values):
        raise ValueError(
            f"base must be one code (d,) and values a non-empty 1-D tensor (T,); got {tuple(base.shape)} and "
            f"{tuple(values.shape)}. For a batch of codes, traverse one at a time: base = codes[i]."
        )
    d, t = base.shape[0], len(values)
    z = base.expand(d, t, d).clone()  # (d, T, d)
    rows = torch.arange(d)
    z[rows, :, rows] = values.to(base)  # row j varies coordinate j
    with eval_mode(decoder), torch.no_grad():
        return torch.sigmoid(decoder(z.reshape(d * t, d)))
