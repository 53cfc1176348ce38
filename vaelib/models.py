"""Encoders and decoders for 28x28 images.

Every encoder maps images (B, 1, 28, 28) to the parameters ``(loc, scale)`` of a
diagonal Gaussian q(z | x), each (B, z_dim); every decoder maps latents (B, z_dim) to
Bernoulli *logits* (B, 1, 28, 28). Logits, not probabilities, so the loss can use the
numerically stable ``binary_cross_entropy_with_logits``.

The MLP pair has the sizes of Pyro's VAE tutorial (784-400-z); the convolutional pair
halves the resolution twice (28 -> 14 -> 7) and mirrors it back.
"""

from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F

from . import checks
from .data import IMAGE_SHAPE, N_PIXELS
from .settings import check_generator

MIN_SCALE = 1e-4  # floor on the posterior standard deviation: keeps log(scale) finite
LEAKY_SLOPE = 0.2  # negative slope of the conv pair's leaky ReLUs (the DCGAN habit)
KERNEL, STRIDE, PADDING = 4, 2, 1  # each conv layer halves (each transposed conv doubles) height and width
FEATURE_SIDE = IMAGE_SHAPE[-1] // STRIDE**2  # 28 -> 14 -> 7: the side of the conv pair's feature maps


def positive_scale(raw: torch.Tensor) -> torch.Tensor:
    """softplus(raw) + MIN_SCALE: smooth, never zero, and linear (not exponential) for large raw."""
    return F.softplus(raw) + MIN_SCALE


def _sized(module: nn.Module, z_dim, sizes, name: str):
    """Check ``z_dim`` and the layer ``sizes`` (:func:`_check_sizes`), keep ``module.z_dim``; return the sizes."""
    _check_sizes(z_dim, sizes, name, type(module).__name__)
    module.z_dim = z_dim
    return sizes


def _check_sizes(z_dim, sizes, name: str, what: str) -> None:
    """``z_dim`` and the layer sizes (``hidden_dim``, or the two ``channels``) must be whole numbers >= 1."""
    checks.whole_number(z_dim, f"{what}'s z_dim")
    if name == "channels" and (not isinstance(sizes, (tuple, list)) or len(sizes) != 2):
        raise ValueError(f"{what}'s channels must be two whole numbers (c1, c2), got {sizes!r}.")
    for size in sizes if name == "channels" else [sizes]:
        checks.whole_number(size, f"{what}'s {name}")


class MLPEncoder(nn.Module):
    """x (B, 1, 28, 28) -> 784 -> hidden -> (loc, scale), each (B, z_dim).

    Taught in chapter 3; used in chapters 7 and 8.
    """

    def __init__(self, z_dim: int = 50, hidden_dim: int = 400):
        super().__init__()
        _check_sizes(z_dim, hidden_dim, "hidden_dim", type(self).__name__)
        self.z_dim = z_dim
        self.hidden = nn.Linear(N_PIXELS, hidden_dim)
        self.loc = nn.Linear(hidden_dim, z_dim)
        self.raw_scale = nn.Linear(hidden_dim, z_dim)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        checks.network_input(x, IMAGE_SHAPE, type(self).__name__, self.hidden.weight)
        h = F.softplus(self.hidden(x.flatten(1)))  # (B, hidden)
        return self.loc(h), positive_scale(self.raw_scale(h))  # (B, z), (B, z)


class MLPDecoder(nn.Module):
    """z (B, z_dim) -> hidden -> 784 Bernoulli logits, returned as (B, 1, 28, 28).

    Taught in chapter 3; used in chapter 7.
    """

    def __init__(self, z_dim: int = 50, hidden_dim: int = 400):
        super().__init__()
        _check_sizes(z_dim, hidden_dim, "hidden_dim", type(self).__name__)
        self.z_dim = z_dim
        self.hidden = nn.Linear(z_dim, hidden_dim)
        self.logits = nn.Linear(hidden_dim, N_PIXELS)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        checks.network_input(z, (self.z_dim,), type(self).__name__, self.hidden.weight)
        h = F.softplus(self.hidden(z))  # (B, hidden)
        return self.logits(h).view(-1, *IMAGE_SHAPE)  # (B, 1, 28, 28)


def _down(c_in: int, c_out: int) -> nn.Sequential:
    """Halve height and width: 4x4 convolution, stride 2, then batch norm and leaky ReLU."""
    return nn.Sequential(
        nn.Conv2d(c_in, c_out, KERNEL, stride=STRIDE, padding=PADDING), nn.BatchNorm2d(c_out), nn.LeakyReLU(LEAKY_SLOPE)
    )


