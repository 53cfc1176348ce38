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


_BURDA_SECONDARY = (
    " (read as quoted beside a reproduction in the README of github.com/nbip/IWAE, 'Test-set LLH (original paper)'; "
    "the same table's k = 1 and IWAE k = 50 entries match BURDA_VAE_LL and BURDA_IWAE_K50_LL)"
)

BURDA_VAE_K5_LL = Published(
    value=-86.47,
    unit="nats per image",
    what="test log-likelihood L_5000 of a VAE trained with the average of k = 5 ELBO samples per step",
    conditions="as BURDA_VAE_LL: dynamically binarized MNIST, 1 stochastic layer of 50 units, 2 x 200 tanh units, "
    "3,280 passes, scored with k = 5000",
    cite="burda2015importance",
    where="Table 1, MNIST, 1 stochastic layer, VAE, k = 5" + _BURDA_SECONDARY,
)

BURDA_VAE_K50_LL = Published(
    value=-86.35,
    unit="nats per image",
    what="test log-likelihood L_5000 of a VAE trained with the average of k = 50 ELBO samples per step",
    conditions=BURDA_VAE_K5_LL.conditions,
    cite="burda2015importance",
    where="Table 1, MNIST, 1 stochastic layer, VAE, k = 50" + _BURDA_SECONDARY,
)

BURDA_IWAE_K5_LL = Published(
    value=-85.54,
    unit="nats per image",
    what="test log-likelihood L_5000 of an IWAE trained with k = 5",
    conditions=BURDA_VAE_K5_LL.conditions,
    cite="burda2015importance",
    where="Table 1, MNIST, 1 stochastic layer, IWAE, k = 5" + _BURDA_SECONDARY,
)


