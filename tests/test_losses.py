"""The loss functions against trusted references: torch.distributions, Monte Carlo, Pyro, exact log p(x)."""

import math

import pytest
import torch
from pyro import poutine
from pyro.infer import Trace_ELBO, TraceMeanField_ELBO
from torch.distributions import Bernoulli, Normal, kl_divergence

import vaelib
from vaelib.losses import LOG_2PI


@pytest.mark.parametrize("shape", [(1, 1), (4, 2), (16, 50), (3, 5, 7)], ids=str)
def test_kl_matches_torch_distributions(shape):
    g = torch.Generator().manual_seed(0)
    loc = torch.randn(shape, generator=g) * 2
    scale = torch.rand(shape, generator=g) * 3 + 0.05
    ours = vaelib.gaussian_kl_to_standard(loc, scale)
    reference = kl_divergence(Normal(loc, scale), Normal(0.0, 1.0)).sum(-1)
    assert ours.shape == shape[:-1]
    torch.testing.assert_close(ours, reference, rtol=1e-5, atol=1e-5)


def test_kl_matches_monte_carlo_estimate():
    g = torch.Generator().manual_seed(1)
    loc, scale = torch.tensor([[0.5, -1.0, 2.0]]), torch.tensor([[0.3, 1.5, 0.8]])
    z = loc + scale * torch.randn(200_000, 3, generator=g)
    q, p = Normal(loc, scale), Normal(0.0, 1.0)
    mc = (q.log_prob(z) - p.log_prob(z)).sum(-1).mean()
    assert abs(mc.item() - vaelib.gaussian_kl_to_standard(loc, scale).item()) < 0.02


def test_kl_is_zero_only_at_the_prior():
    assert vaelib.gaussian_kl_to_standard(torch.zeros(2, 4), torch.ones(2, 4)).abs().max() < 1e-7
    assert (vaelib.gaussian_kl_to_standard(torch.full((1, 4), 0.1), torch.ones(1, 4)) > 0).all()


def test_bernoulli_log_likelihood_matches_torch_and_is_stable():
    g = torch.Generator().manual_seed(2)
    logits = torch.randn(5, 1, 28, 28, generator=g) * 4
    x = torch.bernoulli(torch.full_like(logits, 0.3), generator=g)
    reference = Bernoulli(logits=logits).log_prob(x).flatten(1).sum(1)
    torch.testing.assert_close(vaelib.bernoulli_log_likelihood(logits, x), reference)
    extreme = torch.tensor([[200.0, -200.0]])
    assert torch.isfinite(vaelib.bernoulli_log_likelihood(extreme, torch.tensor([[0.0, 1.0]]))).all()
    with pytest.raises(ValueError, match="same shape"):
        vaelib.bernoulli_log_likelihood(logits, x.flatten(1))


def test_gaussian_log_likelihood_matches_torch():
    mean, x = torch.randn(3, 6), torch.randn(3, 6)
    reference = Normal(mean, 0.7).log_prob(x).sum(1)
    torch.testing.assert_close(vaelib.gaussian_log_likelihood(mean, x, std=0.7), reference)


def test_reparameterize_passes_gradients_and_checks_eps():
    loc = torch.zeros(4, 3, requires_grad=True)
    scale = torch.ones(4, 3, requires_grad=True)
    eps = torch.randn(4, 3)
    z = vaelib.reparameterize(loc, scale, eps=eps)
    z.sum().backward()
    torch.testing.assert_close(loc.grad, torch.ones(4, 3))
    torch.testing.assert_close(scale.grad, eps)
    with pytest.raises(ValueError, match="eps has shape"):
        vaelib.reparameterize(loc, scale, eps=torch.randn(3, 4))


def test_reparameterize_uses_the_generator():
    loc, scale = torch.zeros(2, 3), torch.ones(2, 3)
    a = vaelib.reparameterize(loc, scale, generator=torch.Generator().manual_seed(5))
    b = vaelib.reparameterize(loc, scale, generator=torch.Generator().manual_seed(5))
    torch.testing.assert_close(a, b)


@pytest.fixture
def small_vae():
    torch.manual_seed(0)
    return vaelib.VAE.mlp(z_dim=5, hidden_dim=32)


