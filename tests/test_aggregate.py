"""The aggregate posterior and the ELBO surgery (vaelib.priors.aggregate), against closed forms and brute force."""

import math

import pytest
import torch

import vaelib
from vaelib.toy import LinearGaussian


def small_set(n=40, d=3, seed=0):
    g = torch.Generator().manual_seed(seed)
    loc = torch.randn(n, d, generator=g, dtype=torch.float64)
    scale = 0.3 + torch.rand(n, d, generator=g, dtype=torch.float64)
    z = loc + scale * torch.randn(n, d, generator=g, dtype=torch.float64)  # z_i ~ q(z | x_i)
    return z, loc, scale


def brute_log_q(z, loc, scale):
    """log (1/N) sum_n N(z; loc_n, scale_n^2) straight from torch.distributions."""
    comp = torch.distributions.Normal(loc.unsqueeze(0), scale.unsqueeze(0)).log_prob(z.unsqueeze(1)).sum(-1)
    return torch.logsumexp(comp, 1) - math.log(len(loc))


def test_exact_aggregate_posterior_matches_brute_force():
    z, loc, scale = small_set()
    torch.testing.assert_close(vaelib.log_aggregate_posterior(loc, scale, z), brute_log_q(z, loc, scale))
    marginals = vaelib.log_aggregate_marginals(loc, scale, z)
    for j in range(z.shape[1]):
        torch.testing.assert_close(
            marginals[:, j], brute_log_q(z[:, j : j + 1], loc[:, j : j + 1], scale[:, j : j + 1])
        )


def test_mws_with_the_whole_set_as_batch_is_exact_minus_log_n():
    z, loc, scale = small_set()
    log_qz, log_dims = vaelib.minibatch_log_density(loc, scale, z, dataset_size=len(z), estimator="mws")
    torch.testing.assert_close(log_qz, vaelib.log_aggregate_posterior(loc, scale, z) - math.log(len(z)))
    torch.testing.assert_close(log_dims, vaelib.log_aggregate_marginals(loc, scale, z) - math.log(len(z)))


