"""vaelib.discrete (groundwork for chapter 10): categorical latents and their gradient estimators against the
exact gradient, the VQ-VAE and its codebook diagnostics, the PixelCNN prior over codes and the point-mass bound.

Every model here is tiny (a few latents of a few classes; a handful of codes); every check is against brute
force or a closed form, with seeded noise and tolerances of several standard errors.
"""

import itertools
import math

import pytest
import torch
import torch.nn.functional as F
from torch.distributions import Categorical, kl_divergence

import vaelib
from vaelib import discrete
from vaelib.discrete import (
    VQVAE,
    CategoricalVAE,
    CodebookMonitor,
    PixelCNNPrior,
    VectorQuantizer,
)


@pytest.fixture(scope="module")
def binary_digits():
    """(train, test) of the stand-in digits, binarized once with a fixed seed."""
    g = torch.Generator().manual_seed(0)
    train = vaelib.load_standin_digits(train=True, device="cpu").binarized(g)
    test = vaelib.load_standin_digits(train=False, device="cpu").binarized(g)
    return train, test


@pytest.fixture(scope="module")
def tiny():
    """A 2 x 3 categorical VAE (9 joint codes) and 6 binary images."""
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(1)
    images = vaelib.load_standin_digits(train=True, device="cpu").images[:6]
    return CategoricalVAE(2, 3, 32), torch.bernoulli(images, generator=g)


# ---------------------------------------------------------------- categorical latents


def test_gumbel_softmax_is_a_relaxed_one_hot_and_its_hard_version_a_straight_through_sample():
    g = torch.Generator().manual_seed(0)
    logits = torch.randn(5, 4, 3, generator=g).requires_grad_()  # seeded: tau = 1e-3 needs no near-tie
    noise = discrete.gumbel_noise(logits.shape, logits, g)
    soft = discrete.gumbel_softmax(logits, 0.5, noise=noise)
    assert torch.allclose(soft.sum(-1), torch.ones(5, 4)) and (soft > 0).all()
    hard = discrete.gumbel_softmax(logits, 0.5, hard=True, noise=noise)
    assert torch.equal(hard.detach(), F.one_hot((logits + noise).argmax(-1), 3).float())
    weights = torch.randn(5, 4, 3)
    (g_hard,) = torch.autograd.grad((hard * weights).sum(), logits)
    (g_soft,) = torch.autograd.grad((soft * weights).sum(), logits)
    assert torch.allclose(g_hard, g_soft)  # straight through: the relaxed sample's gradient
    cold = discrete.gumbel_softmax(logits, 1e-3, noise=noise)
    assert torch.allclose(cold, hard.detach(), atol=1e-4)  # tau -> 0: the argmax


def test_gumbel_max_samples_follow_the_categorical_distribution():
    logits = torch.tensor([[[0.0, 1.0, -1.0, 2.0]]])
    codes = discrete.sample_codes(logits, 20_000, torch.Generator().manual_seed(0))
    freq = codes.mean(0).squeeze()
    p = logits.softmax(-1).squeeze()
    se = (p * (1 - p) / 20_000).sqrt()
    assert ((freq - p).abs() / se).max() < 4.5


def test_categorical_kl_to_uniform_matches_torch_distributions():
    logits = torch.randn(7, 5, 4)
    expected = kl_divergence(Categorical(logits=logits), Categorical(logits=torch.zeros(4))).sum(-1)
    assert torch.allclose(discrete.categorical_kl_to_uniform(logits), expected, atol=1e-5)


def test_the_concrete_kl_is_zero_when_q_is_the_prior_and_positive_on_average_otherwise():
    g = torch.Generator().manual_seed(0)
    uniform = torch.zeros(3, 2, 4)
    noise = discrete.gumbel_noise((50, *uniform.shape), uniform, g)
    assert discrete.concrete_kl_sample(uniform, noise, 0.7, 0.7).abs().max() < 1e-4
    peaked = torch.tensor([4.0, 0.0, 0.0, 0.0]).expand(3, 2, 4)
    noise = discrete.gumbel_noise((4000, *peaked.shape), peaked, g)
    kl = discrete.concrete_kl_sample(peaked, noise, 0.7, 0.7)  # (4000, 3)
    assert kl.mean() > 5 * kl.std() / math.sqrt(kl.numel())


