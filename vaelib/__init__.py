"""vaelib: the small library behind the VAE book.

data -> models -> losses -> train -> plots, plus the Pyro wrapper, checkpoints and recorded results.
Importing it does no work: no data is loaded and no device is touched.
"""

from .analysis import active_units, encode
from .checkpoints import CheckpointError, load_checkpoint, save_checkpoint
from .data import (
    IMAGE_SHAPE,
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
from .heads import check_log_variance_sampler, kl_from_log_variance, scale_from_head
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
    reparameterize,
)
from .models import VAE, ConvDecoder, ConvEncoder, MLPDecoder, MLPEncoder
from .monitor import ActiveUnits, chain
from .pyro_vae import PyroVAE
from .records import RecordError, load_record, record_names
from .settings import Budget, budget, data_root, hardware_name, pick_device, seed_everything, smoke_mode
from .stats import PairedDifference, paired_difference
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
    "active_units",
    "check_answer",
    "continuous_bernoulli_log_likelihood",
    "estimate_log_likelihood",
    "encode",
    "IMAGE_SHAPE",
    "N_PIXELS",
    "VAE",
    "Budget",
    "CheckpointError",
    "ConvDecoder",
    "ConvEncoder",
    "ELBOTerms",
    "History",
    "ImageData",
    "MLPDecoder",
    "MLPEncoder",
    "MNISTFileError",
    "MNISTUnavailableError",
    "NonFiniteLossError",
    "PyroVAE",
    "RecordError",
    "StandInDataWarning",
    "TensorBatches",
    "bernoulli_log_likelihood",
    "budget",
    "check_images",
    "data_root",
    "diagonal_normal_log_prob",
    "elbo",
    "evaluate",
    "evaluate_svi",
    "fit",
    "fit_svi",
    "gaussian_kl_to_standard",
    "gaussian_log_likelihood",
    "hardware_name",
    "iwae_bound",
    "load_checkpoint",
    "load_mnist",
    "load_record",
    "load_standin_digits",
    "pick_device",
    "progress_bar",
    "record_names",
    "reparameterize",
    "save_checkpoint",
    "seed_everything",
    "smoke_mode",
    # added for chapters 1-6's review (issue 14)
    "ActiveUnits",
    "CategoricalMLPDecoder",
    "DataUnavailableError",
    "GaussianLikelihood",
    "PairedDifference",
    "categorical_log_likelihood",
    "categorical_mean",
    "chain",
    "check_log_likelihood_report",
    "check_log_variance_sampler",
    "discrete_to_density_offset",
    "kl_from_log_variance",
    "lerp",
    "load_digits_8x8",
    "load_fashion_mnist",
    "optimal_sigma",
    "paired_difference",
    "prior_norm_interval",
    "quantize",
    "scale_from_head",
    "slerp",
]
