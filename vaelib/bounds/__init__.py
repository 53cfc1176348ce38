"""Chapter 7, closing the gaps: richer posteriors and tighter bounds.

``encoders``: full-covariance and normalizing-flow encoders and how to sample them;
``objectives``: the IWAE and DReG objectives, gradient SNR, refinement of q and the inference gaps.
Chapters reach these as ``vaelib.bounds.NAME`` (the most used are also importable from ``vaelib``).
"""

from .encoders import (
    FLOWS,
    FlowEncoder,
    FullCovarianceEncoder,
    posterior_mean,
)
from .objectives import (
    ESTIMATORS,
    gradient_snr,
    inference_gaps,
    iwae_objective,
    objective,
    refine,
    score_bounds,
    semi_amortized_objective,
)

__all__ = [
    "ESTIMATORS",
    "FLOWS",
    "FlowEncoder",
    "FullCovarianceEncoder",
    "gradient_snr",
    "inference_gaps",
    "iwae_objective",
    "objective",
    "posterior_mean",
    "refine",
    "score_bounds",
    "semi_amortized_objective",
]