def _up(c_in: int, c_out: int) -> nn.Sequential:
    """Double height and width: 4x4 transposed convolution, stride 2, then batch norm and leaky ReLU."""
    return nn.Sequential(
        nn.ConvTranspose2d(c_in, c_out, KERNEL, stride=STRIDE, padding=PADDING),
        nn.BatchNorm2d(c_out),
        nn.LeakyReLU(LEAKY_SLOPE),
    )


class ConvEncoder(nn.Module):
    """x (B, 1, 28, 28) -> (B, c1, 14, 14) -> (B, c2, 7, 7) -> two linear heads (loc, scale).

    Taught in chapter 4 (through VAE.conv).
    """

    def __init__(self, z_dim: int = 16, channels: tuple[int, int] = (32, 64)):
        super().__init__()
        c1, c2 = _sized(self, z_dim, channels, "channels")
        features = c2 * FEATURE_SIDE**2
        self.features = nn.Sequential(_down(1, c1), _down(c1, c2), nn.Flatten())  # (B, c2 * 7 * 7)
        self.loc = nn.Linear(features, z_dim)
        self.raw_scale = nn.Linear(features, z_dim)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        checks.network_input(x, IMAGE_SHAPE, type(self).__name__, self.loc.weight)
        h = self.features(x)
        return self.loc(h), positive_scale(self.raw_scale(h))


class ConvDecoder(nn.Module):
    """z (B, z_dim) -> (B, c2, 7, 7) -> (B, c1, 14, 14) -> logits (B, 1, 28, 28).

    Taught in chapter 4 (through VAE.conv).
    """

    def __init__(self, z_dim: int = 16, channels: tuple[int, int] = (32, 64)):
        super().__init__()
        c1, c2 = _sized(self, z_dim, channels, "channels")
        side = FEATURE_SIDE
        self.project = nn.Sequential(
            nn.Linear(z_dim, c2 * side**2), nn.LeakyReLU(LEAKY_SLOPE), nn.Unflatten(1, (c2, side, side))
        )
        self.upsample = nn.Sequential(_up(c2, c1), nn.ConvTranspose2d(c1, 1, KERNEL, stride=STRIDE, padding=PADDING))

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        checks.network_input(z, (self.z_dim,), type(self).__name__, self.project[0].weight)
        return self.upsample(self.project(z))  # (B, 1, 28, 28)


class VAE(nn.Module):
    """An encoder and a decoder that share ``z_dim``; the losses take them apart again.

    Taught in chapter 1; used in chapters 2, 3, 4, 5, 6, 7, 9, 10, 11.
    """

    def __init__(self, encoder: nn.Module, decoder: nn.Module):
        super().__init__()
        checks.module(encoder, "encoder", ("z_dim",))
        checks.module(decoder, "decoder", ("z_dim",))
        if encoder.z_dim != decoder.z_dim:
            raise ValueError(f"encoder has z_dim={encoder.z_dim} but decoder has z_dim={decoder.z_dim}")
        self.encoder, self.decoder = encoder, decoder
        self.z_dim = encoder.z_dim

    @classmethod
    def mlp(cls, z_dim: int = 50, hidden_dim: int = 400) -> VAE:
        """The 784-400-z network pair of Pyro's VAE tutorial."""
        return cls(MLPEncoder(z_dim, hidden_dim), MLPDecoder(z_dim, hidden_dim))

    @classmethod
    def conv(cls, z_dim: int = 16, channels: tuple[int, int] = (32, 64)) -> VAE:
        """The convolutional pair (28 -> 14 -> 7 and back)."""
        return cls(ConvEncoder(z_dim, channels), ConvDecoder(z_dim, channels))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Reconstruction probabilities, decoding the posterior mean (for pictures, not for training)."""
        loc, _ = self.encoder(x)
        return torch.sigmoid(self.decoder(loc))

    @torch.no_grad()
    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """Pixel probabilities decoded from ``n`` draws of the prior N(0, I): (n, 1, 28, 28)."""
        n = checks.whole_number(n, "n (the number of samples)")
        device = next(self.parameters()).device
        check_generator(generator, device)
        z = torch.randn(n, self.z_dim, device=device, generator=generator)
        return torch.sigmoid(self.decoder(z))