BURDA_TWO_LAYER_VAE_LL = Published(
    value=-85.33,
    unit="nats per image",
    what="test log-likelihood L_5000 of a VAE with two stochastic layers trained with the ELBO (k = 1)",
    conditions="dynamically binarized MNIST, the paper's two-stochastic-layer architecture (100 and 50 stochastic "
    "units; two tanh layers of 200 units on the way to the first, of 100 on the way to the second, as the same "
    "repository reimplements it) with bottom-up inference q(z1|x) q(z2|z1), 3,280 passes over the data, batch 20, "
    "scored with k = 5000 on the 10,000 test images",
    cite="burda2015importance",
    where="Table 1, MNIST, 2 stochastic layers, VAE, k = 1" + _BURDA_SECONDARY,
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

LOCATELLO_TRAINING_STEPS = Published(
    value=300_000,
    unit="training steps",
    what="training steps of every model in the large-scale study of unsupervised disentanglement",
    conditions="batch 64, Adam 1e-4, convolutional encoder and decoder, 10 latent units, dSprites (64x64) and six "
    "other data sets, 50 random seeds per method and hyperparameter; the MIG from a 20-bin histogram of the means "
    "of 10,000 points",
    cite="locatello2019challenging",
    where="the study's released configuration, disentanglement_lib/config/unsupervised_study_v1 (model_configs/"
    "shared.gin, sweep.py, metric_configs/mig.gin)",
)


# Chapter 10 (discrete latents). Read this session in the papers' own text (the ICLR 2017 versions).
_JANG_CONDITIONS = (
    "MNIST with a fixed binarization for training and evaluation; a VAE with 20 categorical latents of 10 classes "
    "(their Figure 4: 784-(20x10)-200), a uniform categorical prior with the analytic discrete KL (not a "
    "Gumbel-Softmax prior, so the training objective is not a bound while the samples are relaxed); temperature "
    "annealed as tau = max(0.5, exp(-r t)), updated every N steps, N in {500, 1000} and r in {1e-5, 1e-4} chosen on "
    "the validation set; SGD with momentum 0.9, learning rate from {3e-5, 1e-5, 3e-4, 1e-4, 3e-3, 1e-3} chosen on "
    "the validation set per estimator; samples discretized to one-hot for evaluation, scored with a multi-sample "
    "bound (m = 1000) on the test set; SF, DARN and MuProp with variance normalization"
)
JANG_CATEGORICAL_VAE_LOSS = {
    name: Published(
        value,
        "nats per image (a loss: minus the bound; lower is better)",
        f"test negative variational lower bound of the 20 x 10 categorical VAE trained with {name}",
        _JANG_CONDITIONS,
        "jang2017categorical",
        f"Table 1, row VAE (Cat.), column {name}",
    )
    for name, value in (
        ("SF", 110.6),
        ("DARN", 128.8),
        ("MuProp", 107.0),
        ("ST", 110.9),
        ("Annealed ST", 107.8),
        ("Gumbel-S.", 101.5),
        ("ST Gumbel-S.", 107.8),
    )
}

_MADDISON_CONDITIONS = (
    "MNIST with the fixed binarization of Salakhutdinov & Murray (2008), 50,000/10,000/10,000 split; n-ary discrete "
    "units whose states are the corners of the hypercube {-1, 1}^log2(n) (a layer of 240 8-ary units is 80 8-way "
    "variables); non-linear conditioning (two tanh layers of the stochastic layer's size), as Burda et al. (2016) "
    "with discrete variables; trained on the m-sample objective L_m with Concrete relaxations in log space "
    "(ExpConcrete) and Concrete densities for the KL, fixed temperatures (4-ary: posterior 1, prior 2/3; 8-ary: "
    "posterior 2/3, prior 2/5), Adam for 10^7 steps of batch 64, learning rate 1e-4 chosen on validation; test NLL "
    "estimated with L_50000"
)
MADDISON_NARY_NLL = {
    (arity, layers, m): Published(
        value,
        "nats per image (negative log-likelihood; lower is better)",
        f"test NLL (L_50000) of a {arity}-ary model {layers} trained on L_{m} with Concrete relaxations",
        _MADDISON_CONDITIONS,
        "maddison2017concrete",
        f"Appendix E, Table 2, {arity}-ary {layers}, m = {m}, MNIST test",
    )
    for arity, layers, m, value in (
        (4, "(240H~784V)", 1, 91.4),
        (8, "(240H~784V)", 1, 92.5),
        (4, "(240H~240H~784V)", 5, 86.7),  # also quoted in section 5.2 as the best 4-ary model
        (8, "(240H~240H~784V)", 5, 87.4),  # ... and the best 8-ary model
    )
}


# Chapter 11 (issue 30). Only what was read: the authors' README of Kingma et al. (2021), which quotes the
# paper's CIFAR-10 results. Burda et al.'s two-layer rows, Sønderby et al.'s ladder VAE and Ho et al.'s
# bits/dim were not reachable in a source that could be read here, so they are not stored (yet).
VDM_CIFAR10_BPD = Published(
    value=2.64,
    unit="bits per dimension",
    what="test-set bound (negative ELBO) of a continuous-time variational diffusion model with a learned schedule",
    conditions="CIFAR-10 without data augmentation, 8-bit pixels with VDM's discrete decoder at t = 0; the authors' "
    "released checkpoint evaluates to 2.637 with their code (configs/cifar10.py, trained on TPUs)",
    cite="kingma2021variational",
    where="the README of github.com/google-research/vdm, section 'CIFAR-10 without data augmentation', "
    "quoting the paper's result",
)

VDM_CIFAR10_AUGMENTED_BPD = Published(
    value=2.49,
    unit="bits per dimension",
    what="test-set bound of the variational diffusion model trained with data augmentation",
    conditions="CIFAR-10 with data augmentation, as in the paper; the open-source model (smaller batch, slightly "
    "different conditioning) reaches 2.522 instead, trained on a TPU v3-64 pod",
    cite="kingma2021variational",
    where="the README of github.com/google-research/vdm, section 'CIFAR-10 with data augmentation'",
)

# A setting, not a result: the number Stable Diffusion v1 multiplies its autoencoder's codes by before diffusion.
STABLE_DIFFUSION_SCALE_FACTOR = Published(
    value=0.18215,
    unit="factor (codes are multiplied by it)",
    what="latent diffusion's scale factor of Stable Diffusion v1: the codes of its KL-regularised autoencoder are "
    "multiplied by it to bring their spread to about 1 before the diffusion model sees them",
    conditions="Stable Diffusion v1's autoencoder (4 latent channels, a very small KL weight) and its released "
    "inference configuration; a setting of that model, measured by its authors on its codes, not a score",
    cite="rombach2022high",
    where="scale_factor in configs/stable-diffusion/v1-inference.yaml of github.com/CompVis/stable-diffusion",
)
