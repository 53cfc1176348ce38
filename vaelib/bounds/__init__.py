"""Chapter 7, closing the gaps: richer posteriors and tighter bounds.

``encoders``: full-covariance and normalizing-flow encoders and how to sample them;
``objectives``: the IWAE and DReG objectives, gradient SNR, refinement of q and the inference gaps;
``comparisons``: the controls and measurements that make comparisons fair (the K-sample ELBO, the
effective sample size, counted decoder rows, encoders fitted to a frozen decoder, per-image scores).
Every name in ``__all__`` is also importable from ``vaelib``; the training-objective factories
``objective``, ``semi_amortized_objective`` and the tuple ``ESTIMATORS`` are reached as
``vaelib.bounds.NAME`` only (``vaelib.objective`` would not say which objective).
"""

from .comparisons import (
    DecoderRows,
    closed_form_kl,
    effective_sample_size,
    elbo_objective,
    fit_encoder,
    score_per_image,
)
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
    "closed_form_kl",
    "DecoderRows",
    "effective_sample_size",
    "elbo_objective",
    "fit_encoder",
    "score_per_image",
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