def brute_force_elbo(model, x):
    """sum_b [sum_z q(z|x_b) log p(x_b|z) - KL], one joint code at a time (no vectorised shortcut)."""
    logits = model.encoder(x)
    total = -discrete.categorical_kl_to_uniform(logits).sum()
    for index in itertools.product(range(model.n_classes), repeat=model.n_latents):
        code = F.one_hot(torch.tensor(index), model.n_classes).float()  # (L, K)
        log_q = (code * logits.log_softmax(-1)).sum((-2, -1))  # (B,)
        log_px = vaelib.bernoulli_log_likelihood(model.decoder(code.expand(len(x), -1, -1)), x)
        total = total + (log_q.exp() * log_px).sum()
    return total


def test_exact_enumeration_equals_brute_force_and_its_gradient_is_autograd_of_the_exact_sum(tiny):
    model, x = tiny
    assert torch.allclose(discrete.exact_elbo(model, x).sum(), brute_force_elbo(model, x).detach(), rtol=1e-5)
    logits = model.encoder(x).detach().requires_grad_()
    terms = discrete.surrogate_terms(model.decoder, logits, x, "exact")
    (auto,) = torch.autograd.grad(terms.elbo.sum(), logits)
    assert torch.allclose(discrete.exact_elbo_gradient(model, x), auto.flatten())
    # The score-function identity, summed over every code one at a time, gives the same gradient.
    brute = discrete.score_function_expectation(model, x)
    assert torch.allclose(brute, auto.flatten(), atol=1e-4 * auto.abs().max().item())


def test_exact_enumeration_agrees_with_pyros_trace_enum_elbo(tiny):
    """Chapter 8 enumerates its label with Pyro's TraceEnum_ELBO; the same sum, done by Pyro, on 2 x 3 latents."""
    import pyro
    import pyro.distributions as dist
    from pyro.infer import TraceEnum_ELBO, config_enumerate

    model, x = tiny
    with torch.no_grad():
        logits = model.encoder(x)  # (B, L, K)
    n_latents, n_classes = model.n_latents, model.n_classes

    def generative(x):
        with pyro.plate("images", len(x)):
            codes = [
                pyro.sample(f"z{i}", dist.Categorical(logits=torch.zeros(len(x), n_classes))) for i in range(n_latents)
            ]
            one_hot = torch.stack(torch.broadcast_tensors(*[F.one_hot(c, n_classes).float() for c in codes]), -2)
            pixel_logits = model.decoder(one_hot.reshape(-1, n_latents, n_classes)).view(*one_hot.shape[:-2], 784)
            pyro.sample("x", dist.Bernoulli(logits=pixel_logits).to_event(1), obs=x.flatten(1))

    @config_enumerate
    def guide(x):
        with pyro.plate("images", len(x)):
            for i in range(n_latents):
                pyro.sample(f"z{i}", dist.Categorical(logits=logits[:, i]))

    with torch.no_grad():
        pyro_elbo = -TraceEnum_ELBO(max_plate_nesting=1).loss(generative, guide, x)
        ours = discrete.exact_elbo(model, x).sum().item()
    assert pyro_elbo == pytest.approx(ours, rel=1e-5)


def test_exact_log_likelihood_bounds_and_importance_sampling(tiny):
    model, x = tiny
    with torch.no_grad():
        log_px = discrete.exact_log_likelihood(model, x)
        codes = discrete.all_codes(2, 3)
        brute = torch.stack(
            [vaelib.bernoulli_log_likelihood(model.decoder(c.expand(len(x), -1, -1)), x) for c in codes]
        )
        assert torch.allclose(log_px, torch.logsumexp(brute, 0) - 2 * math.log(3), rtol=1e-6)
        elbo = discrete.exact_elbo(model, x)
        l_k = discrete.categorical_iwae_bound(model, x, 5000, generator=torch.Generator().manual_seed(0))
    assert (elbo <= log_px + 1e-3).all()
    assert (elbo < l_k).all() and (l_k - log_px).abs().max() < 0.05  # L_5000 of 9 codes is nearly exact


