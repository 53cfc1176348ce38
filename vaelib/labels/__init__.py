"""Chapter 8, using labels: label-conditioned networks (``networks``) and how they are trained and scored
(``training``): the CVAE, Kingma et al.'s M2 and the labels-only baseline; and M1+M2, M2 on the codes
of a VAE (``m1m2``).

Chapters reach these as ``vaelib.labels.NAME`` or from ``vaelib`` itself (chapters with a local variable
named ``labels`` use the latter).
"""

from .m1m2 import (
    M1_UNIT_MIN_STD,
    CodeHistory,
    CodeM2,
    CodeScaler,
    code_error,
    code_m2_loss,
    fit_code_classifier,
    fit_code_m2,
    held_out_labelled,
    m1_posterior,
    multiply_adds,
)
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
    "code_error",
    "code_m2_loss",
    "CodeHistory",
    "CodeM2",
    "CodeScaler",
    "fit_code_classifier",
    "fit_code_m2",
    "held_out_labelled",
    "m1_posterior",
    "M1_UNIT_MIN_STD",
    "multiply_adds",
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
