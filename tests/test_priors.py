"""Learned priors, the ELBO and L_K under any prior, and the objective-agnostic training loop (vaelib.priors)."""

import math

import pytest
import torch

import vaelib
from vaelib.data import ImageData


def test_pairwise_and_mixture_densities_match_torch_distributions():
    g = torch.Generator().manual_seed(0)
    z, loc, scale = torch.randn(7, 3, generator=g), torch.randn(5, 3, generator=g), 0.5 + torch.rand(5, 3, generator=g)
    reference = torch.distributions.Normal(loc, scale).log_prob(z.unsqueeze(1)).sum(-1)  # (7, 5)
    torch.testing.assert_close(vaelib.pairwise_normal_log_prob(loc, scale, z), reference, rtol=1e-5, atol=1e-5)
    logits = torch.randn(5, generator=g)
    mixture = torch.distributions.MixtureSameFamily(
        torch.distributions.Categorical(logits=logits),
        torch.distributions.Independent(torch.distributions.Normal(loc, scale), 1),
    )
    batch = torch.randn(4, 7, 3, generator=g)  # leading dimensions are kept
    got = vaelib.mixture_log_prob(loc, scale, torch.log_softmax(logits, -1), batch)
    torch.testing.assert_close(got, mixture.log_prob(batch), rtol=1e-5, atol=1e-5)


def test_standard_normal_prior_gives_vaelib_elbo_in_expectation():
    torch.manual_seed(0)
    model = vaelib.VAE.mlp(z_dim=4, hidden_dim=16)
    x = torch.rand(8, 1, 28, 28)
    eps = torch.randn(8, 4)
    ours = vaelib.elbo(model.encoder, model.decoder, x, prior=vaelib.StandardNormalPrior(4), eps=eps)
    reference = vaelib.elbo(model.encoder, model.decoder, x, eps=eps, analytic_kl=False)
    torch.testing.assert_close(ours.elbo, reference.elbo)
    log_w = vaelib.log_importance_weights(
        model.encoder,
        model.decoder,
        x,
        50,
        prior=vaelib.StandardNormalPrior(4),
        generator=torch.Generator().manual_seed(1),
    )
    reference_w = vaelib.log_importance_weights(
        model.encoder, model.decoder, x, 50, generator=torch.Generator().manual_seed(1)
    )
    torch.testing.assert_close(log_w, reference_w, rtol=1e-5, atol=1e-4)


def test_vampprior_is_the_mean_of_the_encoder_posteriors_of_its_pseudo_inputs():
    torch.manual_seed(0)
    model = vaelib.VAE.mlp(z_dim=3, hidden_dim=16)
    init = torch.rand(6, 1, 28, 28)
    prior = vaelib.VampPrior(model.encoder, 6, init=init)
    z = torch.randn(10, 3)
    loc, scale = model.encoder(prior.pseudo_inputs)
    expected = torch.logsumexp(torch.distributions.Normal(loc, scale).log_prob(z.unsqueeze(1)).sum(-1), 1) - math.log(6)
    torch.testing.assert_close(prior.log_prob(z), expected, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(prior.pseudo_inputs, init.clamp(0.02, 0.98), rtol=1e-5, atol=1e-6)
    assert prior.sample(5, generator=torch.Generator().manual_seed(0)).shape == (5, 3)
    with pytest.raises(ValueError, match=r"init must have shape \(4, 1, 28, 28\)"):
        vaelib.VampPrior(model.encoder, 4, init=init)


def test_mixture_prior_samples_follow_its_density():
    prior = vaelib.MixturePrior(1, 2, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        prior.loc.copy_(torch.tensor([[-3.0], [3.0]]))
        prior.log_scale.fill_(math.log(0.5))
        prior.logits.copy_(torch.tensor([0.0, math.log(3.0)]))  # weights 1/4 and 3/4
    draws = prior.sample(20_000, generator=torch.Generator().manual_seed(1))
    assert (draws > 0).float().mean().item() == pytest.approx(0.75, abs=0.01)
    grid = torch.linspace(-8, 8, 4001).unsqueeze(1)
    assert torch.trapezoid(prior.log_prob(grid).exp(), grid[:, 0]).item() == pytest.approx(1.0, abs=1e-4)


def test_fit_with_an_objective_trains_prior_and_model_together():
    torch.manual_seed(0)
    images = (torch.rand(64, 1, 28, 28) > 0.7).float()
    data = ImageData(images, torch.zeros(64, dtype=torch.long), "test")
    model = vaelib.VAE.mlp(z_dim=2, hidden_dim=32)
    prior = vaelib.VampPrior(model.encoder, 4, init=images[:4])
    before = prior.pseudo_logits.detach().clone()
    history = vaelib.fit(
        model,
        data,
        data,
        objective=lambda m, x: vaelib.elbo(m.encoder, m.decoder, x, prior=prior),
        parameters=[*model.parameters(), *prior.parameters()],  # the shared encoder appears twice: deduplicated
        epochs=3,
        batch_size=16,
        lr=3e-3,
        progress=False,
    )
    assert len(history.train_elbo) == len(history.test_elbo) == 3
    assert history.train_elbo[-1] > history.train_elbo[0]
    assert not torch.equal(before, prior.pseudo_logits), "the pseudo-inputs are learned"
    ll = vaelib.estimate_log_likelihood(model, data, k=20, prior=prior)
    assert ll >= history.test_elbo[-1] - 2.0 and ll < 0


def test_fit_with_an_objective_stops_before_a_nan_step_and_keeps_the_weights():
    torch.manual_seed(0)
    data = ImageData(torch.rand(16, 1, 28, 28), torch.zeros(16, dtype=torch.long), "test")
    model = vaelib.VAE.mlp(z_dim=2, hidden_dim=8)
    before = [p.detach().clone() for p in model.parameters()]

    def broken(m, x):
        terms = vaelib.elbo(m.encoder, m.decoder, x)
        return vaelib.ELBOTerms(terms.reconstruction, terms.kl, terms.elbo * float("nan"))

    with pytest.raises(vaelib.NonFiniteLossError, match=r"epoch 1, step 0: the loss is nan .*no update was applied"):
        vaelib.fit(model, data, objective=broken, epochs=1, batch_size=8, progress=False)
    assert all(torch.equal(a, b) for a, b in zip(before, model.parameters(), strict=True))
    assert all(p.grad is None for p in model.parameters()), "the bad gradients are dropped"


def test_fit_with_an_objective_checks_the_gradients_not_only_the_loss():
    torch.manual_seed(0)
    data = ImageData(torch.rand(16, 1, 28, 28), torch.zeros(16, dtype=torch.long), "test")
    model = vaelib.VAE.mlp(z_dim=2, hidden_dim=8)
    model.decoder.logits.bias.register_hook(lambda grad: grad * math.nan)  # a finite loss, a NaN gradient
    before = [p.detach().clone() for p in model.parameters()]

    def objective(m, x):
        return vaelib.elbo(m.encoder, m.decoder, x)

    with pytest.raises(vaelib.NonFiniteLossError, match=r"step 0: the loss is \d.*norm nan; no update was applied"):
        vaelib.fit(model, data, objective=objective, epochs=1, batch_size=8, progress=False)
    assert all(torch.equal(a, b) for a, b in zip(before, model.parameters(), strict=True))
    assert all(p.grad is None for p in model.parameters()), "the bad gradients are dropped"
