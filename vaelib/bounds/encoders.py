r"""Richer posteriors for the MLP VAE: a full-covariance Gaussian and normalizing-flow encoders.

The encoders of :mod:`vaelib.models` return ``(loc, scale)`` of a diagonal Gaussian. The encoders
here return the *local parameters* of a richer q(z|x), a tuple of per-image tensors, and draw from it:

.. code-block:: python

    params = encoder(x)                      # per-image parameters of q(z|x)
    z, log_q = encoder.rsample(params, n)    # (n, B, d) samples and their log-density (n, B)

The core functions :func:`vaelib.sampling.local_params` and :func:`vaelib.sampling.rsample_posterior`
accept these encoders and the diagonal ones alike (a diagonal encoder's local parameters are
``(loc, log scale)``), so the importance weights, the bounds, per-image optimisation and
semi-amortized refinement work with every encoder.
Taught in chapter 7.
"""

from __future__ import annotations

import pyro.distributions.transforms as T
import torch
import torch.nn as nn
import torch.nn.functional as F

from .. import checks
from ..data import IMAGE_SHAPE, N_PIXELS
from ..gaussians import standard_normal_log_prob
from ..loop import eval_mode
from ..models import positive_scale
from ..sampling import diagonal_rsample, local_params, standard_normal_noise

FLOWS = ("iaf", "planar")  # the flow steps FlowEncoder can stack


