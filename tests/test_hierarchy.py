"""Chapter 11's groundwork: the two-layer (ladder) VAE, diffusion read as a VAE, latent diffusion."""

import math

import pytest
import torch

import vaelib
from vaelib import hierarchy
from vaelib.gaussians import diagonal_gaussian_kl


def tiny_images(n=48, seed=0):
    """Binary 28x28 images from a few random strokes, held as ImageData (the loops need that layout)."""
    g = torch.Generator().manual_seed(seed)
    base = (torch.rand(4, 1, 28, 28, generator=g) < 0.3).float()
    images = base[torch.arange(n) % 4].clone()
    flip = torch.rand(images.shape, generator=g) < 0.05
    images[flip] = 1 - images[flip]
    return vaelib.ImageData(images, torch.arange(n) % 4, "test strokes")


def tiny_ladder(seed=0):
    """z1 and z2 of one unit each, 3 pixels. q's scales are set wide (about 1.5 for z2, a bottom-up scale of 5
    for z1), so that the importance weights have finite variance: a q narrower than the posterior by more
    than a factor sqrt(2) gives weights of infinite variance, and L_K would converge too slowly to test."""
    torch.manual_seed(seed)
    model = hierarchy.TwoLayerVAE(z_dims=(1, 1), hidden_dims=(5, 5), image_shape=(1, 1, 3)).double()
    with torch.no_grad():
        for head, raw in ((model.encoder.head1, 5.0), (model.encoder.head2, 1.3)):
            head.weight[1:] = 0.0  # the raw scale is the second output
            head.bias[1] = raw
    return model


# ---------------------------------------------------------------- the two-layer VAE


def brute_force_log_px(model, x, side=401, reach=9.0):
    """log p(x) = log int int p(x | z1) p(z1 | z2) p(z2) dz1 dz2 on a square grid (float64)."""
    grid = torch.linspace(-reach, reach, side, dtype=torch.float64)
    step = grid[1] - grid[0]
    z1, z2 = torch.meshgrid(grid, grid, indexing="ij")
    codes = torch.stack([z1.flatten(), z2.flatten()], -1)  # (G, 2) = [z1, z2]
    with torch.no_grad():
        log_joint_z = model.prior.log_prob(codes)  # (G,)
        logits = model.decoder(codes)  # (G, 1, 1, 3)
        out = []
        for image in x:
            log_px_z = vaelib.bernoulli_log_likelihood(logits, image.expand_as(logits))
            out.append(torch.logsumexp(log_px_z + log_joint_z, 0) + 2 * step.log())
    return torch.stack(out)


def test_the_two_layer_bound_matches_brute_force_on_a_tiny_model():
    model = tiny_ladder()
    x = torch.tensor([[0.0, 1.0, 1.0], [1.0, 0.0, 0.0], [1.0, 1.0, 1.0]], dtype=torch.float64).view(3, 1, 1, 3)
    exact = brute_force_log_px(model, x)
    g = torch.Generator().manual_seed(1)
    with torch.no_grad():
        log_w = vaelib.log_importance_weights(
            model.encoder, model.decoder, x, 20_000, prior=model.prior, generator=g, chunk_size=20_000
        )
        l_k = vaelib.log_mean_exp(log_w)
        elbo = hierarchy.ladder_terms(model, x.repeat(4000, 1, 1, 1), generator=g)["elbo"].view(4000, 3)
    assert torch.allclose(l_k, exact, atol=0.01), (l_k, exact)
    # the closed-form per-layer ELBO and the one-sample log weight have the same expectation ...
    se = (elbo.var(0) / len(elbo) + log_w.var(0) / len(log_w)).sqrt()
    assert ((elbo.mean(0) - log_w.mean(0)).abs() < 4 * se).all()
    # ... which lies below log p(x) by the KL from q to the true posterior
    assert (elbo.mean(0) < exact - 0.01).all()


