r"""Every Gaussian log-density and KL divergence the book uses, in one place: parameters first, value last.

* :func:`standard_normal_log_prob`: log N(z; 0, I), the prior of chapters 1-8 and the base of every flow.
* :func:`diagonal_normal_log_prob`: log N(z; loc, diag scale^2), the encoder's q(z|x).
* :func:`pairwise_normal_log_prob` and :func:`diagonal_normal_log_prob_table`: the same for every
  pair of a code and a component (mixtures, the aggregate posterior).
* :func:`mixture_log_prob`: a mixture of diagonal Gaussians.
* :func:`gaussian_kl_to_standard`, :func:`kl_from_log_variance`, :func:`full_covariance_kl_to_standard`
  and :func:`gaussian_kl`: KL divergences in closed form (diagonal, log-variance head, full covariance,
  and between two full-covariance Gaussians); :func:`diagonal_gaussian_kl` between two diagonal ones.

``scale`` always means standard deviations; a full covariance is given by its lower-triangular
Cholesky factor ``scale_tril`` (S = L L^T).
"""

from __future__ import annotations

import math

import torch

from . import checks

LOG_2PI = math.log(2 * math.pi)
ROWS_PER_CHUNK = 4096  # codes whose mixture density is computed at once (memory: rows x components)


def standard_normal_log_prob(z: torch.Tensor) -> torch.Tensor:
    """log N(z; 0, I), summed over the last dimension: shape ``z.shape[:-1]``.

    Used in chapters 1, 6, 7 and 9 through elbo, log_importance_weights, FlowEncoder and StandardNormalPrior.
    Used in chapter 11.
    """
    return (-0.5 * z.pow(2) - 0.5 * LOG_2PI).sum(-1)


def diagonal_normal_log_prob(
    loc: torch.Tensor, scale: torch.Tensor, z: torch.Tensor, *, validate: bool = True
) -> torch.Tensor:
    """log N(z; loc, diag scale^2), summed over the last dimension (parameters first, value last).

    ``loc`` and ``scale`` have one shape; ``z`` ends with it (leading sample dimensions broadcast).
    ``validate`` checks that the scales are positive.

    Used in chapters 1 and 6 through elbo (sampled KL) and log_importance_weights.
    """
    checks.gaussian_parameters(loc, scale)
    checks.tensor(z, "z", floating=True)
    try:
        fits = torch.broadcast_shapes(z.shape, loc.shape, scale.shape) == z.shape
    except RuntimeError:
        fits = False
    if not fits:
        raise ValueError(f"z {tuple(z.shape)} must end with loc's shape {tuple(loc.shape)} (samples first).")
    if validate:
        checks.positive_values(scale, "scale")
    return (-0.5 * ((z - loc) / scale).pow(2) - scale.log() - 0.5 * LOG_2PI).sum(-1)


