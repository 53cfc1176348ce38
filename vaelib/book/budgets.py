"""How much work each mode does: the shared budget and every chapter's per-mode table.

A run is in one of three modes: ``smoke`` (CI and tests: seconds per chapter), ``cpu`` (a build
on a laptop: minutes) and ``full`` (a GPU, or ``VAE_BOOK_BUDGET=full``). What ``full`` means differs
by chapter: for chapters 1-6 it runs longer schedules (up to 100 epochs, the length of Pyro's
tutorial, for chapters 3 and 6); for chapters 7-9 it is sized to about an hour on
one CPU thread, far shorter than the papers' schedules, and it is the mode of the shipped records
(``vaelib/recorded/``, each with the hardware, date and commit it ran on).
:func:`vaelib.budget` picks the mode; this module says what each mode means.

* :data:`BUDGETS` holds the numbers every chapter shares (epochs, subset sizes, batch size).
* :data:`CHAPTERS` holds one :class:`ModeTable` per chapter, keyed by the notebook's name: the
  chapter's constants and its mode-dependent sizes, each written once, as ``(smoke, cpu, full)``.

A chapter's setup cell reads its own table with ``SETTINGS = vaelib.chapter_settings("06_evaluation",
BUDGET)``; tests and ``tools/record_run.py`` read the same table, so what a chapter runs with is
never copied out of a notebook. To change a setting for one session, use
``dataclasses.replace(SETTINGS, epochs=3)``.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

import torch

from ..settings import BUDGET_ENV, SMOKE_ENV, pick_device, smoke_mode

MODES = ("smoke", "cpu", "full")


@dataclass(frozen=True)
class Budget:
    """The numbers every chapter shares in one mode.

    What :func:`budget` returns (``BUDGET = vaelib.budget()`` in every chapter's setup cell).
    """

    mode: str  # "smoke" (CI, seconds), "cpu" (default build, minutes) or "full" (CUDA; the records' mode)
    epochs: int  # passes over the training set for the main model of a chapter
    train_size: int | None  # training images used (None = the whole split)
    test_size: int | None  # test images used for evaluation (None = the whole split)
    batch_size: int  # mini-batch size


BUDGETS: Mapping[str, Budget] = MappingProxyType(
    {
        "smoke": Budget("smoke", epochs=1, train_size=512, test_size=256, batch_size=128),
        "cpu": Budget("cpu", epochs=5, train_size=None, test_size=None, batch_size=256),
        "full": Budget("full", epochs=50, train_size=None, test_size=None, batch_size=256),
    }
)
_SMOKE, _CPU, _FULL = (BUDGETS[mode] for mode in MODES)


def _shared(field: str) -> tuple:
    """A row that takes the shared budget's value of ``field`` in every mode."""
    return tuple(getattr(BUDGETS[mode], field) for mode in MODES)


@dataclass(frozen=True)
class ModeTable:
    """A chapter's settings: ``constants`` (the same in every mode) and ``rows`` of (smoke, cpu, full).

    :meth:`select` gives the settings of one mode as a frozen dataclass, so a typo in a name fails
    with an AttributeError instead of a silent default. Used in the capstone (its own table); every
    chapter's table is one, read by its setup cell (see :func:`vaelib.chapter_settings`).
    """

    name: str  # the chapter's notebook, without .ipynb
    rows: Mapping[str, tuple]  # name -> (smoke, cpu, full)
    constants: Mapping[str, Any] = dataclasses.field(default_factory=dict)  # name -> value in every mode

    def __post_init__(self):
        ragged = [key for key, values in self.rows.items() if not (isinstance(values, tuple) and len(values) == 3)]
        if ragged:
            raise ValueError(f"{self.name}: rows {ragged} need one value per mode, as a tuple (smoke, cpu, full)")
        both = sorted(set(self.rows) & set(self.constants))
        if both:
            raise ValueError(f"{self.name}: {both} are both a constant and a per-mode row; keep one")
        names = [*self.constants, *self.rows]
        bad = [key for key in names if not key.isidentifier() or key.startswith("_")]
        if bad:
            raise ValueError(f"{self.name}: setting names {bad} must be Python identifiers not starting with '_'")

    def select(self, mode: str) -> Any:
        """The settings for ``mode`` ('smoke', 'cpu' or 'full') as a frozen dataclass instance."""
        if mode not in MODES:
            raise ValueError(f"mode {mode!r} is not one of {MODES}; pass BUDGET.mode or BUDGET itself")
        values = {**self.constants, **{key: row[MODES.index(mode)] for key, row in self.rows.items()}}
        cls = dataclasses.make_dataclass(f"Settings_{self.name}", list(values), frozen=True)
        return cls(**values)


CHAPTERS: Mapping[str, ModeTable] = MappingProxyType(
    {
        table.name: table
        for table in [
            ModeTable(
                "01_elbo",
                constants=dict(fit_steps=300),  # Adam steps when maximizing the toy ELBO (five numbers to fit)
                rows=dict(
                    mc_samples=(20_000, 200_000, 1_000_000),  # Monte-Carlo samples of the ELBO estimates
                    grid=(81, 161, 241),  # points per axis of the posterior density plots
                    test_size=_shared("test_size"),  # MNIST images of the last section
                ),
            ),
            ModeTable(
                "02_reparameterization",
                # q = N(mu, sigma^2), f = z^2; gradient_repeats: gradients per setting of the exercise on L samples
                constants=dict(mu=1.0, sigma=0.5, vae_batch=64, vae_lr=1e-3, z_dim=10, gradient_repeats=30),
                rows=dict(
                    mc_samples=(20_000, 200_000, 1_000_000),  # draws per Monte-Carlo estimate
                    repeats=(1_000, 4_000, 10_000),  # independent repetitions for measured variances
                    sweep_samples=(10_000, 100_000, 200_000),  # draws per point of the variance sweep
                    vae_images=(256, 1_024, 4_096),  # training images of the small VAE
                    vae_epochs=(5, 10, 20),
                    gradient_samples=(200, 1_000, 2_000),  # noise draws per estimator on the trained encoder
                    gradient_batches=(100, 500, 1_000),  # fresh minibatches for the gradient's minibatch noise
                    train_size=_shared("train_size"),
                    test_size=_shared("test_size"),
                ),
            ),
            ModeTable(
                "03_pyro_vae",
                constants=dict(z_dim=50, hidden=400, lr=1e-3),  # Pyro's tutorial VAE and its Adam step size
                rows=dict(
                    train_size=_shared("train_size"),
                    test_size=_shared("test_size"),
                    batch_size=_shared("batch_size"),
                    mlp_epochs=(1, 8, 100),  # the 50-D model (the tutorial trains 100 epochs)
                    map_epochs=(1, 10, 30),  # the 2-D model drawn as a map
                    exercise_epochs=(1, 3, 30),
                    timing_steps=(5, 30, 50),  # SVI steps timed per loss
                ),
            ),
            ModeTable(
                "04_conv_vae",
                # A conv epoch over all 60,000 images takes minutes on a laptop CPU: the cpu run uses a subset.
                # The main model trains `epochs` on `train_size` images; the experiments that train several
                # models (two mistakes, beta sweep) use `small_epochs` on `small_size`. Smoke mode uses small
                # batches so that its few hundred images still give a few dozen updates.
                # latent size; KL weights of the sweep; fixed standard deviations of the Gaussian decoders
                constants=dict(z_dim=16, betas=(0.25, 1.0, 4.0, 32.0), sigmas=(1.0, 0.3, 0.1)),
                rows=dict(
                    train_size=(512, 10_000, _FULL.train_size),
                    test_size=(256, 2_000, _FULL.test_size),
                    batch_size=(32, _CPU.batch_size, _FULL.batch_size),
                    epochs=(3, _CPU.epochs, _FULL.epochs),
                    small_size=(256, 5_000, _FULL.train_size),
                    small_epochs=(2, 3, 20),
                ),
            ),
            ModeTable(
                "05_latent_space",
                constants=dict(perplexities=(5, 30, 100), k_neighbours=5),  # t-SNE perplexities; k of k-NN
                rows=dict(
                    train_size=_shared("train_size"),
                    test_size=_shared("test_size"),
                    batch_size=_shared("batch_size"),
                    epochs=_shared("epochs"),  # of the models trained when chapter 3's are missing
                    fallback_train=(_SMOKE.train_size, 10_000, None),  # images they train on
                    tsne_points=(300, 2_000, 5_000),  # test images per t-SNE map (2.4 s per 1,000 on 2 cores)
                    sweep_points=(300, 1_000, 2_500),  # points of the perplexity sweep
                    knn_train=(_SMOKE.train_size, 10_000, 20_000),  # codes the k-NN classifier is fitted on
                    knn_test=(_SMOKE.test_size, 2_000, 5_000),
                ),
            ),
            ModeTable(
                "06_evaluation",
                constants=dict(z_dim=50, hidden=400, lr=1e-3),  # the 784-400-50 MLP VAE of chapter 3
                rows=dict(
                    train_size=(_SMOKE.train_size, 15_000, None),  # training images per model
                    test_size=(_SMOKE.test_size, None, None),  # test images for ELBOs and active units
                    epochs=(2, 4, 100),  # epochs per model (Pyro's tutorial: about 100)
                    batch_size=(64, 128, _FULL.batch_size),
                    warmup_epochs=(1, 2, 10),  # epochs over which the KL weight rises from 0 to 1
                    # sample counts K for the curve of L_K; each divides the next, the last is the estimate's K
                    k_values=((1, 2, 4, 8, 16), (1, 5, 10, 50, 100, 500), (1, 5, 10, 50, 100, 500, 1000, 5000)),
                    iwae_test_size=(128, 500, None),  # test images log p(x) is estimated on: K decoder passes each
                    iwae_batch=(64, 100, 500),  # test images per batch of the estimate
                    gap_images=(4, 16, 100),  # test images that get their own optimised Gaussian
                    gap_steps=(100, 300, 1000),  # Adam steps for each of them
                    gap_samples=(8, 16, 32),  # samples of z per image and step
                ),
            ),
            ModeTable(
                "08_labels",
                # Pixel networks have chapter 3's sizes (784-400-50). M2 enumerates the ten classes of every
                # unlabelled image (ten decoder passes each), so M2 on pixels runs at the first label count
                # only, on a subset of the unlabelled images; M1+M2 (M2 on the 50-D codes of the chapter's
                # unconditional VAE) is cheap enough for every label count. The full run, the recorded one, is
                # sized to about half an hour on one idle CPU thread: far shorter than the paper's schedules.
                constants=dict(
                    z_dim=50,
                    hidden=400,
                    lr=1e-3,
                    alpha_fraction=0.1,  # the paper's alpha = 0.1 N: a classification weight alpha / N of 0.1
                    split_seed=0,
                    validation_per_class=10,  # held-out labelled images per class that choose alpha
                    code_z_dim=20,  # M1+M2: latent size of the M2 on codes
                    code_hidden=500,  # its networks: one hidden layer of 500 softplus units (the paper's M2 size)
                ),
                rows=dict(
                    train_size=(512, 10_000, None),  # training images (labelled and unlabelled together)
                    test_size=(256, None, None),  # test images for errors and ELBOs
                    batch_size=(64, 128, 256),  # unlabelled images per step of the CVAE and M1+M2
                    labelled_batch=(20, 50, 100),  # labelled images per step (that stream cycles)
                    cvae_epochs=(1, 4, 5),  # epochs of the conditional and the unconditional model
                    m1_epochs=(1, 4, 10),  # further epochs of the unconditional model before it serves as M1
                    label_counts=((50,), (100, 1_000), (100, 600, 1_000, 3_000)),  # labelled images per run
                    baseline_steps=(50, 400, 2_000),  # Adam steps of the labels-only classifier
                    class_weights=((5.0, 50.0), (5.0, 50.0), (5.0, 50.0)),  # candidate alpha / N, chosen on held-out
                    unit_min_std=(
                        0.01,
                        0.1,
                        0.1,
                    ),  # M1 units kept for M2 (Kingma et al.: 0.1; smoke's M1 is barely trained)
                    code_epochs=(2, 6, 20),  # M1+M2: passes over the unlabelled codes per run
                    m2_unlabelled=(400, 5_000, 10_000),  # M2 on pixels: unlabelled images per run
                    m2_batch=(64, 128, 128),  # M2 on pixels: unlabelled images per step
                    m2_epochs=(1, 2, 6),  # M2 on pixels: passes over its unlabelled images per run
                    alpha_epochs=(1, 1, 1),  # the exercise's M2 run without the classification term
                    timing_steps=(2, 5, 20),  # rounds of interleaved timed steps when measuring enumeration
                ),
            ),
            ModeTable(
                "09_priors",
                # Three parts: a 2-D MLP VAE on MNIST (the aggregate posterior drawn), the 784-400-50 VAE
                # with three priors, and small VAEs on dSprites-like shapes (beta-VAE and beta-TCVAE over
                # several betas and seeds). Every model is a fresh MLP; all sizes below are per model. The full
                # run, the recorded one, is sized to about 75 min on one idle CPU thread: all of MNIST but few
                # epochs for the priors; 25 disentanglement runs of 9,440 steps.
                constants=dict(
                    z_dim=50,  # latent size of the prior comparison (the 784-400-50 network of chapter 3)
                    hidden=400,
                    lr=1e-3,
                    shapes_z_dim=10,  # latent size of the disentanglement runs (as in Locatello et al.'s study)
                    shapes_hidden=256,
                    betas=(1.0, 4.0, 8.0),  # KL (beta-VAE) or TC (beta-TCVAE) weights; 1 is the plain VAE for both
                    traversal_span=2.5,  # latent traversals run from -span to +span around a test image's code
                ),
                rows=dict(
                    train_size=(512, 10_000, None),  # MNIST training images of the 2-D and 50-D models
                    test_size=(256, 2_000, None),
                    batch_size=(64, 100, 100),  # 100: the batch of Tomczak & Welling's code
                    map_epochs=(2, 5, 5),  # the 2-D model
                    epochs=(1, 5, 5),  # each of the three 50-D models
                    surgery_size=(512, 5_000, 10_000),  # training images the surgery terms are estimated on (N^2 cost)
                    n_components=(10, 100, 500),  # mixture components and VampPrior pseudo-inputs (the paper: 500)
                    ll_k=(10, 100, 5_000),  # importance samples per test image for L_K
                    ll_images=(64, 300, 300),  # test images L_K is estimated on
                    shapes_train=(512, 5_000, 30_000),  # generated training images per disentanglement run
                    shapes_test=(2_000, 3_000, 10_000),  # images MIG and TC are measured on (fewer bias the MIG)
                    shapes_batch=(64, 128, 256),  # beta-TCVAE's minibatch-weighted sampling errs more in small batches
                    shapes_epochs=(1, 4, 80),  # full: 9,440 steps of 256, an eighth of the images Locatello et al. used
                    shapes_checks=(1, 2, 4),  # times per run the MIG is measured during training (evenly spaced)
                    seeds=(1, 2, 5),  # random seeds per (method, beta)
                ),
            ),
            ModeTable(
                "10_discrete",
                # Four parts: the 20 x 10 categorical VAE on dynamically binarized MNIST trained with three gradient
                # estimators (same seed, same two decoder passes per image); a 2 x 3 model small enough to
                # enumerate, where each estimator's gradient is drawn many times against the exact one; three
                # VQ-VAEs (codebook loss without and with dead-code revival, EMA codebook with revival) and
                # chapter 4's conv VAE on the same images; a PixelCNN prior over one VQ-VAE's 7x7 code grids.
                # The full run, the recorded one, is sized to about 30 min on one idle CPU thread: far shorter
                # than the papers' schedules (Jang et al. and Maddison et al. train for many more steps).
                constants=dict(
                    n_latents=20,  # categorical latents of the main model
                    n_classes=10,
                    hidden=512,  # MLP widths 784-512-256-(20 x 10) and back
                    lr=1e-3,
                    n_samples=2,  # samples (decoder passes) per image and step, for every estimator
                    temperature=1.0,  # the relaxations' tau while training the main model
                    toy_latents=2,  # the enumerable model: 2 latents of 3 classes, 9 joint codes
                    toy_classes=3,
                    toy_hidden=32,
                    toy_images=8,  # test images whose summed ELBO's gradient is measured
                    toy_epochs=1,  # the same model in the cpu and full modes: only the number of draws differs
                    temperatures=(10.0, 3.0, 1.0, 0.3, 0.1),  # the relaxation's sweep
                    n_codes=64,  # the VQ-VAE's codebook: K codes of dimension code_dim at each of 7 x 7 positions
                    code_dim=16,
                    vq_batch=128,
                    prior_channels=64,  # the PixelCNN's width and its masked 3x3 layers
                    prior_layers=4,
                    n_shown=32,  # decoded samples per panel
                ),
                rows=dict(
                    train_size=(512, 10_000, None),  # MNIST training images of the categorical VAEs
                    test_size=(256, 1_000, None),  # test images (one fixed binarization, chapter 6's in full mode)
                    batch_size=(64, 100, 100),
                    epochs=(1, 1, 5),  # epochs per categorical estimator
                    ll_k=(10, 100, 1_000),  # samples per image of L_K
                    ll_images=(64, 500, 1_000),  # test images L_K is computed on
                    toy_train=(512, 5_000, 5_000),  # images of the enumerable model's one epoch of exact training
                    draws=(300, 2_000, 10_000),  # gradient draws per estimator setting
                    vq_size=(512, 6_000, 30_000),  # training images of each VQ-VAE, the conv VAE and the prior
                    vq_epochs=(2, 2, 3),
                    usage_size=(256, 2_000, 5_000),  # binarized training images whose codes are counted per epoch
                    prior_epochs=(2, 3, 6),
                ),
            ),
            ModeTable(
                "11_hierarchy",
                # Three parts on binarized MNIST: a one-layer MLP VAE and a two-layer ladder VAE of the same size
                # (plain, KL warm-up, free bits); two diffusion models on the digits pooled to 7x7 (17 levels), with
                # a fixed and a learned schedule, and their T-step bounds term by term; a conv VAE with a small KL
                # weight and a diffusion model on its codes. The full mode, the recorded one, is sized to at most
                # 35 min on one idle CPU thread (all of MNIST, few epochs), far below the papers' schedules; the
                # record (hierarchy_full) took 12 min on one thread of a machine shared with two other records.
                constants=dict(
                    z_dims=(100, 50),  # the ladder's stochastic layers (Burda et al.'s two-layer MNIST model)
                    hidden_dims=(200, 100),  # its deterministic layers, one per side of each stochastic layer
                    one_layer_z=50,  # the one-layer baseline: VAE.mlp(50, 250) has as many parameters (to 0.1%)
                    one_layer_hidden=250,
                    lr=1e-3,
                    warmup_share=1 / 3,  # KL warm-up over the first third of the training steps
                    free_bits=2.0,  # nats per layer (each layer one group)
                    levels=17,  # values of a pooled block: 0..16 black pixels out of 16
                    pool=4,  # 4x4 blocks: 28x28 -> 7x7
                    diff_hidden=512,  # the noise predictor's hidden units (two layers)
                    fourier=(
                        3,
                        4,
                        5,
                    ),  # exponents of its Fourier features: periods 2/8, 2/16, 2/32 around the spacing 2/16
                    gamma_max=5.0,  # gamma(1) of the fixed schedule and the learned one's start
                    kl_bins=10,  # ranges of t of the per-step KL table
                    conv_z=16,  # the conv VAE of chapter 4
                    conv_beta=0.1,  # its KL weight: small, so that its codes spread (a scale factor below 1)
                    latent_hidden=256,  # the latent noise predictor's hidden units
                ),
                rows=dict(
                    train_size=(512, 10_000, None),
                    test_size=(256, 2_000, None),
                    batch_size=(64, 100, 100),
                    ladder_epochs=(1, 2, 10),  # each of the four one- and two-layer models
                    ll_k=(20, 200, 2_000),  # importance samples of L_K
                    ll_images=(64, 200, 500),  # test images of L_K (and the pool the diffusion bounds draw from)
                    diff_epochs=(1, 3, 25),  # each diffusion model on the pooled digits
                    diff_batch=(64, 128, 128),
                    bound_steps=(100, 1_000, 1_000),  # T of the term-by-term bound
                    bound_images=(50, 200, 500),  # test images of that bound
                    conv_epochs=(1, 2, 4),
                    latent_epochs=(1, 3, 15),
                    latent_samples=(64, 500, 2_000),  # codes of each kind for the hole measure
                    latent_steps=(50, 200, 1_000),  # T of latent diffusion's sampler
                    aggregate_size=(256, 5_000, 5_000),  # training codes of the aggregate posterior q(z)
                ),
            ),
            ModeTable(
                "07_tighter_bounds",
                # Chapter 6's 784-400-50 MLP VAE on dynamically binarized images, trained with each objective and
                # encoder of the chapter, plus new encoders fitted to frozen decoders. A K-sample objective costs K
                # decoder rows per image (the three K = 50 models are most of the training time). The full budget,
                # the recorded one, was sized to about 17 min on one idle CPU thread, because the machine it was
                # recorded on was heavily shared: 2 epochs on all of MNIST (3 in an earlier record without the
                # K = 50 control and the fixed-decoder encoders), L_2000 on 200 test images (L_5000 on 500 before),
                # gaps on 16 images (32), 50 gradient draws per SNR (100), the DReG check at K = 50 (200).
                constants=dict(
                    z_dim=50,
                    hidden=400,
                    lr=1e-3,
                    train_k=(1, 5, 50),  # samples of the importance-weighted bound the IWAE models train with
                    dreg_k=50,  # samples of the model trained with doubly reparameterized gradients
                    flow_steps=2,  # inverse autoregressive flow steps of the flow encoder
                    refine_lr=1e-2,  # step size of the semi-amortized refinement (gradient ascent on each ELBO)
                    train_refine_steps=3,  # refinement steps inside each training step of the semi-amortized VAE
                    toy_k=(1, 10, 100, 1000),  # K of the SNR exercise on chapter 1's linear-Gaussian model
                    toy_repeats=4_000,  # gradient draws per SNR there (one vectorised pass each)
                ),
                rows=dict(
                    train_size=(_SMOKE.train_size, 5_000, None),  # training images per model
                    test_size=(_SMOKE.test_size, None, None),  # test images for active units
                    epochs=(1, 2, 2),  # epochs per model (and per encoder fitted to a frozen decoder)
                    batch_size=(64, 128, 128),
                    eval_k=(64, 500, 2000),  # importance samples per image of the L_K estimate
                    eval_images=(64, 200, 200),  # test images that estimate is computed on
                    eval_batch=(64, 100, 100),
                    gap_images=(4, 12, 16),  # test images that get their own optimised q
                    gap_steps=(50, 200, 500),  # Adam steps for each of them
                    gap_samples=(4, 16, 16),  # samples of z per image and step
                    test_refine_steps=(5, 20, 50),  # refinement steps at test time
                    snr_k=((1, 5, 20), (1, 5, 50), (1, 5, 50, 200)),  # K at which gradient SNRs are measured
                    snr_images=(8, 16, 32),  # test images of the fixed batch whose gradients are measured
                    snr_repeats=(20, 50, 50),  # independent gradient draws per estimate of an SNR
                    bench_rounds=(2, 5, 10),  # interleaved rounds of the cost-per-step measurement
                ),
            ),
        ]
    }
)


def chapter_table(chapter: str) -> ModeTable:
    """The per-mode table of ``chapter`` (a notebook name such as '06_evaluation').

    Taught in chapter 5.
    """
    if chapter not in CHAPTERS:
        known = ", ".join(CHAPTERS)
        raise KeyError(f"no settings for chapter {chapter!r}; known: {known} (see vaelib/book/budgets.py)")
    return CHAPTERS[chapter]


def chapter_settings(chapter: str, budget: Budget | str) -> Any:
    """This chapter's settings in the mode of ``budget`` (a :class:`Budget` or a mode name).

    Every chapter's setup cell starts with it: ``SETTINGS = vaelib.chapter_settings("06_evaluation", BUDGET)``.

    Used in every chapter.
    """
    mode = budget.mode if isinstance(budget, Budget) else budget
    return chapter_table(chapter).select(mode)


def budget(smoke: bool | None = None, device: torch.device | str | None = None) -> Budget:
    """The budget for this run: smoke if asked (or under CI); else ``$VAE_BOOK_BUDGET`` when set,
    full on CUDA, cpu otherwise.

    Used in every chapter and the capstone.
    """
    smoke = smoke_mode() if smoke is None else smoke
    if smoke:
        return BUDGETS["smoke"]
    chosen = os.environ.get(BUDGET_ENV, "").strip().lower()
    if chosen:
        if chosen not in ("cpu", "full"):
            raise ValueError(
                f"{BUDGET_ENV}={chosen!r} is not a budget: set it to 'cpu' or 'full', or unset it to choose by "
                f"device; for a smoke run set {SMOKE_ENV}=1 instead."
            )
        return BUDGETS[chosen]
    device = torch.device(device) if device is not None else pick_device()
    return BUDGETS["full" if device.type == "cuda" else "cpu"]
