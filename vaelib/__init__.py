"""vaelib: the small library behind the VAE book.

Data flows one way: ``data`` (MNIST -> one tensor on the device -> batches by index) -> ``models``
(encoder -> (loc, scale), decoder -> logits) -> ``losses`` (ELBO terms, importance weights) ->
``train`` (fit loops with a history) -> ``plots`` (figures). Beside them: ``settings`` (smoke switch,
device, seeding), ``checks`` (argument checks) and ``budgets`` (what each mode does, per chapter),
``pyro_vae`` (the same networks as a Pyro model/guide), ``gradients`` (score-function and pathwise
estimators), ``toy`` (the exact linear-Gaussian model), ``analysis`` (codes and active units),
``checkpoints``, ``records`` (recorded long runs), ``published`` (published numbers with their
conditions), ``comparisons`` (which recorded number answers which published one), ``exercises``
and ``export`` (a decoder for the book's live latent map). Part 4 adds
``encoders`` and ``bounds`` (chapter 7: richer posteriors, IWAE and DReG objectives, gradient SNR,
refinement, gaps), ``labels`` and ``semi_supervised`` (chapter 8), and ``priors``, ``aggregate``,
``factors``, ``disentangle`` and ``seed_spread`` (chapter 9).

The public API: every function, class and constant a chapter or test needs is importable from
``vaelib`` itself, except three namespaces that chapters import whole: ``from vaelib import plots``
(figures), ``from vaelib import published`` (numbers from papers) and ``from vaelib import bounds``
(training objectives). Each public docstring names the chapters that teach or use it. Importing
vaelib does no work: no data is loaded and no device is touched.
"""

from . import bounds, plots, published
from .aggregate import (
    elbo_surgery,
    linear_gaussian_surgery,
    log_aggregate_marginals,
    log_aggregate_posterior,
    minibatch_log_density,
)
from .analysis import ACTIVE_UNIT_THRESHOLD, active_units, encode
from .bounds import gradient_snr, inference_gaps, iwae_objective, refine, score_bounds
from .budgets import BUDGETS, CHAPTERS, MODES, Budget, ModeTable, chapter_settings, chapter_table
from .checkpoints import SHARED_MODELS, CheckpointError, checkpoint_path, load_checkpoint, save_checkpoint
from .comparisons import COMPARISONS, Comparison, fill_conditions, published_entries, record_value
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
from .disentangle import beta_tcvae_terms, latent_traversal, mutual_information_gap, total_correlation
from .encoders import (
    FLOWS,
    FlowEncoder,
    FullCovarianceEncoder,
    full_covariance_kl_to_standard,
    local_params,
    posterior_mean,
    rsample_posterior,
)
from .exercises import check_answer, check_log_likelihood_report
from .export import LatentMap, decoder_onnx_bytes, export_decoder_onnx
from .factors import FACTOR_NAMES, SHAPES, FactorImages, factors_modulo_symmetry, make_shapes
from .gradients import encoder_gradient_estimates, reparameterization_gradient, score_function_gradient
from .heads import SCALE_HEADS, check_log_variance_sampler, kl_from_log_variance, scale_from_head
from .labels import (
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
from .monitor import ActiveUnits
from .priors import (
    MixturePrior,
    StandardNormalPrior,
    VampPrior,
    elbo_with_prior,
    estimate_log_likelihood_with_prior,
    evaluate_objective,
    fit_with_objective,
    log_importance_weights_with_prior,
    mixture_log_prob,
    pairwise_normal_log_prob,
)
from .pyro_vae import PyroVAE
from .records import Record, RecordError, load_record, load_record_or_none, new_record, record_names
from .seed_spread import two_way_spread
from .semi_supervised import (
    LabelHistory,
    classification_error,
    confusion_matrix,
    cvae_terms,
    fit_classifier,
    fit_cvae,
    fit_m2,
    m2_loss,
)
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
    log_likelihood_per_image,
    progress_bar,
)

__all__ = [
    "ACTIVE_UNIT_THRESHOLD",
    "active_units",
    "ActiveUnits",
    "bernoulli_log_likelihood",
    "beta_tcvae_terms",
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
    "Comparison",
    "COMPARISONS",
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
    "elbo_with_prior",
    "ELBOTerms",
    "encode",
    "encoder_gradient_estimates",
    "ENVIRONMENT",
    "estimate_log_likelihood",
    "estimate_log_likelihood_with_prior",
    "evaluate",
    "evaluate_objective",
    "evaluate_svi",
    "export_decoder_onnx",
    "FACTOR_NAMES",
    "FactorImages",
    "factors_modulo_symmetry",
    "fill_conditions",
    "fit",
    "fit_classifier",
    "fit_cvae",
    "fit_m2",
    "fit_svi",
    "fit_with_objective",
    "FlowEncoder",
    "FLOWS",
    "full_covariance_kl_to_standard",
    "FullCovarianceEncoder",
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
    "log_importance_weights_with_prior",
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
    "progress_bar",
    "published",
    "published_entries",
    "PyroVAE",
    "quantize",
    "Record",
    "record_names",
    "record_value",
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
    "StandardNormalPrior",
    "StandInDataWarning",
    "TensorBatches",
    "total_correlation",
    "two_way_spread",
    "TwoStreamBatches",
    "VAE",
    "VampPrior",
]