def test_the_ladder_posterior_is_the_precision_weighted_merge_and_log_q_is_its_density():
    model = tiny_ladder(3)
    x = torch.tensor([[0.0, 1.0, 1.0]], dtype=torch.float64).view(1, 1, 1, 3)
    params = model.encoder(x)
    z, log_q = model.encoder.rsample(params, 5, generator=torch.Generator().manual_seed(0))
    (loc_q, scale_q), (loc_p, scale_p) = model.encoder.merged(params, z[..., 1:])
    assert (scale_q < scale_p).all() and (scale_q < params[1].exp()).all()  # the merge is sharper than either
    expected = vaelib.diagonal_normal_log_prob(
        params[2], params[3].exp(), z[..., 1:]
    ) + vaelib.diagonal_normal_log_prob(loc_q, scale_q, z[..., :1])
    assert torch.allclose(log_q, expected)
    with pytest.raises(NotImplementedError, match="DReG"):
        model.encoder.rsample(params, 2, stop_gradient=True)


def test_diagonal_gaussian_kl_matches_torch():
    g = torch.Generator().manual_seed(0)
    loc_q, loc_p = torch.randn(4, 3, generator=g), torch.randn(4, 3, generator=g)
    scale_q, scale_p = torch.rand(4, 3, generator=g) + 0.1, torch.rand(4, 3, generator=g) + 0.1
    ours = diagonal_gaussian_kl(loc_q, scale_q, loc_p, scale_p)
    normal = torch.distributions.Normal
    reference = torch.distributions.kl_divergence(normal(loc_q, scale_q), normal(loc_p, scale_p)).sum(-1)
    assert torch.allclose(ours, reference, atol=1e-6)


def test_warm_up_and_free_bits_act_on_each_layer_and_train_through_fit():
    data = tiny_images()
    torch.manual_seed(0)
    model = hierarchy.TwoLayerVAE(z_dims=(4, 2), hidden_dims=(16, 8))
    objective = hierarchy.LadderObjective(warmup_steps=4, free_bits=0.0)
    history = vaelib.fit(model, data, data, epochs=2, batch_size=16, objective=objective, progress=False)
    assert objective.steps == 6  # three training steps per epoch; scoring the test set does not count
    assert objective.weight() == 1.0 and len(history.test_elbo) == 2
    assert all(math.isfinite(v) for v in history.train_elbo + history.test_elbo)
    # free bits: a layer whose batch-mean KL is below lambda gets no gradient from it
    x, _ = next(iter(data.batches(16, shuffle=False)))
    terms = hierarchy.ladder_terms(model, x, generator=torch.Generator().manual_seed(0))
    lam = terms["kl_z2"].mean().item() + 1.0  # above z2's KL, far below z1's? (checked below)
    clamped = hierarchy.LadderObjective(free_bits=lam)
    torch.manual_seed(5)
    out = clamped(model.eval(), x)
    model.zero_grad()
    (-out.elbo.mean()).backward()
    head2 = model.encoder.head2.weight.grad
    torch.manual_seed(5)
    plain = hierarchy.LadderObjective()(model, x)
    model.zero_grad()
    (-plain.elbo.mean()).backward()
    assert head2 is not None and not torch.allclose(head2, model.encoder.head2.weight.grad)
    assert torch.allclose(out.reconstruction - out.kl, plain.reconstruction - plain.kl)  # plain ELBO recorded


def test_free_bits_keeps_the_trained_value_at_lambda_and_stops_the_layers_gradient():
    model = tiny_ladder(2)
    x = torch.tensor([[0.0, 1.0, 1.0]] * 4, dtype=torch.float64).view(4, 1, 1, 3)
    torch.manual_seed(0)
    terms = hierarchy.LadderObjective(free_bits=1e6)(model, x)  # both layers below lambda
    assert torch.allclose(terms.elbo, terms.reconstruction - 2e6)
    model.zero_grad()
    terms.elbo.sum().backward()
    clamped = [p.grad.clone() for p in model.parameters()]
    torch.manual_seed(0)
    terms = hierarchy.LadderObjective()(model, x)
    model.zero_grad()
    terms.reconstruction.sum().backward()  # the same noise: only the reconstruction's gradient is left
    assert all(torch.allclose(a, p.grad) for a, p in zip(clamped, model.parameters(), strict=True))


