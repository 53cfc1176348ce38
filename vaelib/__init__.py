"""vaelib: the small library behind the VAE book.

data -> models -> losses -> train -> plots, plus the Pyro wrapper, checkpoints, recorded results and the
export of a decoder to the book's web pages.
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
from .exercises import check_answer
from .export import LatentMap, decoder_onnx_bytes, export_decoder_onnx
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
from .pyro_vae import PyroVAE
from .records import RecordError, load_record, record_names
from .settings import Budget, budget, data_root, hardware_name, pick_device, seed_everything, smoke_mode
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
    "decoder_onnx_bytes",
    "estimate_log_likelihood",
    "encode",
    "export_decoder_onnx",
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
    "LatentMap",
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
]
