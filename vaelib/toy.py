r"""A latent-variable model whose evidence and posterior are exact: the linear-Gaussian model.

.. math::
    z \sim \mathcal{N}(0, I_d), \qquad x \mid z \sim \mathcal{N}(W z + b, \sigma^2 I_D)

is probabilistic PCA (Tipping & Bishop, 1999; Bishop, 2006, Sec. 12.2). Everything a VAE has
to approximate is available in closed form:

* evidence: :math:`p(x) = \mathcal{N}(x;\, b,\, W W^\top + \sigma^2 I_D)`;
* posterior: :math:`p(z \mid x) = \mathcal{N}(M^{-1} W^\top (x - b) / \sigma^2,\; M^{-1})` with
  :math:`M = I_d + W^\top W / \sigma^2` (the same covariance for every x);
* the ELBO of any Gaussian :math:`q(z) = \mathcal{N}(m, S)`, :math:`S = L L^\top`:

  .. math::
      \mathbb{E}_q[\log p(x \mid z)] = -\tfrac{D}{2}\log(2\pi\sigma^2)
      - \frac{\lVert x - W m - b\rVert^2 + \operatorname{tr}(W S W^\top)}{2\sigma^2},
      \qquad
      \mathrm{KL}(q \,\|\, p(z)) = \tfrac12\big(\operatorname{tr} S + m^\top m - d - \log\det S\big).

A q is given by ``loc`` (..., d) and ``scale_tril`` (..., d, d), a lower-triangular Cholesky
factor L of its covariance (as in ``torch.distributions.MultivariateNormal``); a diagonal q with
standard deviations ``scale`` (what a VAE encoder returns) is ``torch.diag_embed(scale)``.
Results are per example, shape (...,), in nats. The model works in the dtype and on the device
of its ``weight``; in float64, identities such as log p(x) = ELBO + KL(q || p(z|x)) hold to
about 1e-12.
"""

from __future__ import annotations

import math

import torch

from . import checks
from .gaussians import LOG_2PI, gaussian_kl, half_log_det, standard_normal_log_prob
from .losses import ELBOTerms


