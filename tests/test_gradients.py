"""The two gradient estimators against closed-form gradients of Gaussian expectations."""

import math

import pytest
import torch

import vaelib
from vaelib.gradients import encoder_gradient_estimates, reparameterization_gradient, score_function_gradient

ESTIMATORS = [score_function_gradient, reparameterization_gradient]


def square(z):
    return z.pow(2)


def sum_of_squares(z):
    return z.pow(2).sum(-1)


# (name, f, closed-form (d/dmu, d/dsigma) of E_{N(mu, sigma^2)}[f(z)]) for scalar mu, sigma
PROBLEMS = [
    ("z^2", square, lambda mu, sigma: (2 * mu, 2 * sigma)),  # E = mu^2 + sigma^2
    (
        "exp(z)",
        torch.exp,
        lambda mu, sigma: (math.exp(mu + sigma**2 / 2), sigma * math.exp(mu + sigma**2 / 2)),
    ),  # E = exp(mu + sigma^2 / 2)
    ("z^3", lambda z: z.pow(3), lambda mu, sigma: (3 * mu**2 + 3 * sigma**2, 6 * mu * sigma)),  # mu^3 + 3 mu sigma^2
]


@pytest.mark.parametrize("estimator", ESTIMATORS, ids=lambda e: e.__name__)
@pytest.mark.parametrize("name, f, exact", PROBLEMS, ids=[p[0] for p in PROBLEMS])
@pytest.mark.parametrize("mu, sigma", [(0.0, 1.0), (1.5, 0.5), (-0.7, 1.3)], ids=str)
def test_estimators_are_unbiased_within_monte_carlo_error(estimator, name, f, exact, mu, sigma):
    g = torch.Generator().manual_seed(0)
    loc, scale = torch.tensor(mu, dtype=torch.float64), torch.tensor(sigma, dtype=torch.float64)
    n = 200_000
    grads = estimator(f, loc, scale, n_samples=n, generator=g)
    for per_sample, want in zip(grads, exact(mu, sigma), strict=True):
        assert per_sample.shape == (n,)
        standard_error = per_sample.std().item() / math.sqrt(n)
        assert abs(per_sample.mean().item() - want) < 5 * standard_error + 1e-12, (name, per_sample.mean(), want)


@pytest.mark.parametrize("estimator", ESTIMATORS, ids=lambda e: e.__name__)
def test_vector_latent_with_a_sum_over_dimensions(estimator):
    g = torch.Generator().manual_seed(1)
    loc = torch.tensor([0.5, -1.0, 2.0], dtype=torch.float64)
    scale = torch.tensor([0.3, 1.5, 0.8], dtype=torch.float64)
    n = 400_000
    grad_loc, grad_scale = estimator(sum_of_squares, loc, scale, n_samples=n, generator=g)
    assert grad_loc.shape == grad_scale.shape == (n, 3)
    for per_sample, want in ((grad_loc, 2 * loc), (grad_scale, 2 * scale)):
        standard_error = per_sample.std(0) / math.sqrt(n)
        assert ((per_sample.mean(0) - want).abs() < 5 * standard_error).all()


def test_per_sample_estimates_match_their_formulas():
    loc, scale = torch.tensor(0.8), torch.tensor(0.6)
    eps = torch.linspace(-2, 2, 9)
    z = loc + scale * eps
    sf_loc, sf_scale = score_function_gradient(square, loc, scale, eps=eps)
    torch.testing.assert_close(sf_loc, z.pow(2) * eps / scale)
    torch.testing.assert_close(sf_scale, z.pow(2) * (eps.pow(2) - 1) / scale)
    rep_loc, rep_scale = reparameterization_gradient(square, loc, scale, eps=eps)
    torch.testing.assert_close(rep_loc, 2 * z)
    torch.testing.assert_close(rep_scale, 2 * z * eps)


def test_reparameterization_has_lower_variance_on_a_quadratic():
    g = torch.Generator().manual_seed(2)
    loc, scale = torch.tensor(1.0), torch.tensor(0.5)
    eps = torch.randn(100_000, generator=g)
    sf = score_function_gradient(square, loc, scale, eps=eps)
    rep = reparameterization_gradient(square, loc, scale, eps=eps)
    # Closed forms for d/dmu at mu = 1, sigma = 0.5:
    # Var_sf = (mu^4 + 18 mu^2 sigma^2 + 15 sigma^4) / sigma^2 - 4 mu^2 = 21.75, Var_rep = 4 sigma^2 = 1
    assert sf[0].var().item() == pytest.approx(21.75, rel=0.1)
    assert rep[0].var().item() == pytest.approx(1.0, rel=0.05)
    assert sf[1].var() > 5 * rep[1].var()


