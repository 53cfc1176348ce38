"""vaelib: the small library behind the VAE book.

Data flows one way: ``data`` (MNIST -> one tensor on the device -> batches by index) -> ``models``
(encoder -> (loc, scale), decoder -> logits) -> ``losses`` (ELBO terms, importance weights) ->
``train`` (fit loops with a history) -> ``plots`` (figures). Beside them: ``settings`` (smoke switch,
device, seeding) and ``budgets`` (what each mode does, per chapter), ``pyro_vae`` (the same networks
as a Pyro model/guide), ``gradients`` (score-function and pathwise estimators), ``toy`` (the exact
linear-Gaussian model), ``analysis`` (codes and active units), ``checkpoints``, ``records``
(recorded long runs), ``published`` (published numbers with their conditions) and ``exercises``.

The public API: every function, class and constant a chapter or test needs is importable from
``vaelib`` itself, except two namespaces that chapters import whole: ``from vaelib import plots``
(figures) and ``from vaelib import published`` (numbers from papers). Each public docstring names
the chapters that teach or use it. Importing vaelib does no work: no data is loaded and no device
is touched.
"""

from . import plots, published
from .analysis import ACTIVE_UNIT_THRESHOLD, active_units, encode
from .budgets import BUDGETS, CHAPTERS, MODES, Budget, ModeTable, chapter_settings, chapter_table
from .checkpoints import SHARED_MODELS, CheckpointError, checkpoint_path, load_checkpoint, save_checkpoint
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
from .exercises import check_answer, check_log_likelihood_report
from .gradients import reparameterization_gradient, score_function_gradient
from .heads import SCALE_HEADS, check_log_variance_sampler, kl_from_log_variance, scale_from_head
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
from .losses import (
    ELBOTerms,
    bernoulli_log_likelihood,
    continuous_bernoulli_log_likelihood,
    diagonal_normal_log_prob,
    elbo,
    gaussian_kl_to_standard,
    gaussian_log_likelihood,
    iwae_bound,
    log_importance_weights,
    log_mean_exp,
    reparameterize,
)
from .models import VAE, ConvDecoder, ConvEncoder, MLPDecoder, MLPEncoder
from .monitor import ActiveUnits, chain
from .pyro_vae import PyroVAE
from .records import Record, RecordError, load_record, new_record, record_names
from .settings import ENVIRONMENT, budget, data_root, hardware_name, pick_device, seed_everything, smoke_mode
from .stats import PairedDifference, paired_difference
from .toy import LinearGaussian
from .train import (
    History,
    NonFiniteLossError,
    estimate_log_likelihood,
    evaluate,
    evaluate_svi,
    fit,
    fit_svi,
    kl_weight,
    progress_bar,
)

__all__ = [
    "ACTIVE_UNIT_THRESHOLD",
    "active_units",
    "ActiveUnits",
    "bernoulli_log_likelihood",
    "Budget",
    "budget",
    "BUDGETS",
    "categorical_log_likelihood",
    "categorical_mean",
    "CategoricalMLPDecoder",
    "chain",
    "chapter_settings",
    "chapter_table",
    "CHAPTERS",
    "check_answer",
    "check_images",
    "check_log_likelihood_report",
    "check_log_variance_sampler",
    "checkpoint_path",
    "CheckpointError",
    "continuous_bernoulli_log_likelihood",
    "ConvDecoder",
    "ConvEncoder",
    "data_root",
    "DataUnavailableError",
    "diagonal_normal_log_prob",
    "discrete_to_density_offset",
    "elbo",
    "ELBOTerms",
    "encode",
    "ENVIRONMENT",
    "estimate_log_likelihood",
    "evaluate",
    "evaluate_svi",
    "fit",
    "fit_svi",
    "gaussian_kl_to_standard",
    "gaussian_log_likelihood",
    "GaussianLikelihood",
    "hardware_name",
    "History",
    "IMAGE_SHAPE",
    "ImageData",
    "iwae_bound",
    "kl_from_log_variance",
    "kl_weight",
    "lerp",
    "LinearGaussian",
    "load_checkpoint",
    "load_digits_8x8",
    "load_fashion_mnist",
    "load_mnist",
    "load_record",
    "load_standin_digits",
    "log_importance_weights",
    "log_mean_exp",
    "MLPDecoder",
    "MLPEncoder",
    "MNIST_SOURCE",
    "MNISTFileError",
    "MNISTUnavailableError",
    "MODES",
    "ModeTable",
    "N_PIXELS",
    "new_record",
    "NonFiniteLossError",
    "optimal_sigma",
    "paired_difference",
    "PairedDifference",
    "pick_device",
    "plots",
    "prior_norm_interval",
    "progress_bar",
    "published",
    "PyroVAE",
    "quantize",
    "Record",
    "record_names",
    "RecordError",
    "reparameterization_gradient",
    "reparameterize",
    "save_checkpoint",
    "scale_from_head",
    "SCALE_HEADS",
    "score_function_gradient",
    "seed_everything",
    "SHARED_MODELS",
    "slerp",
    "smoke_mode",
    "StandInDataWarning",
    "TensorBatches",
    "VAE",
]