def test_the_score_function_estimator_is_unbiased_and_the_baseline_cuts_its_variance(tiny):
    model, x = tiny
    g = torch.Generator().manual_seed(2)
    stats = discrete.compare_estimators(
        model,
        x,
        {
            "plain": dict(estimator="score", n_samples=2, baseline="none"),
            "loo": dict(estimator="score", n_samples=2, baseline="loo"),
        },
        2000,
        generator=g,
    )
    for s in stats.values():  # 36 coordinates: |z| < 4.5 each when unbiased (fails with prob. ~2e-4)
        assert s.max_abs_z < 4.5, s
        assert abs(s.bias_squared) < 4 * s.bias_squared_se + 1e-12, s
    assert stats["loo"].variance < stats["plain"].variance / 100  # the signal is ~-500 nats, its spread a few


def test_the_relaxation_is_biased_and_its_bias_shrinks_as_the_temperature_falls(tiny):
    model, x = tiny
    g = torch.Generator().manual_seed(3)
    settings = {
        "hot": dict(estimator="gumbel_softmax", temperature=10.0),
        "cold": dict(estimator="gumbel_softmax", temperature=0.3),
        "st": dict(estimator="straight_through", temperature=1.0),
        "exact": dict(estimator="exact"),
    }
    stats = discrete.compare_estimators(model, x, settings, 2000, generator=g)
    hot, cold = stats["hot"], stats["cold"]
    assert hot.max_abs_z > 10 and hot.bias_squared > 10 * hot.bias_squared_se  # clearly biased when hot
    assert stats["st"].max_abs_z > 10  # straight-through is biased too
    assert cold.bias_squared + 3 * cold.bias_squared_se < hot.bias_squared / 4  # less bias when colder ...
    assert cold.variance > 10 * hot.variance  # ... for more variance
    assert stats["exact"].variance == 0 and stats["exact"].bias_norm < 1e-5


def test_gradient_draws_in_chunks_have_the_shape_and_the_mean_of_one_batch(tiny):
    model, x = tiny
    whole = discrete.gradient_draws(
        model, x, "gumbel_softmax", 30, generator=torch.Generator().manual_seed(0), chunk=30
    )
    parts = discrete.gradient_draws(model, x, "gumbel_softmax", 30, generator=torch.Generator().manual_seed(0), chunk=7)
    assert whole.shape == parts.shape == (30, 6 * 2 * 3)
    assert not torch.allclose(whole[0], whole[1])  # independent draws differ
    # The noise is drawn per chunk, so the draws differ in order but not in distribution: compare their means.
    assert torch.allclose(whole.mean(0), parts.mean(0), atol=6 * (whole.std(0).max() / 30**0.5).item())


def test_gradient_stats_sees_a_known_bias_and_variance():
    g = torch.Generator().manual_seed(0)
    exact = torch.zeros(50)
    draws = torch.randn(20_000, 50, generator=g) * 2 + 0.1  # bias 0.1 per coordinate, variance 4 per coordinate
    s = discrete.gradient_stats(draws, exact)
    assert abs(s.bias_squared - 50 * 0.01) < 4 * s.bias_squared_se
    assert abs(s.variance - 200) < 10 and abs(s.mse - 200.5) < 10


def test_fit_trains_a_categorical_vae_with_every_estimator(binary_digits):
    train, test = binary_digits
    train, test = train.subset(256), test.subset(128)
    for options in (
        dict(estimator="score", n_samples=2, baseline="loo"),
        dict(estimator="score", baseline="mean"),
        dict(estimator="gumbel_softmax", temperature=0.5, kl="concrete"),
        dict(estimator="straight_through"),
    ):
        torch.manual_seed(0)
        model = CategoricalVAE(4, 5, 64)
        objective = discrete.categorical_objective(**options)
        history = vaelib.fit(model, train, test, objective=objective, epochs=2, batch_size=64, progress=False)
        assert len(history.test_elbo) == 2 and all(math.isfinite(v) for v in history.train_elbo), options
    torch.manual_seed(0)
    model = CategoricalVAE(2, 4, 64)
    before = discrete.exact_elbo(model, test.images).mean()
    vaelib.fit(model, train, objective=discrete.categorical_objective("exact"), epochs=3, batch_size=64, progress=False)
    assert discrete.exact_elbo(model, test.images).mean() > before + 10  # exact gradients climb the exact ELBO


