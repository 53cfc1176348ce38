"""Richer posteriors (vaelib.bounds.encoders) against trusted references: torch.distributions and autograd Jacobians."""

import pytest
import torch
from torch.distributions import MultivariateNormal, kl_divergence

import vaelib
from vaelib.bounds import encoders


def random_tril(batch, d, generator):
    """A batch of lower-triangular factors with positive diagonals, (batch, d, d)."""
    raw = torch.randn(batch, d, d, generator=generator, dtype=torch.float64).tril(-1)
    return raw + torch.diag_embed(torch.rand(batch, d, generator=generator, dtype=torch.float64) + 0.3)


@pytest.mark.parametrize("batch, d", [(1, 1), (3, 4), (5, 10)], ids=str)
def test_full_covariance_kl_matches_torch_distributions(batch, d):
    g = torch.Generator().manual_seed(d)
    loc = torch.randn(batch, d, generator=g, dtype=torch.float64)
    tril = random_tril(batch, d, g)
    ours = vaelib.full_covariance_kl_to_standard(loc, tril)
    prior = MultivariateNormal(torch.zeros(d, dtype=torch.float64), torch.eye(d, dtype=torch.float64))
    reference = kl_divergence(MultivariateNormal(loc, scale_tril=tril), prior)
    torch.testing.assert_close(ours, reference)


def test_full_covariance_kl_reduces_to_the_diagonal_formula():
    loc, scale = torch.randn(4, 6), torch.rand(4, 6) + 0.2
    torch.testing.assert_close(
        vaelib.full_covariance_kl_to_standard(loc, torch.diag_embed(scale)), vaelib.gaussian_kl_to_standard(loc, scale)
    )


@pytest.mark.parametrize("stop_gradient", [False, True], ids=["plain", "stopped"])
def test_full_covariance_samples_have_the_multivariate_normal_density(stop_gradient):
    torch.manual_seed(0)
    encoder = vaelib.FullCovarianceEncoder(z_dim=5, hidden_dim=16)
    with torch.no_grad():
        encoder.off_diagonal.weight.normal_(0, 0.3)  # correlations, so the test sees the off-diagonal part
    x = torch.rand(3, 1, 28, 28)
    loc, tril = encoder(x)
    assert tril.shape == (3, 5, 5) and torch.equal(tril, tril.tril()) and (tril.diagonal(dim1=1, dim2=2) > 0).all()
    z, log_q = encoder.rsample((loc, tril), 7, stop_gradient=stop_gradient)
    reference = MultivariateNormal(loc, scale_tril=tril).log_prob(z)  # (7, 3)
    torch.testing.assert_close(log_q, reference, rtol=1e-4, atol=1e-4)


def test_a_fresh_full_covariance_encoder_is_a_diagonal_one():
    torch.manual_seed(1)
    encoder = vaelib.FullCovarianceEncoder(z_dim=4, hidden_dim=8)
    _, tril = encoder(torch.rand(2, 1, 28, 28))
    assert torch.equal(tril, torch.diag_embed(tril.diagonal(dim1=1, dim2=2)))


def log_abs_det_of_jacobian(function, point):
    """log |det J| of ``function`` at a single point (d,), from the autograd Jacobian."""
    jacobian = torch.autograd.functional.jacobian(function, point)  # (d, d)
    return torch.linalg.slogdet(jacobian).logabsdet


