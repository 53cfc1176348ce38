"""The categorical and Gaussian decoder likelihoods against torch.distributions and closed forms."""

import math

import pytest
import torch
from torch.distributions import Categorical, Normal

import vaelib


def grey_levels(shape, levels, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.randint(0, levels, shape, generator=g).float() / (levels - 1)


@pytest.mark.parametrize("levels", [2, 17, 256], ids=str)
def test_categorical_log_likelihood_matches_torch(levels):
    x = grey_levels((3, 1, 28, 28), levels)
    logits = torch.randn(3, 1, 28, 28, levels, generator=torch.Generator().manual_seed(1)) * 3
    index = (x * (levels - 1)).round().long()
    reference = Categorical(logits=logits).log_prob(index).flatten(1).sum(1)
    torch.testing.assert_close(vaelib.categorical_log_likelihood(logits, x), reference)
    assert (vaelib.categorical_log_likelihood(logits, x) <= 0).all()


def test_categorical_with_two_levels_is_the_bernoulli():
    x = grey_levels((4, 1, 28, 28), 2)
    logit = torch.randn(4, 1, 28, 28)
    two = torch.stack([torch.zeros_like(logit), logit], dim=-1)  # softmax([0, l]) = (1 - s(l), s(l))
    torch.testing.assert_close(
        vaelib.categorical_log_likelihood(two, x), vaelib.bernoulli_log_likelihood(logit, x), rtol=1e-5, atol=1e-3
    )


def test_quantize_refuses_data_off_the_grid_or_out_of_range():
    assert vaelib.quantize(torch.tensor([0.0, 1 / 255, 1.0])).tolist() == [0, 1, 255]
    with pytest.raises(ValueError, match="not on the grid of 17 levels"):
        vaelib.quantize(torch.tensor([0.5 / 16]), levels=17)
    with pytest.raises(ValueError, match=r"lie in \[0, 1\]"):
        vaelib.quantize(torch.tensor([1.5]))
    with pytest.raises(ValueError, match="float pixels"):
        vaelib.quantize(torch.tensor([3]))
    with pytest.raises(ValueError, match="data's shape"):
        vaelib.categorical_log_likelihood(torch.zeros(2, 784, 256), torch.zeros(2, 1, 28, 28))


def test_categorical_mean_is_the_expected_grey_level():
    logits = torch.randn(5, 17)
    probs = torch.softmax(logits, -1)
    torch.testing.assert_close(vaelib.categorical_mean(logits), probs @ (torch.arange(17.0) / 16))


def test_categorical_decoder_trains_inside_the_elbo_and_the_iwae_bound():
    torch.manual_seed(0)
    encoder, decoder = vaelib.MLPEncoder(z_dim=3, hidden_dim=16), vaelib.CategoricalMLPDecoder(3, 16, features=4)
    x = grey_levels((6, 1, 28, 28), 256)
    terms = vaelib.elbo(encoder, decoder, x, log_likelihood=vaelib.categorical_log_likelihood)
    assert terms.elbo.shape == (6,) and decoder(torch.zeros(2, 3)).shape == (2, 1, 28, 28, 256)
    (-terms.elbo.mean()).backward()
    assert decoder.level_bias.grad.abs().sum() > 0
    bound = vaelib.iwae_bound(encoder, decoder, x, k=5, log_likelihood=vaelib.categorical_log_likelihood)
    assert bound.shape == (6,) and (bound <= 0).all()
    # untrained, every level is about equally likely: about -784 log 256 nats
    assert abs(terms.reconstruction.mean().item() + 784 * math.log(256)) < 200


def test_discrete_to_density_offset_is_the_log_bin_volume():
    # The uniform distribution over L levels and the uniform density on [0, 1] describe the same data;
    # their log-values differ by n log L.
    levels, n = 256, 784
    x = grey_levels((2, 1, 28, 28), levels)
    log_prob = vaelib.categorical_log_likelihood(torch.zeros(2, 1, 28, 28, levels), x)
    torch.testing.assert_close(
        log_prob + vaelib.discrete_to_density_offset(levels, n), torch.zeros(2), atol=1e-2, rtol=0
    )
    assert vaelib.discrete_to_density_offset(2) == pytest.approx(543.43, abs=0.01)


@pytest.mark.parametrize("sigma", [0.1, 0.3, 1.0], ids=str)
def test_gaussian_likelihood_matches_torch(sigma):
    output, x = torch.randn(3, 1, 28, 28), torch.rand(3, 1, 28, 28)
    likelihood = vaelib.GaussianLikelihood(sigma)
    reference = Normal(torch.sigmoid(output), sigma).log_prob(x).flatten(1).sum(1)
    torch.testing.assert_close(likelihood(output, x), reference, rtol=1e-5, atol=1e-3)
    assert not list(likelihood.parameters()) and likelihood.sigma == pytest.approx(sigma)
    # beta = 2 sigma^2: the ELBO's reconstruction is minus the squared error over 2 sigma^2, plus a constant
    sse = (x - torch.sigmoid(output)).pow(2).flatten(1).sum(1)
    const = -784 * (math.log(sigma) + 0.5 * math.log(2 * math.pi))
    torch.testing.assert_close(likelihood(output, x), -sse / (2 * sigma**2) + const, rtol=1e-5, atol=1e-3)


def test_learned_sigma_converges_to_the_optimal_sigma():
    g = torch.Generator().manual_seed(0)
    output, x = torch.randn(8, 1, 28, 28, generator=g), torch.rand(8, 1, 28, 28, generator=g)
    likelihood = vaelib.GaussianLikelihood(1.0, learn_sigma=True)
    optimizer = torch.optim.Adam(likelihood.parameters(), lr=0.1)
    for _ in range(300):
        optimizer.zero_grad()
        (-likelihood(output, x).mean()).backward()
        optimizer.step()
    best = vaelib.optimal_sigma(torch.sigmoid(output), x)
    assert likelihood.sigma == pytest.approx(best, rel=1e-3)
    values = [vaelib.GaussianLikelihood(best * f)(output, x).sum().item() for f in (0.95, 1.0, 1.05)]
    assert values[1] > values[0] and values[1] > values[2]


def test_learned_sigma_is_trained_by_fit_when_attached_to_the_model(digits):
    train, _ = digits
    torch.manual_seed(0)
    model = vaelib.VAE.mlp(z_dim=4, hidden_dim=32)
    model.likelihood = vaelib.GaussianLikelihood(1.0, learn_sigma=True)
    vaelib.fit(
        model, train.subset(256), epochs=2, batch_size=32, lr=1e-2, progress=False, log_likelihood=model.likelihood
    )
    assert model.likelihood.sigma < 0.9  # grey digits sit much closer than 1 to any reasonable mean
    sample = model.likelihood.sample(torch.zeros(2000, 1, 28, 28), generator=torch.Generator().manual_seed(0))
    assert sample.std().item() == pytest.approx(model.likelihood.sigma, rel=0.05)


def test_gaussian_likelihood_rejects_bad_sigma_and_shapes():
    for bad in (0, -1.0, float("nan"), "0.1"):
        with pytest.raises(ValueError, match="positive number"):
            vaelib.GaussianLikelihood(bad)
    with pytest.raises(ValueError, match="same shape"):
        vaelib.GaussianLikelihood(0.1)(torch.zeros(2, 784), torch.zeros(2, 1, 28, 28))
