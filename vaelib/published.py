"""Published numbers the book compares itself with, each written once with its source and conditions.

A number from a paper means nothing without the conditions it was measured under (data and its
binarization, likelihood, architecture, training budget, estimator). Chapters print and assert
against these constants instead of writing the figures again; the ``cite`` field is the
``references.bib`` key (chapters cite it with their own prefix, e.g. ``06-burda2015importance``).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Published:
    """One published figure. Used in chapters 1, 3 and 6 (and the benchmark)."""

    value: float  # the number as published
    unit: str  # what it is measured in
    what: str  # the quantity, e.g. "test log-likelihood L_5000"
    conditions: str  # data, model, training and estimator, as the source states them
    cite: str  # key in references.bib
    where: str  # table, figure or section of the source

    def __float__(self) -> float:
        return float(self.value)


PYRO_TUTORIAL_EPOCHS = 100  # the tutorial trains 100 epochs and evaluates every 5th (last evaluation: epoch 95)

PYRO_TUTORIAL_TEST_ELBO = Published(
    value=-101.0,
    unit="nats per image",
    what="test ELBO (a cross-entropy bound on grey pixels, not a log-likelihood)",
    conditions="grey-scale MNIST, Bernoulli likelihood, 784-400-50 softplus MLP VAE, Adam 1e-3, batch 256, "
    "100 epochs (last test evaluation at epoch 95), one sample of z per image",
    cite="pyro2024vae",
    where="the tutorial's test-ELBO figure, read off at its last point",
)

# The same tutorial's curve at early epochs, read off its figure (approximate), for the benchmark.
PYRO_TUTORIAL_EARLY_TEST_ELBO = {1: -156.0, 10: -108.0}  # epoch -> test ELBO, nats per image

BURDA_VAE_LL = Published(
    value=-86.76,
    unit="nats per image",
    what="test log-likelihood L_5000 of a VAE trained with the ELBO (k = 1)",
    conditions="dynamically binarized MNIST, one stochastic layer of 50 units, two deterministic layers of 200 "
    "tanh units, 3,280 passes over the data, batch 20, scored with k = 5000 on the 10,000 test images",
    cite="burda2015importance",
    where="Table 1, MNIST, 1 stochastic layer, VAE, k = 1",
)

BURDA_IWAE_K50_LL = Published(
    value=-84.78,
    unit="nats per image",
    what="test log-likelihood L_5000 of an IWAE trained with k = 50",
    conditions="as BURDA_VAE_LL: dynamically binarized MNIST, 1 stochastic layer of 50 units, 2 x 200 tanh units",
    cite="burda2015importance",
    where="Table 1, MNIST, 1 stochastic layer, IWAE, k = 50",
)
