r"""M1+M2 (Kingma et al., 2014): the semi-supervised M2 model trained on the codes of a VAE (M1).

M1 is a plain VAE trained on every image; its posterior q(z1 | x) turns each image into a short code.
M2 then models the codes instead of the pixels: p(y) p(z) p(z1 | y, z) with a Gaussian p(z1 | y, z),
and the guide q(y | z1) q(z | z1, y). Following the paper's released code, the code of an image is
redrawn from M1's posterior at every step, N(loc, scale), and only the units whose posterior mean
varies across the training images (standard deviation above 0.1) are kept, standardised.

This module writes M2's bounds directly in PyTorch, with the ten classes enumerated as one batch
dimension (the hand-written sum of chapter 8, vectorised), and the first layer of the encoder split
into an image part computed once per input and a class column added per class. It also holds the
small helpers chapter 8 uses around both M2s: a held-out labelled set for choosing alpha, and a
count of multiply-adds. Taught in chapter 8.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.flop_counter import FlopCounterMode

from .. import checks
from ..data import ImageData, check_data
from ..gaussians import gaussian_kl_to_standard
from ..loop import Epoch, History, eval_mode, run_epochs
from ..models import positive_scale
from .networks import N_CLASSES, LabelMLPEncoder, LabelSplit

M1_UNIT_MIN_STD = 0.1  # a code unit is kept when its posterior mean's std over the images exceeds this


# --------------------------------------------------------------------------- a small labelled validation set


def held_out_labelled(data: ImageData, split: LabelSplit, per_class: int = 10, seed: int = 1) -> ImageData:
    """``per_class`` labelled images of each class taken from the *unlabelled* part of ``split``.

    The images stay in the unlabelled stream (training never reads their labels); their labels are used
    only to choose a hyperparameter such as alpha, as a practitioner with a few more labelled images would.
    ``data`` is the split's source (the training images with their labels). Taught in chapter 8.
    """
    check_data(data)
    per_class = checks.whole_number(per_class, "per_class")
    if per_class > 10:
        raise ValueError(
            f"per_class={per_class}: a held-out set for choosing alpha is kept small, at most 10 per class"
        )
    if len(split) != len(data):
        raise ValueError(f"split covers {len(split)} images but data holds {len(data)}; pass the split's source data")
    index = split.unlabelled_index.cpu()
    labels = data.labels.cpu()[index]
    order = torch.randperm(len(index), generator=torch.Generator().manual_seed(seed))
    chosen = []
    for c in range(N_CLASSES):
        of_class = order[labels[order] == c][:per_class]
        if len(of_class) < per_class:
            raise ValueError(f"only {len(of_class)} unlabelled images of class {c}; ask for fewer per class")
        chosen.append(index[of_class])
    keep = torch.cat(chosen).sort().values.to(data.images.device)
    return ImageData(data.images[keep], data.labels[keep], data.source)


# --------------------------------------------------------------------------- M1's codes


@torch.no_grad()
def m1_posterior(encoder: nn.Module, images: torch.Tensor, batch_size: int = 1000) -> tuple[torch.Tensor, torch.Tensor]:
    """(loc, scale) of M1's q(z1 | x) for ``images`` (N, 1, 28, 28), each (N, z_dim), in eval mode.

    ``encoder`` is a plain encoder ``x -> (loc, scale)`` or a :class:`vaelib.LabelMLPEncoder` of an
    unconditional :class:`vaelib.CVAE`, which is then given the all-zero label. Taught in chapter 8.
    """
    checks.module(encoder, "encoder")
    checks.tensor(images, "images", floating=True)
    locs, scales = [], []
    with eval_mode(encoder):
        for x in images.split(batch_size):
            if isinstance(encoder, LabelMLPEncoder):
                loc, scale = encoder(x, x.new_zeros(len(x), encoder.n_classes))
            else:
                loc, scale = encoder(x)
            locs.append(loc)
            scales.append(scale)
    return torch.cat(locs), torch.cat(scales)


@dataclass(frozen=True)
class CodeScaler:
    """Which M1 units M2 reads, and how they are standardised: fitted on the training codes. Taught in chapter 8."""

    keep: torch.Tensor  # (z_dim,) bool: units whose posterior mean varies (std > M1_UNIT_MIN_STD)
    mean: torch.Tensor  # (kept,) mean of the kept posterior means over the training images
    std: torch.Tensor  # (kept,) their standard deviation

    @classmethod
    def fit(cls, loc: torch.Tensor, min_std: float = M1_UNIT_MIN_STD) -> CodeScaler:
        checks.tensor(loc, "loc", floating=True)
        if loc.dim() != 2 or len(loc) < 2:
            raise ValueError(f"expected posterior means (N, z_dim) with N >= 2, got {tuple(loc.shape)}")
        spread = loc.std(0)
        keep = spread > min_std
        if not keep.any():
            raise ValueError(
                f"no unit's posterior mean varies by more than {min_std}: M1 has collapsed; train it longer"
            )
        return cls(keep, loc[:, keep].mean(0), spread[keep])

    @property
    def n_units(self) -> int:
        return int(self.keep.sum())

    def __call__(self, loc: torch.Tensor, scale: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Standardised (loc, scale) of the kept units, each (N, kept)."""
        return (loc[:, self.keep] - self.mean) / self.std, scale[:, self.keep] / self.std


