"""Discrete latent variables: groundwork for chapter 10 (issue 29). No chapter uses these names yet.

Modules (each imports only vaelib's core):

- ``categorical``: a VAE with L categorical latents of K classes (:class:`CategoricalVAE`, 20 x 10 by default)
  and its training objective with four gradient estimators (:func:`categorical_objective`: the score
  function with a baseline, the Gumbel-softmax relaxation with Jang et al.'s categorical KL or Maddison
  et al.'s Concrete KL, straight-through Gumbel, exact enumeration), exact log p(x) and L_K;
- ``estimators``: each estimator's gradient drawn many times at fixed parameters of an enumerable model and
  measured against the exact gradient (:func:`compare_estimators`: bias, its standard error, z-scores,
  variance, mean squared error);
- ``vq``: a VQ-VAE with a 7x7 grid of codes (:class:`VQVAE`, :func:`vq_objective` for ``vaelib.fit``), the EMA
  codebook, usage, perplexity, dead codes and their revival (:class:`CodebookMonitor` for ``on_epoch``);
- ``prior``: a masked-convolution PixelCNN over the code grid (:class:`PixelCNNPrior`, :func:`fit_code_prior`
  on the one loop), and :func:`point_mass_bound`, the bound on log p(x) with the deterministic encoder as q.

Design note for chapter 10 (a proposal for the next session; numbers measured on this machine)
================================================================================================

Sections.

1. Gradients through a discrete choice. The 20 x 10 categorical VAE on binarized MNIST (dynamic
   binarization for training; for scoring, one fixed test binarization, the same as chapter 6's, as the
   issue asks), one run per estimator on the same architecture and seed: score function with the leave-one-out baseline
   (``n_samples=2``; the same two decoder passes per image are then given to the other estimators too
   or the table states the difference), Gumbel-softmax (tau = 1, Jang et al.'s categorical KL;
   optionally annealed), straight-through Gumbel. Table: test ELBO (``categorical_elbo``, hard codes, for
   every model whatever it was trained with) and L_K (``categorical_iwae_bound``) with paired standard
   errors (``vaelib.paired_difference``); Jang et al.'s and Maddison et al.'s numbers beside it with their
   conditions (``vaelib.published``), not as targets (different architectures, budgets, estimators).
2. The bias no tutorial measures (starred). A model small enough to enumerate (2-3 latents of 3-4 classes,
   a handful of images): ``compare_estimators`` against the exact gradient: score function with and
   without the baseline (unbiased: |z| small; variance cut by orders of magnitude), Gumbel-softmax at a
   sweep of temperatures (bias falls, variance rises as tau falls), straight-through (biased at every
   tau). Assert only what the tests below show robustly (z-scores, bias vs its standard error).
   Measured once on a random 2 x 3 model (hidden 32), 4 images, 4,000 draws: the plain score function's
   variance (tr Cov, 1 sample) was about 1.6e6 against 5.2 with the LOO baseline (2 samples; the learning
   signal is ~-545 nats, so a baseline is not optional); the
   relaxation's squared bias 1.12 (tau = 10), 0.15 (1), 0.011 (0.3), 0.005 +- 0.004 (0.1), its variance
   0.0007, 0.38, 3.7, 15; straight-through (tau = 1) squared bias 0.30, variance 0.57.
3. VQ-VAE, done the way people get stuck. ``VQVAE(64, 16)`` trained with ``vaelib.fit(objective=vq_objective)``
   and a ``CodebookMonitor``; the same with ``ema=True``; a run without revival to show the dead codes
   (with a small initial codebook, uniform in +-1/K, most codes are dead after the first epoch), then with
   ``revive=True``. Per-epoch perplexity and dead-code counts; reconstructions beside chapter 4's conv VAE.
4. A prior over the codes. Uniform codes decode to noise; ``PixelCNNPrior`` fitted to the training set's
   grids (``encode_dataset``, ``fit_code_prior``), its held-out log p(codes) against the uniform
   -49 log K; samples decoded. Then ``point_mass_bound`` on the fixed test binarization, in nats and
   bits per dimension, beside chapter 6's VAE: a bound with a degenerate q (its docstring says which kind
   and why it is not an L_K); with the uniform prior it is what fit's history records.
5. Exercises: REINFORCE with and without the baseline on the enumerable model; the temperature sweep;
   a dead-code restart policy; the codebook size against the bound.

Settings (measured step costs, one thread, ``OMP_NUM_THREADS=1``, interleaved rounds, median of 4 after a
warm-up, on this 2-core machine while it ran 5-7 other processes, so an idle thread is faster; printed,
never asserted). Categorical 20 x 10, hidden 512/256, batch 100: score with LOO (2 samples) 71 ms,
score with a moving mean (1 sample) 54 ms, Gumbel-softmax 44 ms (Concrete KL 55 ms), straight-through
45 ms; exact enumeration of 3 x 4 (64 codes), batch 100: 31 ms. VQ-VAE (64 codes of 16, channels 32/64),
batch 128: 173 ms (EMA 184 ms). PixelCNN (64 channels, 4 layers), batch 128: 219 ms; sampling 100 grids
(49 passes): 2.4 s. ``gradient_draws`` on 2 x 3, 8 images, 1,000 draws of 2 samples: 0.54 s. So one
MNIST epoch (60,000 images) costs about 27-43 s per categorical estimator, 80 s for the VQ-VAE and 100 s
for the prior.

Exploratory runs on real MNIST (print only; 10,000 training images dynamically binarized, 1,000 test images
with one fixed binarization, 2 epochs, one thread, seed 0): the 20 x 10 model's test ELBO was -191.5 (score,
LOO, 2 samples), -192.7 (Gumbel-softmax, tau = 1) and -191.2 (straight-through), L_100 on 200 test images
-185.4, -184.6, -184.8: the cpu mode cannot separate the estimators, so the chapter's estimator claims belong
to the record (and to the enumerable model of section 2). The VQ-VAE (64 codes of 16) without revival kept
45 (EMA: 52) codes dead after 2 epochs, perplexity 2.4 (3.7); with ``CodebookMonitor(revive=True)`` 2 dead,
perplexity 38.5 (37.1), and log p(x | codes) rose from about -125 to -108 (EMA: from -91 to -80). A
PixelCNN (64 channels, 4 layers, 3 epochs) on the EMA model's codes (no revival) reached -37.8 nats per
held-out grid against the uniform -203.8, and a point-mass bound of -128.7 nats (0.237 bits per dimension)
against -294.7 with the uniform prior. So revive dead codes by default, and show a run without revival once.

- smoke (< 30 s): the stand-in digits; each categorical estimator 1 epoch on 1,000 images; the bias
  table with 500 draws on 2 x 3; VQ-VAE 2 epochs on 1,000 images with 32 codes; prior 2 epochs; L_K with
  k = 10 on 100 test images. About 15 s by the costs above.
- cpu (< 3 min on 2 cores): 10,000 MNIST images; 1 epoch per categorical estimator (~20 s in all);
  bias table with 4,000 draws (~15 s); VQ-VAE 2 epochs, EMA 2 epochs (~55 s); prior 3 epochs (~50 s);
  L_K with k = 100 on 1,000 test images.
- full record (< 2 h on one thread): categorical estimators 20 epochs each on 60,000 images (3 x ~12 min),
  the bias sweep with 20,000 draws (~2 min), VQ-VAE 10 epochs with and without EMA (2 x ~14 min), the
  prior 10 epochs (~17 min), L_1000 on 1,000 test images per categorical model (a few minutes). About
  1 h 45 min at the loaded costs above; cut the categorical epochs first if the machine is slower.

For chapter 10 (discrete latents): when its notebook uses these names, add the package to
``vaelib.__all__`` and give each docstring the sentence that names chapter 10 (tests/test_contracts.py).
"""

