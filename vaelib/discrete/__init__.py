"""Chapter 10 groundwork (discrete latents)."""

from .categorical import *  # noqa
from .estimators import *  # noqa
