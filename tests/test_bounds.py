"""Tighter bounds (vaelib.bounds): IWAE and DReG gradients, SNR, refinement and gaps, against references."""

import math

import pytest
import torch

import vaelib
from vaelib import bounds


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    """These networks are tiny and the tests call them thousands of times: one thread is faster than two
    (much faster on a shared CPU, where two threads wait for each other). Restored afterwards."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def tiny(encoder_kind="diagonal", seed=0):
    """A 784-8-2 encoder of the given family and its decoder; small enough for thousands of gradient draws."""
    torch.manual_seed(seed)
    encoder = {
        "diagonal": lambda: vaelib.MLPEncoder(z_dim=2, hidden_dim=8),
        "full covariance": lambda: vaelib.FullCovarianceEncoder(z_dim=2, hidden_dim=8),
        "iaf": lambda: vaelib.FlowEncoder(z_dim=2, hidden_dim=8, n_flows=2),
    }[encoder_kind]()
    if encoder_kind == "full covariance":
        with torch.no_grad():
            encoder.off_diagonal.weight.normal_(0, 0.3)
    return vaelib.VAE(encoder, vaelib.MLPDecoder(z_dim=2, hidden_dim=8))


@pytest.fixture
def x():
    return (torch.rand(3, 1, 28, 28, generator=torch.Generator().manual_seed(1)) > 0.5).float()


def seeded(seed=0):
    return torch.Generator().manual_seed(seed)


def test_local_parameters_give_the_weights_of_the_encoders_own_output(x):
    model = tiny()
    params = vaelib.local_params(model.encoder, x)  # (loc, log scale) of a diagonal encoder
    ours = vaelib.log_importance_weights(
        model.encoder, model.decoder, x, 300, params=params, generator=seeded(), chunk_size=64
    )
    reference = vaelib.log_importance_weights(model.encoder, model.decoder, x, 300, generator=seeded(), chunk_size=64)
    torch.testing.assert_close(ours, reference, rtol=1e-5, atol=1e-4)


@pytest.mark.parametrize("estimator", bounds.ESTIMATORS)
def test_the_objective_is_the_bound_whatever_the_estimator(x, estimator):
    model = tiny()
    value = vaelib.iwae_objective(model.encoder, model.decoder, x, 7, estimator=estimator, generator=seeded())
    weights = vaelib.log_importance_weights(model.encoder, model.decoder, x, 7, generator=seeded())
    torch.testing.assert_close(value, vaelib.log_mean_exp(weights))


def gradients(model, x, k, estimator, seed, params):
    value = vaelib.iwae_objective(model.encoder, model.decoder, x, k, estimator=estimator, generator=seeded(seed))
    return torch.cat([g.flatten() for g in torch.autograd.grad(value.sum(), params)])


def test_dreg_leaves_the_decoder_gradient_as_it_is(x):
    model = tiny()
    decoder = list(model.decoder.parameters())
    torch.testing.assert_close(gradients(model, x, 5, "dreg", 3, decoder), gradients(model, x, 5, "iwae", 3, decoder))


def stopped_without_reweighting(model, x, k, seed):
    """The 'sticking the landing' gradient (log q at stopped parameters, no squared weights): biased for K > 1."""
    weights = vaelib.log_importance_weights(
        model.encoder, model.decoder, x, k, generator=seeded(seed), chunk_size=k, stop_gradient=True
    )
    return vaelib.log_mean_exp(weights)


def mean_and_standard_error(draws):
    draws = torch.stack(draws).double()  # (R, P)
    return draws.mean(0), draws.std(0) / math.sqrt(len(draws))


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["diagonal", "full covariance"])
def test_dreg_encoder_gradient_is_unbiased_for_the_iwae_gradient(x, kind):
    """The means of 1,000 DReG and 1,000 IWAE gradients agree within 4 standard errors, parameter by parameter
    (the heads of the encoder); the same comparison catches the biased estimator that omits the reweighting."""
    model, k, repeats = tiny(kind), 5, 1000
    heads = [p for name, p in model.encoder.named_parameters() if not name.startswith("hidden")]
    iwae = mean_and_standard_error([gradients(model, x, k, "iwae", 10_000 + r, heads) for r in range(repeats)])
    dreg = mean_and_standard_error([gradients(model, x, k, "dreg", 20_000 + r, heads) for r in range(repeats)])
    z = (dreg[0] - iwae[0]) / (dreg[1].pow(2) + iwae[1].pow(2)).sqrt()
    assert z.abs().max() < 4, f"DReG and IWAE means differ by up to {z.abs().max():.1f} standard errors"
    stl = []
    for r in range(repeats):
        value = stopped_without_reweighting(model, x, k, 30_000 + r)
        stl.append(torch.cat([g.flatten() for g in torch.autograd.grad(value.sum(), heads)]))
    stl = mean_and_standard_error(stl)
    z_biased = (stl[0] - iwae[0]) / (stl[1].pow(2) + iwae[1].pow(2)).sqrt()
    assert z_biased.abs().max() > 6, "the test must be able to see a biased encoder gradient"


def test_dreg_needs_a_gaussian_encoder(x):
    model = tiny("iaf")
    with pytest.raises(NotImplementedError, match="Gaussian encoders only"):
        vaelib.iwae_objective(model.encoder, model.decoder, x, 3, estimator="dreg")
    with pytest.raises(ValueError, match=r"estimator='reinforce' is not one of \('iwae', 'dreg'\)"):
        bounds.objective(5, estimator="reinforce")
    with pytest.raises(ValueError, match="at least 1"):
        vaelib.iwae_objective(model.encoder, model.decoder, x, 0)


def test_gradient_snr_recovers_a_known_ratio():
    """g = c * (1 + s * eps): mean c, standard deviation |c| s, so the SNR is 1 / s for every element."""
    theta = torch.zeros(4, requires_grad=True)
    c = torch.tensor([1.0, -2.0, 0.5, 3.0])
    g = seeded(0)

    def estimate():
        return (theta * c * (1 + 0.5 * torch.randn(4, generator=g))).sum()

    snr = vaelib.gradient_snr(estimate, {"theta": [theta]}, repeats=4000)["theta"]
    torch.testing.assert_close(snr, torch.full((4,), 2.0), rtol=0.06, atol=0)
    with pytest.raises(ValueError, match="at least 2"):
        vaelib.gradient_snr(estimate, {"theta": [theta]}, repeats=1)


def test_snr_of_the_encoder_falls_with_k_for_iwae_and_dreg_raises_it(x):
    """Rainforth et al. (2018): the IWAE encoder gradient's SNR shrinks as K grows, the decoder's grows;
    Tucker et al. (2019): DReG's encoder SNR is the higher one at large K."""
    model = tiny(seed=2)
    encoder, decoder = list(model.encoder.parameters()), list(model.decoder.parameters())

    def median_snr(k, estimator):
        def estimate():
            return vaelib.iwae_objective(model.encoder, model.decoder, x, k, estimator=estimator).sum()

        snr = vaelib.gradient_snr(estimate, {"encoder": encoder, "decoder": decoder}, repeats=200)
        return {name: values.nanmedian().item() for name, values in snr.items()}

    torch.manual_seed(0)
    small, large = median_snr(2, "iwae"), median_snr(64, "iwae")
    dreg_large = median_snr(64, "dreg")
    assert large["encoder"] < small["encoder"], (small, large)
    assert large["decoder"] > small["decoder"], (small, large)
    assert dreg_large["encoder"] > 1.2 * large["encoder"], (dreg_large, large)