@pytest.mark.parametrize(
    ("pyro_loss", "analytic_kl"),
    [(Trace_ELBO(), False), (TraceMeanField_ELBO(), True)],
    ids=["Trace_ELBO", "TraceMeanField_ELBO"],
)
def test_elbo_equals_pyro_for_same_networks_and_noise(small_vae, pyro_loss, analytic_kl):
    x = torch.bernoulli(torch.rand(7, 1, 28, 28, generator=torch.Generator().manual_seed(3)))
    program = vaelib.PyroVAE(small_vae.encoder, small_vae.decoder)
    torch.manual_seed(11)
    pyro_elbo = -pyro_loss.loss(program.model, program.guide, x)
    torch.manual_seed(11)  # replay the guide with the same seed to read off the z Pyro drew
    z = poutine.trace(program.guide).get_trace(x).nodes["z"]["value"]
    loc, scale = small_vae.encoder(x)
    ours = vaelib.elbo(small_vae.encoder, small_vae.decoder, x, eps=(z - loc) / scale, analytic_kl=analytic_kl)
    assert ours.elbo.shape == (7,)
    assert ours.elbo.sum().item() == pytest.approx(pyro_elbo, rel=1e-5)


def test_elbo_terms_add_up_and_beta_weights_kl(small_vae):
    x = torch.rand(4, 1, 28, 28)
    eps = torch.randn(4, 5)
    plain = vaelib.elbo(small_vae.encoder, small_vae.decoder, x, eps=eps)
    heavy = vaelib.elbo(small_vae.encoder, small_vae.decoder, x, eps=eps, beta=4.0)
    torch.testing.assert_close(plain.elbo, plain.reconstruction - plain.kl)
    torch.testing.assert_close(heavy.elbo, plain.reconstruction - 4.0 * plain.kl)
    assert set(plain.mean()) == {"reconstruction", "kl", "elbo"}


def test_analytic_and_sampled_kl_agree_in_expectation(small_vae):
    x = torch.rand(2, 1, 28, 28).repeat(2000, 1, 1, 1)
    torch.manual_seed(0)
    with torch.no_grad():
        analytic = vaelib.elbo(small_vae.encoder, small_vae.decoder, x).kl.mean()
        sampled = vaelib.elbo(small_vae.encoder, small_vae.decoder, x, analytic_kl=False).kl.mean()
    assert sampled.item() == pytest.approx(analytic.item(), abs=0.05)


SIGMA = 0.5  # noise of the toy model: z ~ N(0, I_2), x | z ~ N(W z + b, SIGMA^2 I_3), exact marginal


def toy_model():
    weight = torch.tensor([[1.0, 0.5], [-0.3, 2.0], [0.8, -1.0]])
    return vaelib.LinearGaussian(weight, torch.tensor([0.1, -0.2, 0.3]), noise_std=SIGMA)


def toy_log_likelihood(mean, x):  # log p(x | z) from the decoder's mean, as vaelib's losses take it
    return vaelib.gaussian_log_likelihood(mean, x, std=SIGMA)


class RoughEncoder(torch.nn.Module):
    """A deliberately imperfect q(z|x): right direction, wrong scale, so the bound is loose."""

    z_dim = 2

    def forward(self, x):
        loc = 0.3 * x[:, :2]
        return loc, torch.full_like(loc, 0.8)


def test_iwae_bound_rises_with_k_and_stays_below_log_px():
    model, encoder = toy_model(), RoughEncoder()
    g = torch.Generator().manual_seed(0)
    _, x = model.sample(512, generator=g)  # (512, 3)
    exact = model.log_marginal(x).mean().item()
    bounds = {}
    for k in (1, 10, 100, 2000):
        estimate = vaelib.iwae_bound(encoder, model.decode, x, k, generator=g, log_likelihood=toy_log_likelihood)
        assert estimate.shape == (512,)
        bounds[k] = estimate.mean().item()
    values = list(bounds.values())
    assert all(a < b for a, b in zip(values, values[1:], strict=False)), bounds
    # E[L_K] <= log p(x) for every K; with 512 points the Monte-Carlo error is far below these gaps.
    assert all(v < exact for v in values[:3]), (bounds, exact)
    assert exact - values[0] > 1.0  # the rough q leaves a real gap at K = 1 ...
    assert abs(exact - values[-1]) < 0.03  # ... which K = 2000 all but closes