@pytest.mark.parametrize("estimator", ["mws", "mss"])
def test_minibatch_estimates_of_q_z_average_to_their_expectation(estimator):
    """Over random batches, the mean of exp(estimate) is what each estimator's weights promise."""
    z, loc, scale = small_set(n=30, d=2, seed=1)
    n, m, draws = len(z), 6, 20_000
    exact = brute_log_q(z, loc, scale).exp()  # (N,) q(z_i) over the whole set
    own = torch.distributions.Normal(loc, scale).log_prob(z).sum(-1).exp()  # (N,) q(z_i | x_i)
    g = torch.Generator().manual_seed(2)
    sums, counts = torch.zeros(n, dtype=torch.float64), torch.zeros(n, dtype=torch.float64)
    for _ in range(draws // m):
        idx = torch.randperm(n, generator=g)[:m]
        log_qz, _ = vaelib.minibatch_log_density(loc[idx], scale[idx], z[idx], dataset_size=n, estimator=estimator)
        sums.index_add_(0, idx, log_qz.exp())
        counts.index_add_(0, idx, torch.ones(m, dtype=torch.float64))
    mean = sums / counts
    if estimator == "mss":  # unbiased for q(z_i)
        expected = exact
    else:  # (1/(NM)) [q(z_i|x_i) + (M-1) x mean of the others]
        expected = (own + (m - 1) * (n * exact - own) / (n - 1)) / (n * m)
    torch.testing.assert_close(mean, expected, rtol=0.06, atol=0)


def test_minibatch_estimator_refuses_bad_batches():
    z, loc, scale = small_set(n=5)
    with pytest.raises(ValueError, match="'mws' or 'mss'"):
        vaelib.minibatch_log_density(loc, scale, z, dataset_size=10, estimator="exact")
    with pytest.raises(ValueError, match="at least as large"):
        vaelib.minibatch_log_density(loc, scale, z, dataset_size=3)


def linear_gaussian(seed=0, x_dim=5, z_dim=2):
    g = torch.Generator().manual_seed(seed)
    weight = torch.randn(x_dim, z_dim, generator=g, dtype=torch.float64)
    return LinearGaussian(weight, torch.randn(x_dim, generator=g, dtype=torch.float64), noise_std=0.7)


def encoder_of(model, shrink):
    """A linear encoder: `shrink` times the exact posterior mean map, with the exact posterior's covariance."""
    eye = torch.eye(model.z_dim, dtype=torch.float64)
    precision = eye + model.weight.T @ model.weight / model.noise_std**2
    covariance = torch.linalg.inv(precision)
    weight = shrink * covariance @ model.weight.T / model.noise_std**2  # (d, D)
    return weight, torch.linalg.cholesky(covariance)


@pytest.mark.parametrize("shrink", [1.0, 0.6, 1.3])
def test_surgery_identity_holds_exactly_on_the_linear_gaussian_model(shrink):
    model = linear_gaussian()
    weight, tril = encoder_of(model, shrink)
    terms = vaelib.linear_gaussian_surgery(model, weight, tril)
    assert terms["average_kl"] == pytest.approx(terms["mutual_information"] + terms["marginal_kl"], abs=1e-12)
    assert terms["marginal_kl"] >= 0 and terms["mutual_information"] > 0
    # E_x KL(q(z|x) || p) from the toy model's own closed-form KL, averaged over many x ~ p(x)
    _, x = model.sample(200_000, generator=torch.Generator().manual_seed(1))
    loc = (x - model.bias) @ weight.T
    kl = model.elbo(x, loc, scale_tril=tril.expand(len(x), -1, -1)).kl.mean().item()
    assert kl == pytest.approx(terms["average_kl"], abs=0.02)
    if shrink == 1.0:  # the exact posterior: the aggregate posterior is the prior, I = 1/2 log det M
        assert terms["marginal_kl"] == pytest.approx(0.0, abs=1e-12)
        precision = torch.eye(2, dtype=torch.float64) + model.weight.T @ model.weight / model.noise_std**2
        assert terms["mutual_information"] == pytest.approx(0.5 * torch.logdet(precision).item(), abs=1e-12)


def test_sample_surgery_on_data_from_the_model_approaches_the_closed_forms():
    model = linear_gaussian(seed=2)
    weight, tril = encoder_of(model, 0.7)
    scale = torch.diagonal(tril)  # a diagonal q, as a VAE encoder has: the closed forms for S = diag(scale^2)
    exact = vaelib.linear_gaussian_surgery(model, weight, torch.diag(scale))
    _, x = model.sample(2000, generator=torch.Generator().manual_seed(3))
    loc = (x - model.bias) @ weight.T  # (N, d)
    prior = vaelib.StandardNormalPrior(2)
    estimate = vaelib.elbo_surgery(
        loc, scale.expand_as(loc), prior.log_prob, samples=2, generator=torch.Generator().manual_seed(4)
    )
    assert estimate["average_kl"] == pytest.approx(estimate["mutual_information"] + estimate["marginal_kl"], abs=1e-9)
    assert estimate["mutual_information"] <= estimate["log_n"]
    for key in ("average_kl", "mutual_information", "marginal_kl"):
        assert estimate[key] == pytest.approx(exact[key], abs=0.08), (key, estimate[key], exact[key])


def test_mutual_information_never_exceeds_log_n():
    loc = 10 * torch.randn(50, 4, generator=torch.Generator().manual_seed(0))  # far-apart posteriors
    scale = torch.full_like(loc, 0.01)
    terms = vaelib.elbo_surgery(loc, scale, vaelib.StandardNormalPrior(4).log_prob)
    assert terms["mutual_information"] <= math.log(50) + 1e-9
    assert terms["mutual_information"] == pytest.approx(math.log(50), abs=1e-6), "separate posteriors saturate it"
