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
    """One published figure. Used in chapters 1, 3, 6 and 8 (and the benchmark)."""

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


# Kingma et al. (2014), Table 1: semi-supervised MNIST. The test error of M2's classifier q(y|x) and of a
# neural-network classifier trained on the labelled images alone ("NN"), for N labelled training images.
_KINGMA_M2_CONDITIONS = (
    "MNIST; N labelled training images, the other training images unlabelled; M2 alone (no M1 features), its "
    "classifier q(y|x) scored on the MNIST test set; the paper's own MLPs, optimiser and (much longer) schedule, "
    "alpha = 0.1 N; the +- is the table's spread over runs, given here only where this book has checked it"
)
KINGMA_M2_ERROR = {
    100: Published(
        11.97,
        "% test error",
        "M2 test error with 100 labels (+- 1.71)",
        _KINGMA_M2_CONDITIONS,
        "kingma2014semi",
        "Table 1, row M2, N = 100",
    ),
    600: Published(
        4.94,
        "% test error",
        "M2 test error with 600 labels",
        _KINGMA_M2_CONDITIONS,
        "kingma2014semi",
        "Table 1, row M2, N = 600",
    ),
    1000: Published(
        3.60,
        "% test error",
        "M2 test error with 1,000 labels",
        _KINGMA_M2_CONDITIONS,
        "kingma2014semi",
        "Table 1, row M2, N = 1000",
    ),
    3000: Published(
        3.92,
        "% test error",
        "M2 test error with 3,000 labels",
        _KINGMA_M2_CONDITIONS,
        "kingma2014semi",
        "Table 1, row M2, N = 3000",
    ),
}
KINGMA_M2_ERROR_SPREAD = {100: 1.71}  # the +- of Table 1 that this book has checked against a copy of the paper

KINGMA_M1M2_ERROR_100 = Published(
    value=3.33,
    unit="% test error",
    what="M1+M2 test error with 100 labels (+- 0.14): M2 trained on the latent codes of an M1 VAE",
    conditions=_KINGMA_M2_CONDITIONS.replace("M2 alone (no M1 features)", "M2 on the codes of a separately trained M1"),
    cite="kingma2014semi",
    where="Table 1, row M1+M2, N = 100",
)
# Pyro's semi-supervised VAE tutorial, Table 1 (pyro-ppl/pyro, tutorial/source/ss-vae.ipynb, read at commit
# 09fe79d5), and its script examples/vae/ss_vae_M2.py (read at commit 07ad8d87). Accuracies, not errors.
_PYRO_SSVAE_CONDITIONS = (
    "MNIST; the first 50,000 training images split into N labelled (balanced) and 50,000 - N unlabelled, the "
    "last 10,000 a labelled validation set; M2 with one hidden layer of 500 softplus units, z = 50; mean test "
    "accuracy over five random labelled subsets (95% bounds in the table). The tutorial chose the auxiliary "
    "loss weight on the validation accuracy, and its script logs the test accuracy at the best-validation "
    "epoch beside the last one"
)
PYRO_SSVAE_ACCURACY = {
    variant: {
        n: Published(
            value,
            "test accuracy (fraction)",
            f"{variant}, {n} labels",
            _PYRO_SSVAE_CONDITIONS,
            "pyro2024ssvae",
            f"Table 1, row {n}, column '{column}'",
        )
        for n, value in rows.items()
    }
    for variant, column, rows in (
        (
            "enumerated y, no classification term",
            "Second variant",
            {100: 0.2254, 600: 0.6939, 1000: 0.7562, 3000: 0.8932},
        ),
        (
            "enumerated y with the classification term",
            "Third variant",
            {100: 0.9319, 600: 0.9437, 1000: 0.9487, 3000: 0.9582},
        ),
        ("labels-only classifier", "Baseline classifier", {100: 0.7712, 600: 0.8716, 1000: 0.8863, 3000: 0.9108}),
    )
}

TOMCZAK_VAMPPRIOR_LL = Published(
    value=-85.57,
    unit="nats per image",
    what="test log-likelihood (negative NLL, 5,000 importance samples) of a VAE with a VampPrior of K = 500",
    conditions="binary MNIST. The authors' code (github.com/jmtomczak/vae_vampprior; its defaults may differ from "
    "the table's runs): encoder and decoder of two gated layers of 300 units, 40 latent units, 500 pseudo-inputs, "
    "batch 100, Adam 5e-4, KL warm-up over 100 epochs, up to 2,000 epochs with early stopping after 50",
    cite="tomczak2018vae",
    where="Table 1, VampPrior (K = 500), as quoted by the pythae reproduction (chadebec2022pythae), "
    "which obtained -85.79",
)


DSPRITES_IMAGES = Published(
    value=737_280,
    unit="images",
    what="size of dSprites: every combination of its factor values exactly once",
    conditions="64x64 binary images; shape (square, ellipse, heart), 6 scales in [0.5, 1], 40 orientations in "
    "[0, 2 pi], 32 x and 32 y positions in [0, 1]",
    cite="matthey2017dsprites",
    where="the data set's README",
)

LOCATELLO_MODELS = Published(
    value=12_000,
    unit="models (more than)",
    what="trained models in the large-scale study of unsupervised disentanglement",
    conditions="six methods and six disentanglement metrics on seven data sets, in one reproducible study",
    cite="locatello2019challenging",
    where="abstract",
)