def test_active_units_per_layer_and_log_likelihood_with_the_hierarchical_prior():
    data = tiny_images()
    torch.manual_seed(1)
    model = hierarchy.TwoLayerVAE(z_dims=(4, 2), hidden_dims=(16, 8))
    units = hierarchy.layer_active_units(model, data)
    assert set(units) == {"z1", "z1_beyond_prior", "z2"}
    assert units["z1"][1].shape == units["z1_beyond_prior"][1].shape == (4,) and units["z2"][1].shape == (2,)
    assert units["z2"][0] == int((units["z2"][1] > vaelib.ACTIVE_UNIT_THRESHOLD).sum())
    g = torch.Generator().manual_seed(0)
    ll = vaelib.estimate_log_likelihood(model, data, k=50, prior=model.prior, generator=g)
    kls = hierarchy.layer_kls(model, data, generator=torch.Generator().manual_seed(0))
    assert kls["kl_z1"] > 0 and kls["kl_z2"] > 0
    assert ll > kls["elbo"]  # L_50 above the one-sample ELBO on these 48 images
    assert hierarchy.parameter_count(model) == sum(p.numel() for p in set(model.parameters()))


def test_a_lower_layer_that_copies_its_prior_is_active_only_through_the_layer_above():
    data = tiny_images()
    torch.manual_seed(2)
    model = hierarchy.TwoLayerVAE(z_dims=(4, 2), hidden_dims=(16, 8))
    with torch.no_grad():  # a bottom-up scale of e^8: q(z1 | z2, x) is p(z1 | z2), whatever x
        model.encoder.head1.weight[4:] = 0.0
        model.encoder.head1.bias[4:] = math.exp(8.0)
    units = hierarchy.layer_active_units(model, data)
    assert units["z1_beyond_prior"][0] == 0 and units["z1_beyond_prior"][1].max() < 1e-6
    assert units["z1"][1].max() > 10 * units["z1_beyond_prior"][1].max()  # z1's mean still moves, through z2
    assert hierarchy.layer_kls(model, data)["kl_z1"] < 1e-3


def test_bad_settings_of_the_ladder_are_refused():
    with pytest.raises(ValueError, match="two whole numbers"):
        hierarchy.TwoLayerVAE(z_dims=(10,))
    with pytest.raises(ValueError, match="at least 0"):
        hierarchy.LadderObjective(free_bits=-1.0)
    with pytest.raises(TypeError, match="whole number"):
        hierarchy.LadderObjective(warmup_steps=2.5)


# ---------------------------------------------------------------- diffusion as a VAE


def tiny_diffusion(levels=2, schedule=None, dim=4, seed=0):
    torch.manual_seed(seed)
    return hierarchy.DiffusionVAE(dim, levels, hidden_dim=16, schedule=schedule)


@pytest.mark.parametrize(
    "schedule", [hierarchy.DDPMSchedule, hierarchy.FixedSchedule, hierarchy.LearnedSchedule], ids=str
)
def test_each_step_kl_is_the_snr_difference_times_the_error_and_the_simple_loss_reweights_it(schedule):
    model = tiny_diffusion(schedule=schedule())
    g = torch.Generator().manual_seed(0)
    v = model.values(torch.bernoulli(torch.full((3, 4), 0.5), generator=g))
    steps = 10
    weights = hierarchy.elbo_weights(model, steps)  # (T,)
    grid = torch.linspace(0, 1, steps + 1)
    gamma = model.encoder(grid)
    snr = torch.exp(-gamma)
    eps = torch.randn(3, 4, generator=g)  # one noise for every step, so the sums compare exactly
    total_kl, total_weighted, total_simple = 0.0, 0.0, 0.0
    for i in range(1, steps + 1):
        s, t = torch.full((3,), grid[i - 1].item()), torch.full((3,), grid[i].item())
        kl, error = hierarchy.step_kl(model, v, s, t, eps)
        alpha_t, sigma_t = torch.sigmoid(-gamma[i]).sqrt(), torch.sigmoid(gamma[i]).sqrt()
        z_t = alpha_t * v + sigma_t * eps
        v_hat = (z_t - sigma_t * model.decoder(z_t, t)) / alpha_t
        vdm = 0.5 * (snr[i - 1] - snr[i]) * (v - v_hat).pow(2).sum(-1)  # Kingma et al. (2021), eq. 13
        assert torch.allclose(kl, vdm, rtol=1e-3), (i, kl, vdm)
        total_kl = total_kl + kl
        total_weighted = total_weighted + weights[i - 1] * error
        total_simple = total_simple + error
    assert torch.allclose(total_kl, total_weighted, rtol=1e-3)
    if schedule is hierarchy.FixedSchedule:  # gamma linear in t: equal weights, the simple loss is the ELBO's KL sum
        assert torch.allclose(weights, weights[0].expand_as(weights), rtol=1e-4)  # scaled by one constant
        assert torch.allclose(total_simple * weights[0], total_weighted, rtol=1e-3)
    if schedule is hierarchy.DDPMSchedule:  # DDPM's schedule: weights far from uniform, another objective
        assert weights.max() / weights.min() > 10