@pytest.mark.parametrize("estimator", ESTIMATORS, ids=lambda e: e.__name__)
def test_noise_and_generator_make_it_reproducible_and_leave_inputs_alone(estimator):
    loc = torch.tensor([0.1, 0.2], requires_grad=True)
    scale = torch.tensor([1.0, 2.0], requires_grad=True)
    a = estimator(sum_of_squares, loc, scale, n_samples=(4, 5), generator=torch.Generator().manual_seed(3))
    b = estimator(sum_of_squares, loc, scale, n_samples=(4, 5), generator=torch.Generator().manual_seed(3))
    eps = torch.randn((4, 5, 2), generator=torch.Generator().manual_seed(3))
    c = estimator(sum_of_squares, loc, scale, eps=eps)
    for x, y, w in zip(a, b, c, strict=True):
        assert x.shape == (4, 5, 2)
        torch.testing.assert_close(x, y)
        torch.testing.assert_close(x, w)
    assert loc.grad is None and scale.grad is None, "the estimators must not write into the caller's .grad"


@pytest.mark.parametrize("estimator", ESTIMATORS, ids=lambda e: e.__name__)
def test_bad_shapes_are_explained(estimator):
    loc, scale = torch.zeros(3), torch.ones(3)
    with pytest.raises(ValueError, match="must end with"):
        estimator(sum_of_squares, loc, scale, eps=torch.randn(10, 4))
    with pytest.raises(ValueError, match="one value per sample"):
        estimator(square, loc, scale, eps=torch.randn(10, 3))  # forgot to sum over the latent dimensions
    with pytest.raises(ValueError, match="same shape"):
        estimator(sum_of_squares, loc, torch.ones(2), eps=torch.randn(10, 3))


def _tiny_vae_and_batch(m=4, z_dim=3):
    torch.manual_seed(0)
    model = vaelib.VAE.mlp(z_dim=z_dim, hidden_dim=8)
    x = torch.bernoulli(torch.rand(m, 1, 28, 28, generator=torch.Generator().manual_seed(1)))
    return model, x


def test_encoder_gradient_estimates_match_autograd_on_each_sample():
    """Reference: per sample, autograd of the pathwise loss and of the score-function surrogate loss."""
    model, x = _tiny_vae_and_batch()
    enc, dec = model.encoder, model.decoder
    params = [enc.loc.bias, enc.raw_scale.bias, enc.hidden.weight]
    eps = torch.randn(5, len(x), 3, generator=torch.Generator().manual_seed(2))  # (S, M, d)
    path = encoder_gradient_estimates(reparameterization_gradient, enc, dec, x, params, eps=eps)
    score = encoder_gradient_estimates(score_function_gradient, enc, dec, x, params, eps=eps)
    assert [g.shape for g in path] == [g.shape for g in score] == [(5, *p.shape) for p in params]
    for s in range(len(eps)):
        loc, scale = enc(x)
        z = loc + scale * eps[s]  # (M, d)
        log_px = vaelib.bernoulli_log_likelihood(dec(z), x)  # (M,)
        want_path = torch.autograd.grad(log_px.mean(), params, retain_graph=True)
        log_q = torch.distributions.Normal(loc, scale).log_prob(z.detach()).sum(-1)  # (M,), sample held fixed
        want_score = torch.autograd.grad((log_px.detach() * log_q).mean(), params)  # each image times its own score
        for got, want in zip([g[s] for g in path], want_path, strict=True):
            torch.testing.assert_close(got, want, rtol=1e-4, atol=1e-5)
        for got, want in zip([g[s] for g in score], want_score, strict=True):
            torch.testing.assert_close(got, want, rtol=1e-4, atol=1e-4)
    assert all(p.grad is None for p in enc.parameters()), "no .grad is written"


def test_encoder_gradient_estimates_agree_on_average_and_differ_in_variance():
    model, x = _tiny_vae_and_batch(m=2)
    params = [model.encoder.loc.bias, model.encoder.raw_scale.bias]
    draws = {}
    for estimator in ESTIMATORS:
        g = encoder_gradient_estimates(
            estimator,
            model.encoder,
            model.decoder,
            x,
            params,
            n_samples=4_000,
            generator=torch.Generator().manual_seed(3),
        )
        draws[estimator] = torch.cat(g, dim=1)  # (S, 2 d)
    score, path = draws[score_function_gradient], draws[reparameterization_gradient]
    se = (score.var(0) / len(score) + path.var(0) / len(path)).sqrt()
    assert ((score.mean(0) - path.mean(0)).abs() < 5 * se).all(), "both are unbiased for the same gradient"
    assert (score.var(0) > 10 * path.var(0)).all()


def test_encoder_gradient_estimates_explain_bad_input():
    model, x = _tiny_vae_and_batch()
    enc, dec = model.encoder, model.decoder
    with pytest.raises(TypeError, match="score_function_gradient or"):
        encoder_gradient_estimates(torch.autograd.grad, enc, dec, x, [enc.loc.bias])
    with pytest.raises(TypeError, match="non-empty list"):
        encoder_gradient_estimates(score_function_gradient, enc, dec, x, enc.loc.bias)
    with pytest.raises(ValueError, match="parameter of the encoder"):
        encoder_gradient_estimates(score_function_gradient, enc, dec, x, [dec.hidden.bias])
    with pytest.raises(ValueError, match=r"\(S, M, z_dim\)"):
        encoder_gradient_estimates(score_function_gradient, enc, dec, x, [enc.loc.bias], eps=torch.randn(len(x), 3))
