"""The linear-Gaussian toy model against trusted references: torch.distributions, Bayes' rule, Monte Carlo."""

import pytest
import torch
from torch.distributions import MultivariateNormal, Normal, kl_divergence

import vaelib
from vaelib import LinearGaussian, gaussian_kl

DIMS = [(1, 1), (1, 2), (2, 3), (3, 5)]  # (d, D): latent and data dimensions


def make_model(d: int, D: int, seed: int = 0, noise_std: float = 0.6) -> LinearGaussian:
    g = torch.Generator().manual_seed(seed)
    weight = torch.randn(D, d, generator=g, dtype=torch.float64)
    bias = torch.randn(D, generator=g, dtype=torch.float64)
    return LinearGaussian(weight, bias, noise_std)


def random_q(d: int, batch: int, full: bool, seed: int = 1) -> tuple[torch.Tensor, torch.Tensor]:
    """loc (batch, d) and either diagonal standard deviations (batch, d) or a Cholesky factor (batch, d, d)."""
    g = torch.Generator().manual_seed(seed)
    loc = torch.randn(batch, d, generator=g, dtype=torch.float64)
    if not full:
        return loc, torch.rand(batch, d, generator=g, dtype=torch.float64) * 1.5 + 0.1
    tril = torch.randn(batch, d, d, generator=g, dtype=torch.float64).tril(-1) * 0.5
    diag = torch.rand(batch, d, generator=g, dtype=torch.float64) * 1.5 + 0.1
    return loc, tril + torch.diag_embed(diag)


def spread(scale: torch.Tensor, full: bool) -> torch.Tensor:
    """q's Cholesky factor, the one spread argument the model takes: diag_embed(scale) for a diagonal q."""
    return scale if full else torch.diag_embed(scale)


def as_distribution(loc: torch.Tensor, scale: torch.Tensor, full: bool) -> MultivariateNormal:
    return MultivariateNormal(loc, scale_tril=scale if full else torch.diag_embed(scale))


@pytest.mark.parametrize(("d", "D"), DIMS, ids=str)
def test_log_marginal_matches_torch_multivariate_normal(d, D):
    model = make_model(d, D)
    _, x = model.sample(6, generator=torch.Generator().manual_seed(2))
    reference = MultivariateNormal(model.bias, covariance_matrix=model.weight @ model.weight.T + 0.36 * torch.eye(D))
    torch.testing.assert_close(model.log_marginal(x), reference.log_prob(x))
    torch.testing.assert_close(model.log_marginal(x[0]), reference.log_prob(x[0]))  # one unbatched x


@pytest.mark.parametrize(("d", "D"), DIMS, ids=str)
def test_posterior_satisfies_bayes_rule(d, D):
    """log p(z|x) = log p(z) + log p(x|z) - log p(x) at arbitrary z, with the posterior from torch."""
    model = make_model(d, D)
    _, x = model.sample(4, generator=torch.Generator().manual_seed(3))
    loc, tril = model.posterior(x)
    assert loc.shape == (4, d) and tril.shape == (d, d)
    z = torch.randn(10, 4, d, generator=torch.Generator().manual_seed(4), dtype=torch.float64)
    bayes = model.log_prior(z) + model.log_likelihood(z, x) - model.log_marginal(x)
    torch.testing.assert_close(MultivariateNormal(loc, scale_tril=tril).log_prob(z), bayes)


def test_posterior_matches_gaussian_conditioning():
    """The same posterior from the joint covariance of (z, x), conditioned the textbook way."""
    model = make_model(2, 4)
    x = torch.randn(3, 4, dtype=torch.float64)
    cov_xx = model.marginal_covariance()
    gain = model.weight.T @ torch.linalg.inv(cov_xx)  # Cov[z, x] Cov[x]^{-1}, (d, D)
    loc, tril = model.posterior(x)
    torch.testing.assert_close(loc, (x - model.bias) @ gain.T)
    torch.testing.assert_close(tril @ tril.T, torch.eye(2, dtype=torch.float64) - gain @ model.weight)


@pytest.mark.parametrize("full", [False, True], ids=["diagonal", "full"])
@pytest.mark.parametrize(("d", "D"), DIMS, ids=str)
def test_evidence_is_elbo_plus_kl_to_posterior(d, D, full):
    model = make_model(d, D)
    _, x = model.sample(5, generator=torch.Generator().manual_seed(5))
    loc, scale = random_q(d, 5, full)
    terms = model.elbo(x, loc, spread(scale, full))
    gap = model.kl_to_posterior(x, loc, spread(scale, full))
    torch.testing.assert_close(terms.elbo + gap, model.log_marginal(x), rtol=0, atol=1e-10)
    assert (gap > 0).all() and (terms.elbo < model.log_marginal(x)).all()
    torch.testing.assert_close(terms.elbo, terms.reconstruction - terms.kl)


@pytest.mark.parametrize("full", [False, True], ids=["diagonal", "full"])
def test_kl_terms_match_torch_distributions(full):
    model = make_model(3, 5)
    _, x = model.sample(4, generator=torch.Generator().manual_seed(6))
    loc, scale = random_q(3, 4, full)
    q = as_distribution(loc, scale, full)
    post_loc, post_tril = model.posterior(x)
    prior = MultivariateNormal(torch.zeros(3, dtype=torch.float64), torch.eye(3, dtype=torch.float64))
    torch.testing.assert_close(model.elbo(x, loc, spread(scale, full)).kl, kl_divergence(q, prior))
    posterior = MultivariateNormal(post_loc, scale_tril=post_tril)
    torch.testing.assert_close(model.kl_to_posterior(x, loc, spread(scale, full)), kl_divergence(q, posterior))
    torch.testing.assert_close(gaussian_kl(loc, q.scale_tril, post_loc, post_tril), kl_divergence(q, posterior))