def test_prior_and_reconstruction_terms():
    model = tiny_diffusion(levels=3)
    x = torch.tensor([[0.0, 0.5, 1.0, 0.5]])
    v = model.values(x)
    assert torch.equal(v, torch.tensor([[-1.0, 0.0, 1.0, 0.0]]))
    _, alpha, sigma = model.encoder.alpha_sigma(torch.ones(()))
    normal = torch.distributions.Normal
    expected = torch.distributions.kl_divergence(normal(alpha * v, sigma), normal(0.0, 1.0)).sum(-1)
    assert torch.allclose(hierarchy.prior_kl(model, v), expected, atol=1e-5)
    # the discrete decoder is normalised: at one z_0, the probabilities of the levels sum to one
    wide = tiny_diffusion(levels=3, dim=1, schedule=hierarchy.FixedSchedule(gamma_min=-1.0))  # a noisy z_0
    _, alpha0, sigma0 = wide.encoder.alpha_sigma(torch.zeros(()))
    for z0 in (-1.3, 0.2, 0.9):
        levels = torch.tensor([[-1.0], [0.0], [1.0]])
        eps = (z0 - alpha0 * levels) / sigma0  # the noise that puts each level at this z_0
        probs = hierarchy.reconstruction_log_prob(wide, levels, eps).exp()
        assert abs(probs.sum().item() - 1) < 1e-5 and probs.max() < 0.99
    # at gamma(0) = -13.3 the noise is tiny, so the levels are told apart almost surely
    eps = torch.randn(1, 4, generator=torch.Generator().manual_seed(0))
    assert hierarchy.reconstruction_log_prob(model, v, eps).item() > -1e-3


def test_many_steps_approach_the_continuous_time_loss():
    model = tiny_diffusion(dim=3)
    x = torch.bernoulli(torch.full((64, 3), 0.5), generator=torch.Generator().manual_seed(2))
    v = model.values(x)
    torch.manual_seed(0)
    with torch.no_grad():
        continuous = torch.stack(
            [hierarchy.DiffusionObjective()(model, x).kl - hierarchy.prior_kl(model, v) for _ in range(300)]
        )
        discrete = hierarchy.diffusion_terms(model, x, 2000, chunk_steps=500, generator=torch.Generator()).steps.sum(1)
        few = torch.stack([hierarchy.diffusion_terms(model, x, 4).steps.sum(1) for _ in range(100)])
    se = math.sqrt(continuous.var().item() / continuous.numel() + discrete.var().item() / discrete.numel())
    assert abs(continuous.mean().item() - discrete.mean().item()) < 4 * se + 0.02 * abs(discrete.mean().item())
    twenty = hierarchy.diffusion_terms(model, x, 20)
    table = hierarchy.step_kl_table(twenty, bins=4)
    assert [row["t_from"] for row in table] == [0.0, 0.25, 0.5, 0.75]
    assert abs(sum(row["share"] for row in table) - 1) < 1e-9
    assert sum(row["nats"] for row in table) == pytest.approx(twenty.steps.mean(0).sum().item(), rel=1e-5)
    with pytest.raises(ValueError, match="equal ranges"):
        hierarchy.step_kl_table(hierarchy.diffusion_terms(model, x, 10), bins=4)
    assert few.mean() > discrete.mean()  # fewer steps, a larger loss: the bound improves with T (VDM, Sec. 4.2)


