r"""A Gaussian diffusion model read as a hierarchical VAE whose encoder is fixed (or has one learned curve).

Data values ``v`` (pixels mapped to [-1, 1], or latent codes) are noised by the *encoder*
:math:`q(z_t \mid v) = \mathcal N(\alpha_t v, \sigma_t^2 I)`, variance preserving
(:math:`\alpha_t^2 + \sigma_t^2 = 1`), for t in [0, 1]. Everything is written with
:math:`\gamma(t) = -\log \mathrm{SNR}(t) = \log(\sigma_t^2 / \alpha_t^2)`, increasing in t, as in Kingma
et al. (2021, VDM): :math:`\sigma_t^2 = \mathrm{sigmoid}(\gamma_t)`, :math:`\alpha_t^2 = \mathrm{sigmoid}(-\gamma_t)`.
The *decoder* is a network :math:`\hat\epsilon(z_t, t)` that predicts the noise, so
:math:`\hat v = (z_t - \sigma_t \hat\epsilon)/\alpha_t`, and :math:`p(z_s \mid z_t) = q(z_s \mid z_t, v = \hat v)`.

With T steps (t_i = i / T, s = t_{i-1}) the ELBO is a prior term, T KL terms and a reconstruction:

.. math::
    \mathcal L = \underbrace{\mathbb E\log p(v \mid z_0)}_{\text{reconstruction}}
    - \underbrace{\mathrm{KL}(q(z_1 \mid v)\,\|\,\mathcal N(0, I))}_{\text{prior}}
    - \sum_{i=1}^{T} \underbrace{\mathbb E_{q(z_{t_i} \mid v)}
      \mathrm{KL}\big(q(z_{s} \mid z_{t_i}, v)\,\|\,p(z_{s} \mid z_{t_i})\big)}_{\text{step } i},

each step's KL between two Gaussians of one variance, which VDM (eq. 13) shows to be
:math:`\tfrac12(\mathrm{SNR}(s) - \mathrm{SNR}(t))\lVert v - \hat v\rVert^2
= \tfrac12 \operatorname{expm1}(\gamma_t - \gamma_s)\lVert\epsilon - \hat\epsilon\rVert^2`. So the DDPM
"simple" loss :math:`\sum_i \lVert \epsilon - \hat\epsilon \rVert^2` (Ho et al., 2020) is the ELBO's KL
sum with the weights :func:`elbo_weights` replaced by ones. As T grows the sum tends to VDM's
continuous-time loss :math:`\tfrac12 \mathbb E_{t \sim U(0,1)}\, \gamma'(t) \lVert\epsilon - \hat\epsilon\rVert^2`.

The reconstruction term is discrete: data take ``levels`` values (2 for binarized pixels), and
:math:`p(v \mid z_0)` puts on each level the mass proportional to :math:`q(z_0 \mid v)` (VDM, Appendix C),
so the ELBO bounds the log-*probability* of discrete data and ``-ELBO / (D log 2)`` is bits per
dimension without any dequantization (:func:`bits_per_dim`). With ``levels=None`` (latent codes) it is
the Gaussian density :math:`\mathcal N(v; z_0/\alpha_0, \sigma_0^2/\alpha_0^2)`: a density, not a
probability, and its bits per dimension are of another kind.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F

from .. import checks
from ..gaussians import diagonal_gaussian_kl, diagonal_normal_log_prob, gaussian_kl_to_standard
from ..losses import ELBOTerms
from ..sampling import standard_normal_noise

GAMMA_MIN, GAMMA_MAX = -13.3, 5.0  # VDM's starting endpoints of gamma = -log SNR (their Appendix)
TIME_FREQUENCIES = 16  # sinusoidal features of t given to the noise predictor


def discrete_gamma_min(levels: int) -> float:
    r"""A starting gamma(0) for data on ``levels`` evenly spaced values in [-1, 1]: :math:`2\log(\Delta/8)`.

    At t = 0 the noise on v, :math:`\sigma_0/\alpha_0 = e^{\gamma_0/2}`, is then an eighth of the spacing
    :math:`\Delta = 2/(L-1)` between levels, so the discrete decoder tells the levels apart with an error
    probability of about 6e-5 per dimension, and no time is spent denoising below that noise. For 8-bit data
    it gives -13.9, close to VDM's -13.3; for binarized pixels, -2.8. (With VDM's -13.3 on binary pixels,
    most of [0, 1] lies where the data are already determined, and a short CPU run measured a far worse
    bound: see the design note in ``vaelib.hierarchy``.) Taught in chapter 11.
    """
    levels = checks.whole_number(levels, "levels", minimum=2)
    return 2 * math.log(2 / (levels - 1) / 8)


class NoiseSchedule(nn.Module):
    """gamma(t) = -log SNR(t) for t in [0, 1], increasing; subclasses define ``forward(t)``. Used in chapter 11
    through FixedSchedule, LearnedSchedule and DDPMSchedule."""

    def alpha_sigma(self, t: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(gamma, alpha, sigma) at ``t``."""
        gamma = self(t)
        return gamma, torch.sigmoid(-gamma).sqrt(), torch.sigmoid(gamma).sqrt()


