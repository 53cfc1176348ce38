"""The book's recorded numbers set beside the published ones, for the page of published numbers.

:mod:`vaelib.published` holds every number the book quotes from a paper, with its conditions; the
records in ``vaelib/book/recorded/`` hold the book's long runs, with theirs. This module says which
recorded number answers which published one (:data:`COMPARISONS`), and where in the record it sits.
``_ext/published_numbers.py`` builds the page from both at build time, so the page never holds a
number written by hand. Nothing here depends on how many entries ``published`` has: every
:class:`~vaelib.published.Published` in it (alone or in a dict) gets a row, with or without a
recorded counterpart.
"""

from __future__ import annotations

import string
from dataclasses import dataclass
from types import ModuleType

from . import published as published_module
from .published import Published


@dataclass(frozen=True)
class Comparison:
    """One recorded number of the book beside one published number.

    ``path`` leads from the record's top level to the number: dict keys, list indices, or a dict
    such as ``{"labels": 100}`` that picks the list item with that field. ``conditions`` may name
    record entries as ``{settings[epochs]}`` or ``{hardware}``; they are filled in from the record.
    Used by the page of published numbers, which chapters 1, 3 and 6-9 link to.
    """

    published: str  # an entry of published_entries(): "NAME", or "NAME[key]" for an entry of a dict
    record: str  # the record's name in vaelib/book/recorded/
    path: tuple  # where the number sits in the record
    what: str  # the book's quantity, in words
    conditions: str  # data, binarization, estimator, network and schedule of the book's number
    comparable: str  # "yes", "roughly: ..." or "no: ...", with the reason
    chapter: str  # the label of the chapter that made the record, e.g. "ch-evaluation"
    scale: float = 1.0  # multiplies the recorded value into the published number's unit (100 for a %)


def published_entries(module: ModuleType = published_module) -> dict[str, Published]:
    """Every :class:`~vaelib.published.Published` of ``module``, keyed "NAME" or "NAME[key]" (dicts of them).

    In the order of the module. Used by the page of published numbers (chapters 1, 3 and 6-9 quote them).
    """
    entries = {}
    for name, value in vars(module).items():
        if name.startswith("_") or not name.isupper():
            continue
        if isinstance(value, Published):
            entries[name] = value
        elif isinstance(value, dict) and value and all(isinstance(v, Published) for v in value.values()):
            entries.update({f"{name}[{key}]": entry for key, entry in value.items()})
    return entries


def record_value(record: dict, path: tuple) -> float:
    """The number at ``path`` in ``record`` (see :class:`Comparison`); KeyError naming the step that failed.

    Used by the page of published numbers and its tests (records of chapters 6-9).
    """
    node = record
    for step, key in enumerate(path):
        where = "".join(f"[{k!r}]" for k in path[: step + 1])
        if isinstance(key, dict):
            field, wanted = next(iter(key.items()))
            matches = [item for item in node if isinstance(item, dict) and item.get(field) == wanted]
            if not matches:
                raise KeyError(f"the record has no item with {field} = {wanted!r} at {where}")
            node = matches[0]
        else:
            try:
                node = node[key]
            except (KeyError, IndexError, TypeError):
                raise KeyError(f"the record has nothing at {where}") from None
    if isinstance(node, bool) or not isinstance(node, int | float):
        raise KeyError(f"the record holds {type(node).__name__}, not a number, at {path!r}")
    return float(node)


def fill_conditions(template: str, record: dict) -> str:
    """``template`` with ``{settings[epochs]}``-style fields taken from ``record``.

    A field the record lacks is shown as ``(not in the record: ...)`` instead of failing, so a page
    still builds when a record changes shape; the page's tests catch it. Used by the page of
    published numbers (records of chapters 6-9).
    """
    out = []
    for literal, field, spec, _ in string.Formatter().parse(template):
        out.append(literal)
        if field is None:
            continue
        try:
            value = string.Formatter().get_field(field, (), record)[0]
            out.append(format(value, spec or ""))
        except (KeyError, IndexError, TypeError, ValueError):
            out.append(f"(not in the record: {field})")
    return "".join(out)


_MNIST_BINARY = "MNIST, dynamically binarized in training, one fixed binarization of the test images"
_CH6 = (
    _MNIST_BINARY + "; 784-400-50 softplus MLP VAE (one hidden layer each way); {settings[epochs]} epochs of batch "
    "{settings[batch_size]} on {settings[train_images]:,} images; L_K with K = {settings[k]:,} on "
    "{settings[log_px_images]:,} test images"
)
_CH7 = (
    _MNIST_BINARY + "; 784-400-50 softplus MLP; {settings[epochs]} epochs of batch {settings[batch_size]} on "
    "{settings[train_images]:,} images; L_K with K = {settings[eval_k]:,} on {settings[eval_images_used]:,} test "
    "images, the encoder as proposal"
)

_CH11_LADDER = (
    _MNIST_BINARY + "; {model}; {{settings[ladder_epochs]}} epochs of batch {{settings[batch_size]}} on "
    "{{settings[train_images]:,}} images; L_K with K = {{settings[ll_k]:,}} on {{settings[ll_images]:,}} test images"
)