def test_the_learned_schedule_is_monotone_with_learned_endpoints_and_trains_through_fit():
    schedule = hierarchy.LearnedSchedule()
    t = torch.linspace(0, 1, 101)
    with torch.no_grad():
        gamma = schedule(t)
    assert (gamma.diff() > 0).all()
    assert abs(gamma[0].item() - hierarchy.diffusion.GAMMA_MIN) < 1e-4
    assert abs(gamma[-1].item() - hierarchy.diffusion.GAMMA_MAX) < 1e-4
    data = tiny_images(32)
    torch.manual_seed(0)
    model = hierarchy.DiffusionVAE(784, 2, hidden_dim=32, schedule=schedule)
    before = schedule.gamma_0.item()
    history = vaelib.fit(
        model, data, data, epochs=1, batch_size=16, binarize=True, objective=hierarchy.DiffusionObjective()
    )
    assert schedule.gamma_0.item() != before  # the endpoints are trained with the ELBO
    assert math.isfinite(history.train_elbo[0]) and math.isfinite(history.test_elbo[0])
    bpd = hierarchy.bits_per_dim(history.test_elbo[0], 784)
    assert bpd > 0


def test_the_simple_loss_trains_the_predictor_while_fit_records_the_elbo():
    data = tiny_images(32)
    model = tiny_diffusion(dim=784, seed=1)
    objective = hierarchy.DiffusionObjective(steps=100, loss="simple")
    torch.manual_seed(0)
    terms = objective(model, next(iter(data.batches(8)))[0])
    assert not torch.allclose(terms.elbo, terms.reconstruction - terms.kl)
    history = vaelib.fit(model, data, epochs=1, batch_size=16, objective=objective, progress=False)
    assert history.train_elbo[0] < 0


def test_pooling_turns_binary_digits_into_block_counts():
    data = tiny_images(8)
    model = hierarchy.DiffusionVAE(49, 17, pool=4, hidden_dim=8)
    x = data.images
    counts = x.view(8, 7, 4, 7, 4).sum((2, 4)).flatten(1)  # black pixels per 4x4 block, 0..16
    assert torch.equal(model.values(x), counts / 8 - 1)  # k / 16 mapped onto [-1, 1]
    with pytest.raises(ValueError, match="averages images"):
        model.values(x.flatten(1))
    history = vaelib.fit(model, data, epochs=1, batch_size=4, objective=hierarchy.DiffusionObjective(), progress=False)
    assert math.isfinite(history.train_elbo[0])


def test_the_default_gamma_min_separates_the_levels_at_t_0():
    assert hierarchy.discrete_gamma_min(256) == pytest.approx(-13.9, abs=0.05)  # near VDM's -13.3 for 8-bit data
    v = hierarchy.DiffusionVAE(784, 2).values(torch.bernoulli(torch.full((64, 784), 0.5)))
    eps = torch.randn(v.shape, generator=torch.Generator().manual_seed(0))
    at_default = hierarchy.reconstruction_log_prob(hierarchy.DiffusionVAE(784, 2), v, eps).mean().item()
    noisier = hierarchy.DiffusionVAE(784, 2, schedule=hierarchy.FixedSchedule(1.0, 5.0))
    assert -0.2 < at_default <= 0 and hierarchy.reconstruction_log_prob(noisier, v, eps).mean().item() < -50


def test_samples_take_the_data_levels_and_bits_per_dim_of_uniform_bits_is_one():
    model = tiny_diffusion(levels=3)
    out = hierarchy.sample_diffusion(model, 5, 8, generator=torch.Generator().manual_seed(0))
    assert out.shape == (5, 4) and set(out.unique().tolist()) <= {0.0, 0.5, 1.0}
    assert hierarchy.bits_per_dim(-784 * math.log(2), 784) == pytest.approx(1.0)