class FixedSchedule(NoiseSchedule):
    """gamma linear in t from ``gamma_min`` to ``gamma_max``: log SNR falls linearly (VDM's fixed baseline).
    Taught in chapter 11."""

    def __init__(self, gamma_min: float = GAMMA_MIN, gamma_max: float = GAMMA_MAX):
        super().__init__()
        low = checks.real_number(gamma_min, "gamma_min")
        high = checks.real_number(gamma_max, "gamma_max")
        if not low < high:
            raise ValueError(f"gamma_min ({low}) must be below gamma_max ({high}): noise must grow with t.")
        self.register_buffer("ends", torch.tensor([low, high]))

    def forward(self, t: torch.Tensor) -> torch.Tensor:
        return self.ends[0] + (self.ends[1] - self.ends[0]) * t


class DDPMSchedule(NoiseSchedule):
    r"""DDPM's linear beta schedule (Ho et al., 2020: beta from 1e-4 to 0.02 over 1,000 steps) in continuous time.

    The variance-preserving SDE of Song et al. (2021) with :math:`\beta_{\min} = 0.1`, :math:`\beta_{\max} = 20`
    is its limit: :math:`-\log\bar\alpha(u) = \beta_{\min} u + (\beta_{\max} - \beta_{\min}) u^2 / 2`, and
    :math:`\gamma = \log \operatorname{expm1}(-\log\bar\alpha)`. Time starts at ``u_min`` = 1/1000, DDPM's
    first step (where gamma is about -9.2), since gamma(0) would be minus infinity:
    :math:`u = u_{\min} + (1 - u_{\min})\, t`. Unlike :class:`FixedSchedule` (gamma linear in t, for which the
    ELBO's per-step weights are all equal), its per-step ELBO weights vary over t. Taught in chapter 11.
    """

    def __init__(self, beta_min: float = 0.1, beta_max: float = 20.0, u_min: float = 1e-3):
        super().__init__()
        self.beta_min = checks.real_number(beta_min, "beta_min", positive=True)
        self.beta_max = checks.real_number(beta_max, "beta_max", positive=True)
        self.u_min = checks.real_number(u_min, "u_min", positive=True)
        if not self.beta_min < self.beta_max or not self.u_min < 1:
            raise ValueError(f"need beta_min < beta_max and u_min < 1, got {beta_min}, {beta_max}, {u_min}.")

    def forward(self, t: torch.Tensor) -> torch.Tensor:
        u = self.u_min + (1 - self.u_min) * t
        return torch.log(torch.expm1(self.beta_min * u + 0.5 * (self.beta_max - self.beta_min) * u.pow(2)))


