"""vaelib: the small library behind the VAE book.

A flat core serves chapters 1-6. Data flows one way: ``data`` (MNIST -> one tensor on the device ->
batches by index) -> ``models`` (encoder -> (loc, scale), decoder -> logits) -> ``gaussians`` and
``losses`` (log-densities, KLs, ELBO terms, importance weights) -> ``loop`` and ``train`` (one training
loop, the fit functions and the scores) -> ``plots``. Beside them: ``settings`` (smoke switch, device,
seeding), ``checks`` (argument checks), ``sampling`` (drawing from any encoder's q), ``pyro_vae``,
``gradients``, ``toy``, ``analysis``, ``monitor``, ``latent``, ``likelihoods``, ``heads``, ``stats`` and
``datasets``. One sub-package per later topic builds on the core only: ``bounds`` (chapter 7),
``labels`` (chapter 8), ``priors`` (chapter 9), ``discrete`` (chapter 10, discrete latents) and
``hierarchy`` (chapter 11: hierarchical VAEs, diffusion, latent diffusion). ``book`` holds the
book's machinery (budgets, records, published numbers, exercise checks, checkpoints, the live map's
export) on top of the rest.

The public API: every name in ``__all__`` is importable from ``vaelib`` itself: the core's names, and
each sub-package's ``__all__``. The sub-packages are also namespaces (``vaelib.bounds.X``); chapter 7's
training-objective factories (``bounds.objective``, ``bounds.semi_amortized_objective``,
``bounds.ESTIMATORS``) live only there, where their short names are unambiguous, and so do the
figures (``vaelib.plots``) and the published numbers (``vaelib.published``). Each public docstring names
the chapters that teach or use it. Importing vaelib does no work: no data is loaded and no device is
touched.
"""

from . import book, bounds, discrete, hierarchy, labels, plots, priors
from .analysis import ACTIVE_UNIT_THRESHOLD, active_units, encode
from .book import *  # book.__all__
from .book import published
from .bounds import *  # bounds.__all__
from .data import (
    IMAGE_SHAPE,
    MNIST_SOURCE,
    N_PIXELS,
    ImageData,
    MNISTFileError,
    MNISTUnavailableError,
    StandInDataWarning,
    TensorBatches,
    check_images,
    load_mnist,
    load_standin_digits,
)
from .datasets import DataUnavailableError, load_digits_8x8, load_fashion_mnist
from .discrete import *  # discrete.__all__
from .gaussians import (
    diagonal_normal_log_prob,
    full_covariance_kl_to_standard,
    gaussian_kl,
    gaussian_kl_to_standard,
    kl_from_log_variance,
    mixture_log_prob,
    pairwise_normal_log_prob,
    standard_normal_log_prob,
)
from .gradients import encoder_gradient_estimates, reparameterization_gradient, score_function_gradient
from .heads import SCALE_HEADS, check_log_variance_sampler, scale_from_head
from .hierarchy import *  # hierarchy.__all__
from .labels import *  # labels.__all__
from .latent import lerp, prior_norm_interval, slerp
from .likelihoods import (
    CategoricalMLPDecoder,
    GaussianLikelihood,
    categorical_log_likelihood,
    categorical_mean,
    discrete_to_density_offset,
    optimal_sigma,
    quantize,
)
from .loop import History, NonFiniteLossError, progress_bar
from .losses import (
    ELBOTerms,
    bernoulli_log_likelihood,
    continuous_bernoulli_log_likelihood,
    elbo,
    gaussian_log_likelihood,
    iwae_bound,
    log_importance_weights,
    log_mean_exp,
    prior_log_prob,
    reparameterize,
)
from .models import VAE, ConvDecoder, ConvEncoder, MLPDecoder, MLPEncoder
from .monitor import ActiveUnits
from .priors import *  # priors.__all__
from .pyro_vae import PyroVAE
from .sampling import DiagonalParams, local_params, rsample_posterior
from .settings import ENVIRONMENT, data_root, hardware_name, pick_device, seed_everything, smoke_mode
from .stats import PairedDifference, paired_difference
from .toy import LinearGaussian
from .train import (
    estimate_log_likelihood,
    evaluate,
    evaluate_objective,
    evaluate_svi,
    fit,
    fit_svi,
    kl_weight,
    log_likelihood_per_image,
)

_CORE = [
    "ACTIVE_UNIT_THRESHOLD",
    "ActiveUnits",
    "CategoricalMLPDecoder",
    "ConvDecoder",
    "ConvEncoder",
    "DataUnavailableError",
    "ELBOTerms",
    "ENVIRONMENT",
    "GaussianLikelihood",
    "History",
    "IMAGE_SHAPE",
    "ImageData",
    "LinearGaussian",
    "MLPDecoder",
    "MLPEncoder",
    "MNISTFileError",
    "MNISTUnavailableError",
    "MNIST_SOURCE",
    "N_PIXELS",
    "NonFiniteLossError",
    "PairedDifference",
    "PyroVAE",
    "SCALE_HEADS",
    "StandInDataWarning",
    "TensorBatches",
    "VAE",
    "active_units",
    "bernoulli_log_likelihood",
    "categorical_log_likelihood",
    "categorical_mean",
    "check_images",
    "check_log_variance_sampler",
    "continuous_bernoulli_log_likelihood",
    "data_root",
    "DiagonalParams",
    "diagonal_normal_log_prob",
    "discrete_to_density_offset",
    "elbo",
    "encode",
    "encoder_gradient_estimates",
    "estimate_log_likelihood",
    "evaluate",
    "evaluate_objective",
    "evaluate_svi",
    "fit",
    "fit_svi",
    "full_covariance_kl_to_standard",
    "gaussian_kl",
    "gaussian_kl_to_standard",
    "gaussian_log_likelihood",
    "hardware_name",
    "iwae_bound",
    "kl_from_log_variance",
    "kl_weight",
    "lerp",
    "load_digits_8x8",
    "load_fashion_mnist",
    "load_mnist",
    "load_standin_digits",
    "local_params",
    "log_importance_weights",
    "log_likelihood_per_image",
    "log_mean_exp",
    "mixture_log_prob",
    "optimal_sigma",
    "paired_difference",
    "pairwise_normal_log_prob",
    "pick_device",
    "prior_log_prob",
    "prior_norm_interval",
    "progress_bar",
    "quantize",
    "reparameterization_gradient",
    "reparameterize",
    "rsample_posterior",
    "scale_from_head",
    "score_function_gradient",
    "seed_everything",
    "slerp",
    "smoke_mode",
    "standard_normal_log_prob",
]
__all__ = sorted(
    [
        *_CORE,
        "book",
        "bounds",
        "discrete",
        "labels",
        "plots",
        "priors",
        "hierarchy",
        *book.__all__,
        *bounds.__all__,
        *discrete.__all__,
        *labels.__all__,
        *priors.__all__,
        *hierarchy.__all__,
    ],
    key=lambda name: (name.lower(), name),
)