def test_the_objective_scores_the_discrete_elbo_in_eval_mode_and_the_moving_mean_uses_only_the_past(tiny):
    model, x = tiny
    objective = discrete.categorical_objective("gumbel_softmax", temperature=5.0)
    model.eval()
    torch.manual_seed(0)
    terms = objective(model, x)
    torch.manual_seed(0)
    expected = discrete.categorical_elbo(model, x)
    model.train()
    assert torch.equal(terms.reconstruction, expected.reconstruction)  # hard codes, not the relaxed ones
    mean_objective = discrete.categorical_objective("score", baseline="mean", decay=0.5)
    moving = mean_objective.moving_mean
    assert moving.value is None
    signal = torch.tensor([[-10.0, -20.0]])
    assert moving(signal) == 0 and moving.value == -15.0  # the first step has no past: b = 0
    assert moving(torch.tensor([[-5.0]])) == -15.0 and moving.value == -10.0


def test_bad_input_to_the_categorical_api_gets_clear_errors(tiny):
    model, x = tiny
    logits = torch.randn(2, 3, 4)
    for tau in (0, -1.0, float("nan")):
        with pytest.raises(ValueError, match="temperature"):
            discrete.gumbel_softmax(logits, tau)
    with pytest.raises(ValueError, match="temperature"):
        discrete.categorical_objective("gumbel_softmax", temperature=0.0)
    with pytest.raises(ValueError, match="prior_temperature"):
        discrete.surrogate_terms(
            model.decoder, model.encoder(x), x, "gumbel_softmax", kl="concrete", prior_temperature=0
        )
    with pytest.raises(ValueError, match="K >= 2"):
        discrete.gumbel_softmax(torch.randn(2, 3, 1), 1.0)
    with pytest.raises(ValueError, match=r"shape \(\.\.\., L, K\)"):
        discrete.categorical_kl_to_uniform(torch.randn(4))
    with pytest.raises(ValueError, match="n_classes must be at least 2"):
        CategoricalVAE(3, 1)
    with pytest.raises(ValueError, match="n_samples >= 2"):
        discrete.categorical_objective("score", n_samples=1, baseline="loo")
    with pytest.raises(ValueError, match="estimator must be one of"):
        discrete.categorical_objective("reinforce")
    with pytest.raises(ValueError, match="goes with estimator='gumbel_softmax'"):
        discrete.categorical_objective("straight_through", kl="concrete")
    with pytest.raises(ValueError, match="10\\^20"):
        discrete.exact_elbo_gradient(CategoricalVAE(20, 10, 16), x)
    with pytest.raises(ValueError, match=r"shape \(B, 2, 3\)"):
        model.decoder(torch.zeros(4, 3, 2))
    with pytest.raises(ValueError, match="same shape"):
        discrete.gumbel_softmax(logits, 1.0, noise=torch.zeros(2, 3))
    with pytest.raises(ValueError, match="draws must be"):
        discrete.gradient_stats(torch.zeros(5, 3), torch.zeros(4))


# ---------------------------------------------------------------- VQ-VAE


def test_the_quantizer_picks_the_nearest_code_and_passes_the_gradient_straight_through():
    torch.manual_seed(0)
    vq = VectorQuantizer(5, 3)
    vq.codebook.data = torch.randn(5, 3)
    z_e = torch.randn(2, 3, 4, 4, requires_grad=True)
    q = vq(z_e)
    flat = z_e.detach().permute(0, 2, 3, 1).reshape(-1, 3)
    brute = torch.cdist(flat, vq.codebook.detach()).argmin(1)
    assert torch.equal(q.codes.flatten(), brute)
    assert torch.allclose(q.straight_through, vq.lookup(q.codes))
    w = torch.randn_like(z_e)
    (grad,) = torch.autograd.grad((q.straight_through * w).sum(), z_e)
    assert torch.equal(grad, w)  # straight through: d z_q / d z_e = identity
    (g_commit,) = torch.autograd.grad(q.commitment_loss.sum(), z_e, retain_graph=True)
    assert torch.allclose(g_commit, 2 * (z_e - q.straight_through).detach())
    (g_book,) = torch.autograd.grad(q.codebook_loss.sum(), vq.codebook)
    assert g_book.abs().sum() > 0  # the codebook loss trains the codes ...
    with pytest.raises(RuntimeError):
        torch.autograd.grad(q.codebook_loss.sum(), z_e)  # ... and never the encoder