from .categorical import (
    BASELINES,
    ESTIMATORS,
    KL_KINDS,
    MAX_CONFIGURATIONS,
    CategoricalDecoder,
    CategoricalEncoder,
    CategoricalObjective,
    CategoricalVAE,
    all_codes,
    categorical_elbo,
    categorical_iwae_bound,
    categorical_kl_to_uniform,
    categorical_log_importance_weights,
    categorical_objective,
    check_temperature,
    concrete_kl_sample,
    exact_log_likelihood,
    exact_reconstruction,
    gumbel_noise,
    gumbel_softmax,
    log_prob_codes,
    sample_codes,
    surrogate_terms,
)
from .estimators import (
    GradientStats,
    compare_estimators,
    exact_elbo,
    exact_elbo_gradient,
    gradient_draws,
    gradient_stats,
    score_function_expectation,
)
from .prior import (
    MaskedConv2d,
    PixelCNNPrior,
    encode_dataset,
    fit_code_prior,
    mean_code_log_prob,
    point_mass_bound,
    uniform_code_log_prob,
)
from .vq import (
    GRID,
    VQVAE,
    CodebookMonitor,
    Quantized,
    VectorQuantizer,
    check_codes,
    code_usage,
    dead_codes,
    perplexity,
    revive_dead_codes,
    vq_objective,
)

__all__ = [
    "all_codes",
    "BASELINES",
    "categorical_elbo",
    "categorical_iwae_bound",
    "categorical_kl_to_uniform",
    "categorical_log_importance_weights",
    "categorical_objective",
    "CategoricalDecoder",
    "CategoricalEncoder",
    "CategoricalObjective",
    "CategoricalVAE",
    "check_codes",
    "check_temperature",
    "code_usage",
    "CodebookMonitor",
    "compare_estimators",
    "concrete_kl_sample",
    "dead_codes",
    "encode_dataset",
    "ESTIMATORS",
    "exact_elbo",
    "exact_elbo_gradient",
    "exact_log_likelihood",
    "exact_reconstruction",
    "fit_code_prior",
    "gradient_draws",
    "gradient_stats",
    "GradientStats",
    "GRID",
    "gumbel_noise",
    "gumbel_softmax",
    "KL_KINDS",
    "log_prob_codes",
    "MaskedConv2d",
    "MAX_CONFIGURATIONS",
    "mean_code_log_prob",
    "perplexity",
    "PixelCNNPrior",
    "point_mass_bound",
    "Quantized",
    "revive_dead_codes",
    "sample_codes",
    "score_function_expectation",
    "surrogate_terms",
    "uniform_code_log_prob",
    "VectorQuantizer",
    "vq_objective",
    "VQVAE",
]
