"""vaelib: the small library behind the VAE book.

Data flows one way: ``data`` (MNIST -> one tensor on the device -> batches by index) -> ``models``
(encoder -> (loc, scale), decoder -> logits) -> ``losses`` (ELBO terms, importance weights) ->
``train`` (fit loops with a history) -> ``plots`` (figures). Beside them: ``settings`` (smoke switch,
device, seeding), ``checks`` (argument checks) and ``budgets`` (what each mode does, per chapter),
``pyro_vae`` (the same networks as a Pyro model/guide), ``gradients`` (score-function and pathwise
estimators), ``toy`` (the exact linear-Gaussian model), ``analysis`` (codes and active units),
``checkpoints``, ``records`` (recorded long runs), ``published`` (published numbers with their
conditions), ``exercises`` and ``export`` (a decoder for the book's live latent map). Part 4 adds
``encoders`` and ``bounds`` (chapter 7: richer posteriors, IWAE and DReG objectives, gradient SNR,
refinement, gaps), ``labels`` and ``semi_supervised`` (chapter 8), and ``priors``, ``aggregate``,
``factors`` and ``disentangle`` (chapter 9).

The public API: every function, class and constant a chapter or test needs is importable from
``vaelib`` itself, except three namespaces that chapters import whole: ``from vaelib import plots``
(figures), ``from vaelib import published`` (numbers from papers) and ``from vaelib import bounds``
(training objectives). Each public docstring names the chapters that teach or use it. Importing
vaelib does no work: no data is loaded and no device is touched.
"""

from . import book, bounds, labels, plots, priors
from .analysis import ACTIVE_UNIT_THRESHOLD, active_units, encode
from .book import published
from .book.budgets import BUDGETS, CHAPTERS, MODES, Budget, ModeTable, budget, chapter_settings, chapter_table
from .book.checkpoints import SHARED_MODELS, CheckpointError, checkpoint_path, load_checkpoint, save_checkpoint
from .book.exercises import check_answer, check_log_likelihood_report
from .book.export import LatentMap, decoder_onnx_bytes, export_decoder_onnx
from .book.records import Record, RecordError, load_record, load_record_or_none, new_record, record_names
from .bounds.encoders import (
    FLOWS,
    FlowEncoder,
    FullCovarianceEncoder,
    posterior_mean,
)
from .bounds.objectives import gradient_snr, inference_gaps, iwae_objective, refine, score_bounds
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
from .labels.networks import (
    CVAE,
    M2,
    N_CLASSES,
    LabelMLPDecoder,
    LabelMLPEncoder,
    LabelSplit,
    MLPClassifier,
    TwoStreamBatches,
    one_hot,
    split_labelled,
)
from .labels.training import (
    LabelHistory,
    classification_error,
    confusion_matrix,
    cvae_terms,
    fit_classifier,
    fit_cvae,
    fit_m2,
    m2_loss,
)
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
    reparameterize,
)
from .models import VAE, ConvDecoder, ConvEncoder, MLPDecoder, MLPEncoder
from .monitor import ActiveUnits
from .priors.aggregate import (
    elbo_surgery,
    linear_gaussian_surgery,
    log_aggregate_marginals,
    log_aggregate_posterior,
    minibatch_log_density,
)
from .priors.disentangle import beta_tcvae_terms, latent_traversal, mutual_information_gap, total_correlation
from .priors.learned import (
    MixturePrior,
    StandardNormalPrior,
    VampPrior,
)
from .priors.shapes import FACTOR_NAMES, SHAPES, FactorImages, make_shapes
from .pyro_vae import PyroVAE
from .sampling import local_params, rsample_posterior
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

__all__ = [
    "ACTIVE_UNIT_THRESHOLD",
    "active_units",
    "ActiveUnits",
    "bernoulli_log_likelihood",
    "beta_tcvae_terms",
    "book",
    "bounds",
    "Budget",
    "budget",
    "BUDGETS",
    "categorical_log_likelihood",
    "categorical_mean",
    "CategoricalMLPDecoder",
    "chapter_settings",
    "chapter_table",
    "CHAPTERS",
    "check_answer",
    "check_images",
    "check_log_likelihood_report",
    "check_log_variance_sampler",
    "checkpoint_path",
    "CheckpointError",
    "classification_error",
    "confusion_matrix",
    "continuous_bernoulli_log_likelihood",
    "ConvDecoder",
    "ConvEncoder",
    "CVAE",
    "cvae_terms",
    "data_root",
    "DataUnavailableError",
    "decoder_onnx_bytes",
    "diagonal_normal_log_prob",
    "discrete_to_density_offset",
    "elbo",
    "elbo_surgery",
    "ELBOTerms",
    "encode",
    "encoder_gradient_estimates",
    "ENVIRONMENT",
    "estimate_log_likelihood",
    "evaluate",
    "evaluate_objective",
    "evaluate_svi",
    "export_decoder_onnx",
    "FACTOR_NAMES",
    "FactorImages",
    "fit",
    "fit_classifier",
    "fit_cvae",
    "fit_m2",
    "fit_svi",
    "FlowEncoder",
    "FLOWS",
    "full_covariance_kl_to_standard",
    "FullCovarianceEncoder",
    "gaussian_kl",
    "gaussian_kl_to_standard",
    "gaussian_log_likelihood",
    "GaussianLikelihood",
    "gradient_snr",
    "hardware_name",
    "History",
    "IMAGE_SHAPE",
    "ImageData",
    "inference_gaps",
    "iwae_bound",
    "iwae_objective",
    "kl_from_log_variance",
    "kl_weight",
    "LabelHistory",
    "LabelMLPDecoder",
    "LabelMLPEncoder",
    "labels",
    "LabelSplit",
    "latent_traversal",
    "LatentMap",
    "lerp",
    "linear_gaussian_surgery",
    "LinearGaussian",
    "load_checkpoint",
    "load_digits_8x8",
    "load_fashion_mnist",
    "load_mnist",
    "load_record",
    "load_record_or_none",
    "load_standin_digits",
    "local_params",
    "log_aggregate_marginals",
    "log_aggregate_posterior",
    "log_importance_weights",
    "log_likelihood_per_image",
    "log_mean_exp",
    "M2",
    "m2_loss",
    "make_shapes",
    "minibatch_log_density",
    "mixture_log_prob",
    "MixturePrior",
    "MLPClassifier",
    "MLPDecoder",
    "MLPEncoder",
    "MNIST_SOURCE",
    "MNISTFileError",
    "MNISTUnavailableError",
    "MODES",
    "ModeTable",
    "mutual_information_gap",
    "N_CLASSES",
    "N_PIXELS",
    "new_record",
    "NonFiniteLossError",
    "one_hot",
    "optimal_sigma",
    "paired_difference",
    "PairedDifference",
    "pairwise_normal_log_prob",
    "pick_device",
    "plots",
    "posterior_mean",
    "prior_norm_interval",
    "priors",
    "progress_bar",
    "published",
    "PyroVAE",
    "quantize",
    "Record",
    "record_names",
    "RecordError",
    "refine",
    "reparameterization_gradient",
    "reparameterize",
    "rsample_posterior",
    "save_checkpoint",
    "scale_from_head",
    "SCALE_HEADS",
    "score_bounds",
    "score_function_gradient",
    "seed_everything",
    "SHAPES",
    "SHARED_MODELS",
    "slerp",
    "smoke_mode",
    "split_labelled",
    "standard_normal_log_prob",
    "StandardNormalPrior",
    "StandInDataWarning",
    "TensorBatches",
    "total_correlation",
    "TwoStreamBatches",
    "VAE",
    "VampPrior",
]
