"""Chapter 8, using labels: label-conditioned networks (``networks``) and how they are trained and scored
(``training``): the CVAE, Kingma et al.'s M2 and the labels-only baseline.

Chapters reach these as ``vaelib.labels.NAME`` or from ``vaelib`` itself (chapters with a local variable
named ``labels`` use the latter).
"""

from .networks import (
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
from .training import (
    LabelHistory,
    classification_error,
    confusion_matrix,
    cvae_terms,
    fit_classifier,
    fit_cvae,
    fit_m2,
    m2_loss,
)

__all__ = [
    "CVAE",
    "classification_error",
    "confusion_matrix",
    "cvae_terms",
    "fit_classifier",
    "fit_cvae",
    "fit_m2",
    "LabelHistory",
    "LabelMLPDecoder",
    "LabelMLPEncoder",
    "LabelSplit",
    "M2",
    "m2_loss",
    "MLPClassifier",
    "N_CLASSES",
    "one_hot",
    "split_labelled",
    "TwoStreamBatches",
]
