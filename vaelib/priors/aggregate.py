r"""The aggregate posterior q(z) = (1/N) sum_n q(z | x_n) and the ELBO surgery of Hoffman & Johnson (2016).

Averaged over the N training images, the KL term of the ELBO splits in two (Hoffman & Johnson,
2016, "ELBO surgery"):

.. math::
    \frac{1}{N}\sum_{n=1}^N \mathrm{KL}\big(q(z \mid x_n) \,\|\, p(z)\big)
    = \underbrace{I_q(n; z)}_{\text{mutual information}}
    + \underbrace{\mathrm{KL}\big(q(z) \,\|\, p(z)\big)}_{\text{marginal KL}},

where n is the index of a training image drawn uniformly and z ~ q(z | x_n). Both terms are
expectations of log-ratios at the same samples, so their estimates add up to the estimate of the
left side exactly. Because q(z_n) >= q(z_n | x_n) / N, every sample's log q(z|x) - log q(z) is
at most log N, and so is I_q: a code cannot carry more information about the image than the log
of the number of images.

Also here: the exact log q(z) of a finite set, two minibatch estimates of it (Chen et al., 2018),
and the closed forms of every term for the linear-Gaussian model of chapter 1. Taught in chapter 9.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch

from .. import checks
from ..gaussians import diagonal_normal_log_prob, diagonal_normal_log_prob_table, half_log_det, pairwise_normal_log_prob
from ..toy import LinearGaussian

CHUNK = 2048  # codes per block when the N x N table of log q(z_m | x_n) is built


def log_aggregate_posterior(loc: torch.Tensor, scale: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
    r"""The exact log q(z) = log (1/N) sum_n N(z; loc_n, diag scale_n^2), in float64, shape (M,).

    ``loc`` and ``scale`` are the N posteriors (N, d); ``z`` is (M, d). Costs M x N x d.
    Hoffman & Johnson (2016). Taught in chapter 9; used in chapter 11.
    """
    z, loc, scale = z.double(), loc.double(), scale.double()
    rows = [torch.logsumexp(pairwise_normal_log_prob(loc, scale, block), -1) for block in z.split(CHUNK)]
    return torch.cat(rows) - math.log(len(loc))


def log_aggregate_marginals(loc: torch.Tensor, scale: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
    """The exact log q(z_j) = log (1/N) sum_n N(z_j; loc_nj, scale_nj^2) of every coordinate j, float64, (M, d).

    The marginals of q(z) that the total correlation compares it with (Chen et al., 2018). Chapter 9.
    """
    columns = [
        log_aggregate_posterior(loc[:, j : j + 1], scale[:, j : j + 1], z[:, j : j + 1]) for j in range(z.shape[1])
    ]
    return torch.stack(columns, dim=1)


def minibatch_log_density(
    loc: torch.Tensor, scale: torch.Tensor, z: torch.Tensor, *, dataset_size: int, estimator: str = "mws"
) -> tuple[torch.Tensor, torch.Tensor]:
    r"""Minibatch estimates of log q(z_i) and of every log q(z_ij), for z_i ~ q(z | x_i) of a batch of M.

    Chen et al. (2018), Sec. 4.1 and Appendix C. With the M x M table q(z_i | x_m) of the batch:

    * ``"mws"`` (minibatch-weighted sampling):
      :math:`\log q(z_i) \approx \log \frac{1}{NM} \sum_m q(z_i \mid x_m)`, as used to train beta-TCVAE.
      It is not an unbiased estimate of q(z_i): with the whole set as the batch it equals the exact
      log q(z_i) minus log N. The offset does not change gradients of the total correlation.
    * ``"mss"`` (minibatch-stratified sampling): weight 1/N on the sample's own posterior and
      weights summing to (N-1)/N on the other M-1; an unbiased estimate of q(z_i) (not of its log).

    Returns (log q(z_i) of shape (M,), log q(z_ij) of shape (M, d)). Used in chapter 9 through
    total_correlation and beta_tcvae_terms.
    """
    m, n = len(z), dataset_size
    if m < 2 or n < m:
        raise ValueError(f"need a batch of at least 2 codes from a data set at least as large; got {m} of {n}")
    per_dim = diagonal_normal_log_prob_table(loc, scale, z)  # (M, M, d): log q(z_ij | x_mj)
    if estimator == "mws":
        log_w = torch.full((m, m), -math.log(n * m), device=z.device, dtype=z.dtype)
    elif estimator == "mss":
        others = m - 1
        w = torch.full((m, m), 1 / others, device=z.device, dtype=torch.float64)
        idx = torch.arange(m, device=z.device)
        w[idx, idx] = 1 / n
        w[idx, (idx + 1) % m] = (n - others) / (n * others)  # the stratified element of each row
        log_w = w.log().to(z.dtype)
    else:
        raise ValueError(f"estimator must be 'mws' or 'mss', got {estimator!r}")
    log_qz = torch.logsumexp(per_dim.sum(-1) + log_w, dim=1)  # (M,)
    log_qz_dims = torch.logsumexp(per_dim + log_w.unsqueeze(-1), dim=1)  # (M, d)
    return log_qz, log_qz_dims


def elbo_surgery(
    loc: torch.Tensor,
    scale: torch.Tensor,
    log_prior: Callable[[torch.Tensor], torch.Tensor],
    samples: int = 1,
    generator: torch.Generator | None = None,
) -> dict[str, float]:
    r"""Estimate both sides of the ELBO surgery on a set of N posteriors q(z | x_n) = N(loc_n, scale_n^2).

    Draws ``samples`` codes from each posterior and computes, at each code, log q(z|x_n), the exact
    log q(z) of the set (:func:`log_aggregate_posterior`) and ``log_prior(z)``. Returns the means
    ``average_kl`` (of log q(z|x) - log p(z)), ``mutual_information`` (of log q(z|x) - log q(z)),
    ``marginal_kl`` (of log q(z) - log p(z)), and ``log_n`` = log N, the ceiling of the mutual
    information. The first is the sum of the other two up to rounding (Hoffman & Johnson, 2016).
    Taught in chapter 9.
    """
    checks.rows(loc, "loc (the posteriors of the data set)", minimum=2)
    loc, scale = loc.detach(), scale.detach()
    device = generator.device if generator is not None else loc.device
    eps = torch.randn((samples, *loc.shape), generator=generator, device=device).to(loc)
    z = (loc + scale * eps).reshape(-1, loc.shape[1])  # (S * N, d)
    # in float64, like log q(z): the two must round alike for I_q <= log N to hold to the last digit
    log_q_given_x = diagonal_normal_log_prob(
        loc.double().repeat(samples, 1), scale.double().repeat(samples, 1), z.double(), validate=False
    )
    log_q = log_aggregate_posterior(loc, scale, z)
    with torch.no_grad():
        log_p = log_prior(z).double()
    return {
        "average_kl": (log_q_given_x - log_p).mean().item(),
        "mutual_information": (log_q_given_x - log_q).mean().item(),
        "marginal_kl": (log_q - log_p).mean().item(),
        "log_n": math.log(len(loc)),
    }


def linear_gaussian_surgery(model: LinearGaussian, weight: torch.Tensor, scale_tril: torch.Tensor) -> dict[str, float]:
    r"""Closed forms of the surgery for data x ~ p(x) of ``model`` and the encoder q(z|x) = N(A (x - b), S).

    ``weight`` is A (d, D); ``scale_tril`` is the Cholesky factor L of S = L L^T (d, d). With
    C = W W^T + sigma^2 I the data covariance, the aggregate posterior is q(z) = N(0, A C A^T + S), and

    .. math::
        \mathbb{E}_x \mathrm{KL} = \tfrac12[\operatorname{tr}(A C A^\top + S) - d - \log\det S], \quad
        I_q = \tfrac12[\log\det(A C A^\top + S) - \log\det S], \quad
        \mathrm{KL}(q(z)\,\|\,p) = \tfrac12[\operatorname{tr}(A C A^\top + S) - d - \log\det(A C A^\top + S)].

    The exact posterior (A = M^{-1} W^T / sigma^2, S = M^{-1}) gives q(z) = p(z): the marginal KL vanishes.
    Taught in chapter 9 (the exact check of the ELBO surgery).
    """
    d = model.z_dim
    aggregate = weight @ model.marginal_covariance() @ weight.T + scale_tril @ scale_tril.T  # (d, d)
    half_log_det_s = half_log_det(scale_tril)
    half_log_det_q = half_log_det(torch.linalg.cholesky(aggregate))
    trace = torch.diagonal(aggregate).sum()
    return {
        "average_kl": (0.5 * (trace - d) - half_log_det_s).item(),
        "mutual_information": (half_log_det_q - half_log_det_s).item(),
        "marginal_kl": (0.5 * (trace - d) - half_log_det_q).item(),
    }