def test_refinement_raises_each_images_elbo(x):
    model = tiny(seed=3)
    start = vaelib.local_params(model.encoder, x)
    refined = vaelib.refine(model.encoder, model.decoder, x, steps=20, lr=1e-2, samples=4)
    assert all(not p.requires_grad for p in refined)
    with torch.no_grad():
        before = vaelib.log_importance_weights(
            model.encoder, model.decoder, x, 2000, params=start, generator=seeded()
        ).mean(0)
        after = vaelib.log_importance_weights(
            model.encoder, model.decoder, x, 2000, params=refined, generator=seeded()
        ).mean(0)
    assert (after > before).all(), (before, after)


def test_end_to_end_refinement_trains_the_encoder_through_the_steps(x):
    model = tiny(seed=4)
    value = bounds.semi_amortized_objective(steps=2, lr=1e-2)(model, x)
    assert value.shape == (3,)
    value.sum().backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in model.encoder.parameters())


@pytest.mark.parametrize("kind", ["diagonal", "full covariance", "iaf"])
def test_gaps_add_up_and_are_not_negative(x, kind):
    model = tiny(kind, seed=5)
    gaps = vaelib.inference_gaps(model.encoder, model.decoder, x, k=500, steps=30, samples=4)
    assert gaps["total"] == pytest.approx(gaps["approximation"] + gaps["amortization"], abs=1e-3)
    assert gaps["approximation"] >= 0, "log p(x) is at least the log-mean-exp of the same weights, above their mean"
    assert gaps["amortization"] > 0, "30 Adam steps per image beat an untrained encoder"
    assert gaps["elbo_amortised"] < gaps["elbo_optimised"] <= gaps["log_px"]


def test_score_bounds_gives_the_bound_above_the_elbo(digits):
    train, test = digits
    model = tiny("iaf", seed=6)
    scores = vaelib.score_bounds(model, test.subset(40).binarized(seeded()), k=50, batch_size=16)
    assert set(scores) == {"elbo", "bound"} and scores["bound"] >= scores["elbo"]
    assert model.training, "the model's mode is restored"


@pytest.mark.parametrize("estimator", bounds.ESTIMATORS)
def test_fit_trains_with_the_importance_weighted_objective(digits, estimator):
    train, _ = digits
    model = tiny(seed=7)
    history = vaelib.fit(
        model, train.subset(256), epochs=2, batch_size=64, binarize=True, progress=False,
        objective=bounds.objective(5, estimator),
    )  # fmt: skip
    assert history.train_elbo[-1] > history.train_elbo[0]