def test_the_ema_codebook_moves_to_the_mean_of_its_vectors_in_training_mode_only():
    torch.manual_seed(0)
    vq = VectorQuantizer(4, 2, ema=True, decay=0.0)
    z_e = torch.randn(3, 2, 5, 5)
    vq.eval()
    before = vq.codebook.clone()
    vq(z_e)
    assert torch.equal(vq.codebook, before)
    vq.train()
    q = vq(z_e)
    flat = z_e.permute(0, 2, 3, 1).reshape(-1, 2)
    for k in q.codes.unique():
        assert torch.allclose(vq.codebook[k], flat[q.codes.flatten() == k].mean(0), atol=1e-4)
    assert q.codebook_loss.abs().sum() == 0


def test_usage_perplexity_and_dead_codes():
    assert discrete.perplexity(torch.tensor([5, 5, 5, 5])) == pytest.approx(4.0)
    assert discrete.perplexity(torch.tensor([0, 9, 0])) == pytest.approx(1.0)
    assert torch.equal(discrete.dead_codes(torch.tensor([0, 3, 0, 1])), torch.tensor([0, 2]))
    assert torch.equal(discrete.dead_codes(torch.tensor([0, 3, 0, 1]), threshold=1), torch.tensor([0, 2, 3]))
    with pytest.raises(ValueError, match="sum to zero"):
        discrete.perplexity(torch.zeros(3))


def test_fit_trains_a_vq_vae_and_records_the_uniform_prior_bound(binary_digits):
    train, test = binary_digits
    train, test = train.subset(256), test.subset(100)
    for ema, revive in ((False, True), (True, False)):
        torch.manual_seed(0)
        model = VQVAE(16, 4, (8, 16), ema=ema)
        monitor = CodebookMonitor(model, test, revive=revive, generator=torch.Generator().manual_seed(0))
        history = vaelib.fit(
            model,
            train,
            test,
            objective=discrete.vq_objective,
            epochs=3,
            batch_size=32,
            progress=False,
            on_epoch=monitor,
        )
        assert history.test_elbo[-1] > history.test_elbo[0], ema
        assert len(monitor.perplexity) == 3 and all(1 <= p <= 16 for p in monitor.perplexity)
        if revive:
            assert monitor.revived == monitor.dead and sum(monitor.dead) > 0
        else:  # the model has not changed since the last test score, which is the uniform-prior bound
            assert monitor.revived == [0, 0, 0]
            bound = discrete.point_mass_bound(model, None, test)["bound"]
            assert history.test_elbo[-1] == pytest.approx(bound, rel=1e-5)


def test_revived_codes_sit_on_encoder_outputs_and_come_back_to_life(binary_digits):
    torch.manual_seed(0)
    model = VQVAE(32, 4, (8, 16))
    x = binary_digits[1].images[:64]
    data = vaelib.ImageData(x, torch.zeros(64, dtype=torch.int64), "test")
    dead = discrete.dead_codes(discrete.code_usage(model, data))
    assert len(dead) > 16  # a fresh codebook of small codes: most are never chosen
    assert discrete.revive_dead_codes(model, x, dead, generator=torch.Generator().manual_seed(0)) == len(dead)
    with torch.no_grad():
        z = model.encoder(x).permute(0, 2, 3, 1).reshape(-1, 4)
    revived = model.quantizer.codebook.detach()[dead]
    distance_to_outputs = (revived[:, None] - z[None]).abs().amax(-1).min(1).values  # (n_dead,)
    assert distance_to_outputs.max() == 0  # each revived code is a copy of an encoder output
    assert len(discrete.dead_codes(discrete.code_usage(model, data))) < len(dead) / 2


