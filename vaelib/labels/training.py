r"""Training and scoring the label models of :mod:`vaelib.labels`: CVAE, M2 and the supervised baseline.

M2 trains on two streams at once, so it has its own loop rather than :func:`vaelib.fit_svi`. Each step
takes an unlabelled batch and a labelled batch and minimises, per image of the training set,

.. math::
    \frac{1}{N}\mathcal{J}^\alpha = -\frac{N_u}{N}\,\overline{\mathcal{U}(x_u)} - \frac{N_l}{N}\,
    \overline{\mathcal{L}(x_l, y_l)} + \frac{\alpha}{N}\,\overline{-\log q_\phi(y_l \mid x_l)}

(bars: batch means), an unbiased estimate of Kingma et al. (2014)'s eq. 9 with the classification
term of their eq. 10. The two ELBO terms are weighted with ``poutine.scale``; gradients come from
``TraceEnum_ELBO.differentiable_loss`` and one ``torch.optim.Adam`` step updates all three networks, so
Pyro's global parameter store is not used. Taught in chapter 8.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from pyro import poutine
from pyro.infer import Trace_ELBO, TraceEnum_ELBO

from .. import checks
from ..data import ImageData, check_data
from ..loop import Epoch, History, NonFiniteLossError, eval_mode, non_finite_parameters, run_epochs
from ..losses import bernoulli_log_likelihood, gaussian_kl_to_standard
from .networks import CVAE, M2, LabelSplit, MLPClassifier


@dataclass
class LabelHistory(History):
    """:class:`vaelib.History` plus the test error of the classifier after each epoch.

    What :func:`fit_m2` and :func:`fit_classifier` return (chapter 8).
    """

    test_error: list[float] = field(default_factory=list)  # fraction of test images misclassified
    validation_error: list[float] = field(default_factory=list)  # on a small held-out labelled set, if given


def _guarded(module: torch.nn.Module, where: str, compute: Callable, *args):
    """``compute(*args)``; Pyro's validation refusing NaN parameters becomes a NonFiniteLossError (no update made).

    Whether it was a NaN is decided by looking at ``module``'s parameters after the error, not at
    the text of Pyro's message: any other invalid value (grey pixels for a Bernoulli) is passed on.
    """
    try:
        return compute(*args)
    except ValueError as err:
        if not non_finite_parameters(module):  # not a NaN: Pyro's message stands
            raise
        raise NonFiniteLossError(
            f"{where}: the networks produced NaN or infinite values (Pyro: "
            f"{str(err).splitlines()[0][:160]}); training stopped before this update. Lower the learning rate."
        ) from err


def _check_counts(**counts) -> None:
    """Every count is a whole number of at least 1 (epochs=0 is allowed: no training)."""
    for name, value in counts.items():
        checks.whole_number(value, name, minimum=0 if name == "epochs" else 1)


@torch.no_grad()
def classification_error(classifier: torch.nn.Module, data: ImageData, batch_size: int = 1000) -> float:
    """Fraction of ``data`` whose most probable class under ``classifier`` is wrong.

    Used in chapter 8 through fit_m2 and fit_classifier.
    """
    check_data(data)
    wrong = torch.zeros((), device=data.images.device)
    with eval_mode(classifier):
        for x, y in data.batches(batch_size, shuffle=False):
            wrong += (classifier(x).argmax(-1) != y).sum()
    return wrong.item() / len(data)


@torch.no_grad()
def confusion_matrix(classifier: torch.nn.Module, data: ImageData, batch_size: int = 1000) -> torch.Tensor:
    """(10, 10) counts: row = true class, column = predicted class. Taught in chapter 8.

    Labels outside 0 .. n_classes - 1 are refused (index -1 would silently count as the last class).
    """
    check_data(data)
    low, high = checks.value_range(data.labels) if len(data) else (0, 0)
    if low < 0 or high >= classifier.n_classes:
        raise ValueError(
            f"data holds labels from {low:g} to {high:g}; a {classifier.n_classes}-class confusion matrix needs "
            f"labels 0 to {classifier.n_classes - 1}. Drop or relabel the others first."
        )
    counts = torch.zeros(classifier.n_classes, classifier.n_classes, dtype=torch.long, device=data.images.device)
    with eval_mode(classifier):
        for x, y in data.batches(batch_size, shuffle=False):
            pred = classifier(x).argmax(-1)
            counts.index_put_((y, pred), torch.ones_like(y), accumulate=True)
    return counts


@torch.no_grad()
def cvae_terms(cvae: CVAE, data: ImageData, batch_size: int = 1000, generator=None) -> dict[str, float]:
    r"""Mean ELBO, reconstruction term and closed-form KL(q(z|x,y) || p(z)) per image over binary ``data``.

    ELBO = E_q[log p(x|y,z)] - KL, one sample of z per image. Taught in chapter 8.
    """
    check_data(data)
    rec = kl = torch.zeros((), device=data.images.device)
    with eval_mode(cvae):
        for x, y in data.batches(batch_size, shuffle=False):
            label = cvae.label_input(y)
            loc, scale = cvae.encoder(x, label)  # (B, z) each
            z = loc + scale * torch.randn(loc.shape, device=loc.device, generator=generator)
            rec = rec + bernoulli_log_likelihood(cvae.decoder(z, label), x).sum()
            kl = kl + gaussian_kl_to_standard(loc, scale).sum()
    rec, kl = rec.item() / len(data), kl.item() / len(data)
    return {"elbo": rec - kl, "reconstruction": rec, "kl": kl}


def fit_cvae(
    cvae: CVAE,
    train: ImageData,
    test: ImageData | None = None,
    *,
    epochs: int = 1,
    batch_size: int = 256,
    lr: float = 1e-3,
    progress: bool = True,
) -> History:
    """Train a :class:`~vaelib.labels.CVAE` on dynamically binarized (x, y) batches; test ELBO per epoch.

    The loss is Pyro's ``Trace_ELBO`` (one sample of z, sampled KL), averaged over the batch. The test
    ELBO uses the closed-form KL (:func:`cvae_terms`) on ``test``, which should be binary. Taught in chapter 8.
    """
    _check_counts(epochs=epochs, batch_size=batch_size)
    elbo = Trace_ELBO()

    def step(batch, progress_epochs, where):
        x, y = batch
        loss = _guarded(cvae, where, elbo.differentiable_loss, cvae.model, cvae.guide, x, y) / len(x)
        return loss, -loss.detach() * len(x), len(x)

    score = None if test is None else lambda: {"test_elbo": cvae_terms(cvae, test)["elbo"]}
    batches = functools.partial(train.batches, batch_size, binarize=True)
    optimizer = torch.optim.Adam(cvae.parameters(), lr=lr)
    return run_epochs(
        cvae, optimizer, batches, step, epochs=epochs, history=History(), evaluate=score, progress=progress
    )


def m2_loss(
    m2: M2, x_u: torch.Tensor, x_l: torch.Tensor, y_l: torch.Tensor, n_unlabelled: int, n_labelled: int, alpha: float
) -> dict[str, torch.Tensor]:
    r"""The M2 objective :math:`-\mathcal{J}^\alpha / N` (module docstring; Kingma et al., 2014, eqs. 9-10) for one
    pair of batches, and its parts.

    Returns a dict of tensors: ``loss`` (to minimise, nats per training image), ``unlabelled`` and
    ``labelled`` (mean negative ELBOs -U and -L per image of each batch) and ``classification`` (mean
    cross-entropy of q(y|x) on the labelled batch). ``alpha`` is Kingma et al.'s alpha; they use 0.1 N.
    Used in chapter 8 through fit_m2.
    """
    n = n_unlabelled + n_labelled
    enum_elbo = TraceEnum_ELBO(max_plate_nesting=1)
    # poutine.scale multiplies every log-density of a batch: here by N_u / (N B_u) and N_l / (N B_l).
    scale_u, scale_l = n_unlabelled / (n * len(x_u)), n_labelled / (n * len(x_l))
    unlabelled = enum_elbo.differentiable_loss(
        poutine.scale(m2.model, scale_u), poutine.scale(m2.enumerated_guide, scale_u), x_u
    )
    # y is observed in the labelled batch: nothing to enumerate, so the plain Trace_ELBO does.
    labelled = Trace_ELBO().differentiable_loss(
        poutine.scale(m2.model, scale_l), poutine.scale(m2.guide, scale_l), x_l, y_l
    )
    classification = F.cross_entropy(m2.classifier(x_l), y_l)  # mean of -log q(y|x) over the labelled batch
    return {
        "loss": unlabelled + labelled + alpha / n * classification,
        "unlabelled": unlabelled.detach() / (scale_u * len(x_u)),
        "labelled": labelled.detach() / (scale_l * len(x_l)),
        "classification": classification.detach(),
    }


def fit_m2(
    m2: M2,
    split: LabelSplit,
    test: ImageData | None = None,
    *,
    epochs: int = 1,
    batch_size: int = 256,
    labelled_batch_size: int = 100,
    lr: float = 1e-3,
    alpha: float | None = None,
    progress: bool = True,
    on_epoch: Callable[[int, LabelHistory], None] | None = None,
    validation: ImageData | None = None,
) -> LabelHistory:
    """Train M2 on ``split`` (:func:`vaelib.split_labelled`) with Adam; one epoch = one pass over the unlabelled images.

    ``alpha`` defaults to Kingma et al.'s 0.1 N (N = all training images). The history's train ELBO is the
    mean over the epoch of -(loss without the classification term), nats per image; its test error is
    that of q(y|x) on ``test``, and its validation error that on ``validation`` (a small held-out labelled
    set, :func:`vaelib.held_out_labelled`, binary like ``test``) after each epoch. Taught in chapter 8.
    """
    _check_counts(epochs=epochs, batch_size=batch_size, labelled_batch_size=labelled_batch_size)
    n_u, n_l = len(split.unlabelled), len(split.labelled)
    alpha = 0.1 * (n_u + n_l) if alpha is None else alpha

    def step(batch, progress_epochs, where):
        x_u, x_l, y_l = batch
        parts = _guarded(m2, where, m2_loss, m2, x_u, x_l, y_l, n_u, n_l, alpha)
        per_image = (n_u * parts["unlabelled"] + n_l * parts["labelled"]) / (n_u + n_l)  # no host sync
        return parts["loss"], -per_image * len(x_u), len(x_u)

    def score() -> dict[str, float]:
        scores = {"test_error": classification_error(m2.classifier, test)} if test is not None else {}
        if validation is not None:
            scores["validation_error"] = classification_error(m2.classifier, validation)
        return scores

    optimizer = torch.optim.Adam(m2.parameters(), lr=lr)
    evaluate = score if test is not None or validation is not None else None
    loop = dict(epochs=epochs, history=LabelHistory(), evaluate=evaluate, on_epoch=on_epoch, progress=progress)
    return run_epochs(m2, optimizer, functools.partial(split.batches, batch_size, labelled_batch_size), step, **loop)


def fit_classifier(
    classifier: MLPClassifier,
    labelled: ImageData,
    test: ImageData | None = None,
    *,
    steps: int = 1000,
    batch_size: int = 100,
    lr: float = 1e-3,
    binarize: bool = True,
) -> LabelHistory:
    """The supervised baseline: ``steps`` Adam steps of cross-entropy on the labelled images alone.

    The images are binarized as M2's are, so both classifiers see the same kind of input. The history
    holds the test error once, after the last step. Taught in chapter 8.
    """
    _check_counts(steps=steps, batch_size=batch_size)
    batch_size = min(batch_size, len(labelled))

    def cycle():  # ``steps`` batches, reshuffled after every pass over the labelled images
        done = 0
        while done < steps:
            for batch in labelled.batches(batch_size, binarize=binarize, drop_last=True):
                yield batch
                done += 1
                if done == steps:
                    return

    def step(batch, progress_epochs, where):
        x, y = batch
        return F.cross_entropy(classifier(x), y), None, len(x)

    score = None if test is None else lambda: {"test_error": classification_error(classifier, test)}
    optimizer = torch.optim.Adam(classifier.parameters(), lr=lr)

    def one_pass():  # the loop calls it once: one "epoch" of `steps` steps
        return Epoch(cycle(), steps)

    return run_epochs(
        classifier, optimizer, one_pass, step, epochs=1, history=LabelHistory(), evaluate=score, progress=False
    )