def diagonal_normal_log_prob_table(loc: torch.Tensor, scale: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
    """log N(z_ij; loc_kj, scale_kj^2) for every code i, component k and coordinate j: shape (M, K, d).

    ``loc`` and ``scale`` are (K, d), ``z`` is (M, d). The per-coordinate table that the minibatch
    estimators of the aggregate posterior sum in two ways (chapter 9's total correlation).
    """
    return -0.5 * ((z.unsqueeze(1) - loc) / scale).pow(2) - scale.log() - 0.5 * LOG_2PI


def pairwise_normal_log_prob(loc: torch.Tensor, scale: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
    r"""log N(z_m; loc_k, diag scale_k^2) for every code m and component k: shape (M, K).

    ``loc`` and ``scale`` are (K, d); ``z`` is (M, d). Expanding the square,
    :math:`\sum_j (z_j - \mu_j)^2/\sigma_j^2 = z^2 \cdot \sigma^{-2} - 2 z \cdot \mu \sigma^{-2}
    + \mu^2 \cdot \sigma^{-2}`,
    turns the (M, K, d) computation into two matrix products, so memory grows as M x K only.
    Pass float64 tensors where scales are small and codes large (the expansion cancels digits).
    Used in chapter 9 through MixturePrior, VampPrior and log_aggregate_posterior.
    """
    precision = scale.pow(-2)  # (K, d)
    quadratic = z.pow(2) @ precision.T - 2 * z @ (loc * precision).T + (loc.pow(2) * precision).sum(-1)  # (M, K)
    log_norm = -scale.log().sum(-1) - 0.5 * loc.shape[-1] * LOG_2PI  # (K,)
    return -0.5 * quadratic + log_norm


def mixture_log_prob(
    loc: torch.Tensor, scale: torch.Tensor, log_weights: torch.Tensor, z: torch.Tensor, *, validate: bool = True
) -> torch.Tensor:
    r"""log sum_k w_k N(z; loc_k, diag scale_k^2) for z of shape (..., d); returns shape (...,).

    ``loc`` and ``scale`` are (K, d); ``log_weights`` (K,) are the log mixture weights. ``validate``
    checks (one host sync) that the weights sum to one, since weights that do not would shift every
    log-density by the log of their sum, silently; the priors, which normalise with a softmax, skip it.
    Computed :data:`ROWS_PER_CHUNK` codes at a time, so a (K, B, d) batch of samples fits in memory.
    The density of chapter 9's MixturePrior and VampPrior.
    """
    if (
        loc.dim() != 2
        or scale.shape != loc.shape
        or log_weights.shape != loc.shape[:1]
        or z.shape[-1:] != loc.shape[1:]
    ):
        raise ValueError(
            "mixture_log_prob needs loc and scale (K, d), log_weights (K,) and z (..., d); got "
            f"loc {tuple(loc.shape)}, "
            f"scale {tuple(scale.shape)}, log_weights {tuple(log_weights.shape)}, z {tuple(z.shape)}"
        )
    if validate:
        total = torch.logsumexp(log_weights.detach().double(), 0).exp().item()
        if not abs(total - 1.0) < 1e-4:
            raise ValueError(
                f"the mixture weights sum to {total:.6g}, not 1, which would shift every log-density by "
                f"{math.log(total) if total > 0 else float('-inf'):.4g} nats; normalise them, e.g. "
                "torch.log_softmax(logits, -1)."
            )
    flat = z.reshape(-1, z.shape[-1])  # (M, d)
    out = [
        torch.logsumexp(pairwise_normal_log_prob(loc, scale, rows) + log_weights, dim=-1)
        for rows in flat.split(ROWS_PER_CHUNK)
    ]
    return torch.cat(out).reshape(z.shape[:-1])


def gaussian_kl_to_standard(loc: torch.Tensor, scale: torch.Tensor, *, validate: bool = True) -> torch.Tensor:
    r"""KL(N(loc, diag scale^2) || N(0, I)) = 1/2 sum_j (scale_j^2 + loc_j^2 - 1 - log scale_j^2), shape (B,).

    Kingma & Welling (2013), Appendix B. ``loc`` and ``scale`` (standard deviations, not
    variances) have one shape (or one rank, with size-1 dimensions that broadcast); ``validate``
    checks that the scales are positive.

    Taught in chapter 1; used in chapters 2, 4, 6, 11.
    """
    checks.gaussian_parameters(loc, scale)
    if validate:
        checks.positive_values(scale, "scale")
    return 0.5 * (scale.pow(2) + loc.pow(2) - 1 - 2 * scale.log()).sum(-1)


def kl_from_log_variance(loc: torch.Tensor, log_var: torch.Tensor) -> torch.Tensor:
    r"""KL(N(loc, diag exp(log_var)) || N(0, I)) = -1/2 sum_j (1 + log_var_j - loc_j^2 - exp(log_var_j)), (B,).

    Taught in chapter 4.
    """
    if loc.shape != log_var.shape:
        raise ValueError(f"loc {tuple(loc.shape)} and log_var {tuple(log_var.shape)} must have the same shape")
    return -0.5 * (1 + log_var - loc.pow(2) - log_var.exp()).sum(-1)


def half_log_det(scale_tril: torch.Tensor) -> torch.Tensor:
    """1/2 log det(L L^T) = sum_j log |L_jj| for a lower-triangular L (..., d, d): shape (...,).

    Used in chapters 1, 7 and 9 through the full-covariance Gaussians of LinearGaussian, the encoders
    and the ELBO surgery.
    """
    return scale_tril.diagonal(dim1=-2, dim2=-1).abs().log().sum(-1)


def full_covariance_kl_to_standard(loc: torch.Tensor, scale_tril: torch.Tensor) -> torch.Tensor:
    r"""KL(N(loc, L L^T) || N(0, I)) per example, (B,), for a lower-triangular L (B, d, d):

    .. math::
        \tfrac12\big(\lVert L\rVert_F^2 + \lVert\mu\rVert^2 - d\big) - \sum_j \log\lvert L_{jj}\rvert,

    since tr(L L^T) is the squared Frobenius norm and log det(L L^T) = 2 sum_j log|L_jj|. The
    diagonal case of Kingma & Welling (2013), Appendix B, with a full covariance. Taught in chapter 7.
    """
    checks.tensor(loc, "loc", floating=True)
    checks.tensor(scale_tril, "scale_tril", floating=True)
    d = loc.shape[-1] if loc.dim() else 0
    if scale_tril.dim() != loc.dim() + 1 or tuple(scale_tril.shape) != (*loc.shape, d):
        hint = (
            " It has loc's shape: for a diagonal Gaussian use vaelib.gaussian_kl_to_standard(loc, scale), or pass "
            "torch.diag_embed(scale)."
            if scale_tril.shape == loc.shape
            else ""
        )
        raise ValueError(
            f"scale_tril must be one (d, d) Cholesky factor per row of loc, shape {(*loc.shape, d)}; got "
            f"{tuple(scale_tril.shape)} for loc {tuple(loc.shape)}.{hint}"
        )
    frobenius = scale_tril.tril().pow(2).sum((-2, -1))
    return 0.5 * (frobenius + loc.pow(2).sum(-1) - d) - half_log_det(scale_tril)


def gaussian_kl(loc_q: torch.Tensor, tril_q: torch.Tensor, loc_p: torch.Tensor, tril_p: torch.Tensor) -> torch.Tensor:
    r"""KL(N(m_q, L_q L_q^T) || N(m_p, L_p L_p^T)), per example (...,):

    .. math::
        \tfrac12\big[\operatorname{tr}(S_p^{-1} S_q) + (m_p - m_q)^\top S_p^{-1} (m_p - m_q) - d
        + \log\det S_p - \log\det S_q\big].

    Called by LinearGaussian's exact KL terms (chapter 1) and the linear-Gaussian surgery (chapter 9).
    """
    d = loc_q.shape[-1]
    batch = torch.broadcast_shapes(loc_q.shape[:-1], tril_q.shape[:-2], loc_p.shape[:-1], tril_p.shape[:-2])
    tril_q, tril_p = tril_q.expand(*batch, d, d), tril_p.expand(*batch, d, d)
    a = torch.linalg.solve_triangular(tril_p, tril_q, upper=False)  # L_p^{-1} L_q
    diff = torch.linalg.solve_triangular(tril_p, (loc_p - loc_q).unsqueeze(-1), upper=False).squeeze(-1)
    trace = a.pow(2).sum((-2, -1))
    mahalanobis = diff.pow(2).sum(-1)
    return 0.5 * (trace + mahalanobis - d) + half_log_det(tril_p) - half_log_det(tril_q)


def diagonal_gaussian_kl(
    loc_q: torch.Tensor, scale_q: torch.Tensor, loc_p: torch.Tensor, scale_p: torch.Tensor
) -> torch.Tensor:
    r"""KL(N(loc_q, diag scale_q^2) || N(loc_p, diag scale_p^2)), summed over the last dimension:

    .. math::
        \tfrac12 \sum_j \Big[\frac{\sigma_{q,j}^2 + (\mu_{q,j} - \mu_{p,j})^2}{\sigma_{p,j}^2} - 1
        + \log \frac{\sigma_{p,j}^2}{\sigma_{q,j}^2}\Big].

    The four tensors broadcast against each other; scales are standard deviations (not checked here:
    the callers' networks keep them positive). The KL between a conditional posterior and a conditional
    prior of a hierarchical VAE, and each step of a diffusion model's bound: for chapter 11.
    """
    ratio = (scale_q / scale_p).pow(2)
    return 0.5 * (ratio + ((loc_q - loc_p) / scale_p).pow(2) - 1 - ratio.log()).sum(-1)