def test_bad_input_to_the_vq_api_gets_clear_errors():
    model = VQVAE(8, 4, (8, 8))
    with pytest.raises(ValueError, match="n_codes must be at least 2"):
        VQVAE(1)
    with pytest.raises(ValueError, match="code_dim must be at least 1"):
        VQVAE(8, 0)
    with pytest.raises(ValueError, match=r"0 to 7, but hold values in \[8, 8\]"):
        model.decode_codes(torch.full((2, 7, 7), 8))
    negative = torch.zeros(1, 7, 7, dtype=torch.int64)
    negative[0, 3, 3] = -1
    with pytest.raises(ValueError, match=r"\[-1, 0\]"):
        model.decode_codes(negative)
    with pytest.raises(TypeError, match="integer code indices"):
        model.decode_codes(torch.zeros(2, 7, 7))
    with pytest.raises(ValueError, match=r"unsqueeze\(0\)"):
        model.decode_codes(torch.zeros(7, 7, dtype=torch.int64))
    with pytest.raises(ValueError, match=r"\(B, 4, H, W\)"):
        model.quantizer(torch.zeros(2, 3, 7, 7))
    with pytest.raises(ValueError, match="inside|0 to 7"):
        discrete.revive_dead_codes(model, torch.zeros(2, 1, 28, 28), torch.tensor([9]))


# ---------------------------------------------------------------- the prior over codes and the bound


def test_the_pixelcnn_sees_only_earlier_positions():
    torch.manual_seed(0)
    prior = PixelCNNPrior(5, channels=8, n_layers=2)
    codes = torch.randint(5, (1, 7, 7))
    base = prior(codes)
    for i, j in ((0, 0), (3, 2), (6, 6)):
        changed = codes.clone()
        changed[0, i, j] = (changed[0, i, j] + 1) % 5
        moved = (prior(changed) - base).abs().sum(1)[0].flatten() > 0  # (49,) positions whose logits moved
        position = 7 * i + j
        assert not moved[: position + 1].any()  # never at or before the changed position
        if position < 40:
            assert moved[position + 1 :].any()  # and it does reach later ones


def test_the_prior_is_normalised_and_samples_from_its_own_distribution():
    torch.manual_seed(0)
    prior = PixelCNNPrior(2, grid=2, channels=8, n_layers=1)
    with torch.no_grad():
        prior.out.weight.mul_(20)  # a peaked, non-uniform distribution over the 16 grids
        grids = torch.tensor(list(itertools.product(range(2), repeat=4))).view(16, 2, 2)
        p = prior.log_prob(grids).exp()
    assert p.sum() == pytest.approx(1.0, abs=1e-5)
    samples = prior.sample(8000, generator=torch.Generator().manual_seed(0))
    index = (samples.flatten(1) * torch.tensor([8, 4, 2, 1])).sum(1)
    freq = torch.bincount(index, minlength=16) / 8000
    assert ((freq - p).abs() / (p * (1 - p) / 8000).sqrt().clamp_min(1e-3)).max() < 4.5


def test_fit_code_prior_beats_the_uniform_prior_on_held_out_structured_grids():
    g = torch.Generator().manual_seed(0)
    rows = torch.randint(8, (600, 7, 1), generator=g)
    codes = rows.expand(600, 7, 7).contiguous()  # each row repeats one code: 7 free choices, not 49
    prior = PixelCNNPrior(8, channels=16, n_layers=2)
    with torch.no_grad():
        prior.out.weight.zero_()
        prior.out.bias.zero_()
    uniform = discrete.uniform_code_log_prob(8)
    assert discrete.mean_code_log_prob(prior, codes[500:]) == pytest.approx(uniform, rel=1e-6)
    history = discrete.fit_code_prior(prior, codes[:500], codes[500:], epochs=8, batch_size=50, lr=3e-3, progress=False)
    assert history.test_elbo[-1] > uniform / 2  # far better than 49 log 8 = 101.9 nats per grid


