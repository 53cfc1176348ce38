"""Discrete latent variables: the code of chapter 10 (discrete latents).

Modules (each imports only vaelib's core):

- ``categorical``: a VAE with L categorical latents of K classes (:class:`CategoricalVAE`, 20 x 10 by default)
  and its training objective with four gradient estimators (:func:`categorical_objective`: the score
  function with a baseline, the Gumbel-softmax relaxation with Jang et al.'s categorical KL or Maddison
  et al.'s Concrete KL, straight-through Gumbel, exact enumeration); the discrete ELBO every model is
  scored with (:func:`categorical_elbo`), L_K with exact samples, and exact log p(x) of a small model;
- ``estimators``: each estimator's gradient drawn many times at fixed parameters of an enumerable model and
  measured against the exact gradient (:func:`compare_estimators`: bias, its standard error, z-scores,
  variance, mean squared error);
- ``vq``: a VQ-VAE with a 7x7 grid of codes (:class:`VQVAE`, :func:`vq_objective` for ``vaelib.fit``), the EMA
  codebook, usage, perplexity, dead codes and their revival (:class:`CodebookMonitor` for ``on_epoch``);
- ``prior``: a masked-convolution PixelCNN over the code grid (:class:`PixelCNNPrior`, :func:`fit_code_prior`
  on the one loop), and :func:`point_mass_bound`, the bound on log p(x) with the deterministic encoder as q.

Chapter 10 uses every name of ``__all__`` (directly, or through the name its docstring gives); the top level
takes them by star import. The classes the public ones are built of (``CategoricalEncoder``, ``Quantized``,
``MaskedConv2d`` ...) are reached through their modules, e.g. ``vaelib.discrete.vq.Quantized``. The option
tuples (``ESTIMATORS``, ``BASELINES``, ``KL_KINDS``), ``GRID``, ``MAX_CONFIGURATIONS`` and the helpers the
chapter does not call (``all_codes``, ``sample_codes``, ``gumbel_noise``, ``check_codes`` ...) are bound below
as ``vaelib.discrete.NAME`` only: their short names would be ambiguous at the top level (chapter 7 has
estimators of its own). The sizes of each mode,
and what the full mode is sized to, are in the chapter's table in ``vaelib/book/budgets.py``.
"""

from . import categorical, vq
from .categorical import (
    CategoricalVAE,
    categorical_elbo,
    categorical_iwae_bound,
    categorical_objective,
    exact_log_likelihood,
    gumbel_softmax,
    surrogate_terms,
)
from .estimators import (
    compare_estimators,
    exact_elbo,
    exact_elbo_gradient,
    gradient_draws,
    gradient_stats,
    score_function_expectation,
)
from .prior import (
    PixelCNNPrior,
    encode_dataset,
    fit_code_prior,
    mean_code_log_prob,
    point_mass_bound,
    uniform_code_log_prob,
)
from .vq import (
    VQVAE,
    CodebookMonitor,
    VectorQuantizer,
    code_usage,
    dead_codes,
    perplexity,
    revive_dead_codes,
    vq_objective,
)

# The names that stay here, as vaelib.discrete.NAME only: out of __all__, and so out of the top level.
BASELINES, ESTIMATORS, KL_KINDS = categorical.BASELINES, categorical.ESTIMATORS, categorical.KL_KINDS
MAX_CONFIGURATIONS, GRID = categorical.MAX_CONFIGURATIONS, vq.GRID
all_codes, sample_codes, log_prob_codes = categorical.all_codes, categorical.sample_codes, categorical.log_prob_codes
gumbel_noise, check_temperature, check_codes = categorical.gumbel_noise, categorical.check_temperature, vq.check_codes
categorical_kl_to_uniform = categorical.categorical_kl_to_uniform
categorical_log_importance_weights = categorical.categorical_log_importance_weights
concrete_kl_sample, exact_reconstruction = categorical.concrete_kl_sample, categorical.exact_reconstruction

__all__ = [
    "categorical_elbo",
    "categorical_iwae_bound",
    "categorical_objective",
    "CategoricalVAE",
    "code_usage",
    "CodebookMonitor",
    "compare_estimators",
    "dead_codes",
    "encode_dataset",
    "exact_elbo",
    "exact_elbo_gradient",
    "exact_log_likelihood",
    "fit_code_prior",
    "gradient_draws",
    "gradient_stats",
    "gumbel_softmax",
    "mean_code_log_prob",
    "perplexity",
    "PixelCNNPrior",
    "point_mass_bound",
    "revive_dead_codes",
    "score_function_expectation",
    "surrogate_terms",
    "uniform_code_log_prob",
    "VectorQuantizer",
    "vq_objective",
    "VQVAE",
]
