r"""A small VQ-VAE (van den Oord et al., 2017) for 28x28 binary images: a 7x7 grid of codes from a codebook.

The encoder maps x to z_e (B, D, 7, 7); each of the 49 vectors is replaced by its nearest codebook
entry e_k (the code k), giving z_q; the decoder reads z_q and returns Bernoulli logits. The argmin
has no gradient, so the decoder's gradient with respect to z_q is copied onto z_e (the straight-through
estimator: z_q = z_e + sg[e_k - z_e] in value e_k). Per image, the training loss is (their objective,
with a Bernoulli decoder)

.. math::
    -\log p(x \mid z_q) + \lVert \mathrm{sg}[z_e] - e \rVert^2 + \beta \lVert z_e - \mathrm{sg}[e] \rVert^2

the squared norms summed over the 49 positions and the D dimensions (the reconstruction is summed
over the pixels too), beta = ``COMMITMENT`` by default. The second term (codebook loss) moves the codes toward
the encoder's outputs; the third (commitment loss) keeps the encoder near its codes. With ``ema=True``
the codebook loss is dropped and each code is instead the exponential moving average of the encoder
outputs assigned to it (the alternative van den Oord et al. describe), with Laplace smoothing of the counts.

Diagnostics: :func:`code_usage` counts how often each code is chosen over a data set, :func:`perplexity`
turns the counts into exp(entropy) (K when all codes are used equally, 1 when one code takes all),
:func:`dead_codes` lists the codes never chosen, :func:`revive_dead_codes` moves them onto encoder outputs
of a batch, and :class:`CodebookMonitor` does all of it after every epoch of :func:`vaelib.fit`.

For chapter 10 (discrete latents). Train with ``vaelib.fit(model, train, test, objective=vq_objective)``:
its history then holds log p(x | z_q) - 49 log K per image, the bound on log p(x) under a *uniform*
prior over the codes with the point-mass q (see :mod:`vaelib.discrete.prior`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import torch
import torch.nn as nn
import torch.nn.functional as F

from .. import checks
from ..data import IMAGE_SHAPE, ImageData, check_data
from ..loop import History, eval_mode
from ..losses import ELBOTerms, bernoulli_log_likelihood
from ..settings import check_generator

GRID = 7  # 28 -> 14 -> 7: the side of the code grid
COMMITMENT = 0.25  # beta, the weight of the commitment loss (a common default; check it against the paper)
EMA_DECAY = 0.99  # gamma, the moving average's weight on the past
EMA_EPSILON = 1e-5  # Laplace smoothing of the EMA counts


def check_codes(codes: torch.Tensor, n_codes: int, grid: int = GRID) -> torch.Tensor:
    """``codes`` unless it is not an integer (B, grid, grid) tensor of indices in [0, n_codes) (one host sync).

    For chapter 10 (discrete latents).
    """
    if not isinstance(codes, torch.Tensor):
        raise TypeError(f"codes must be a torch.Tensor of code indices, got {type(codes).__name__}.")
    if codes.is_floating_point() or codes.is_complex() or codes.dtype == torch.bool:
        raise TypeError(f"codes must hold integer code indices, got {codes.dtype}; use codes.long().")
    if codes.dim() != 3 or tuple(codes.shape[1:]) != (grid, grid):
        hint = "; add the batch dimension with codes.unsqueeze(0)" if tuple(codes.shape) == (grid, grid) else ""
        raise ValueError(f"codes must have shape (B, {grid}, {grid}), got {tuple(codes.shape)}{hint}.")
    if codes.numel():
        low, high = int(codes.min()), int(codes.max())
        if low < 0 or high >= n_codes:
            raise ValueError(
                f"codes must index the codebook of {n_codes} codes, 0 to {n_codes - 1}, but hold values in "
                f"[{low}, {high}]; were they made by a model with another codebook size?"
            )
    return codes


@dataclass
class Quantized:
    """What :class:`VectorQuantizer` returns for z_e (B, D, H, W). Used in chapter 10 through VQVAE."""

    straight_through: torch.Tensor  # (B, D, H, W): e_k in value, gradient copied onto z_e
    codes: torch.Tensor  # (B, H, W) int64: index of the nearest code at each position
    codebook_loss: torch.Tensor  # (B,): ||sg[z_e] - e||^2 summed (zero with the EMA codebook)
    commitment_loss: torch.Tensor  # (B,): ||z_e - sg[e]||^2 summed


class VectorQuantizer(nn.Module):
    """Nearest-neighbour lookup of D-dimensional vectors in a codebook of ``n_codes`` entries.

    ``ema=False``: the codebook is a parameter trained by the codebook loss. ``ema=True``: a buffer,
    updated in training mode on every forward pass as the moving average (``decay``) of the encoder
    outputs assigned to each code. Used in chapter 10 through VQVAE.
    """

    def __init__(self, n_codes: int = 64, code_dim: int = 16, *, ema: bool = False, decay: float = EMA_DECAY):
        super().__init__()
        n_codes = checks.whole_number(n_codes, "n_codes")
        if n_codes < 2:
            raise ValueError(f"n_codes must be at least 2 (one code carries no information), got {n_codes}.")
        code_dim = checks.whole_number(code_dim, "code_dim")
        checks.flag(ema, "ema")
        decay = checks.real_number(decay, "decay", minimum=0.0)
        if decay >= 1:
            raise ValueError(f"decay must be below 1, got {decay}.")
        self.n_codes, self.code_dim, self.ema, self.decay = n_codes, code_dim, ema, decay
        init = torch.empty(n_codes, code_dim).uniform_(-1 / n_codes, 1 / n_codes)  # small codes: many start dead
        if ema:
            self.register_buffer("codebook", init)
            self.register_buffer("ema_count", torch.ones(n_codes))
            self.register_buffer("ema_sum", init.clone())
        else:
            self.codebook = nn.Parameter(init)

    def nearest(self, flat: torch.Tensor) -> torch.Tensor:
        """Index of the nearest code for each row of ``flat`` (N, D): (N,)."""
        distances = (
            flat.pow(2).sum(1, keepdim=True) - 2 * flat @ self.codebook.T + self.codebook.pow(2).sum(1)
        )  # (N, K): ||z||^2 - 2 z.e + ||e||^2
        return distances.argmin(1)

    def forward(self, z_e: torch.Tensor) -> Quantized:
        checks.tensor(z_e, "z_e", floating=True)
        if z_e.dim() != 4 or z_e.shape[1] != self.code_dim:
            raise ValueError(
                f"z_e must have shape (B, {self.code_dim}, H, W) (code_dim = {self.code_dim} channels), "
                f"got {tuple(z_e.shape)}."
            )
        b, d, h, w = z_e.shape
        flat = z_e.permute(0, 2, 3, 1).reshape(-1, d)  # (B*H*W, D)
        index = self.nearest(flat.detach())
        if self.ema and self.training:
            self._ema_update(flat.detach(), index)
        e = self.codebook[index].view(b, h, w, d).permute(0, 3, 1, 2)  # (B, D, H, W)
        commitment = (z_e - e.detach()).pow(2).flatten(1).sum(1)
        codebook = torch.zeros_like(commitment) if self.ema else (z_e.detach() - e).pow(2).flatten(1).sum(1)
        return Quantized(z_e + (e - z_e).detach(), index.view(b, h, w), codebook, commitment)

    @torch.no_grad()
    def _ema_update(self, flat: torch.Tensor, index: torch.Tensor) -> None:
        one_hot = F.one_hot(index, self.n_codes).to(flat.dtype)  # (N, K)
        self.ema_count.mul_(self.decay).add_(one_hot.sum(0), alpha=1 - self.decay)
        self.ema_sum.mul_(self.decay).add_(one_hot.T @ flat, alpha=1 - self.decay)
        n = self.ema_count.sum()
        smoothed = (self.ema_count + EMA_EPSILON) / (n + self.n_codes * EMA_EPSILON) * n
        self.codebook.copy_(self.ema_sum / smoothed.unsqueeze(1))

    def lookup(self, codes: torch.Tensor) -> torch.Tensor:
        """The code vectors of a grid of indices (B, H, W): (B, D, H, W)."""
        return self.codebook[codes].permute(0, 3, 1, 2)

    @torch.no_grad()
    def reset_codes(self, which: torch.Tensor, vectors: torch.Tensor) -> None:
        """Set the codes ``which`` (indices) to ``vectors`` (len(which), D); the EMA statistics restart there."""
        self.codebook.data[which] = vectors
        if self.ema:
            self.ema_count[which] = 1.0
            self.ema_sum[which] = vectors


class VQVAE(nn.Module):
    """Conv encoder x (B, 1, 28, 28) -> z_e (B, D, 7, 7) -> codes from a codebook of ``n_codes`` -> conv decoder.

    Encoder: two 4x4 stride-2 convolutions (28 -> 14 -> 7, ``channels``), a 3x3 convolution and a 1x1 to
    D = ``code_dim``; the decoder mirrors it to Bernoulli logits (B, 1, 28, 28). ``commitment`` is beta.
    Taught in chapter 10 (discrete latents).
    """

    def __init__(
        self,
        n_codes: int = 64,
        code_dim: int = 16,
        channels: tuple[int, int] = (32, 64),
        *,
        ema: bool = False,
        commitment: float = COMMITMENT,
    ):
        super().__init__()
        if not isinstance(channels, (tuple, list)) or len(channels) != 2:
            raise ValueError(f"channels must be two whole numbers (c1, c2), got {channels!r}.")
        c1, c2 = (checks.whole_number(c, "channels") for c in channels)
        self.commitment = checks.real_number(commitment, "commitment", minimum=0.0)
        self.quantizer = VectorQuantizer(n_codes, code_dim, ema=ema)  # checks n_codes and code_dim first
        self.encoder = nn.Sequential(
            nn.Conv2d(1, c1, 4, stride=2, padding=1),
            nn.ReLU(),
            nn.Conv2d(c1, c2, 4, stride=2, padding=1),
            nn.ReLU(),
            nn.Conv2d(c2, c2, 3, padding=1),
            nn.ReLU(),
            nn.Conv2d(c2, code_dim, 1),
        )
        self.decoder = nn.Sequential(
            nn.Conv2d(code_dim, c2, 3, padding=1),
            nn.ReLU(),
            nn.ConvTranspose2d(c2, c1, 4, stride=2, padding=1),
            nn.ReLU(),
            nn.ConvTranspose2d(c1, 1, 4, stride=2, padding=1),
        )
        self.n_codes, self.code_dim = n_codes, code_dim

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, Quantized]:
        """(Bernoulli logits (B, 1, 28, 28) of the reconstruction, the :class:`Quantized` codes)."""
        checks.network_input(x, IMAGE_SHAPE, type(self).__name__, self.encoder[0].weight)
        q = self.quantizer(self.encoder(x))
        return self.decoder(q.straight_through), q

    @torch.no_grad()
    def encode_codes(self, x: torch.Tensor) -> torch.Tensor:
        """The code grid of each image: (B, 7, 7) int64 (the deterministic encoder: a point-mass q)."""
        checks.network_input(x, IMAGE_SHAPE, type(self).__name__, self.encoder[0].weight)
        z_e = self.encoder(x)
        flat = z_e.permute(0, 2, 3, 1).reshape(-1, self.code_dim)
        return self.quantizer.nearest(flat).view(len(x), GRID, GRID)

    def decode_codes(self, codes: torch.Tensor) -> torch.Tensor:
        """Bernoulli logits (B, 1, 28, 28) decoded from a code grid (B, 7, 7); indices are checked (one sync)."""
        check_codes(codes, self.n_codes)
        return self.decoder(self.quantizer.lookup(codes))


def _check_vqvae(model) -> VQVAE:
    if not isinstance(model, VQVAE):
        raise TypeError(f"expected a vaelib.discrete.VQVAE, got {type(model).__name__}.")
    return model


def vq_objective(model: VQVAE, x: torch.Tensor) -> ELBOTerms:
    """The VQ-VAE's objective for ``vaelib.fit(..., objective=vq_objective)``, per image.

    ``elbo`` (what fit maximises) = log p(x | z_q) - codebook loss - beta * commitment loss;
    ``reconstruction`` = log p(x | z_q); ``kl`` = 49 log K, the KL of the point-mass q to a uniform prior
    over the codes (a constant, so not trained). The history
    therefore records reconstruction - kl, the bound on log p(x) under the uniform prior.
    Taught in chapter 10 (discrete latents).
    """
    model = _check_vqvae(model)
    logits, q = model(x)
    reconstruction = bernoulli_log_likelihood(logits, x, validate=False)
    kl = torch.full_like(reconstruction, GRID * GRID * math.log(model.n_codes))
    loss_terms = q.codebook_loss + model.commitment * q.commitment_loss
    return ELBOTerms(reconstruction, kl, reconstruction - loss_terms)


@torch.no_grad()
def code_usage(model: VQVAE, data: ImageData, *, batch_size: int = 1000, binarize: bool = False) -> torch.Tensor:
    """How many times each code is chosen over ``data`` (all 49 positions of every image): (K,) int64.

    Scored in eval mode (the EMA codebook does not move). Taught in chapter 10 (discrete latents).
    """
    model = _check_vqvae(model)
    check_data(data, "data")
    checks.whole_number(batch_size, "batch_size")
    checks.flag(binarize, "binarize")
    counts = torch.zeros(model.n_codes, dtype=torch.int64, device=data.images.device)
    with eval_mode(model):
        for x, _ in data.batches(batch_size, shuffle=False, binarize=binarize):
            counts += torch.bincount(model.encode_codes(x).flatten(), minlength=model.n_codes)
    return counts


def perplexity(counts: torch.Tensor) -> float:
    """exp(entropy) of the code frequencies ``counts`` (K,): K when every code is used equally, 1 for one code.

    Taught in chapter 10 (discrete latents).
    """
    checks.tensor(counts, "counts")
    if counts.dim() != 1 or counts.numel() < 1:
        raise ValueError(f"counts must be one count per code, shape (K,), got {tuple(counts.shape)}.")
    total = counts.sum()
    if total <= 0:
        raise ValueError("counts sum to zero: no code was chosen; count the codes of at least one image.")
    p = counts.double() / total
    entropy = -(p[p > 0] * p[p > 0].log()).sum()
    return float(entropy.exp())


def dead_codes(counts: torch.Tensor, threshold: int = 0) -> torch.Tensor:
    """Indices of the codes chosen at most ``threshold`` times (default: never): (n_dead,) int64.

    Taught in chapter 10 (discrete latents).
    """
    checks.tensor(counts, "counts")
    threshold = checks.whole_number(threshold, "threshold", minimum=0)
    if counts.dim() != 1:
        raise ValueError(f"counts must be one count per code, shape (K,), got {tuple(counts.shape)}.")
    return torch.nonzero(counts <= threshold).flatten()


@torch.no_grad()
def revive_dead_codes(
    model: VQVAE, x: torch.Tensor, dead: torch.Tensor, *, generator: torch.Generator | None = None
) -> int:
    """Move each code in ``dead`` onto an encoder output of ``x``, drawn with probability proportional to its
    squared distance from the nearest live code (as k-means++ seeds its centres).

    A code no output is near receives no gradient (and no EMA update), so it stays dead for good; put
    on an encoder output it is the nearest code of at least that one position next time. Drawing the
    positions uniformly would put most revived codes on the background of MNIST, whose outputs are all
    alike and already served by a live code: the copies split or lose those positions and die again.
    Weighted by distance, they go where the codebook fits the encoder worst. Returns the number of
    codes revived. Taught in chapter 10 (discrete latents).
    """
    model = _check_vqvae(model)
    checks.tensor(dead, "dead")
    if dead.is_floating_point() or dead.dim() != 1:
        raise ValueError(
            f"dead must be a 1-D tensor of code indices (from dead_codes), got {dead.dtype} {tuple(dead.shape)}."
        )
    if dead.numel() == 0:
        return 0
    check_codes(dead.view(-1, 1, 1), model.n_codes, grid=1)  # indices inside the codebook
    with eval_mode(model):
        checks.network_input(x, IMAGE_SHAPE, "revive_dead_codes' images", model.encoder[0].weight)
        flat = model.encoder(x).permute(0, 2, 3, 1).reshape(-1, model.code_dim)
    check_generator(generator, flat.device)
    live = torch.ones(model.n_codes, dtype=torch.bool, device=flat.device)
    live[dead.to(flat.device)] = False
    codebook = model.quantizer.codebook[live]
    if len(codebook) and len(flat) >= dead.numel():
        distance = (flat.pow(2).sum(1, keepdim=True) - 2 * flat @ codebook.T + codebook.pow(2).sum(1)).amin(1)
        weight = distance.clamp_min(0) + 1e-12  # (N,): squared distance to the nearest live code
        pick = torch.multinomial(weight, dead.numel(), replacement=False, generator=generator)
    else:  # no live code to measure from, or fewer positions than codes: uniform, with repeats
        pick = torch.randint(len(flat), (dead.numel(),), device=flat.device, generator=generator)
    model.quantizer.reset_codes(dead.to(flat.device), flat[pick])
    return dead.numel()


@dataclass
class CodebookMonitor:
    """An ``on_epoch`` callback for :func:`vaelib.fit`: codebook usage after every epoch, and dead-code revival.

    After each epoch it counts the codes of ``data`` (:func:`code_usage`), records the perplexity and the
    number of dead codes, and, with ``revive=True``, moves the dead codes onto encoder outputs of a batch
    of ``data`` (:func:`revive_dead_codes`). Taught in chapter 10 (discrete latents).
    """

    model: VQVAE
    data: ImageData
    revive: bool = False
    revive_batch: int = 256
    generator: torch.Generator | None = None
    perplexity: list[float] = field(default_factory=list)
    dead: list[int] = field(default_factory=list)  # dead codes after each epoch, before any revival
    revived: list[int] = field(default_factory=list)

    def __post_init__(self) -> None:
        _check_vqvae(self.model)
        check_data(self.data, "data")
        checks.flag(self.revive, "revive")
        checks.whole_number(self.revive_batch, "revive_batch")

    def __call__(self, epoch: int, history: History) -> None:
        counts = code_usage(self.model, self.data)
        self.perplexity.append(perplexity(counts))
        dead = dead_codes(counts)
        self.dead.append(int(dead.numel()))
        n = 0
        if self.revive and dead.numel():
            x = self.data.images[: self.revive_batch]
            n = revive_dead_codes(self.model, x, dead, generator=self.generator)
        self.revived.append(n)