@pytest.mark.parametrize("flow", vaelib.FLOWS)
def test_each_flow_step_log_det_matches_the_autograd_jacobian(flow):
    torch.manual_seed(2)
    encoder = vaelib.FlowEncoder(z_dim=3, hidden_dim=8, flow=flow, n_flows=1, context_dim=2, flow_hidden=6)
    step = encoder.steps[0]
    context = torch.randn(1, 2)
    for _ in range(4):
        point = torch.randn(1, 3)
        transform = step.condition(context)
        y = transform(point)
        claimed = transform.log_abs_det_jacobian(point, y).reshape(())
        reference = log_abs_det_of_jacobian(lambda v: step.condition(context)(v.view(1, 3)).view(3), point.view(3))
        torch.testing.assert_close(claimed, reference, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("flow", vaelib.FLOWS)
def test_flow_log_density_is_the_change_of_variables_of_the_whole_map(flow):
    """log q(z_T) = log N(eps) - log|det d z_T / d eps|, with the Jacobian of the whole sampling map from autograd."""
    torch.manual_seed(3)
    encoder = vaelib.FlowEncoder(z_dim=3, hidden_dim=8, flow=flow, n_flows=3, context_dim=2, flow_hidden=6)
    x = torch.rand(1, 1, 28, 28)
    params = encoder(x)
    eps = torch.randn(4, 1, 3)
    z, log_q = encoder.rsample(params, 4, eps=eps)
    for i in range(4):

        def sample_map(e):
            return encoder.rsample(params, 1, eps=e.view(1, 1, 3))[0].view(3)

        log_base = torch.distributions.Normal(0.0, 1.0).log_prob(eps[i, 0]).sum()
        reference = log_base - log_abs_det_of_jacobian(sample_map, eps[i, 0])
        torch.testing.assert_close(log_q[i, 0], reference, rtol=1e-4, atol=1e-4)
        torch.testing.assert_close(z[i, 0], sample_map(eps[i, 0]))


def test_diagonal_encoders_go_through_the_same_interface():
    torch.manual_seed(4)
    encoder = vaelib.MLPEncoder(z_dim=3, hidden_dim=8)
    x = torch.rand(2, 1, 28, 28)
    loc, scale = encoder(x)
    params = vaelib.local_params(encoder, x)
    eps = torch.randn(5, 2, 3)
    z, log_q = vaelib.rsample_posterior(encoder, params, 5, eps=eps)
    torch.testing.assert_close(z, vaelib.reparameterize(loc.expand(5, -1, -1), scale.expand(5, -1, -1), eps=eps))
    torch.testing.assert_close(log_q, vaelib.diagonal_normal_log_prob(loc, scale, z))
    torch.testing.assert_close(vaelib.posterior_mean(encoder, x), loc)


def test_flow_posterior_mean_uses_common_noise_and_approaches_the_mean():
    torch.manual_seed(5)
    encoder = vaelib.FlowEncoder(z_dim=3, hidden_dim=8, n_flows=2)
    x = torch.rand(4, 1, 28, 28)
    mean = vaelib.posterior_mean(encoder, x, samples=4000, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        z, _ = encoder.rsample(encoder(x), 4000, generator=torch.Generator().manual_seed(1))
    torch.testing.assert_close(mean, z.mean(0), atol=0.1, rtol=0)
    same = vaelib.posterior_mean(encoder, x[:1].expand(3, -1, -1, -1), samples=16)
    torch.testing.assert_close(same, same[:1].expand(3, -1), rtol=0, atol=1e-6)  # one noise draw for every image


def test_bad_settings_and_inputs_say_what_is_wrong():
    with pytest.raises(ValueError, match=r"flow='realnvp' is not one of \('iaf', 'planar'\)"):
        vaelib.FlowEncoder(flow="realnvp")
    with pytest.raises(ValueError, match="at least one step"):
        vaelib.FlowEncoder(n_flows=0)
    encoder = vaelib.FlowEncoder(z_dim=3, hidden_dim=8)
    params = encoder(torch.rand(2, 1, 28, 28))
    with pytest.raises(ValueError, match=r"eps has shape \(5, 2\); this draw needs \(4, 2, 3\)"):
        encoder.rsample(params, 4, eps=torch.randn(5, 2))
    with pytest.raises(NotImplementedError, match="Gaussian encoders only"):
        encoder.rsample(params, 4, stop_gradient=True)
    with pytest.raises(ValueError, match=r"expects a tensor of shape \(B, 1, 28, 28\)"):
        vaelib.FullCovarianceEncoder(z_dim=3, hidden_dim=8)(torch.rand(2, 784))
    assert encoders.count_parameters(vaelib.FullCovarianceEncoder(3, 8)) > encoders.count_parameters(
        vaelib.MLPEncoder(3, 8)
    )


def test_full_covariance_off_diagonals_are_relative_to_each_units_scale():
    """L = diag(s)(I + c M): the diagonal is the scale head's s, and L_ij = s_i * c * head_ij below it."""
    torch.manual_seed(6)
    encoder = vaelib.FullCovarianceEncoder(z_dim=4, hidden_dim=8, off_diagonal_scale=0.1)
    with torch.no_grad():
        encoder.off_diagonal.weight.normal_(0, 0.5)
        encoder.off_diagonal.bias.normal_(0, 0.5)
    x = torch.rand(3, 1, 28, 28)
    _, tril = encoder(x)
    h = torch.nn.functional.softplus(encoder.hidden(x.flatten(1)))
    scale = torch.nn.functional.softplus(encoder.raw_scale(h)) + vaelib.models.MIN_SCALE
    torch.testing.assert_close(tril.diagonal(dim1=1, dim2=2), scale)
    rows, cols = torch.tril_indices(4, 4, offset=-1)
    torch.testing.assert_close(tril[:, rows, cols], scale[:, rows] * 0.1 * encoder.off_diagonal(h))
    assert torch.equal(tril, tril.tril())
    doubled = vaelib.FullCovarianceEncoder(z_dim=4, hidden_dim=8, off_diagonal_scale=0.2)
    doubled.load_state_dict(encoder.state_dict())
    torch.testing.assert_close(doubled(x)[1][:, rows, cols], 2 * tril[:, rows, cols])
    with pytest.raises(ValueError, match="off_diagonal_scale must be positive"):
        vaelib.FullCovarianceEncoder(z_dim=4, hidden_dim=8, off_diagonal_scale=0.0)


def test_closed_form_kl_of_every_gaussian_encoder():
    torch.manual_seed(7)
    x = torch.rand(3, 1, 28, 28)
    diagonal = vaelib.MLPEncoder(z_dim=4, hidden_dim=8)
    loc, scale = diagonal(x)
    torch.testing.assert_close(
        vaelib.closed_form_kl(diagonal, vaelib.local_params(diagonal, x)), vaelib.gaussian_kl_to_standard(loc, scale)
    )
    full = vaelib.FullCovarianceEncoder(z_dim=4, hidden_dim=8)
    with torch.no_grad():
        full.off_diagonal.weight.normal_(0, 1.0)
    params = full(x)
    prior = MultivariateNormal(torch.zeros(4), torch.eye(4))
    reference = kl_divergence(MultivariateNormal(params[0], scale_tril=params[1]), prior)
    torch.testing.assert_close(vaelib.closed_form_kl(full, params), reference, rtol=1e-4, atol=1e-5)
    flow = vaelib.FlowEncoder(z_dim=4, hidden_dim=8)
    with pytest.raises(ValueError, match="no closed-form KL"):
        vaelib.closed_form_kl(flow, flow(x))
