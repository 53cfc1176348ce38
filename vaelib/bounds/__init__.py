"""Chapter 7, closing the gaps: richer posteriors and tighter bounds.

``encoders``: full-covariance and normalizing-flow encoders and how to sample them;
``objectives``: the IWAE and DReG objectives, gradient SNR, refinement of q and the inference gaps.
Every name in ``__all__`` is also importable from ``vaelib``; the training-objective factories
``objective``, ``semi_amortized_objective`` and the tuple ``ESTIMATORS`` are reached as
``vaelib.bounds.NAME`` only (``vaelib.objective`` would not say which objective).
"""

from .encoders import (
    FLOWS,
    FlowEncoder,
    FullCovarianceEncoder,
    posterior_mean,
)
from .objectives import (
    ESTIMATORS as ESTIMATORS,
)
from .objectives import (
    gradient_snr,
    inference_gaps,
    iwae_objective,
    refine,
    score_bounds,
)
from .objectives import (
    objective as objective,
)
from .objectives import (
    semi_amortized_objective as semi_amortized_objective,
)

__all__ = [
    "FLOWS",
    "FlowEncoder",
    "FullCovarianceEncoder",
    "gradient_snr",
    "inference_gaps",
    "iwae_objective",
    "posterior_mean",
    "refine",
    "score_bounds",
]
