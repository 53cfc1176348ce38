"""MIG, total correlation and the beta-TCVAE objective (vaelib.priors.disentangle)."""

import math

import pytest
import torch

import vaelib


def factor_sample(n=10_000, sizes=(3, 6, 12, 12), seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.stack([torch.randint(k, (n,), generator=g) for k in sizes], dim=1), g


def test_mig_is_close_to_one_for_a_disentangled_code():
    factors, g = factor_sample()
    standard = (factors - factors.float().mean(0)) / factors.float().std(0)
    noise = 0.01 * torch.randn(factors.shape, generator=g)
    codes = torch.cat([torch.tanh(standard + noise), torch.randn(len(factors), 2, generator=g)], dim=1)  # + 2 nuisances
    result = vaelib.mutual_information_gap(codes, factors)
    assert result["mig"] > 0.95
    assert result["mutual_information"].shape == (6, 4)
    assert result["mutual_information"].argmax(0).tolist() == [0, 1, 2, 3]


def test_mig_is_close_to_zero_when_every_factor_is_shared_by_two_coordinates():
    factors, g = factor_sample(sizes=(6, 6, 12, 12))
    standard = (factors - factors.float().mean(0)) / factors.float().std(0)
    a, b, c, d = standard.unbind(1)
    codes = torch.stack([a + b, a - b, c + d, c - d], dim=1) / math.sqrt(2)  # each pair rotated by 45 degrees
    assert vaelib.mutual_information_gap(codes, factors)["mig"] < 0.1
    shuffled = codes[torch.randperm(len(codes), generator=g)]  # no information at all
    assert vaelib.mutual_information_gap(shuffled, factors)["mig"] < 0.02


def test_mig_refuses_constant_factors_and_one_dimensional_codes():
    factors, _ = factor_sample(n=100)
    with pytest.raises(ValueError, match="at least 2 dimensions"):
        vaelib.mutual_information_gap(torch.randn(100, 1), factors)
    factors[:, 1] = 0
    with pytest.raises(ValueError, match=r"factors \[1\] take one value only"):
        vaelib.mutual_information_gap(torch.randn(100, 3), factors)


def test_total_correlation_of_independent_and_correlated_codes():
    g = torch.Generator().manual_seed(0)
    independent = torch.randn(3000, 2, generator=g)
    scale = torch.full_like(independent, 0.3)
    tc_independent = vaelib.total_correlation(independent, scale, generator=torch.Generator().manual_seed(1))
    assert abs(tc_independent) < 0.05
    mixed = independent @ torch.tensor([[1.0, 0.9], [0.0, 0.44]])  # coordinates with correlation 0.9
    exact = vaelib.total_correlation(mixed, scale, generator=torch.Generator().manual_seed(1))
    assert exact > 0.4, "strongly correlated codes have a large total correlation"
    minibatch = vaelib.total_correlation(mixed, scale, batch_size=500, generator=torch.Generator().manual_seed(1))
    assert minibatch == pytest.approx(exact, abs=0.1), "the stratified minibatch estimate is close to the exact one"


def test_beta_tcvae_objective_is_the_elbo_minus_beta_minus_one_tc():
    torch.manual_seed(0)
    model = vaelib.VAE.mlp(z_dim=3, hidden_dim=16)
    x = torch.rand(16, 1, 28, 28)
    torch.manual_seed(1)
    one = vaelib.beta_tcvae_terms(model.encoder, model.decoder, x, dataset_size=100, beta=1.0)
    torch.manual_seed(1)
    plain = vaelib.elbo(model.encoder, model.decoder, x, analytic_kl=False)
    torch.testing.assert_close(one.elbo, plain.elbo, rtol=1e-5, atol=1e-4)  # beta = 1: the ELBO itself
    torch.manual_seed(1)
    six = vaelib.beta_tcvae_terms(model.encoder, model.decoder, x, dataset_size=100, beta=6.0)
    torch.testing.assert_close(six.reconstruction - six.kl, one.elbo, rtol=1e-5, atol=1e-4)
    assert not torch.allclose(six.elbo, one.elbo)


def test_latent_traversal_moves_one_coordinate_per_row():
    decoder = vaelib.MLPDecoder(z_dim=3, hidden_dim=8)
    images = vaelib.latent_traversal(decoder, torch.zeros(3), torch.linspace(-2, 2, 5))
    assert images.shape == (15, 1, 28, 28)
    middle = images.view(3, 5, -1)[:, 2]  # value 0 in every row: the base code
    torch.testing.assert_close(middle[0], middle[1])
    torch.testing.assert_close(middle[1], middle[2])