class PositiveLinear(nn.Linear):
    """A linear layer whose weights are softplus(raw) > 0, so the map is increasing in every input."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.linear(x, F.softplus(self.weight), self.bias)


class LearnedSchedule(NoiseSchedule):
    r"""VDM's learned monotone gamma(t) (Kingma et al., 2021, Appendix H). Taught in chapter 11.

    :math:`\tilde\gamma(t) = l_1(t) + l_3(\mathrm{sigmoid}(l_2(l_1(t))))` with positive weights, rescaled so
    that :math:`\gamma(0) = \gamma_0` and :math:`\gamma(1) = \gamma_1`, both learned
    (:math:`\gamma_1 = \gamma_0 + \mathrm{softplus}(\cdot)`, so the curve always increases). Trained
    with the ELBO only, its interior shape does not change the continuous-time bound (VDM, Sec. 5.1),
    only the variance of its estimate; VDM tunes it to minimise that variance, which is not done here.
    """

    def __init__(self, gamma_min: float = GAMMA_MIN, gamma_max: float = GAMMA_MAX, hidden: int = 64):
        super().__init__()
        low, high = checks.real_number(gamma_min, "gamma_min"), checks.real_number(gamma_max, "gamma_max")
        if not low < high:
            raise ValueError(f"gamma_min ({low}) must be below gamma_max ({high}).")
        self.l1, self.l2, self.l3 = PositiveLinear(1, 1), PositiveLinear(1, hidden), PositiveLinear(hidden, 1)
        self.gamma_0 = nn.Parameter(torch.tensor(low))
        self.raw_span = nn.Parameter(torch.tensor(high - low).expm1().log())  # softplus^-1(high - low)

    def shape(self, t: torch.Tensor) -> torch.Tensor:
        h = self.l1(t.unsqueeze(-1))
        return (h + self.l3(torch.sigmoid(self.l2(h)))).squeeze(-1)

    def forward(self, t: torch.Tensor) -> torch.Tensor:
        ends = self.shape(torch.tensor([0.0, 1.0], device=t.device, dtype=t.dtype))
        unit = (self.shape(t) - ends[0]) / (ends[1] - ends[0])
        return self.gamma_0 + F.softplus(self.raw_span) * unit


class NoisePredictor(nn.Module):
    r"""epsilon-hat(z_t, t): an MLP on z_t (B, D) and sinusoidal features of t (B,) -> (B, D).

    ``fourier`` (exponents n, e.g. ``(3, 4, 5)``) adds VDM's Fourier features of the input,
    :math:`\sin(2^n \pi z)` and :math:`\cos(2^n \pi z)` for every value of z_t (Kingma et al., 2021,
    Appendix C): at low noise the network must read the small offset of z_t from the nearest data level,
    a sawtooth function of z_t that an MLP on z_t alone learns slowly; features whose period is about the
    spacing of the levels hand it over. Used in chapter 11 through DiffusionVAE.
    """

    def __init__(self, dim: int, hidden_dim: int = 512, fourier: tuple[int, ...] = ()):
        super().__init__()
        self.dim = checks.whole_number(dim, "dim (values per example)")
        hidden_dim = checks.whole_number(hidden_dim, "hidden_dim")
        if not isinstance(fourier, (tuple, list)) or not all(isinstance(n, int) for n in fourier):
            raise TypeError(f"fourier must be a tuple of whole-number exponents such as (3, 4, 5), got {fourier!r}.")
        self.register_buffer("frequencies", math.pi * torch.arange(1, TIME_FREQUENCIES + 1, dtype=torch.float32))
        self.register_buffer("fourier", math.pi * 2.0 ** torch.tensor(list(fourier), dtype=torch.float32))
        n_in = dim * (1 + 2 * len(fourier)) + 2 * TIME_FREQUENCIES
        self.net = nn.Sequential(
            nn.Linear(n_in, hidden_dim),
            nn.SiLU(),
            nn.Linear(hidden_dim, hidden_dim),
            nn.SiLU(),
            nn.Linear(hidden_dim, dim),
        )

    def forward(self, z: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        angles = t.unsqueeze(-1) * self.frequencies  # (B, F)
        parts = [z, angles.sin(), angles.cos()]
        if len(self.fourier):
            waves = (z.unsqueeze(-1) * self.fourier).flatten(1)  # (B, D * N)
            parts += [waves.sin(), waves.cos()]
        return self.net(torch.cat(parts, -1))


class DiffusionVAE(nn.Module):
    r"""A diffusion model as a VAE: ``encoder`` is the noise schedule, ``decoder`` the noise predictor.
    Taught in chapter 11.

    ``dim`` values per example; ``levels`` the number of values each data dimension takes (2 for
    binarized pixels, 17 for the 8x8 digits' grey levels), mapped evenly onto [-1, 1], or ``None`` for
    continuous values (latent codes). ``schedule`` defaults to :class:`FixedSchedule` from
    :func:`discrete_gamma_min` (discrete data) or VDM's -13.3 (continuous values) to 5; pass
    :class:`LearnedSchedule` for VDM. Train with ``vaelib.fit(model, train, objective=DiffusionObjective())``.

    ``fourier`` (exponents, e.g. ``(3, 4, 5)``) gives the noise predictor VDM's Fourier features of z_t (see
    :class:`NoisePredictor`): for data on levels, features whose period is about the levels' spacing.

    ``pool`` (a whole number) first averages images (B, 1, H, W) over ``pool`` x ``pool`` blocks: a binarized
    28x28 digit pooled with ``pool=4`` becomes a 7x7 image whose 49 values are counts of black pixels,
    k/16 with k = 0..16, i.e. ``dim=49, levels=17`` exactly. A smaller data set, made from binarized MNIST,
    on which a CPU can train a diffusion model to a meaningful bound (see the design note).
    """

    def __init__(
        self,
        dim: int,
        levels: int | None = 2,
        *,
        hidden_dim: int = 512,
        schedule: NoiseSchedule | None = None,
        pool: int | None = None,
        fourier: tuple[int, ...] = (),
    ):
        super().__init__()
        self.pool = None if pool is None else checks.whole_number(pool, "pool (block size)")
        if levels is not None:
            levels = checks.whole_number(levels, "levels (values each data dimension takes)", minimum=2)
        if schedule is not None and not isinstance(schedule, NoiseSchedule):
            raise TypeError(f"schedule must be a vaelib.hierarchy NoiseSchedule, got {type(schedule).__name__}.")
        self.levels = levels
        if schedule is None:
            schedule = FixedSchedule(GAMMA_MIN if levels is None else discrete_gamma_min(levels), GAMMA_MAX)
        self.encoder = schedule
        self.decoder = NoisePredictor(dim, hidden_dim, fourier)
        self.dim = self.decoder.dim

    def values(self, x: torch.Tensor) -> torch.Tensor:
        """The diffused vector v (B, dim) of a batch: pixels in [0, 1] -> the nearest of ``levels`` values in
        [-1, 1] (the data are quantized here, explicitly); continuous values are only flattened."""
        if self.pool is not None:
            if x.dim() != 4:
                raise ValueError(
                    f"pool={self.pool} averages images (B, 1, H, W); got a batch of shape {tuple(x.shape)}."
                )
            x = F.avg_pool2d(x, self.pool)
        v = x.flatten(1)
        if v.shape[1] != self.dim:
            raise ValueError(f"a batch of {v.shape[1]} values per example reached a model of dim={self.dim}.")
        if self.levels is None:
            return v
        return 2 * torch.round(v.clamp(0, 1) * (self.levels - 1)) / (self.levels - 1) - 1

    def level_values(self, like: torch.Tensor) -> torch.Tensor:
        return torch.linspace(-1.0, 1.0, self.levels, device=like.device, dtype=like.dtype)


def _check_model(model) -> DiffusionVAE:
    if not isinstance(model, DiffusionVAE):
        raise TypeError(f"expected a vaelib.hierarchy.DiffusionVAE, got {type(model).__name__}.")
    return model


def _check_values(model: DiffusionVAE, v, name: str = "v") -> torch.Tensor:
    """``v`` unless it is not a finite (B, dim) batch of diffused values (one host sync: for scoring, not training)."""
    checks.tensor(v, name, floating=True)
    if v.dim() != 2 or v.shape[1] != model.dim:
        raise ValueError(
            f"{name} must be a batch of shape (B, {model.dim}) (model.values(x) makes one from images), got "
            f"{tuple(v.shape)}."
        )
    low, high = checks.value_range(v)
    if not (math.isfinite(low) and math.isfinite(high)):
        raise ValueError(f"{name} holds NaN or infinite values (range [{low:.3g}, {high:.3g}]); check how it was made.")
    return v


def _check_images(model: DiffusionVAE, x) -> torch.Tensor:
    """``x`` unless it holds NaN, or (discrete data) pixels outside [0, 1] that values() would clamp silently."""
    checks.tensor(x, "x", floating=True)
    low, high = checks.value_range(x)
    problem = checks.pixel_range_problem(low, high) if model.levels is not None else None
    if problem is None and not (math.isfinite(low) and math.isfinite(high)):
        problem = "contain NaN or infinite values; check how they were made"
    if problem:
        raise ValueError(f"the images x {problem}.")
    return x


def reconstruction_log_prob(model: DiffusionVAE, v: torch.Tensor, eps: torch.Tensor) -> torch.Tensor:
    r"""log p(v | z_0) at z_0 = alpha_0 v + sigma_0 eps, per example (B,).

    Discrete data: each dimension is a categorical over the levels l_k with logits
    :math:`-(z_0 - \alpha_0 l_k)^2 / (2\sigma_0^2)`; continuous data:
    :math:`\mathcal N(v; z_0/\alpha_0, \sigma_0^2/\alpha_0^2)`.
    """
    _, alpha, sigma = model.encoder.alpha_sigma(torch.zeros((), device=v.device, dtype=v.dtype))
    z0 = alpha * v + sigma * eps
    if model.levels is None:
        scale = sigma / alpha
        return diagonal_normal_log_prob(z0 / alpha, scale.expand_as(z0), v, validate=False)
    levels = model.level_values(v)  # (L,)
    logits = -0.5 * ((z0.unsqueeze(-1) - alpha * levels) / sigma).pow(2)  # (B, D, L)
    index = torch.round((v + 1) / 2 * (model.levels - 1)).long().unsqueeze(-1)
    return logits.log_softmax(-1).gather(-1, index).squeeze(-1).sum(-1)


def prior_kl(model: DiffusionVAE, v: torch.Tensor) -> torch.Tensor:
    """KL(q(z_1 | v) || N(0, I)) per example (B,), in closed form (vaelib.gaussian_kl_to_standard). Taught in
    chapter 11."""
    model = _check_model(model)
    _check_values(model, v)
    _, alpha, sigma = model.encoder.alpha_sigma(torch.ones((), device=v.device, dtype=v.dtype))
    return gaussian_kl_to_standard(alpha * v, sigma.expand_as(v), validate=False)


def step_kl(model: DiffusionVAE, v: torch.Tensor, s: torch.Tensor, t: torch.Tensor, eps: torch.Tensor):
    r"""KL(q(z_s | z_t, v) || p(z_s | z_t)) at z_t = alpha_t v + sigma_t eps, per example (B,), with s < t (B,).

    In closed form with :func:`vaelib.gaussians.diagonal_gaussian_kl`, from the posterior of the forward
    process: with :math:`\sigma_{t|s}^2 = -\sigma_t^2 \operatorname{expm1}(\gamma_s - \gamma_t)`,
    :math:`\mu_Q = \alpha_{t|s}\sigma_s^2/\sigma_t^2\, z_t + \alpha_s \sigma_{t|s}^2/\sigma_t^2\, v` and
    :math:`\sigma_Q^2 = \sigma_{t|s}^2 \sigma_s^2 / \sigma_t^2`; p replaces v by v-hat. Also returns
    ||eps - eps-hat||^2 (B,), so that the KL can be checked against its weighted form. Taught in chapter 11.
    """
    model = _check_model(model)
    _check_values(model, v)
    checks.tensor(eps, "eps", floating=True)
    checks.same_shape(v, eps, "v and eps", "eps is one standard normal draw per value of v")
    for name, time in (("s", s), ("t", t)):
        checks.tensor(time, name, floating=True)
        if time.shape != v.shape[:1]:
            raise ValueError(f"{name} must hold one time per example, shape ({len(v)},), got {tuple(time.shape)}.")
    low, high = checks.value_range(torch.stack([s, t - s, 1 - t]))
    if not (low >= 0 and (t > s).all()):
        raise ValueError("step_kl needs 0 <= s < t <= 1 for every example (s is the earlier, less noisy time).")
    return _step_kl(model, v, s, t, eps)


def _step_kl(model: DiffusionVAE, v: torch.Tensor, s: torch.Tensor, t: torch.Tensor, eps: torch.Tensor):
    """step_kl without its checks (no host sync): what training and diffusion_terms call."""
    gamma_s, alpha_s, sigma_s = (a.unsqueeze(-1) for a in model.encoder.alpha_sigma(s))
    gamma_t, alpha_t, sigma_t = (a.unsqueeze(-1) for a in model.encoder.alpha_sigma(t))
    z_t = alpha_t * v + sigma_t * eps
    eps_hat = model.decoder(z_t, t)
    v_hat = (z_t - sigma_t * eps_hat) / alpha_t
    shrink = -torch.expm1(gamma_s - gamma_t)  # sigma_{t|s}^2 / sigma_t^2
    from_z = (alpha_t / alpha_s) * sigma_s.pow(2) / sigma_t.pow(2) * z_t
    scale_q = (shrink * sigma_s.pow(2)).sqrt().expand_as(v)
    kl = diagonal_gaussian_kl(from_z + alpha_s * shrink * v, scale_q, from_z + alpha_s * shrink * v_hat, scale_q)
    return kl, (eps - eps_hat).pow(2).sum(-1)


def elbo_weights(model: DiffusionVAE, steps: int) -> torch.Tensor:
    r"""The weights w_i (T,) with KL_i = w_i ||eps - eps-hat_i||^2:
    :math:`w_i = \tfrac12\operatorname{expm1}(\gamma_{t_i} - \gamma_{t_{i-1}})`.

    The DDPM simple loss sums ||eps - eps-hat_i||^2 with weight 1 instead: it is this ELBO's KL sum
    reweighted by 1 / w_i (Ho et al., 2020, Sec. 3.4; Kingma et al., 2021). Taught in chapter 11.
    """
    model = _check_model(model)
    steps = checks.whole_number(steps, "steps (T)")
    grid = torch.linspace(0.0, 1.0, steps + 1, device=_device(model))
    with torch.no_grad():
        gamma = model.encoder(grid)
    return 0.5 * torch.expm1(gamma[1:] - gamma[:-1])


def _device(model: nn.Module) -> torch.device:
    return next(model.parameters()).device


@dataclass
class DiffusionTerms:
    """The ELBO of a diffusion model term by term, per example: what :func:`diffusion_terms` returns (chapter 11)."""

    reconstruction: torch.Tensor  # (B,) log p(v | z_0)
    prior: torch.Tensor  # (B,) KL(q(z_1 | v) || N(0, I))
    steps: torch.Tensor  # (B, T) KL of step i = 1..T (t_i = i / T)

    @property
    def elbo(self) -> torch.Tensor:
        return self.reconstruction - self.prior - self.steps.sum(-1)


def diffusion_terms(
    model: DiffusionVAE,
    x: torch.Tensor,
    steps: int,
    *,
    chunk_steps: int = 50,
    generator: torch.Generator | None = None,
) -> DiffusionTerms:
    """Every term of the T-step ELBO for each example of ``x``, one fresh noise draw per term. Taught in chapter 11.

    Costs T passes of the noise predictor per example, ``chunk_steps`` steps at a time. The per-step
    table of the chapter is ``terms.steps.mean(0)``: where in t the bits are spent.
    """
    model = _check_model(model)
    steps = checks.whole_number(steps, "steps (T)")
    chunk_steps = checks.whole_number(chunk_steps, "chunk_steps")
    v = model.values(_check_images(model, x))
    b = v.shape[0]
    eps0 = standard_normal_noise(v.shape, v, None, generator)
    kls = []
    for start in range(1, steps + 1, chunk_steps):
        idx = torch.arange(start, min(start + chunk_steps, steps + 1), device=v.device, dtype=v.dtype)  # (C,)
        t = (idx / steps).repeat_interleave(b)
        s = ((idx - 1) / steps).repeat_interleave(b)
        eps = standard_normal_noise((len(t), v.shape[1]), v, None, generator)
        kl, _ = _step_kl(model, v.repeat(len(idx), 1), s, t, eps)
        kls.append(kl.view(len(idx), b).T)
    return DiffusionTerms(reconstruction_log_prob(model, v, eps0), prior_kl(model, v), torch.cat(kls, 1))


def step_kl_table(terms: DiffusionTerms, bins: int = 10) -> list[dict[str, float]]:
    """Where in t the bits are spent: the per-step KLs averaged over the examples, summed within ``bins``
    equal ranges of t. One row per range: ``t_from``, ``t_to``, ``nats`` (per example) and ``share`` of
    the KL sum. Taught in chapter 11.
    """
    if not isinstance(terms, DiffusionTerms):
        raise TypeError(f"terms must be the DiffusionTerms of diffusion_terms(...), got {type(terms).__name__}.")
    steps = terms.steps.shape[1]
    bins = checks.whole_number(bins, "bins")
    if steps % bins:
        raise ValueError(f"{steps} steps do not split into {bins} equal ranges; pick bins dividing T.")
    per_bin = terms.steps.mean(0).view(bins, steps // bins).sum(1).double()  # (bins,)
    total = per_bin.sum().item()
    return [
        {"t_from": i / bins, "t_to": (i + 1) / bins, "nats": value, "share": value / total}
        for i, value in enumerate(per_bin.tolist())
    ]


def _gamma_and_slope(schedule: NoiseSchedule, t: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """gamma(t) and gamma'(t), with a graph to the schedule's parameters when gradients are on (also under no_grad)."""
    outer = torch.is_grad_enabled()
    with torch.enable_grad():
        t = t.detach().requires_grad_(True)
        gamma = schedule(t)
        (slope,) = torch.autograd.grad(gamma.sum(), t, create_graph=outer)
    return (gamma, slope) if outer else (gamma.detach(), slope.detach())


class DiffusionObjective:
    r"""The diffusion ELBO (or DDPM's simple loss) as an ``objective=`` for :func:`vaelib.fit`. Taught in chapter 11.

    One draw per example of t and eps: with ``steps=None`` the continuous-time loss
    :math:`\tfrac12\gamma'(t)\lVert\epsilon - \hat\epsilon\rVert^2` (VDM eq. 17, t drawn low-discrepancy over
    the batch), with ``steps=T`` the discrete-time :math:`T\, w_i \lVert\epsilon - \hat\epsilon\rVert^2`, i
    uniform in 1..T. Returns :class:`~vaelib.ELBOTerms` whose ``kl`` is prior + that estimate, so fit
    records an unbiased estimate of the ELBO. ``loss="simple"`` trains on
    :math:`-\lVert\epsilon - \hat\epsilon\rVert^2` instead (Ho et al., 2020) while still recording the ELBO.
    """

    def __init__(self, steps: int | None = None, loss: str = "elbo"):
        self.steps = None if steps is None else checks.whole_number(steps, "steps (T)")
        if loss not in ("elbo", "simple"):
            raise ValueError(f"loss must be 'elbo' or 'simple', got {loss!r}.")
        self.loss = loss

    def __call__(self, model: DiffusionVAE, x: torch.Tensor) -> ELBOTerms:
        model = _check_model(model)
        v = model.values(x)
        b = v.shape[0]
        u = torch.rand((), device=v.device)
        if self.steps is None:
            t = torch.remainder(u + torch.arange(b, device=v.device) / b, 1.0)  # low-discrepancy times
            gamma, slope = _gamma_and_slope(model.encoder, t)
            eps = torch.randn_like(v)
            alpha, sigma = torch.sigmoid(-gamma).sqrt().unsqueeze(-1), torch.sigmoid(gamma).sqrt().unsqueeze(-1)
            error = (eps - model.decoder(alpha * v + sigma * eps, t)).pow(2).sum(-1)
            diffusion = 0.5 * slope * error
        else:
            i = torch.randint(1, self.steps + 1, (b,), device=v.device).to(v.dtype)
            kl, error = _step_kl(model, v, (i - 1) / self.steps, i / self.steps, torch.randn_like(v))
            diffusion = self.steps * kl
        reconstruction = reconstruction_log_prob(model, v, torch.randn_like(v))
        kl = prior_kl(model, v) + diffusion
        trained = reconstruction - kl if self.loss == "elbo" else -error
        return ELBOTerms(reconstruction, kl, trained)


@torch.no_grad()
def sample_diffusion(
    model: DiffusionVAE, n: int, steps: int, *, generator: torch.Generator | None = None
) -> torch.Tensor:
    """``n`` ancestral samples through the T-step model, (n, dim). Used in chapter 11 through LatentDiffusion.

    z_1 ~ N(0, I), then z_s ~ p(z_s | z_t) step by step; at t = 0 discrete data take the most probable
    level of p(v | z_0), mapped back to [0, 1]; continuous data return z_0 / alpha_0.
    """
    model = _check_model(model)
    n, steps = checks.whole_number(n, "n (samples)"), checks.whole_number(steps, "steps (T)")
    like = next(model.decoder.parameters())
    z = standard_normal_noise((n, model.dim), like, None, generator)
    for i in range(steps, 0, -1):
        t = torch.full((n,), i / steps, device=like.device)
        s = torch.full((n,), (i - 1) / steps, device=like.device)
        gamma_s, alpha_s, sigma_s = (a.unsqueeze(-1) for a in model.encoder.alpha_sigma(s))
        gamma_t, alpha_t, sigma_t = (a.unsqueeze(-1) for a in model.encoder.alpha_sigma(t))
        v_hat = (z - sigma_t * model.decoder(z, t)) / alpha_t
        shrink = -torch.expm1(gamma_s - gamma_t)
        loc = (alpha_t / alpha_s) * sigma_s.pow(2) / sigma_t.pow(2) * z + alpha_s * shrink * v_hat
        z = loc + (shrink * sigma_s.pow(2)).sqrt() * standard_normal_noise(z.shape, z, None, generator)
    _, alpha0, _ = model.encoder.alpha_sigma(torch.zeros((), device=like.device))
    if model.levels is None:
        return z / alpha0
    levels = model.level_values(z)
    nearest = (z.unsqueeze(-1) - alpha0 * levels).pow(2).argmin(-1)  # the mode of p(v | z_0)
    return nearest.to(z.dtype) / (model.levels - 1)


def bits_per_dim(elbo_nats: float, dims: int) -> float:
    r"""-ELBO / (D log 2): the bound in bits per data dimension. Taught in chapter 11.

    Meaningful as bits of *discrete* data when the ELBO bounds a log-probability (a discrete
    decoder, as :class:`DiffusionVAE` with ``levels``, or chapter 6's Bernoulli VAE). A bound on a
    density of continuous values (``levels=None``, or a Gaussian decoder on pixels) is on another
    scale: it changes with the units of the data, and it becomes comparable only after uniform
    dequantization, adding D log(bin width) (:func:`vaelib.discrete_to_density_offset` gives the offset
    for pixels in [0, 1]).
    """
    elbo_nats = checks.real_number(elbo_nats, "elbo_nats")
    dims = checks.whole_number(dims, "dims")
    return -elbo_nats / (dims * math.log(2))
