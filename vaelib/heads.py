r"""How an encoder makes a standard deviation, and a check that the sampler uses the one it claims.

An encoder's second head outputs an unconstrained number r per latent dimension; three conventions
turn it into the standard deviation sigma > 0:

* ``"softplus"``: sigma = softplus(r) (+ a small floor), this book's choice (``vaelib.models``);
  linear for large r, so it cannot overflow.
* ``"log_scale"``: r = log sigma, sigma = exp(r) (Pyro's VAE tutorial).
* ``"log_variance"``: r = log sigma^2, sigma = exp(r / 2) (PyTorch's examples/vae, Keras, the
  TensorFlow tutorial). The KL then reads -1/2 sum(1 + r - mu^2 - exp(r)) (:func:`kl_from_log_variance`).

Mixing the last two up trains without any error: sampling with ``exp(logvar)`` as the standard
deviation while the KL assumes ``exp(logvar / 2)`` makes the sampler's spread the *variance*, and
the KL term no longer describes the distribution the codes are drawn from.
:func:`check_log_variance_sampler` catches that.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F

from . import checks
from .models import MIN_SCALE

SCALE_HEADS = ("softplus", "log_scale", "log_variance")


def scale_from_head(raw: torch.Tensor, head: str) -> torch.Tensor:
    """The standard deviation sigma from the raw head output under one of :data:`SCALE_HEADS`.

    Taught in chapter 4.
    """
    if head == "softplus":
        return F.softplus(raw) + MIN_SCALE
    if head == "log_scale":
        return raw.exp()
    if head == "log_variance":
        return (0.5 * raw).exp()
    raise ValueError(f"unknown head {head!r}; choose one of {SCALE_HEADS}")


MIN_SAMPLER_DRAWS = 100  # fewest draws per code with which check_log_variance_sampler tells right from wrong

_MISTAKES = {
    "exp(logvar), the variance, used as the standard deviation": lambda lv: lv.exp(),
    "logvar itself used as the standard deviation": lambda lv: lv.abs(),
    "sqrt(logvar) used as the standard deviation": lambda lv: lv.clamp(min=0).sqrt(),
}


@torch.no_grad()
def check_log_variance_sampler(
    sample: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
    n_samples: int = 20_000,
    rtol: float = 0.05,
) -> bool:
    r"""Check that ``sample(loc, log_var)`` draws z ~ N(loc, diag exp(log_var)); raise a ValueError naming the mistake.

    The check feeds ``n_samples`` copies of codes whose log-variances range from -4 to 3 (standard
    deviations 0.14 to 4.5, so a variance and a standard deviation cannot be confused), and compares
    the sampler's mean and spread with loc and exp(log_var / 2). Returns True when they agree within
    ``rtol`` (relative, for the spread), or within five standard errors of a sample standard deviation,
    5 / sqrt(2 (n - 1)), when that is larger: a correct sampler passes whatever ``n_samples`` is. Every
    mistake that silently trains, such as ``loc + log_var.exp() * eps``, fails it with a message that says
    what was done and what to write: their spreads differ from the right one by a factor of 1.6 or more
    somewhere, which :data:`MIN_SAMPLER_DRAWS` draws resolve.

    Taught in chapter 4.
    """
    n_samples = checks.whole_number(n_samples, "n_samples", minimum=MIN_SAMPLER_DRAWS)
    rtol = max(checks.real_number(rtol, "rtol", positive=True), 5 / (2 * (n_samples - 1)) ** 0.5)
    log_var = torch.linspace(-4.0, 3.0, 8).repeat(n_samples, 1)  # (n, 8)
    loc = torch.linspace(-2.0, 2.0, 8).repeat(n_samples, 1)  # (n, 8)
    z = sample(loc, log_var)
    if not isinstance(z, torch.Tensor) or z.shape != loc.shape:
        got = tuple(z.shape) if isinstance(z, torch.Tensor) else type(z).__name__
        raise ValueError(f"sample(loc, log_var) must return one code per row, shape {tuple(loc.shape)}; got {got}")
    if not torch.isfinite(z).all():
        raise ValueError("sample(loc, log_var) returned NaN or infinite codes")
    spread, centre = z.std(0), z.mean(0)  # (8,) each
    want = (0.5 * log_var[0]).exp()  # (8,) the standard deviations exp(logvar / 2)
    if ((centre - loc[0]).abs() > 5 * spread / n_samples**0.5 + 1e-6).any():  # 5 standard errors
        raise ValueError(f"the codes are not centred on loc: mean {centre.tolist()}, loc {loc[0].tolist()}")
    if ((spread / want - 1).abs() <= rtol).all():
        return True
    for mistake, wrong in _MISTAKES.items():
        target = wrong(log_var[0])
        if ((spread - target).abs() <= rtol * target.abs() + 1e-3).all():
            raise ValueError(
                f"the sampler's spread matches {mistake}. For a head that outputs log sigma^2 the standard "
                "deviation is exp(0.5 * log_var): z = loc + torch.exp(0.5 * log_var) * eps."
            )
    ratio = (spread / want).tolist()
    raise ValueError(
        f"the sampler's standard deviations are {[round(r, 3) for r in ratio]} times exp(log_var / 2) for log "
        "variances from -4 to 3; it should be 1 everywhere: z = loc + torch.exp(0.5 * log_var) * eps."
    )