class FullCovarianceEncoder(nn.Module):
    r"""x (B, 1, 28, 28) -> 784 -> hidden -> q(z|x) = N(loc, L L^T) with a lower-triangular L (Cholesky factor).

    The hidden layer and the loc and scale heads are those of :class:`~vaelib.models.MLPEncoder`;
    one more head gives the d(d-1)/2 entries of a strictly lower-triangular M, and

    .. math::
        L = \mathrm{diag}(s)\,(I + M), \qquad M = c \cdot \mathrm{tril}_{-1}(\mathrm{head}(h)),

    with c = ``off_diagonal_scale``: L_jj = s_j, and an off-diagonal entry L_ij = s_i M_ij is *relative to
    its unit's scale* (posterior scales are often 0.05-0.3; an entry in prior units would swamp them).
    The head starts at zero (a fresh encoder is a diagonal one) and c = 0.1 slows its d(d-1)/2 x hidden
    weights under Adam, whose normalised steps would otherwise turn their noisy early gradients into a
    random walk of correlated noise in z. Train it with the closed-form KL,
    :func:`full_covariance_kl_to_standard` (:func:`vaelib.elbo_objective`).
    Local parameters: ``(loc (B, d), scale_tril (B, d, d))``; z = loc + L eps. Taught in chapter 7.
    """

    def __init__(self, z_dim: int = 50, hidden_dim: int = 400, off_diagonal_scale: float = 0.1):
        super().__init__()
        self.z_dim = checks.whole_number(z_dim, "z_dim")
        hidden_dim = checks.whole_number(hidden_dim, "hidden_dim")
        self.off_diagonal_scale = checks.real_number(off_diagonal_scale, "off_diagonal_scale", positive=True)
        self.hidden = nn.Linear(N_PIXELS, hidden_dim)
        self.loc = nn.Linear(hidden_dim, z_dim)
        self.raw_scale = nn.Linear(hidden_dim, z_dim)
        self.off_diagonal = nn.Linear(hidden_dim, z_dim * (z_dim - 1) // 2)
        nn.init.zeros_(self.off_diagonal.weight)
        nn.init.zeros_(self.off_diagonal.bias)
        rows, cols = torch.tril_indices(z_dim, z_dim, offset=-1)
        self.register_buffer("rows", rows, persistent=False)
        self.register_buffer("cols", cols, persistent=False)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        checks.network_input(x, IMAGE_SHAPE, type(self).__name__, self.hidden.weight)
        h = F.softplus(self.hidden(x.flatten(1)))  # (B, hidden)
        unit = torch.eye(self.z_dim, device=h.device, dtype=h.dtype).expand(len(h), -1, -1)
        relative = unit.clone()  # I + M
        relative[:, self.rows, self.cols] = self.off_diagonal_scale * self.off_diagonal(h)
        scale = positive_scale(self.raw_scale(h))  # (B, d): the diagonal of L
        return self.loc(h), scale.unsqueeze(-1) * relative  # (B, d), (B, d, d): row i of I + M times s_i

    def rsample(self, params, n: int, *, eps=None, generator=None, stop_gradient: bool = False):
        """z = loc + L eps, (n, B, d), and log N(z; loc, L L^T), (n, B); see :func:`diagonal_rsample`."""
        loc, tril = params[0], params[1].tril()  # entries above the diagonal are ignored
        eps = standard_normal_noise((n, *loc.shape), loc, eps, generator)
        z = loc + torch.einsum("bij,nbj->nbi", tril, eps)  # (n, B, d)
        if stop_gradient:
            loc, tril = loc.detach(), tril.detach()
            centred = (z - loc).unsqueeze(-1)  # (n, B, d, 1)
            eps = torch.linalg.solve_triangular(tril.expand(n, *tril.shape), centred, upper=False).squeeze(-1)
        log_det = tril.diagonal(dim1=-2, dim2=-1).abs().log().sum(-1)  # (B,)
        return z, standard_normal_log_prob(eps) - log_det


class FlowEncoder(nn.Module):
    r"""A diagonal Gaussian pushed through ``n_flows`` conditional flow steps from ``pyro.distributions.transforms``.

    x -> 784 -> hidden -> (loc, log scale, context h); z_0 = loc + scale * eps, z_t = f_t(z_{t-1}; h) and,
    by the change of variables,

    .. math::
        \log q(z_T \mid x) = \log \mathcal{N}(z_0; \mathrm{loc}, \mathrm{diag}\,\mathrm{scale}^2)
        - \sum_{t=1}^{T} \log \Big\lvert \det \frac{\partial f_t}{\partial z_{t-1}} \Big\rvert .

    ``flow="iaf"``: inverse autoregressive flow steps (Kingma et al., 2016; Pyro's
    ``conditional_affine_autoregressive``, the numerically stable variant of their eq. 14): each unit is
    rescaled and shifted by amounts computed from the units before it, so the Jacobian is triangular and
    its log-determinant is the sum of the log scales. ``flow="planar"``: planar steps
    z + u tanh(w^T z + b) (Rezende & Mohamed, 2015; ``conditional_planar``), whose determinant is
    1 + u^T psi(z) by the matrix determinant lemma. Either way the log-determinant costs O(d), not
    the O(d^3) of a general Jacobian. The steps' parameters depend on x through the context h.
    Local parameters: ``(loc, log_scale, context)``. Taught in chapter 7.
    """

    def __init__(
        self,
        z_dim: int = 50,
        hidden_dim: int = 400,
        flow: str = "iaf",
        n_flows: int = 2,
        context_dim: int | None = None,
        flow_hidden: int | None = None,
    ):
        super().__init__()
        if flow not in FLOWS:
            raise ValueError(f"flow={flow!r} is not one of {FLOWS}")
        z_dim, hidden_dim = checks.whole_number(z_dim, "z_dim"), checks.whole_number(hidden_dim, "hidden_dim")
        if checks.whole_number(n_flows, "n_flows", minimum=0) < 1:
            raise ValueError(f"n_flows={n_flows}: a flow encoder needs at least one step (else use MLPEncoder)")
        self.z_dim, self.flow = z_dim, flow
        context_dim = context_dim or z_dim
        flow_hidden = flow_hidden or 2 * z_dim
        self.hidden = nn.Linear(N_PIXELS, hidden_dim)
        self.loc = nn.Linear(hidden_dim, z_dim)
        self.raw_scale = nn.Linear(hidden_dim, z_dim)
        self.context = nn.Linear(hidden_dim, context_dim)
        if flow == "iaf":
            steps = [
                T.conditional_affine_autoregressive(z_dim, context_dim, hidden_dims=[flow_hidden], stable=True)
                for _ in range(n_flows)
            ]
        else:
            steps = [T.conditional_planar(z_dim, context_dim, hidden_dims=[flow_hidden]) for _ in range(n_flows)]
        self.steps = nn.ModuleList(steps)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        checks.network_input(x, IMAGE_SHAPE, type(self).__name__, self.hidden.weight)
        h = F.softplus(self.hidden(x.flatten(1)))  # (B, hidden)
        return self.loc(h), positive_scale(self.raw_scale(h)).log(), self.context(h)  # (B, d), (B, d), (B, c)

    def rsample(self, params, n: int, *, eps=None, generator=None, stop_gradient: bool = False):
        """z_T (n, B, d) and log q(z_T|x) (n, B), accumulating each step's log-determinant."""
        if stop_gradient:
            raise NotImplementedError(
                "log q(z) with the parameters held fixed needs the flow's inverse at z (for IAF a pass per latent "
                "unit); the doubly reparameterized estimator is implemented for the Gaussian encoders only"
            )
        loc, log_scale, context = params
        z, log_q = diagonal_rsample((loc, log_scale), n, eps=eps, generator=generator)
        for step in self.steps:
            transform = step.condition(context)  # broadcasts the context (B, c) over the samples
            z_next = transform(z)
            log_q = log_q - transform.log_abs_det_jacobian(z, z_next)
            z = z_next
        return z, log_q


@torch.no_grad()
def posterior_mean(encoder: nn.Module, x: torch.Tensor, samples: int = 256, generator=None) -> torch.Tensor:
    """E_q[z|x] per image, (B, d): ``loc`` for the Gaussian encoders, a Monte-Carlo mean for a flow.

    The flow's samples use the *same* noise for every image (common random numbers), so a unit whose
    q does not depend on x gets exactly the same mean for every image, and its activity
    (:func:`vaelib.active_units`) is not inflated by sampling noise. The encoder runs in eval mode without
    gradients and keeps its mode, so a batch-norm encoder's statistics are not changed. Taught in chapter 7.
    """
    samples = checks.whole_number(samples, "samples")
    with eval_mode(encoder), torch.no_grad():
        params = local_params(encoder, x)
        if not isinstance(encoder, FlowEncoder):
            return params[0]
        loc = params[0]
        eps = standard_normal_noise((samples, 1, loc.shape[1]), loc, None, generator).expand(-1, len(loc), -1)
        z, _ = encoder.rsample(params, samples, eps=eps)
        return z.mean(0)


def count_parameters(module: nn.Module) -> int:
    """Number of trainable parameters, for comparing encoders of different families."""
    return sum(p.numel() for p in module.parameters() if p.requires_grad)
