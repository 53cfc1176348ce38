r"""Latent diffusion in miniature: a diffusion model trained on the codes of a frozen VAE (Rombach et al., 2022).

The first stage is a trained VAE (chapter 4's convolutional one, say). Its codes
:math:`z \sim q(z \mid x)` are not unit-variance: a diffusion model whose forward process ends at
:math:`\mathcal N(0, I)` works best on data of about unit spread, so latent diffusion multiplies the
codes by one number, the *scale factor* :math:`1/\hat\sigma`, measured once on a batch of training codes
(Stable Diffusion's 0.18215 is such a number for its autoencoder). :class:`LatentDiffusion` encodes each
batch with the frozen VAE, scales it, and is trained as a :class:`~vaelib.hierarchy.diffusion.DiffusionVAE`
on continuous values; its samples are divided by the factor and decoded by the VAE's decoder.

Whether the learned latent prior fills the aggregate posterior better than :math:`\mathcal N(0, I)` is
measured in the chapter with chapter 9's measures (``vaelib.log_aggregate_posterior``: the share of
samples where q(z) is below a tenth of N(z; 0, I), and the mean log q(z) of the samples).
"""

from __future__ import annotations

import math

import torch
import torch.nn as nn

from .. import checks
from ..analysis import encode
from ..data import ImageData, check_data
from .diffusion import DiffusionVAE, NoiseSchedule, sample_diffusion


@torch.no_grad()
def latent_spread(
    encoder: nn.Module, data: ImageData, *, generator: torch.Generator | None = None
) -> dict[str, object]:
    r"""How spread out a trained encoder's codes are, and the factor that makes them unit-variance.
    Taught in chapter 11.

    Draws one code z ~ q(z | x) per image of ``data`` (vaelib.encode, in eval mode) and returns ``std``,
    the standard deviation of all their entries (one number, as latent diffusion measures it),
    ``scale_factor`` = 1 / std, ``mean`` (the entries' mean), ``per_dim_std`` (d,) and ``mean_posterior_scale``,
    the average of the encoder's own scales (how much of the spread is noise rather than signal).
    """
    checks.module(encoder, "encoder")
    check_data(data, "data")
    loc, scale = encode(encoder, data)
    noise = torch.randn(loc.shape, device=loc.device, generator=generator) if generator else torch.randn_like(loc)
    z = loc + scale * noise
    std = z.std().item()
    if not math.isfinite(std):
        raise ValueError("the encoder's codes hold NaN or infinite values: check the encoder (and its training run).")
    if not std > 0:
        raise ValueError("the codes do not vary (std 0): the encoder has collapsed; no scale factor exists.")
    return {
        "std": std,
        "scale_factor": 1.0 / std,
        "mean": z.mean().item(),
        "per_dim_std": z.std(0),
        "mean_posterior_scale": scale.mean().item(),
    }


class LatentDiffusion(DiffusionVAE):
    """A :class:`DiffusionVAE` on the scaled codes of a frozen VAE (``autoencoder``, with ``encoder`` and
    ``decoder``). Taught in chapter 11.

    ``values(x)`` encodes a batch of images, draws z ~ q(z | x) and multiplies it by ``scale_factor``
    (pass 1.0 to see what an unscaled latent space does). The autoencoder stays frozen and in eval
    mode, even while fit trains this module. Train with ``vaelib.fit(model, train,
    objective=DiffusionObjective(), parameters=model.trained_parameters())``.
    """

    def __init__(
        self,
        autoencoder: nn.Module,
        scale_factor: float,
        *,
        hidden_dim: int = 256,
        schedule: NoiseSchedule | None = None,
    ):
        checks.module(autoencoder, "autoencoder", ("encoder", "decoder", "z_dim"))
        super().__init__(autoencoder.z_dim, None, hidden_dim=hidden_dim, schedule=schedule)
        self.scale_factor = checks.real_number(scale_factor, "scale_factor", positive=True)
        self.autoencoder = autoencoder.eval().requires_grad_(False)

    def train(self, mode: bool = True) -> LatentDiffusion:
        super().train(mode)
        self.autoencoder.eval()  # batch norm keeps the statistics the VAE was trained with
        return self

    def trained_parameters(self) -> list[nn.Parameter]:
        """The schedule's and the noise predictor's parameters (not the frozen autoencoder's)."""
        return [*self.encoder.parameters(), *self.decoder.parameters()]

    def values(self, x: torch.Tensor) -> torch.Tensor:
        with torch.no_grad():
            loc, scale = self.autoencoder.encoder(x)
            return (loc + scale * torch.randn_like(loc)) * self.scale_factor

    @torch.no_grad()
    def sample_codes(self, n: int, steps: int, *, generator: torch.Generator | None = None) -> torch.Tensor:
        """``n`` codes (n, z_dim) in the VAE's own units: diffusion samples divided by the scale factor."""
        return sample_diffusion(self, n, steps, generator=generator) / self.scale_factor

    @torch.no_grad()
    def sample(self, n: int, steps: int, *, generator: torch.Generator | None = None) -> torch.Tensor:
        """``n`` images' pixel probabilities: sampled codes decoded by the frozen VAE."""
        return torch.sigmoid(self.autoencoder.decoder(self.sample_codes(n, steps, generator=generator)))