class LinearGaussian:
    """z ~ N(0, I_d), x | z ~ N(W z + b, noise_std^2 I_D), with exact evidence, posterior and ELBO.

    Taught in chapter 1 (every term of the ELBO in closed form); used in chapters 7 and 9.

    ``weight`` is W, shape (D, d); ``bias`` is b, shape (D,); ``noise_std`` is sigma > 0.
    """

    def __init__(self, weight: torch.Tensor, bias: torch.Tensor, noise_std: float):
        checks.tensor(weight, "weight", floating=True)
        checks.tensor(bias, "bias", floating=True)
        checks.real_number(noise_std, "noise_std", positive=True)
        if weight.dim() != 2:
            raise ValueError(f"weight must be a (D, d) matrix, got shape {tuple(weight.shape)}")
        if bias.shape != weight.shape[:1]:
            raise ValueError(f"bias must have shape ({weight.shape[0]},) to match weight, got {tuple(bias.shape)}")
        if not noise_std > 0:
            raise ValueError(f"noise_std must be positive, got {noise_std}")
        self.weight, self.bias, self.noise_std = weight, bias.to(weight), float(noise_std)

    @property
    def x_dim(self) -> int:
        return self.weight.shape[0]

    @property
    def z_dim(self) -> int:
        return self.weight.shape[1]

    def _check(self, tensor: torch.Tensor, size: int, name: str) -> None:
        checks.tensor(tensor, name, floating=True)
        if tensor.shape[-1:] != (size,):
            raise ValueError(f"{name} must end in a dimension of size {size}, got shape {tuple(tensor.shape)}")
        if tensor.dtype != self.weight.dtype or tensor.device != self.weight.device:
            raise ValueError(
                f"{name} is {tensor.dtype} on {tensor.device} but the model's weight {self.weight.dtype} on "
                f"{self.weight.device}; convert with {name}.to(model.weight)."
            )

    def _noise(self, shape: tuple[int, ...], generator: torch.Generator | None) -> torch.Tensor:
        # Drawn on the generator's device (a CPU generator also serves a CUDA model), then moved.
        device = generator.device if generator is not None else self.weight.device
        eps = torch.randn(shape, generator=generator, device=device, dtype=self.weight.dtype)
        return eps.to(self.weight.device)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """The mean of p(x | z): W z + b, shape (..., D)."""
        self._check(z, self.z_dim, "z")
        return z @ self.weight.T + self.bias

    def sample(self, n: int, generator: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """Draw ``n`` pairs (z, x) from the joint: z (n, d), x (n, D)."""
        n = checks.whole_number(n, "n")
        z = self._noise((n, self.z_dim), generator)
        x = self.decode(z) + self.noise_std * self._noise((n, self.x_dim), generator)
        return z, x

    def log_prior(self, z: torch.Tensor) -> torch.Tensor:
        """log N(z; 0, I), shape (...,)."""
        self._check(z, self.z_dim, "z")
        return standard_normal_log_prob(z)

    def log_likelihood(self, z: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """log p(x | z) = log N(x; W z + b, sigma^2 I), shape broadcast of z and x without the last dimension.

        Like every log-density in vaelib, the condition (here z) comes first and the value x last.
        """
        self._check(x, self.x_dim, "x")
        sq = (x - self.decode(z)).pow(2).sum(-1)
        return -0.5 * sq / self.noise_std**2 - 0.5 * self.x_dim * (LOG_2PI + 2 * math.log(self.noise_std))

    def marginal_covariance(self) -> torch.Tensor:
        """Cov[x] = W W^T + sigma^2 I, shape (D, D)."""
        eye = torch.eye(self.x_dim, dtype=self.weight.dtype, device=self.weight.device)
        return self.weight @ self.weight.T + self.noise_std**2 * eye

    def log_marginal(self, x: torch.Tensor) -> torch.Tensor:
        """The evidence log p(x) = log N(x; b, W W^T + sigma^2 I), shape (...,), via a Cholesky factor."""
        self._check(x, self.x_dim, "x")
        chol = torch.linalg.cholesky(self.marginal_covariance())  # (D, D)
        centred = (x - self.bias).unsqueeze(-1)  # (..., D, 1)
        white = torch.linalg.solve_triangular(chol.expand(*x.shape[:-1], -1, -1), centred, upper=False)
        return -0.5 * (white.pow(2).sum((-2, -1)) + self.x_dim * LOG_2PI) - half_log_det(chol)

    def posterior(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The exact p(z | x) = N(loc, L L^T): ``loc`` (..., d) and the Cholesky factor L (d, d).

        L is the same for every x in this model, so it is returned once; it broadcasts.
        """
        self._check(x, self.x_dim, "x")
        eye = torch.eye(self.z_dim, dtype=self.weight.dtype, device=self.weight.device)
        precision = eye + self.weight.T @ self.weight / self.noise_std**2  # M, (d, d)
        covariance = torch.linalg.inv(precision)
        covariance = 0.5 * (covariance + covariance.T)  # exact symmetry for the Cholesky factor
        loc = (x - self.bias) @ self.weight @ covariance / self.noise_std**2  # (..., d); M^{-1} is symmetric
        return loc, torch.linalg.cholesky(covariance)

    def _tril(self, loc: torch.Tensor, scale_tril: torch.Tensor) -> torch.Tensor:
        """q's Cholesky factor, checked against ``loc``: (..., d, d), lower triangle only."""
        self._check(loc, self.z_dim, "loc")
        if scale_tril.shape[-2:] != (self.z_dim, self.z_dim):
            raise ValueError(
                f"scale_tril must end in ({self.z_dim}, {self.z_dim}), got {tuple(scale_tril.shape)}; for a diagonal "
                "q with standard deviations `scale`, pass torch.diag_embed(scale)"
            )
        return scale_tril.tril()

    def kl_to_prior(self, loc: torch.Tensor, scale_tril: torch.Tensor) -> torch.Tensor:
        """KL(q || p(z)) for q = N(loc, L L^T): 1/2 (tr S + m^T m - d - log det S), shape (...,)."""
        tril = self._tril(loc, scale_tril)
        return 0.5 * (tril.pow(2).sum((-2, -1)) + loc.pow(2).sum(-1) - self.z_dim) - half_log_det(tril)

    def elbo(self, x: torch.Tensor, loc: torch.Tensor, scale_tril: torch.Tensor) -> ELBOTerms:
        """The ELBO of q(z) = N(loc, L L^T) for x in closed form: reconstruction, KL and ELBO terms (...,).

        Taught in chapter 1 (the exact model); used in chapter 9 (the ELBO surgery).
        """
        self._check(x, self.x_dim, "x")
        tril = self._tril(loc, scale_tril)  # (..., d, d)
        residual = (x - self.decode(loc)).pow(2).sum(-1)  # ||x - W m - b||^2
        spread = (self.weight @ tril).pow(2).sum((-2, -1))  # tr(W S W^T) = ||W L||_F^2
        d_x, var = self.x_dim, self.noise_std**2
        reconstruction = -0.5 * (residual + spread) / var - 0.5 * d_x * (LOG_2PI + math.log(var))
        kl = self.kl_to_prior(loc, tril)
        return ELBOTerms(reconstruction, kl, reconstruction - kl)

    def elbo_monte_carlo(
        self,
        x: torch.Tensor,
        loc: torch.Tensor,
        scale_tril: torch.Tensor,
        *,
        n_samples: int = 1000,
        generator: torch.Generator | None = None,
    ) -> ELBOTerms:
        """The same ELBO estimated from ``n_samples`` draws z = loc + L eps of q (no closed forms).

        reconstruction = mean of log p(x|z); kl = mean of log q(z) - log p(z).
        """
        self._check(x, self.x_dim, "x")
        tril = self._tril(loc, scale_tril)  # (..., d, d)
        eps = self._noise((n_samples, *loc.shape), generator)  # (S, ..., d)
        z = loc + (tril @ eps.unsqueeze(-1)).squeeze(-1)  # (S, ..., d)
        log_q = -0.5 * (eps.pow(2).sum(-1) + self.z_dim * LOG_2PI) - half_log_det(tril)
        reconstruction = self.log_likelihood(z, x).mean(0)
        kl = (log_q - self.log_prior(z)).mean(0)
        return ELBOTerms(reconstruction, kl, reconstruction - kl)

    def kl_to_posterior(self, x: torch.Tensor, loc: torch.Tensor, scale_tril: torch.Tensor) -> torch.Tensor:
        """KL(q || p(z | x)) in closed form, shape (...,): the gap log p(x) - ELBO."""
        post_loc, post_tril = self.posterior(x)
        return gaussian_kl(loc, self._tril(loc, scale_tril), post_loc, post_tril)
