"""vaelib: the small library behind the VAE book.

Data flows one way: ``data`` (MNIST -> one tensor on the device -> batches by index) -> ``models``
(encoder -> (loc, scale), decoder -> logits) -> ``losses`` (ELBO terms, importance weights) ->
``train`` (fit loops with a history) -> ``plots`` (figures). Beside them: ``settings`` (smoke switch,
device, seeding) and ``budgets`` (what each mode does, per chapter), ``pyro_vae`` (the same networks
as a Pyro model/guide), ``gradients`` (score-function and pathwise estimators), ``toy`` (the exact
linear-Gaussian model), ``analysis`` (codes and active units), ``checkpoints``, ``records``
(recorded long runs), ``published`` (published numbers with their conditions) and ``exercises``;
for chapter 7, ``encoders`` (full-covariance and flow posteriors) and ``bounds`` (IWAE and DReG
objectives, gradient SNR, refinement, gaps).

The public API: every function, class and constant a chapter or test needs is importable from
``vaelib`` itself, except three namespaces that chapters import whole: ``from vaelib import plots``
(figures), ``from vaelib import published`` (numbers from papers) and ``from vaelib import bounds``
(training objectives). Each public docstring names the chapters that teach or use it. Importing
vaelib does no work: no data is loaded and no device is touched.
"""

from . import bounds, plots, published
from .analysis import ACTIVE_UNIT_THRESHOLD, active_units, encode
from .bounds import gradient_snr, inference_gaps, iwae_objective, refine, score_bounds
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
from .encoders import (
    FLOWS,
    FlowEncoder,
    FullCovarianceEncoder,
    full_covariance_kl_to_standard,
    local_params,
    posterior_mean,
    rsample_posterior,
)
from .exercises import check_answer
from .gradients import reparameterization_gradient, score_function_gradient
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
from .pyro_vae import PyroVAE
from .records import Record, RecordError, load_record, new_record, record_names
from .settings import ENVIRONMENT, budget, data_root, hardware_name, pick_device, seed_everything, smoke_mode
from .toy import LinearGaussian
from .train import (
    History,
    NonFiniteLossError,
    estimate_log_likelihood,
    evaluate,
    evaluate_svi,
    fit,
    fit_svi,
    progress_bar,
)

__all__ = [
    "ACTIVE_UNIT_THRESHOLD",
    "active_units",
    "bernoulli_log_likelihood",
    "bounds",
    "Budget",
    "budget",
    "BUDGETS",
    "chapter_settings",
    "chapter_table",
    "CHAPTERS",
    "check_answer",
    "check_images",
    "checkpoint_path",
    "CheckpointError",
    "continuous_bernoulli_log_likelihood",
    "ConvDecoder",
    "ConvEncoder",
    "data_root",
    "diagonal_normal_log_prob",
    "elbo",
    "ELBOTerms",
    "encode",
    "ENVIRONMENT",
    "estimate_log_likelihood",
    "evaluate",
    "evaluate_svi",
    "fit",
    "fit_svi",
    "FlowEncoder",
    "FLOWS",
    "full_covariance_kl_to_standard",
    "FullCovarianceEncoder",
    "gaussian_kl_to_standard",
    "gaussian_log_likelihood",
    "gradient_snr",
    "hardware_name",
    "History",
    "IMAGE_SHAPE",
    "ImageData",
    "inference_gaps",
    "iwae_bound",
    "iwae_objective",
    "LinearGaussian",
    "load_checkpoint",
    "load_mnist",
    "load_record",
    "load_standin_digits",
    "local_params",
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
    "pick_device",
    "plots",
    "posterior_mean",
    "progress_bar",
    "published",
    "PyroVAE",
    "Record",
    "record_names",
    "RecordError",
    "refine",
    "reparameterization_gradient",
    "reparameterize",
    "rsample_posterior",
    "save_checkpoint",
    "score_bounds",
    "score_function_gradient",
    "seed_everything",
    "SHARED_MODELS",
    "smoke_mode",
    "StandInDataWarning",
    "TensorBatches",
    "VAE",
]
