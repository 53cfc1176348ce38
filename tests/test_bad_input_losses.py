"""Bad input to the loss functions students call directly: no silent nonsense (a positive
"log-likelihood", a NaN, a KL broadcast the wrong way), an error that says what to do instead."""

import math

import pytest
import torch

import vaelib


def logits(shape=(2, 1, 28, 28)):
    return torch.zeros(shape)


@pytest.fixture
def vae():
    torch.manual_seed(0)
    return vaelib.VAE.mlp(z_dim=3, hidden_dim=8)


@pytest.mark.parametrize(
    ("x", "message"),
    [
        (torch.rand(2, 1, 28, 28) * 255, r"Bernoulli data must lie in \[0, 1\].*Divide them by 255"),
        (torch.rand(2, 1, 28, 28) - 0.5, r"negative values.*normalised images"),
        (torch.full((2, 1, 28, 28), math.nan), r"contain NaN"),
    ],
    ids=["0-255", "negative", "nan"],
)
def test_elbo_refuses_pixels_outside_the_unit_interval(vae, x, message):
    with pytest.raises(ValueError, match=message):
        vaelib.elbo(vae.encoder, vae.decoder, x)


def test_a_bernoulli_target_outside_0_1_would_give_a_positive_log_likelihood():
    x = torch.full((1, 4), 3.0)
    with torch.no_grad():
        unchecked = vaelib.bernoulli_log_likelihood(torch.full((1, 4), 5.0), x, validate=False)
    assert unchecked.item() > 0, "the nonsense the check prevents"
    with pytest.raises(ValueError, match=r"Bernoulli data must lie in \[0, 1\].*exceed 1"):
        vaelib.bernoulli_log_likelihood(torch.full((1, 4), 5.0), x)


@pytest.mark.parametrize(
    ("function", "x", "error", "message"),
    [
        (vaelib.continuous_bernoulli_log_likelihood, torch.full((2, 4), 1.5), ValueError, r"continuous Bernoulli data"),
        (vaelib.bernoulli_log_likelihood, torch.zeros(2, 4, dtype=torch.uint8), TypeError, r"floating point.*/ 255"),
        (vaelib.bernoulli_log_likelihood, [[0.0] * 4] * 2, TypeError, r"data must be a torch\.Tensor"),
        (vaelib.gaussian_log_likelihood, torch.full((2, 4), math.inf), ValueError, r"must be finite.*NaN or inf"),
    ],
    ids=["cb-above-1", "uint8", "list", "gaussian-inf"],
)
def test_likelihoods_refuse_data_outside_their_support(function, x, error, message):
    with pytest.raises(error, match=message):
        function(torch.zeros(2, 4), x)


def test_likelihoods_refuse_integer_logits():
    with pytest.raises(TypeError, match=r"logits must hold floating-point numbers, got torch\.int64"):
        vaelib.bernoulli_log_likelihood(torch.zeros(2, 4, dtype=torch.long), torch.zeros(2, 4))


@pytest.mark.parametrize(
    ("std", "error", "message"),
    [
        (0.0, ValueError, r"std \(the noise level\) must be positive, got 0\.0"),
        (-0.5, ValueError, r"must be positive, got -0\.5"),
        (math.nan, ValueError, r"must be a finite number"),
        ("0.1", TypeError, r"must be a number, got '0\.1'"),
    ],
    ids=["zero", "negative", "nan", "str"],
)
def test_gaussian_noise_level_must_be_a_positive_number(std, error, message):
    with pytest.raises(error, match=message):
        vaelib.gaussian_log_likelihood(torch.zeros(2, 3), torch.zeros(2, 3), std=std)


def test_a_negative_scale_is_an_error_not_a_nan():
    loc, scale = torch.zeros(4, 3), torch.full((4, 3), -0.5)
    with pytest.raises(ValueError, match=r"positive, finite standard deviations.*\(0\.5 \* logvar\)\.exp\(\)"):
        vaelib.gaussian_kl_to_standard(loc, scale)
    with pytest.raises(ValueError, match=r"positive, finite standard deviations"):
        vaelib.diagonal_normal_log_prob(loc, scale, torch.zeros(4, 3))
    with pytest.raises(ValueError, match=r"positive, finite standard deviations, found values in \[0, 0\]"):
        vaelib.gaussian_kl_to_standard(loc, torch.zeros(4, 3))


def test_a_per_example_scale_does_not_broadcast_into_a_wrong_kl():
    """With B == z, a (B,) scale would broadcast along z without any error from torch."""
    loc = torch.randn(3, 3)
    per_example = torch.rand(3) + 0.5
    with pytest.raises(ValueError, match=r"loc \(3, 3\) and scale \(3,\).*one standard deviation per coordinate"):
        vaelib.gaussian_kl_to_standard(loc, per_example)
    with pytest.raises(ValueError, match=r"loc \(3, 3\) and scale \(3,\)"):
        vaelib.reparameterize(loc, per_example)
    shared = per_example.unsqueeze(0)  # (1, 3): one scale for every row, said explicitly
    torch.testing.assert_close(
        vaelib.gaussian_kl_to_standard(loc, shared), vaelib.gaussian_kl_to_standard(loc, shared.expand_as(loc))
    )


def test_diagonal_normal_log_prob_needs_z_to_end_with_locs_shape():
    loc, scale = torch.zeros(4, 3), torch.ones(4, 3)
    with pytest.raises(ValueError, match=r"z \(4, 2\) must end with loc's shape \(4, 3\)"):
        vaelib.diagonal_normal_log_prob(loc, scale, torch.zeros(4, 2))
    assert vaelib.diagonal_normal_log_prob(loc, scale, torch.zeros(5, 4, 3)).shape == (5, 4)  # samples first


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"beta": -1.0}, ValueError, r"beta must be at least 0\.0, got -1\.0"),
        ({"beta": math.nan}, ValueError, r"beta must be a finite number"),
        ({"analytic_kl": "no"}, TypeError, r"analytic_kl must be True or False"),
        ({"log_likelihood": "bernoulli"}, TypeError, r"log_likelihood must be a function"),
        ({"eps": torch.zeros(3, 2)}, ValueError, r"eps has shape \(3, 2\)"),
    ],
    ids=["negative-beta", "nan-beta", "analytic-str", "likelihood-str", "eps-shape"],
)
def test_elbo_refuses_bad_options(vae, kwargs, error, message):
    with pytest.raises(error, match=message):
        vaelib.elbo(vae.encoder, vae.decoder, torch.rand(2, 1, 28, 28), **kwargs)


def test_validate_false_skips_only_the_value_checks():
    with pytest.raises(ValueError, match="same shape"):  # shapes are always checked: that costs nothing
        vaelib.bernoulli_log_likelihood(torch.zeros(2, 4), torch.zeros(2, 5), validate=False)
    assert torch.isnan(vaelib.gaussian_kl_to_standard(torch.zeros(1, 2), -torch.ones(1, 2), validate=False)).all()