def test_iwae_with_one_sample_is_the_sampled_elbo():
    model, encoder = toy_model(), RoughEncoder()
    x = torch.randn(5, 3)
    iwae = vaelib.iwae_bound(
        encoder, model.decode, x, 1, generator=torch.Generator().manual_seed(4), log_likelihood=toy_log_likelihood
    )
    loc, _ = encoder(x)
    eps = torch.randn((1, *loc.shape), generator=torch.Generator().manual_seed(4))[0]
    sampled = vaelib.elbo(encoder, model.decode, x, eps=eps, analytic_kl=False, log_likelihood=toy_log_likelihood)
    torch.testing.assert_close(iwae, sampled.elbo)


def test_iwae_chunking_does_not_change_the_estimate(small_vae):
    x = torch.bernoulli(torch.rand(3, 1, 28, 28))
    with torch.no_grad():
        whole = vaelib.iwae_bound(
            small_vae.encoder, small_vae.decoder, x, 50, generator=torch.Generator().manual_seed(0), chunk_size=50
        )
        chunked = vaelib.iwae_bound(
            small_vae.encoder, small_vae.decoder, x, 50, generator=torch.Generator().manual_seed(0), chunk_size=7
        )
    assert torch.isfinite(whole).all()
    # Different chunking draws the noise in a different order, so compare to Monte-Carlo precision.
    torch.testing.assert_close(whole, chunked, atol=2.0, rtol=0)
    with pytest.raises(ValueError, match="at least 1"):
        vaelib.iwae_bound(small_vae.encoder, small_vae.decoder, x, 0)


def test_log_2pi_constant():
    assert LOG_2PI == pytest.approx(math.log(2 * math.pi))


@pytest.mark.parametrize(
    "log_likelihood",
    [vaelib.bernoulli_log_likelihood, vaelib.continuous_bernoulli_log_likelihood, vaelib.gaussian_log_likelihood],
    ids=lambda f: f.__name__,
)
def test_likelihoods_reject_mismatched_shapes(log_likelihood):
    with pytest.raises(ValueError, match=r"must have the same shape"):
        log_likelihood(torch.zeros(4, 1, 28, 28), torch.zeros(4, 784))


def test_continuous_bernoulli_matches_its_closed_form_and_integrates_to_one():
    """Independent of torch.distributions: log CB(x | l) = log C(l) + x log l + (1 - x) log(1 - l),
    C(l) = logit(l) / (2 l - 1) (Loaiza-Ganem & Cunningham, 2019, eq. 7), and the density has area one."""
    lam = torch.tensor([0.02, 0.3, 0.7, 0.999], dtype=torch.float64)
    x = torch.tensor([0.0, 0.25, 0.9, 1.0], dtype=torch.float64)
    closed_form = torch.log(torch.logit(lam) / (2 * lam - 1)) + x * lam.log() + (1 - x) * (1 - lam).log()
    ours = vaelib.continuous_bernoulli_log_likelihood(torch.logit(lam).view(1, 4), x.view(1, 4))
    torch.testing.assert_close(ours, closed_form.sum().view(1), rtol=1e-4, atol=1e-4)
    grid = torch.linspace(0, 1, 10_001, dtype=torch.float64)
    for value in lam.tolist():
        logits = torch.full((len(grid), 1), torch.logit(torch.tensor(value, dtype=torch.float64)).item())
        density = vaelib.continuous_bernoulli_log_likelihood(logits.double(), grid.view(-1, 1)).exp()
        assert abs(torch.trapezoid(density, grid).item() - 1) < 1e-3, value


def test_diagonal_normal_log_prob_takes_parameters_first_and_matches_torch():
    g = torch.Generator().manual_seed(11)
    loc, z = torch.randn(4, 3, generator=g), torch.randn(4, 3, generator=g)
    scale = torch.rand(4, 3, generator=g) + 0.1
    expected = torch.distributions.Normal(loc, scale).log_prob(z).sum(-1)  # (4,)
    torch.testing.assert_close(vaelib.diagonal_normal_log_prob(loc, scale, z), expected)