def test_diagonal_kl_is_vaelibs_closed_form():
    model = make_model(3, 5)
    loc, scale = random_q(3, 4, full=False)
    x = torch.zeros(4, 5, dtype=torch.float64)
    kl = model.elbo(x, loc, torch.diag_embed(scale)).kl
    torch.testing.assert_close(kl, vaelib.gaussian_kl_to_standard(loc, scale))
    torch.testing.assert_close(kl, kl_divergence(Normal(loc, scale), Normal(0.0, 1.0)).sum(-1))
    torch.testing.assert_close(kl, model.kl_to_prior(loc, torch.diag_embed(scale)))


@pytest.mark.parametrize(("d", "D"), DIMS, ids=str)
def test_elbo_is_tight_at_the_posterior(d, D):
    model = make_model(d, D)
    _, x = model.sample(3, generator=torch.Generator().manual_seed(7))
    loc, tril = model.posterior(x)
    terms = model.elbo(x, loc, tril)  # one (d, d) factor broadcasts over the batch
    torch.testing.assert_close(terms.elbo, model.log_marginal(x), rtol=0, atol=1e-10)
    assert model.kl_to_posterior(x, loc, tril).abs().max() < 1e-10
    if d == 1:  # a 1-D posterior is also a diagonal q
        torch.testing.assert_close(model.elbo(x, loc, torch.diag_embed(tril[0])).elbo, model.log_marginal(x))


@pytest.mark.parametrize("full", [False, True], ids=["diagonal", "full"])
def test_monte_carlo_elbo_agrees_with_closed_form(full):
    model = make_model(2, 3)
    _, x = model.sample(3, generator=torch.Generator().manual_seed(8))
    loc, scale = random_q(2, 3, full)
    exact = model.elbo(x, loc, spread(scale, full))
    g = torch.Generator().manual_seed(9)
    runs = [model.elbo_monte_carlo(x, loc, spread(scale, full), n_samples=10_000, generator=g) for _ in range(20)]
    for name in ("reconstruction", "kl", "elbo"):
        values = torch.stack([getattr(run, name) for run in runs])  # (20, 3)
        error = (values.mean(0) - getattr(exact, name)).abs()
        standard_error = values.std(0) / 20**0.5
        assert (error < 4 * standard_error + 1e-9).all(), (name, error, standard_error)


def test_sampling_matches_the_marginal_covariance():
    model = make_model(2, 3)
    _, x = model.sample(200_000, generator=torch.Generator().manual_seed(10))
    torch.testing.assert_close(x.mean(0), model.bias, rtol=0, atol=0.02)
    torch.testing.assert_close(torch.cov(x.T), model.marginal_covariance(), rtol=0, atol=0.05)


def test_closed_form_elbo_has_gradients_that_find_the_posterior():
    model = make_model(2, 4)
    _, x = model.sample(1, generator=torch.Generator().manual_seed(11))
    loc = torch.zeros(1, 2, dtype=torch.float64, requires_grad=True)
    raw = torch.zeros(1, 2, 2, dtype=torch.float64, requires_grad=True)
    optimizer = torch.optim.LBFGS([loc, raw], max_iter=200, tolerance_grad=1e-12, line_search_fn="strong_wolfe")

    def factor():
        return raw.tril(-1) + torch.diag_embed(raw.diagonal(dim1=-2, dim2=-1).exp())  # positive diagonal

    def closure():
        optimizer.zero_grad()
        loss = -model.elbo(x, loc, scale_tril=factor()).elbo.sum()
        loss.backward()
        return loss

    optimizer.step(closure)
    tril = factor()
    post_loc, post_tril = model.posterior(x)
    torch.testing.assert_close(loc.detach(), post_loc, rtol=0, atol=1e-4)
    torch.testing.assert_close((tril @ tril.mT).detach()[0], post_tril @ post_tril.T, rtol=0, atol=1e-4)


def test_bad_shapes_are_reported():
    with pytest.raises(ValueError, match=r"\(D, d\) matrix"):
        LinearGaussian(torch.ones(3), torch.ones(3), 1.0)
    with pytest.raises(ValueError, match="bias must have shape"):
        LinearGaussian(torch.ones(3, 2), torch.ones(2), 1.0)
    with pytest.raises(ValueError, match="noise_std must be positive"):
        LinearGaussian(torch.ones(3, 2), torch.ones(3), 0.0)
    model = make_model(2, 3)
    with pytest.raises(ValueError, match="x must end in a dimension of size 3"):
        model.log_marginal(torch.zeros(4, 2, dtype=torch.float64))
    x, loc = torch.zeros(3, dtype=torch.float64), torch.zeros(2, dtype=torch.float64)
    with pytest.raises(ValueError, match=r"for a diagonal q with standard deviations `scale`, pass torch.diag_embed"):
        model.elbo(x, loc, torch.ones(2, dtype=torch.float64))
    with pytest.raises(ValueError, match=r"scale_tril must end in \(2, 2\)"):
        model.elbo(x, loc, torch.eye(3, dtype=torch.float64))