def test_the_k_sample_elbo_has_the_elbos_expectation_and_less_noise(x):
    """vaelib.elbo_objective(S): the mean of S reconstruction terms minus the closed-form KL, for any S."""
    model = tiny(seed=8)
    torch.manual_seed(0)
    with torch.no_grad():
        one = torch.stack([vaelib.elbo_objective(1)(model, x) for _ in range(4000)])  # (draws, B)
        many = torch.stack([vaelib.elbo_objective(16)(model, x) for _ in range(400)])
    se = (one.var(0) / len(one) + many.var(0) / len(many)).sqrt()
    assert ((one.mean(0) - many.mean(0)).abs() < 4 * se).all(), "the same expectation"
    assert (many.std(0) < 0.5 * one.std(0)).all(), "averaging 16 draws shrinks the spread by about 4"
    torch.manual_seed(1)
    with torch.no_grad():
        terms = vaelib.elbo(model.encoder, model.decoder, x, analytic_kl=True)
    torch.manual_seed(1)
    with torch.no_grad():
        torch.testing.assert_close(vaelib.elbo_objective(1)(model, x), terms.reconstruction - terms.kl)
    with pytest.raises(ValueError, match="at least 1"):
        vaelib.elbo_objective(0)


def test_effective_sample_size_runs_from_one_to_k():
    equal = torch.zeros(7, 3)
    torch.testing.assert_close(vaelib.effective_sample_size(equal), torch.full((3,), 7.0))
    one_dominates = torch.tensor([[0.0], [-50.0], [-50.0]])
    torch.testing.assert_close(vaelib.effective_sample_size(one_dominates), torch.ones(1), rtol=1e-6, atol=1e-6)
    two_of_four = torch.tensor([[0.0], [0.0], [-80.0], [-80.0]])
    torch.testing.assert_close(vaelib.effective_sample_size(two_of_four), torch.full((1,), 2.0))
    with pytest.raises(ValueError, match=r"shape \(K, B\)"):
        vaelib.effective_sample_size(torch.zeros(5))


def test_decoder_rows_count_the_work_of_a_k_sample_objective(x):
    model = tiny(seed=9)
    with vaelib.DecoderRows(model.decoder) as rows:
        bounds.objective(6)(model, x)
        vaelib.elbo_objective(4)(model, x)
    assert rows.rows == 6 * len(x) + 4 * len(x)
    model.decoder(torch.zeros(2, 2))
    assert rows.rows == 10 * len(x), "the hook is removed when the block ends"


def test_fit_encoder_leaves_the_frozen_decoder_as_it_was(digits):
    train, _ = digits
    model = tiny(seed=10)
    before = {name: p.clone() for name, p in model.decoder.named_parameters()}
    encoder = vaelib.MLPEncoder(z_dim=2, hidden_dim=8)
    start = [p.clone() for p in encoder.parameters()]
    fitted, history = vaelib.fit_encoder(
        encoder, model.decoder, train.subset(128), epochs=1, batch_size=64, binarize=True, progress=False,
        objective=vaelib.elbo_objective(1),
    )  # fmt: skip
    assert fitted.decoder is model.decoder and fitted.encoder is encoder and len(history.train_elbo) == 1
    for name, p in model.decoder.named_parameters():
        assert torch.equal(p, before[name]) and p.requires_grad, name
    assert any(not torch.equal(a, b) for a, b in zip(start, encoder.parameters(), strict=True))
    with pytest.raises(ValueError, match="builds its own optimizer"):
        vaelib.fit_encoder(encoder, model.decoder, train.subset(64), optimizer=None)


def test_scores_per_image_and_gaps_per_image_average_to_the_means(digits, x):
    _, test = digits
    model = tiny(seed=11)
    data = test.subset(24).binarized(seeded())
    per_image = vaelib.score_per_image(model, data, k=40, batch_size=10, generator=seeded(2))
    means = vaelib.score_bounds(model, data, k=40, batch_size=10, generator=seeded(2))
    assert per_image["bound"].shape == (24,) and (per_image["bound"] >= per_image["elbo"]).all()
    assert per_image["bound"].mean().item() == pytest.approx(means["bound"], abs=1e-4)
    refined = vaelib.score_per_image(
        model, data, k=40, batch_size=10, generator=seeded(2),
        params_of=lambda images: vaelib.refine(model.encoder, model.decoder, images, 20, 1e-2, samples=4),
    )  # fmt: skip
    assert refined["elbo"].mean() > per_image["elbo"].mean(), "a refined proposal has the higher ELBO"
    torch.manual_seed(3)  # the optimisation of q* draws from the global generator
    gaps = vaelib.inference_gaps(model.encoder, model.decoder, x, k=100, steps=10, samples=2, per_image=True)
    torch.manual_seed(3)
    mean_gaps = vaelib.inference_gaps(model.encoder, model.decoder, x, k=100, steps=10, samples=2)
    assert gaps["approximation"].shape == (3,)
    assert gaps["approximation"].mean().item() == pytest.approx(mean_gaps["approximation"], abs=1e-3)