def test_bad_settings_of_the_diffusion_model_are_refused():
    with pytest.raises(ValueError, match="at least 2"):
        hierarchy.DiffusionVAE(4, levels=1)
    with pytest.raises(TypeError, match="NoiseSchedule"):
        hierarchy.DiffusionVAE(4, schedule=torch.nn.Linear(1, 1))
    with pytest.raises(ValueError, match="below gamma_max"):
        hierarchy.FixedSchedule(2.0, -2.0)
    with pytest.raises(ValueError, match="'elbo' or 'simple'"):
        hierarchy.DiffusionObjective(loss="mse")
    with pytest.raises(ValueError, match="dim=4"):
        tiny_diffusion().values(torch.zeros(2, 5))
    with pytest.raises(TypeError, match="DiffusionVAE"):
        hierarchy.diffusion_terms(torch.nn.Linear(2, 2), torch.zeros(1, 2), 3)
    with pytest.raises(TypeError, match="DiffusionVAE"):
        hierarchy.elbo_weights(torch.nn.Linear(2, 2), 3)
    with pytest.raises(TypeError, match="whole number"):
        hierarchy.sample_diffusion(tiny_diffusion(), 2, 2.0)


# ---------------------------------------------------------------- latent diffusion


def test_latent_diffusion_scales_the_codes_keeps_the_vae_frozen_and_fills_the_aggregate_posterior():
    data = tiny_images(64)
    torch.manual_seed(0)
    vae = vaelib.VAE.conv(z_dim=3, channels=(4, 8))
    vaelib.fit(vae, data, epochs=2, batch_size=16, progress=False)
    spread = hierarchy.latent_spread(vae.encoder, data, generator=torch.Generator().manual_seed(0))
    assert spread["scale_factor"] == pytest.approx(1 / spread["std"])
    model = hierarchy.LatentDiffusion(vae, spread["scale_factor"], hidden_dim=32)
    scaled = torch.cat([model.values(x) for x, _ in data.batches(64, shuffle=False)])
    assert 0.7 < scaled.std().item() < 1.4  # about unit spread after scaling (a fresh draw of the codes)
    frozen = {k: v.clone() for k, v in vae.state_dict().items()}
    vaelib.fit(
        model,
        data,
        epochs=3,
        batch_size=16,
        objective=hierarchy.DiffusionObjective(),
        parameters=model.trained_parameters(),
        progress=False,
    )
    assert not vae.training and all(torch.equal(v, frozen[k]) for k, v in vae.state_dict().items())
    codes = model.sample_codes(200, 20, generator=torch.Generator().manual_seed(1))
    images = model.sample(4, 20, generator=torch.Generator().manual_seed(1))
    assert codes.shape == (200, 3) and images.shape == (4, 1, 28, 28)
    # chapter 9's measure: log q(z) of the aggregate posterior at the samples, against N(0, I)
    loc, scale = vaelib.encode(vae.encoder, data)
    gaussian = torch.randn(200, 3, generator=torch.Generator().manual_seed(2))
    for z in (codes, gaussian):
        ratio = vaelib.log_aggregate_posterior(loc, scale, z) - vaelib.standard_normal_log_prob(z).double()
        assert torch.isfinite(ratio).all()
    with pytest.raises(ValueError, match="positive"):
        hierarchy.LatentDiffusion(vae, 0.0)


def test_the_published_diffusion_numbers_carry_their_source_and_a_cited_key():
    from pathlib import Path

    bib = (Path(__file__).resolve().parents[1] / "references.bib").read_text()
    for number in (vaelib.published.VDM_CIFAR10_BPD, vaelib.published.VDM_CIFAR10_AUGMENTED_BPD):
        assert number.unit == "bits per dimension" and "CIFAR-10" in number.conditions
        assert f"{{{number.cite}," in bib
    assert vaelib.published.VDM_CIFAR10_AUGMENTED_BPD.value < vaelib.published.VDM_CIFAR10_BPD.value


# ---------------------------------------------------------------- bad input, and the Fourier features