# --------------------------------------------------------------------------- M2 on codes


def _mlp(sizes: Sequence[int]) -> nn.Sequential:
    layers: list[nn.Module] = []
    for a, b in zip(sizes[:-1], sizes[1:], strict=True):
        layers += [nn.Linear(a, b), nn.Softplus()]
    return nn.Sequential(*layers)


class CodeM2(nn.Module):
    r"""M2 for real-valued inputs (M1's codes): q(y|x), q(z|x,y) and a Gaussian p(x|y,z). Taught in chapter 8.

    Every network has ``layers`` hidden layers of ``hidden`` softplus units. The first layer of the
    encoder and of the decoder is split into an input part and a label part,
    :math:`W_x x + b + W_y e_y`, so that under enumeration the input part is computed once per input
    and only the class column :math:`W_y e_y` once per class. ``x`` is (B, d); a label is one-hot
    (..., B or 1, n_classes).
    """

    def __init__(self, x_dim: int, z_dim: int = 20, hidden: int = 300, layers: int = 2, n_classes: int = N_CLASSES):
        super().__init__()
        for value, name in ((x_dim, "x_dim"), (z_dim, "z_dim"), (hidden, "hidden"), (layers, "layers")):
            checks.whole_number(value, name)
        self.x_dim, self.z_dim, self.n_classes = x_dim, z_dim, n_classes
        self.classifier = nn.Sequential(_mlp([x_dim] + [hidden] * layers), nn.Linear(hidden, n_classes))
        self.enc_x, self.enc_y = nn.Linear(x_dim, hidden), nn.Linear(n_classes, hidden, bias=False)
        self.enc_rest = _mlp([hidden] * layers)  # after the first layer's softplus: layers - 1 more
        self.enc_loc, self.enc_scale = nn.Linear(hidden, z_dim), nn.Linear(hidden, z_dim)
        self.dec_z, self.dec_y = nn.Linear(z_dim, hidden), nn.Linear(n_classes, hidden, bias=False)
        self.dec_rest = _mlp([hidden] * layers)
        self.dec_loc = nn.Linear(hidden, x_dim)
        self.dec_log_scale = nn.Parameter(torch.zeros(x_dim))  # one learned noise level per input unit

    def _check(self, x: torch.Tensor) -> None:
        if x.dim() != 2 or x.shape[1] != self.x_dim:
            raise ValueError(f"CodeM2 expects inputs (B, {self.x_dim}), got {tuple(x.shape)}")

    def encode(self, x: torch.Tensor, label: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        h = self.enc_rest(F.softplus(self.enc_x(x) + self.enc_y(label)))  # (B, H) + (..., 1 or B, H)
        return self.enc_loc(h), positive_scale(self.enc_scale(h))

    def decode(self, z: torch.Tensor, label: torch.Tensor) -> torch.Tensor:
        return self.dec_loc(self.dec_rest(F.softplus(self.dec_z(z) + self.dec_y(label))))

    def bound(self, x: torch.Tensor, label: torch.Tensor) -> torch.Tensor:
        r""":math:`\mathcal{L}(x, y)` with one sample of z and the closed-form KL; shape of the label's batch dims."""
        loc, scale = self.encode(x, label)
        z = loc + scale * torch.randn_like(loc)
        log_px = torch.distributions.Normal(self.decode(z, label), self.dec_log_scale.exp()).log_prob(x).sum(-1)
        return log_px - gaussian_kl_to_standard(loc, scale, validate=False) - math.log(self.n_classes)

    def labelled_bound(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """L(x, y) per input, (B,)."""
        self._check(x)
        return self.bound(x, F.one_hot(y, self.n_classes).to(x.dtype))

    def unlabelled_bound(self, x: torch.Tensor) -> torch.Tensor:
        r""":math:`\mathcal{U}(x) = \sum_y q(y|x) (\mathcal{L}(x, y) - \log q(y|x))`, (B,): ten classes at once."""
        self._check(x)
        log_q = torch.log_softmax(self.classifier(x), -1)  # (B, 10)
        every = torch.eye(self.n_classes, device=x.device, dtype=x.dtype).unsqueeze(1)  # (10, 1, 10)
        bounds = self.bound(x, every)  # (10, B)
        return (log_q.exp().T * (bounds - log_q.T)).sum(0)


def code_m2_loss(
    model: CodeM2,
    x_u: torch.Tensor,
    x_l: torch.Tensor,
    y_l: torch.Tensor,
    n_unlabelled: int,
    n_labelled: int,
    alpha: float,
) -> torch.Tensor:
    r""":math:`-\mathcal{J}^\alpha / N` for one pair of batches, weighted as :func:`vaelib.m2_loss`.

    Used in chapter 8 through fit_code_m2.
    """
    n = n_unlabelled + n_labelled
    unlabelled = model.unlabelled_bound(x_u).mean()
    labelled = model.labelled_bound(x_l, y_l).mean()
    classification = F.cross_entropy(model.classifier(x_l), y_l)
    return -(n_unlabelled / n) * unlabelled - (n_labelled / n) * labelled + alpha / n * classification


@dataclass
class CodeHistory(History):
    """Per-epoch record of :func:`fit_code_m2`: test and validation errors, objective, seconds, and (from
    :class:`vaelib.History`) the Adam steps taken, i.e. updates of the classifier. What fit_code_m2 returns
    (chapter 8).
    """

    test_error: list[float] = field(default_factory=list)
    validation_error: list[float] = field(default_factory=list)
    loss: list[float] = field(default_factory=list)  # mean -J/N over the epoch's steps


@torch.no_grad()
def code_error(classifier: nn.Module, codes: torch.Tensor, labels: torch.Tensor) -> float:
    """Fraction of ``codes`` (N, d) whose most probable class under ``classifier`` is wrong. Taught in chapter 8."""
    with eval_mode(classifier):
        pairs = zip(codes.split(2000), labels.split(2000), strict=True)
        wrong = sum(int((classifier(c).argmax(-1) != y).sum()) for c, y in pairs)
    return wrong / len(codes)


def _draw(loc: torch.Tensor, scale: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
    """A fresh draw from M1's posterior for the codes at ``index``."""
    return loc[index] + scale[index] * torch.randn_like(loc[index])


def fit_code_m2(
    model: CodeM2,
    codes: tuple[torch.Tensor, torch.Tensor],
    split: LabelSplit,
    test: tuple[torch.Tensor, torch.Tensor],
    validation: tuple[torch.Tensor, torch.Tensor] | None = None,
    *,
    epochs: int = 10,
    batch_size: int = 256,
    labelled_batch_size: int = 100,
    lr: float = 1e-3,
    alpha: float | None = None,
    on_epoch: Callable[[int, CodeHistory], None] | None = None,
) -> CodeHistory:
    """Train ``model`` on M1's codes with the M2 objective; one epoch = one pass over the unlabelled codes.

    ``codes`` = (loc, scale) of every training image, standardised (:class:`CodeScaler`), in the order of
    ``split``'s source; ``test`` and ``validation`` = (posterior means, labels). ``alpha`` defaults to
    Kingma et al.'s 0.1 N. Errors are those of the classifier on the posterior means, after each epoch.
    Taught in chapter 8.
    """
    loc, scale = codes
    checks.tensor(loc, "codes' loc", floating=True)
    if loc.shape != scale.shape or loc.dim() != 2 or len(loc) != len(split):
        raise ValueError(
            f"codes must be (loc, scale), each ({len(split)}, d) for the split's images; got {tuple(loc.shape)}"
        )
    epochs = checks.whole_number(epochs, "epochs")
    n_u, n_l = len(split.unlabelled_index), len(split.labelled_index)
    alpha = 0.1 * (n_u + n_l) if alpha is None else checks.real_number(alpha, "alpha", minimum=0.0)
    unlabelled, labelled, y_all = split.unlabelled_index, split.labelled_index, split.labelled.labels
    b_l = min(labelled_batch_size, n_l)

    def epoch_batches():  # the unlabelled codes in a new order; the labelled stream cycles, reshuffled
        order = unlabelled[torch.randperm(n_u, device=loc.device)]
        pool = torch.empty(0, dtype=torch.long, device=loc.device)
        for at in range(0, n_u, batch_size):
            if len(pool) < b_l:
                pool = torch.cat([pool, torch.randperm(n_l, device=loc.device)])
            pick, pool = pool[:b_l], pool[b_l:]
            yield _draw(loc, scale, order[at : at + batch_size]), _draw(loc, scale, labelled[pick]), y_all[pick]

    def step(batch, progress_epochs, where):
        loss = code_m2_loss(model, *batch, n_u, n_l, alpha)
        return loss, loss.detach(), 1  # recorded: the mean of -J/N over the epoch's steps

    def score() -> dict[str, float]:
        scores = {"test_error": code_error(model.classifier, *test)}
        if validation is not None:
            scores["validation_error"] = code_error(model.classifier, *validation)
        return scores

    optimizer = torch.optim.Adam(model.parameters(), lr=lr)

    def batches():
        return Epoch(epoch_batches(), math.ceil(n_u / batch_size))

    loop = dict(epochs=epochs, history=CodeHistory(), evaluate=score, on_epoch=on_epoch, progress=False)
    return run_epochs(model, optimizer, batches, step, record="loss", **loop)


def fit_code_classifier(
    classifier: nn.Module,
    codes: tuple[torch.Tensor, torch.Tensor],
    labelled_index: torch.Tensor,
    labels: torch.Tensor,
    *,
    steps: int = 2000,
    batch_size: int = 100,
    lr: float = 1e-3,
) -> nn.Module:
    """Labels only, on codes: ``steps`` Adam steps of cross-entropy on fresh draws of the labelled codes.

    The control for M1+M2: the same classifier network, the same codes, no unlabelled images. Taught in chapter 8.
    """
    loc, scale = codes
    steps = checks.whole_number(steps, "steps")
    b = min(batch_size, len(labelled_index))

    def draws():  # ``steps`` batches of fresh draws; the labelled codes cycle, reshuffled
        pool = torch.empty(0, dtype=torch.long, device=loc.device)
        for _ in range(steps):
            if len(pool) < b:
                pool = torch.cat([pool, torch.randperm(len(labelled_index), device=loc.device)])
            pick, pool = pool[:b], pool[b:]
            yield _draw(loc, scale, labelled_index[pick]), labels[pick]

    def step(batch, progress_epochs, where):
        x, y = batch
        return F.cross_entropy(classifier(x), y), None, len(x)

    optimizer = torch.optim.Adam(classifier.parameters(), lr=lr)
    run_epochs(classifier, optimizer, lambda: Epoch(draws(), steps), step, epochs=1, history=History(), progress=False)
    return classifier


# --------------------------------------------------------------------------- counted work


def multiply_adds(compute: Callable[[], object]) -> int:
    """Multiply-adds of the matrix products ``compute()`` runs (forward, and backward if it calls it).

    Counted by ``torch.utils.flop_counter.FlopCounterMode`` (which reports 2 FLOPs per multiply-add):
    a count of work, the same on every machine, unlike a timing. Taught in chapter 8.
    """
    counter = FlopCounterMode(display=False)
    with counter:
        compute()
    return counter.get_total_flops() // 2
