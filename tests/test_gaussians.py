"""vaelib.gaussians, the one home of Gaussian log-densities and KLs, against torch.distributions."""

import re
from pathlib import Path

import pytest
import torch
from torch.distributions import MultivariateNormal, Normal, kl_divergence

import vaelib

VAELIB = Path(vaelib.__file__).parent


def random_tril(*batch, d=3, generator=None):
    raw = torch.randn(*batch, d, d, generator=generator, dtype=torch.float64)
    return raw.tril(-1) + torch.diag_embed(raw.diagonal(dim1=-2, dim2=-1).exp())


def test_standard_normal_log_prob_matches_torch():
    z = torch.randn(5, 4, 3, dtype=torch.float64)
    expected = Normal(0.0, 1.0).log_prob(z).sum(-1)
    torch.testing.assert_close(vaelib.standard_normal_log_prob(z), expected)


def test_kls_match_torch_distributions():
    g = torch.Generator().manual_seed(0)
    loc_q, loc_p = (
        torch.randn(4, 3, generator=g, dtype=torch.float64),
        torch.randn(4, 3, generator=g, dtype=torch.float64),
    )
    tril_q, tril_p = random_tril(4, generator=g), random_tril(4, generator=g)
    expected = kl_divergence(MultivariateNormal(loc_q, scale_tril=tril_q), MultivariateNormal(loc_p, scale_tril=tril_p))
    torch.testing.assert_close(vaelib.gaussian_kl(loc_q, tril_q, loc_p, tril_p), expected)
    standard = MultivariateNormal(torch.zeros(3, dtype=torch.float64), torch.eye(3, dtype=torch.float64))
    expected = kl_divergence(MultivariateNormal(loc_q, scale_tril=tril_q), standard)
    torch.testing.assert_close(vaelib.full_covariance_kl_to_standard(loc_q, tril_q), expected)
    scale = tril_q.diagonal(dim1=-2, dim2=-1)
    expected = kl_divergence(Normal(loc_q, scale), Normal(0.0, 1.0)).sum(-1)
    torch.testing.assert_close(vaelib.gaussian_kl_to_standard(loc_q, scale), expected)
    torch.testing.assert_close(vaelib.kl_from_log_variance(loc_q, 2 * scale.log()), expected)


@pytest.mark.parametrize("name", ["pairwise_normal_log_prob", "mixture_log_prob", "log_aggregate_posterior"])
def test_log_densities_take_the_value_last(name):
    import inspect

    signature = inspect.signature(getattr(vaelib, name)).parameters.values()
    positional = [p.name for p in signature if p.kind is not inspect.Parameter.KEYWORD_ONLY]
    assert positional[0] == "loc" and positional[-1] == "z", f"{name}{positional}: parameters first, value last"


def test_log_n_z_0_i_is_written_once():
    """The standard normal log-density has one home; every other module calls it."""
    pattern = re.compile(r"-0\.5 \* (z|eps)\.pow\(2\)")
    offenders = [p.relative_to(VAELIB).as_posix() for p in VAELIB.rglob("*.py") if pattern.search(p.read_text())]
    assert offenders == ["gaussians.py"], offenders