def test_step_kl_and_prior_kl_refuse_what_they_cannot_score():
    model = tiny_diffusion(levels=3)
    v = model.values(torch.tensor([[0.0, 0.5, 1.0, 0.5], [1.0, 1.0, 0.0, 0.0]]))
    eps, s, t = torch.zeros(2, 4), torch.tensor([0.1, 0.2]), torch.tensor([0.2, 0.3])
    kl, error = hierarchy.step_kl(model, v, s, t, eps)
    assert kl.shape == error.shape == (2,)
    with pytest.raises(ValueError, match="0 <= s < t <= 1"):
        hierarchy.step_kl(model, v, t, s, eps)  # the times swapped
    with pytest.raises(ValueError, match="0 <= s < t <= 1"):
        hierarchy.step_kl(model, v, s, torch.tensor([0.2, 1.5]), eps)
    with pytest.raises(ValueError, match="one time per example"):
        hierarchy.step_kl(model, v, s[:1], t[:1], eps)
    with pytest.raises(ValueError, match=r"shape \(B, 4\)"):
        hierarchy.step_kl(model, v[:, :3], s, t, eps[:, :3])
    with pytest.raises(ValueError, match="NaN or infinite"):
        hierarchy.prior_kl(model, torch.full((2, 4), float("nan")))
    with pytest.raises(TypeError, match="DiffusionVAE"):
        hierarchy.prior_kl(torch.nn.Linear(4, 4), v)
    with pytest.raises(TypeError, match="floating-point"):
        hierarchy.prior_kl(model, torch.zeros(2, 4, dtype=torch.long))


def test_the_term_by_term_bound_refuses_nan_images_and_pixels_outside_0_1():
    model = tiny_diffusion(levels=3)
    good = torch.tensor([[0.0, 0.5, 1.0, 0.5]])
    assert torch.isfinite(hierarchy.diffusion_terms(model, good, 4).elbo).all()
    with pytest.raises(ValueError, match="contain NaN"):
        hierarchy.diffusion_terms(model, torch.full((1, 4), float("nan")), 4)
    with pytest.raises(ValueError, match="Divide them by 255"):
        hierarchy.diffusion_terms(model, good * 255, 4)
    with pytest.raises(ValueError, match="negative values"):
        hierarchy.diffusion_terms(model, good - 0.5, 4)
    with pytest.raises(ValueError, match="at least 1"):
        hierarchy.diffusion_terms(model, good, 0)
    with pytest.raises(ValueError, match="finite"):
        hierarchy.bits_per_dim(float("nan"), 49)
    with pytest.raises(ValueError, match="at least 1"):
        hierarchy.elbo_weights(model, 0)


def test_fourier_features_widen_the_input_and_bad_exponents_are_refused():
    plain = hierarchy.DiffusionVAE(4, 3, hidden_dim=8)
    wide = hierarchy.DiffusionVAE(4, 3, hidden_dim=8, fourier=(3, 4))
    assert wide.decoder.net[0].in_features == plain.decoder.net[0].in_features + 4 * 2 * 2
    z, t = torch.randn(5, 4), torch.rand(5)
    assert wide.decoder(z, t).shape == (5, 4)
    # the features of z and of z + 2 agree (2^n pi has period 2 / 2^n, which divides 2): only z itself differs
    torch.manual_seed(0)
    no_raw = hierarchy.DiffusionVAE(4, 3, hidden_dim=8, fourier=(1, 2))
    with torch.no_grad():
        no_raw.decoder.net[0].weight[:, :4] = 0.0  # ignore the raw input
        assert torch.allclose(no_raw.decoder(z, t), no_raw.decoder(z + 2, t), atol=1e-5)
    with pytest.raises(TypeError, match="whole-number exponents"):
        hierarchy.DiffusionVAE(4, 3, fourier=(1.5,))
    with pytest.raises(TypeError, match="whole-number exponents"):
        hierarchy.DiffusionVAE(4, 3, fourier=3)


def test_latent_spread_and_latent_diffusion_refuse_broken_codes_and_scale_factors():
    class NanEncoder(torch.nn.Module):
        def forward(self, x):
            loc = torch.full((len(x), 2), float("nan"))
            return loc, torch.ones_like(loc)

    data = tiny_images(8)
    with pytest.raises(ValueError, match="NaN or infinite"):
        hierarchy.latent_spread(NanEncoder(), data)
    vae = vaelib.VAE.conv(z_dim=3, channels=(4, 8))
    for bad in (float("nan"), float("inf"), -0.2):
        with pytest.raises(ValueError, match="finite|positive"):
            hierarchy.LatentDiffusion(vae, bad)
    with pytest.raises(TypeError, match="autoencoder"):
        hierarchy.LatentDiffusion(torch.nn.Linear(2, 2), 1.0)