COMPARISONS: tuple[Comparison, ...] = (
    Comparison(
        "BURDA_VAE_LL",
        "evaluation_full",
        ("results", "scores", "dynamic binarization", "ll"),
        "test log-likelihood L_5000 of the ELBO-trained VAE",
        _CH6,
        "roughly: the same data, binarization and estimator; a different network (one hidden layer of 400 "
        "softplus units, not two of 200 tanh units) trained for 100 epochs, not 3,280 passes",
        "ch-evaluation",
    ),
    Comparison(
        "BURDA_VAE_LL",
        "tighter_bounds_full",
        ("results", "table", "VAE (chapter 6)", "ll"),
        "test log-likelihood L_5000 of the ELBO-trained VAE of chapter 7",
        _CH7,
        "no: {settings[epochs]} epochs against 3,280 passes over the data, another network, "
        "{settings[eval_images_used]} test images",
        "ch-tighter-bounds",
    ),
    Comparison(
        "BURDA_IWAE_K50_LL",
        "tighter_bounds_full",
        ("results", "table", "IWAE, K = 50", "ll"),
        "test log-likelihood L_5000 of the IWAE trained with K = 50",
        _CH7,
        "no: {settings[epochs]} epochs against 3,280 passes over the data, another network, "
        "{settings[eval_images_used]} test images",
        "ch-tighter-bounds",
    ),
    Comparison(
        "PYRO_TUTORIAL_TEST_ELBO",
        "evaluation_full",
        ("results", "scores", "grey-scale Bernoulli", "elbo"),
        "test ELBO of the VAE trained on grey-scale pixels with a Bernoulli likelihood",
        "grey-scale MNIST with a Bernoulli likelihood (a cross-entropy bound, not a log-likelihood); 784-400-50 "
        "softplus MLP; {settings[epochs]} epochs of batch {settings[batch_size]}, Adam {settings[lr]}",
        "roughly: the same data, likelihood, network and schedule; the tutorial's figure is read off its plot "
        "(last evaluation at epoch 95), the book's is the test ELBO after epoch 100",
        "ch-evaluation",
    ),
    Comparison(
        "KINGMA_M2_ERROR[100]",
        "labels_full",
        ("results", "sweep", {"labels": 100}, "pixel_error"),
        "test error of M2 on pixels with 100 labels (classifier warm-started from the labels-only one, the "
        "classification weight chosen on 100 held-out labelled images), after the last epoch",
        "MNIST, {settings[m2_unlabelled]:,} unlabelled training images and 100 labelled; the 784-400-50 networks "
        "of chapter 3; {settings[m2_epochs]} epochs of batch {settings[m2_batch]}; no large validation set; error "
        "on {settings[test_images]:,} test images",
        "no: a few hundred classifier updates against the paper's long schedule; a chosen weight, not 0.1 N; "
        "other networks",
        "ch-labels",
        scale=100.0,
    ),
    Comparison(
        "KINGMA_M1M2_ERROR_100",
        "labels_full",
        ("results", "sweep", {"labels": 100}, "m1m2_error"),
        "test error of M1+M2 (M2 on the codes of the chapter's VAE) with 100 labels, after the last epoch",
        "MNIST, {settings[train_images]:,} training images of which 100 labelled; M1 the chapter's 784-400-50 VAE "
        "({settings[m1_epochs]} epochs), M2 on its active units with {settings[code_hidden]}-unit networks and "
        "z = {settings[code_z_dim]}, {settings[code_epochs]} epochs; the weight chosen on 100 held-out labelled "
        "images; error on {settings[test_images]:,} test images",
        "no: {settings[code_epochs]} epochs against the paper's 3,000; another M1",
        "ch-labels",
        scale=100.0,
    ),
    Comparison(
        "TOMCZAK_VAMPPRIOR_LL",
        "priors_full",
        ("results", "priors", "vamp", "ll"),
        "L_K of the VAE with a VampPrior",
        _MNIST_BINARY + "; 784-400-50 softplus MLP with {settings[n_components]} pseudo-inputs; {settings[epochs]} "
        "epochs of batch {settings[batch_size]} on {settings[train_images]:,} images; L_K with K = "
        "{settings[ll_k]:,} on {settings[ll_images]:,} test images",
        "no: {settings[epochs]} epochs against up to 2,000 with warm-up and early stopping; another network; "
        "{settings[ll_images]} test images",
        "ch-priors",
    ),
    Comparison(
        "BURDA_VAE_LL",
        "hierarchy_full",
        ("results", "ladder", "one layer", "ll"),
        "test log-likelihood L_K of chapter 11's one-layer VAE (the two-layer model's size)",
        _CH11_LADDER.format(model="784-250-50 softplus MLP (430,884 parameters)"),
        "no: {settings[ladder_epochs]} epochs against 3,280 passes over the data, another network, K = "
        "{settings[ll_k]:,} on {settings[ll_images]} test images",
        "ch-hierarchy",
    ),
    Comparison(
        "BURDA_TWO_LAYER_VAE_LL",
        "hierarchy_full",
        ("results", "ladder", "two layers, plain", "ll"),
        "test log-likelihood L_K of chapter 11's two-layer ladder VAE trained with the plain ELBO",
        _CH11_LADDER.format(
            model="two stochastic layers of 100 and 50 units with the ladder's top-down inference, one softplus layer "
            "of 200 and of 100 units per side (430,484 parameters)"
        ),
        "no: {settings[ladder_epochs]} epochs against 3,280 passes over the data, top-down against bottom-up "
        "inference, other deterministic layers, K = {settings[ll_k]:,} on {settings[ll_images]} test images",
        "ch-hierarchy",
    ),
    Comparison(
        "VDM_CIFAR10_BPD",
        "hierarchy_full",
        ("results", "diffusion", "learned schedule", "bpd"),
        "bits per dimension of chapter 11's diffusion model with VDM's learned schedule (T-step bound)",
        "binarized MNIST averaged over 4x4 blocks: 7x7 images of 17 levels; an MLP noise predictor with Fourier "
        "features; {settings[diff_epochs]} epochs on {settings[train_images]:,} images; T = {settings[bound_steps]:,} "
        "bound on {settings[bound_images]} test images",
        "no: another data set (49 values of 17 levels, not CIFAR-10's 3,072 of 256), another network and budget",
        "ch-hierarchy",
    ),
)