def test_the_point_mass_bound_is_its_two_terms_and_refuses_grey_pixels(binary_digits):
    torch.manual_seed(0)
    test = binary_digits[1].subset(50)
    model = VQVAE(8, 4, (8, 8))
    prior = PixelCNNPrior(8, channels=8, n_layers=1)
    result = discrete.point_mass_bound(model, prior, test)
    with torch.no_grad():
        codes = model.encode_codes(test.images)
        log_prior = prior.log_prob(codes).mean().item()
        reconstruction = vaelib.bernoulli_log_likelihood(model.decode_codes(codes), test.images).mean().item()
    assert result["log_prior"] == pytest.approx(log_prior, rel=1e-5)
    assert result["reconstruction"] == pytest.approx(reconstruction, rel=1e-5)
    assert result["bits_per_dim"] == pytest.approx(-(log_prior + reconstruction) / (784 * math.log(2)), rel=1e-5)
    uniform = discrete.point_mass_bound(model, None, test)
    assert uniform["log_prior"] == pytest.approx(-49 * math.log(8))
    grey = vaelib.load_standin_digits(train=False, device="cpu").subset(10)
    with pytest.raises(ValueError, match="grey pixels"):
        discrete.point_mass_bound(model, prior, grey)
    with pytest.raises(ValueError, match="codebook has 8"):
        discrete.point_mass_bound(model, PixelCNNPrior(9, channels=4, n_layers=0), test)


def test_bad_input_to_the_prior_and_the_measurements_gets_clear_errors(binary_digits):
    prior = PixelCNNPrior(8, channels=8, n_layers=1)
    with pytest.raises(ValueError, match=r"0 to 7, but hold values in \[0, 9\]"):
        prior.log_prob(torch.tensor([[[9] * 7] * 7, [[0] * 7] * 7]))
    with pytest.raises(ValueError, match=r"shape \(B, 7, 7\)"):
        discrete.fit_code_prior(prior, torch.zeros(4, 5, 5, dtype=torch.int64))
    with pytest.raises(TypeError, match="integer code indices"):
        discrete.mean_code_log_prob(prior, torch.zeros(4, 7, 7))
    with pytest.raises(ValueError, match="the prior models 8 codes but the VQ-VAE's codebook has 16"):
        discrete.point_mass_bound(VQVAE(16, 4, (8, 8)), prior, binary_digits[1])
    with pytest.raises(ValueError, match="n_codes"):
        discrete.uniform_code_log_prob(1)
    with pytest.raises(ValueError, match="counts sum to zero"):
        discrete.perplexity(torch.zeros(8, dtype=torch.int64))
    model = CategoricalVAE(2, 3, 8)
    x = binary_digits[1].images[:2]
    with pytest.raises(ValueError, match="temperature"):
        discrete.gradient_draws(model, x, "gumbel_softmax", 10, temperature=0.0)
    with pytest.raises(ValueError, match="temperature"):
        discrete.compare_estimators(model, x, {"cold": dict(estimator="straight_through", temperature=-1.0)}, 10)
    with pytest.raises(TypeError, match="non-empty dict"):
        discrete.compare_estimators(model, x, {}, 10)
    with pytest.raises(TypeError, match="CodebookMonitor|ImageData"):
        CodebookMonitor(VQVAE(8, 4, (8, 8)), x)


def test_revival_prefers_the_outputs_farthest_from_the_live_codes():
    """Revived codes land where the codebook fits the encoder worst: never on outputs a live code already sits on."""
    torch.manual_seed(0)
    model = VQVAE(8, 2, (4, 4))
    x = torch.zeros(4, 1, 28, 28)
    x[:2, :, 10:18, 10:18] = 1  # two images with a square, two blank: most positions are alike
    with torch.no_grad():
        flat = model.encoder(x).permute(0, 2, 3, 1).reshape(-1, 2)
        model.quantizer.codebook.data[0] = flat[0]  # a live code on the (most common) blank output
    dead = torch.arange(1, 8)
    discrete.revive_dead_codes(model, x, dead, generator=torch.Generator().manual_seed(1))
    revived = model.quantizer.codebook.detach()[dead]
    assert (revived - flat[0]).norm(dim=1).min() > 0  # no revived code on top of the live one
    on_outputs = (revived[:, None] - flat[None]).norm(dim=-1).min(1).values  # exact (cdist's matmul path errs by 1e-4)
    assert on_outputs.max() < 1e-6  # each sits on an encoder output
