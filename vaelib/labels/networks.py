r"""Labels in the VAE family: label-conditioned networks, a labelled/unlabelled split, the CVAE and M2.

Two models use a digit label :math:`y \in \{0, \dots, 9\}` beside the latent code :math:`z`:

* the **conditional VAE** (Sohn et al., 2015) always sees the label:
  :math:`p_\theta(x \mid y, z)\,p(z)` with the guide :math:`q_\phi(z \mid x, y)`;
* the **semi-supervised M2 model** (Kingma et al., 2014) has the generative model
  :math:`p(y)\,p(z)\,p_\theta(x \mid y, z)` with :math:`p(y)` uniform, and the guide
  :math:`q_\phi(y \mid x)\,q_\phi(z \mid x, y)`. For a labelled image :math:`y` is observed; for an
  unlabelled one it is a discrete latent variable that ``TraceEnum_ELBO`` sums out exactly, one
  decoder pass per class.

Labels enter the networks as one-hot vectors concatenated to their input, so the MLPs keep the
784-hidden-z sizes of :class:`vaelib.MLPEncoder` and :class:`vaelib.MLPDecoder`; with the label input
set to zero they *are* those networks. Taught in chapter 8.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyro
import pyro.distributions as dist
import torch
import torch.nn as nn
import torch.nn.functional as F
from pyro.infer import config_enumerate

from .. import checks
from ..data import IMAGE_SHAPE, N_PIXELS, ImageData, TensorBatches
from ..models import positive_scale

N_CLASSES = 10  # digit classes of MNIST


def one_hot(y: torch.Tensor, n_classes: int = N_CLASSES) -> torch.Tensor:
    """Integer labels (...,) -> float one-hot vectors (..., n_classes). Taught in chapter 8."""
    n_classes = checks.whole_number(n_classes, "n_classes", minimum=2)
    checks.tensor(y, "labels")
    if y.is_floating_point() or y.is_complex() or y.dtype == torch.bool:
        raise ValueError(f"labels must be integers 0..{n_classes - 1}, got dtype {y.dtype}; use y.long()")
    if y.numel() and (y.min() < 0 or y.max() >= n_classes):
        raise ValueError(f"labels must lie in 0..{n_classes - 1}, found [{int(y.min())}, {int(y.max())}]")
    return F.one_hot(y.long(), n_classes).float()  # any integer dtype (uint8, int32 ...) as int64


def _joined(features: torch.Tensor, label: torch.Tensor) -> torch.Tensor:
    """Concatenate (..., F) and (..., C) after broadcasting their batch dimensions.

    Under enumeration the label is (10, 1, C) while the images are (B, F): the result is (10, B, F + C).
    """
    batch = torch.broadcast_shapes(features.shape[:-1], label.shape[:-1])
    return torch.cat([features.expand(*batch, -1), label.expand(*batch, -1)], dim=-1)


def _check_label(label: torch.Tensor, n_classes: int, what: str) -> None:
    if label.shape[-1:] != (n_classes,) or not label.is_floating_point():
        raise ValueError(
            f"{what} expects one-hot float labels (..., {n_classes}), got {tuple(label.shape)} {label.dtype}; "
            "convert integer labels with vaelib.one_hot(y)"
        )


class LabelMLPEncoder(nn.Module):
    r"""q(z | x, y): [x (784), one-hot y] -> hidden -> (loc, scale), each (..., z_dim). Taught in chapter 8.

    The same layers as :class:`vaelib.MLPEncoder` with ``n_classes`` more inputs to the hidden layer.
    ``x`` is (B, 1, 28, 28), ``label`` one-hot (..., B or 1, n_classes); batch dimensions broadcast.

    The hidden layer's input is :math:`W_x x + b + W_y e_y`. With ``project_once=True`` (the default) the
    image part :math:`W_x x + b` is computed once per image and the class column :math:`W_y e_y` added
    after broadcasting, so enumerating ten classes multiplies the 784-wide product once, not ten times;
    ``project_once=False`` concatenates [x, e_y] and multiplies the joined input (the plain version).
    Both give the same numbers.
    """

    def __init__(self, z_dim: int = 50, hidden_dim: int = 400, n_classes: int = N_CLASSES, project_once: bool = True):
        super().__init__()
        self.z_dim, self.n_classes, self.project_once = z_dim, n_classes, bool(project_once)
        self.hidden = nn.Linear(N_PIXELS + n_classes, hidden_dim)
        self.loc = nn.Linear(hidden_dim, z_dim)
        self.raw_scale = nn.Linear(hidden_dim, z_dim)

    def forward(self, x: torch.Tensor, label: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        if x.dim() != 4 or tuple(x.shape[1:]) != IMAGE_SHAPE:
            raise ValueError(f"{type(self).__name__} expects images (B, 1, 28, 28), got {tuple(x.shape)}")
        _check_label(label, self.n_classes, type(self).__name__)
        pixels = x.flatten(1)  # (B, 784)
        if self.project_once:
            weight = self.hidden.weight  # (hidden, 784 + n_classes): image columns, then class columns
            image_part = F.linear(pixels, weight[:, : pixels.shape[1]], self.hidden.bias)  # (B, hidden), once
            h = F.softplus(image_part + F.linear(label, weight[:, pixels.shape[1] :]))  # (..., B, hidden)
        else:
            h = F.softplus(self.hidden(_joined(pixels, label)))  # (..., B, hidden): 784-wide product per class
        return self.loc(h), positive_scale(self.raw_scale(h))  # (..., B, z) each


class LabelMLPDecoder(nn.Module):
    r"""p(x | y, z): [z, one-hot y] -> hidden -> 784 Bernoulli logits, as (..., 1, 28, 28). Taught in chapter 8."""

    def __init__(self, z_dim: int = 50, hidden_dim: int = 400, n_classes: int = N_CLASSES):
        super().__init__()
        self.z_dim, self.n_classes = z_dim, n_classes
        self.hidden = nn.Linear(z_dim + n_classes, hidden_dim)
        self.logits = nn.Linear(hidden_dim, N_PIXELS)

    def forward(self, z: torch.Tensor, label: torch.Tensor) -> torch.Tensor:
        if z.shape[-1] != self.z_dim:
            raise ValueError(f"{type(self).__name__} expects latents (..., {self.z_dim}), got {tuple(z.shape)}")
        _check_label(label, self.n_classes, type(self).__name__)
        h = F.softplus(self.hidden(_joined(z, label)))  # (..., hidden)
        logits = self.logits(h)  # (..., 784)
        return logits.view(*logits.shape[:-1], *IMAGE_SHAPE)  # (..., 1, 28, 28)


class MLPClassifier(nn.Module):
    """q(y | x): x (B, 1, 28, 28) -> 784 -> hidden -> 10 logits. Taught in chapter 8.

    M2's classifier, and, trained on the labelled images alone, the supervised baseline.
    """

    def __init__(self, hidden_dim: int = 400, n_classes: int = N_CLASSES):
        super().__init__()
        self.n_classes = n_classes
        self.hidden = nn.Linear(N_PIXELS, hidden_dim)
        self.logits = nn.Linear(hidden_dim, n_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() != 4 or tuple(x.shape[1:]) != IMAGE_SHAPE:
            raise ValueError(f"{type(self).__name__} expects images (B, 1, 28, 28), got {tuple(x.shape)}")
        return self.logits(F.softplus(self.hidden(x.flatten(1))))  # (B, n_classes)


# --------------------------------------------------------------------------- the labelled/unlabelled split


@dataclass(frozen=True)
class LabelSplit:
    """A training split cut in two: a few labelled images and the rest, whose labels are dropped.

    ``labelled`` holds images and labels; ``unlabelled`` holds images only (N_u, 1, 28, 28), so no code
    that trains on it can read a label. The index tensors say which images of the source went where.
    Made by :func:`split_labelled` (chapter 8).
    """

    labelled: ImageData  # (N_l images, N_l labels), N_l / 10 of each class
    unlabelled: torch.Tensor  # (N_u, 1, 28, 28): images only
    labelled_index: torch.Tensor  # (N_l,) positions in the source split
    unlabelled_index: torch.Tensor  # (N_u,) the other positions, in their original order

    def __len__(self) -> int:
        return len(self.labelled) + len(self.unlabelled)

    def batches(self, batch_size: int, labelled_batch_size: int | None = None, **kwargs) -> TwoStreamBatches:
        """One epoch over the unlabelled images, each batch paired with a labelled batch; see TwoStreamBatches."""
        return TwoStreamBatches(self, batch_size, labelled_batch_size, **kwargs)


def split_labelled(data: ImageData, n_labelled: int, seed: int = 0) -> LabelSplit:
    """Keep the labels of ``n_labelled`` images, ``n_labelled / 10`` per class, chosen by ``seed``; drop the rest.

    The choice is a random permutation drawn from a CPU generator seeded with ``seed``, so it is the
    same on every device and machine; within each class the first images of that permutation are kept.
    Taught in chapter 8.
    """
    n_labelled = checks.whole_number(n_labelled, "n_labelled", minimum=0)
    if n_labelled < N_CLASSES or n_labelled % N_CLASSES:
        raise ValueError(f"n_labelled={n_labelled}: ask for a positive multiple of {N_CLASSES} (balanced classes)")
    per_class = n_labelled // N_CLASSES
    labels = data.labels.cpu()
    low, high = checks.value_range(labels) if len(labels) else (0, 0)
    if low < 0 or high >= N_CLASSES:
        raise ValueError(
            f"data holds labels from {low:g} to {high:g}; a balanced split of the {N_CLASSES} digit classes needs "
            f"labels 0 to {N_CLASSES - 1}. Drop or relabel the others first."
        )
    labels = labels.long()
    counts = torch.bincount(labels, minlength=N_CLASSES)
    if counts.min() < per_class + 1:
        raise ValueError(
            f"{per_class} labelled images per class need at least {per_class + 1} images of every class (one left "
            f"unlabelled); the smallest class has {int(counts.min())}. Ask for fewer labels or use more data."
        )
    order = torch.randperm(len(labels), generator=torch.Generator().manual_seed(seed))
    ordered = labels[order]
    keep = torch.cat([order[ordered == c][:per_class] for c in range(N_CLASSES)]).sort().values  # (N_l,)
    is_labelled = torch.zeros(len(labels), dtype=torch.bool)
    is_labelled[keep] = True
    rest = (~is_labelled).nonzero().squeeze(1)  # (N_u,)
    device = data.images.device
    keep_d, rest_d = keep.to(device), rest.to(device)
    labelled = ImageData(data.images[keep_d], data.labels[keep_d], data.source)
    return LabelSplit(labelled, data.images[rest_d], keep_d, rest_d)


class TwoStreamBatches:
    """(x_unlabelled, x_labelled, y_labelled) triples for one epoch over the unlabelled images.

    Both streams are tensors on the device, batched by index (``torch.randperm`` and slicing, no
    DataLoader). The labelled stream is small, so it is reshuffled and restarted whenever it runs out:
    every step sees a labelled batch. ``binarize=True`` draws fresh binary images per batch.
    Used in chapter 8 through split_labelled.
    """

    def __init__(
        self,
        split: LabelSplit,
        batch_size: int,
        labelled_batch_size: int | None = None,
        binarize: bool = True,
        generator: torch.Generator | None = None,
    ):
        self.split, self.binarize, self.generator = split, binarize, generator
        self.unlabelled = TensorBatches(
            split.unlabelled,
            torch.zeros(len(split.unlabelled), dtype=torch.int8, device=split.unlabelled.device),  # placeholders
            batch_size,
            binarize=binarize,
            generator=generator,
        )
        self.labelled_batch_size = min(labelled_batch_size or batch_size, len(split.labelled))

    def __len__(self) -> int:
        return len(self.unlabelled)

    def _labelled_forever(self):
        while True:
            yield from self.split.labelled.batches(
                self.labelled_batch_size, binarize=self.binarize, generator=self.generator, drop_last=True
            )

    def __iter__(self):
        labelled = self._labelled_forever()
        for x_u, _ in self.unlabelled:  # the placeholder labels are all zero and are thrown away here
            x_l, y_l = next(labelled)
            yield x_u, x_l, y_l


# --------------------------------------------------------------------------- the two models


def _check_parts(**parts: nn.Module) -> None:
    """The networks of one model agree: the same latent size (encoder, decoder) and the same classes (all)."""
    for name, part in parts.items():
        checks.module(part, name)
    sizes = {name: part.z_dim for name, part in parts.items() if hasattr(part, "z_dim")}
    classes = {name: part.n_classes for name, part in parts.items() if hasattr(part, "n_classes")}
    for what, found in (("z_dim", sizes), ("n_classes", classes)):
        if len(set(found.values())) > 1:
            listed = ", ".join(f"{name} {value}" for name, value in found.items())
            raise ValueError(f"the networks disagree on {what} ({listed}); build them with the same {what}.")


class CVAE(nn.Module):
    r"""The conditional VAE: model p(z) p(x | y, z), guide q(z | x, y), y always given. Taught in chapter 8.

    Its ELBO bounds the conditional log-likelihood (Sohn et al., 2015, with the label as the condition):

    .. math::
        \log p_\theta(x \mid y) \ge \mathbb{E}_{q_\phi(z|x,y)}[\log p_\theta(x \mid y, z)]
        - \mathrm{KL}(q_\phi(z \mid x, y) \,\|\, p(z)).

    With ``conditional=False`` the networks receive an all-zero label instead of one-hot(y): the same
    networks then form a plain VAE (the label columns of their first layers multiply zeros), which is
    how chapter 8 compares the two with identical architectures.
    """

    def __init__(self, encoder: LabelMLPEncoder, decoder: LabelMLPDecoder, conditional: bool = True):
        super().__init__()
        _check_parts(encoder=encoder, decoder=decoder)
        self.encoder, self.decoder, self.conditional = encoder, decoder, conditional
        self.z_dim, self.n_classes = encoder.z_dim, encoder.n_classes

    def label_input(self, y: torch.Tensor) -> torch.Tensor:
        """What the networks see of the labels (B,): one-hot vectors, or zeros when unconditional."""
        label = one_hot(y, self.n_classes)
        return label if self.conditional else torch.zeros_like(label)

    def model(self, x: torch.Tensor, y: torch.Tensor) -> None:
        label = self.label_input(y)
        with pyro.plate("data", x.shape[0]):
            z = pyro.sample("z", dist.Normal(x.new_zeros(()), 1.0).expand([x.shape[0], self.z_dim]).to_event(1))
            logits = self.decoder(z, label).flatten(-3)  # (B, 784)
            pyro.sample("x", dist.Bernoulli(logits=logits).to_event(1), obs=x.flatten(1))

    def guide(self, x: torch.Tensor, y: torch.Tensor) -> None:
        with pyro.plate("data", x.shape[0]):
            loc, scale = self.encoder(x, self.label_input(y))  # (B, z) each
            pyro.sample("z", dist.Normal(loc, scale).to_event(1))


class M2(nn.Module):
    r"""Kingma et al. (2014)'s M2: model p(y) p(z) p(x | y, z), guide q(y | x) q(z | x, y). Taught in chapter 8.

    ``model(x, y)`` and ``guide(x, y)`` take integer labels (B,) for a labelled batch and ``y=None`` for
    an unlabelled one. Then the guide samples y from the classifier, and :attr:`enumerated_guide`
    (the guide wrapped in ``config_enumerate``) lets ``TraceEnum_ELBO(max_plate_nesting=1)`` replace that
    sample by all ten classes at once, in an enumeration dimension left of the plate (dim -2):

    .. math::
        \mathcal{U}(x) = \sum_{y} q_\phi(y \mid x)\, \mathcal{L}(x, y) + \mathcal{H}(q_\phi(y \mid x)),
        \quad \mathcal{L}(x, y) = \mathbb{E}_{q(z|x,y)}\Big[\log \frac{p(x|y,z) p(y) p(z)}{q(z|x,y)}\Big]

    (Kingma et al., 2014, eqs. 6-7).
    """

    def __init__(self, encoder: LabelMLPEncoder, decoder: LabelMLPDecoder, classifier: MLPClassifier):
        super().__init__()
        _check_parts(encoder=encoder, decoder=decoder, classifier=classifier)
        self.encoder, self.decoder, self.classifier = encoder, decoder, classifier
        self.z_dim, self.n_classes = encoder.z_dim, encoder.n_classes
        self.enumerated_guide = config_enumerate(self.guide, "parallel")

    @classmethod
    def mlp(cls, z_dim: int = 50, hidden_dim: int = 400) -> M2:
        """The three MLPs with chapter 3's sizes (784-hidden-z)."""
        return cls(LabelMLPEncoder(z_dim, hidden_dim), LabelMLPDecoder(z_dim, hidden_dim), MLPClassifier(hidden_dim))

    def model(self, x: torch.Tensor, y: torch.Tensor | None = None) -> None:
        batch = x.shape[0]
        with pyro.plate("data", batch):
            z = pyro.sample("z", dist.Normal(x.new_zeros(()), 1.0).expand([batch, self.z_dim]).to_event(1))
            uniform = x.new_zeros((batch, self.n_classes))  # logits of p(y) = 1/10
            y = pyro.sample("y", dist.Categorical(logits=uniform), obs=y)  # (B,), or (10, 1) when enumerated
            logits = self.decoder(z, one_hot(y, self.n_classes)).flatten(-3)  # (B, 784) or (10, B, 784)
            pyro.sample("x", dist.Bernoulli(logits=logits).to_event(1), obs=x.flatten(1))

    def guide(self, x: torch.Tensor, y: torch.Tensor | None = None) -> None:
        with pyro.plate("data", x.shape[0]):
            if y is None:
                y = pyro.sample("y", dist.Categorical(logits=self.classifier(x)))
            loc, scale = self.encoder(x, one_hot(y, self.n_classes))  # (B, z) or (10, B, z)
            pyro.sample("z", dist.Normal(loc, scale).to_event(1))
