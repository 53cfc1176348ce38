"""Chapter 10 groundwork (discrete latents)."""

from .categorical import *  # noqa
from .estimators import *  # noqa
from .prior import *  # noqa
from .vq import *  # noqa
