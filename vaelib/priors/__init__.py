"""Chapter 9, the prior and the aggregate posterior: learned priors (``learned``), the aggregate
posterior and the ELBO surgery (``aggregate``), disentanglement objectives and metrics
(``disentangle``) and the shapes data set with known factors (``shapes``).

Chapters reach these as ``vaelib.priors.NAME`` or from ``vaelib`` itself (chapter 9 has a local
variable named ``priors``).
"""

from .aggregate import (
    elbo_surgery,
    linear_gaussian_surgery,
    log_aggregate_marginals,
    log_aggregate_posterior,
    minibatch_log_density,
)
from .disentangle import beta_tcvae_terms, latent_traversal, mutual_information_gap, total_correlation
from .learned import (
    MixturePrior,
    StandardNormalPrior,
    VampPrior,
)
from .seed_spread import two_way_spread
from .shapes import FACTOR_NAMES, SHAPES, FactorImages, factors_modulo_symmetry, make_shapes

__all__ = [
    "factors_modulo_symmetry",
    "two_way_spread",
    "beta_tcvae_terms",
    "elbo_surgery",
    "FACTOR_NAMES",
    "FactorImages",
    "latent_traversal",
    "linear_gaussian_surgery",
    "log_aggregate_marginals",
    "log_aggregate_posterior",
    "make_shapes",
    "minibatch_log_density",
    "MixturePrior",
    "mutual_information_gap",
    "SHAPES",
    "StandardNormalPrior",
    "total_correlation",
    "VampPrior",
]
