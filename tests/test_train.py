"""One short run of each training loop end to end, and the NaN guard of each."""

import contextlib

import pyro
import pytest
import torch

import vaelib


@pytest.fixture
def small(digits):
    train, test = digits
    return train.subset(256), test.subset(128)


def test_fit_improves_the_elbo(small):
    train, test = small
    torch.manual_seed(0)
    vae = vaelib.VAE.mlp(z_dim=8, hidden_dim=64)
    before = vaelib.evaluate(vae, test)
    seen = []
    history = vaelib.fit(
        vae, train, test, epochs=3, batch_size=32, progress=False, on_epoch=lambda epoch, h: seen.append(epoch)
    )
    assert seen == [1, 2, 3] and history.epochs == [1, 2, 3]
    assert len(history.train_elbo) == len(history.test_elbo) == len(history.seconds) == 3
    assert history.test_elbo[-1] > before + 50  # an untrained decoder scores about -544 nats
    assert history.train_elbo[-1] > history.train_elbo[0]


def test_fit_conv_with_binarization_and_beta(small):
    train, test = small
    torch.manual_seed(0)
    vae = vaelib.VAE.conv(z_dim=4, channels=(8, 16))
    history = vaelib.fit(vae, train, test, epochs=1, batch_size=64, beta=2.0, binarize=True, progress=False)
    assert all(torch.isfinite(torch.tensor(history.train_elbo + history.test_elbo)))


def test_fit_stops_on_nan_before_updating(small):
    train, _ = small
    vae = vaelib.VAE.mlp(z_dim=4, hidden_dim=16)
    with torch.no_grad():
        vae.decoder.logits.bias[0] = float("nan")
    before = {k: v.clone() for k, v in vae.state_dict().items()}
    with pytest.raises(vaelib.NonFiniteLossError, match=r"epoch 1, step 0: .*decoder\.logits\.bias.*no update"):
        vaelib.fit(vae, train, epochs=1, batch_size=32, progress=False)
    for key, value in vae.state_dict().items():
        assert torch.equal(value.nan_to_num(), before[key].nan_to_num()), key


def test_fit_svi_improves_the_elbo(small):
    train, test = small
    pyro.clear_param_store()
    torch.manual_seed(0)
    vae = vaelib.PyroVAE(vaelib.MLPEncoder(z_dim=8, hidden_dim=64), vaelib.MLPDecoder(z_dim=8, hidden_dim=64))
    history = vaelib.fit_svi(vae, train, test, epochs=3, batch_size=32, progress=False)
    assert len(history.test_elbo) == 3
    assert history.test_elbo[-1] > history.test_elbo[0]
    assert history.train_elbo[-1] > -400


def test_fit_svi_on_grey_pixels_needs_the_opt_in(small):
    train, _ = small
    pyro.clear_param_store()
    strict = vaelib.PyroVAE(vaelib.MLPEncoder(z_dim=4, hidden_dim=16), vaelib.MLPDecoder(z_dim=4, hidden_dim=16))
    with pytest.raises(ValueError, match="support"):
        vaelib.fit_svi(strict, train, epochs=1, batch_size=32, binarize=False, progress=False)
    pyro.clear_param_store()
    grey = vaelib.PyroVAE(strict.encoder, strict.decoder, grey_pixels=True)
    history = vaelib.fit_svi(grey, train, epochs=1, batch_size=32, binarize=False, progress=False)
    assert torch.isfinite(torch.tensor(history.train_elbo)).all()


class BreaksOnSecondCall(torch.nn.Module):
    """A decoder that returns NaN logits from its second call on, and keeps a copy of ``watched``'s
    parameters as they were at that call: what the guard must leave in place."""

    def __init__(self, inner):
        super().__init__()
        self.inner, self.z_dim, self.calls = inner, inner.z_dim, 0
        self.watched, self.at_break = None, None

    def forward(self, z):
        self.calls += 1
        logits = self.inner(z)
        if self.calls == 2:
            self.at_break = {k: v.detach().clone() for k, v in self.watched.state_dict().items()}
        return logits * float("nan") if self.calls >= 2 else logits


@pytest.mark.parametrize("grey_pixels", [False, True], ids=["validated", "unvalidated"])
def test_fit_svi_keeps_finite_parameters_on_nan(small, grey_pixels):
    train, _ = small
    pyro.clear_param_store()
    torch.manual_seed(0)
    decoder = BreaksOnSecondCall(vaelib.MLPDecoder(z_dim=4, hidden_dim=16))
    vae = vaelib.PyroVAE(vaelib.MLPEncoder(z_dim=4, hidden_dim=16), decoder, grey_pixels=grey_pixels)
    object.__setattr__(decoder, "watched", vae)  # a plain reference, not a submodule (that would be a cycle)
    # Validated, Pyro rejects the NaN logits before any gradient; unvalidated, the gradients are NaN.
    # Either way fit_svi stops before the update, so the parameters are those from before step 1.
    pyro_warning = pytest.warns(UserWarning, match="Encountered NaN") if grey_pixels else contextlib.nullcontext()
    with pyro_warning, pytest.raises(vaelib.NonFiniteLossError, match="step 1.*no update was applied"):
        vaelib.fit_svi(vae, train, epochs=1, batch_size=32, binarize=True, progress=False)
    assert all(torch.isfinite(p).all() for p in vae.parameters())
    for key, value in vae.state_dict().items():
        assert torch.equal(value, decoder.at_break[key]), key
    assert all(p.grad is None for p in vae.parameters()), "the bad gradients are not left behind"


def test_fit_with_an_objective_trains_on_it(small):
    train, _ = small

    def run(**options):
        torch.manual_seed(0)
        vae = vaelib.VAE.mlp(z_dim=4, hidden_dim=16)
        history = vaelib.fit(vae, train, epochs=1, batch_size=64, progress=False, **options)
        return vae, history

    def plain_elbo(model, x):
        return vaelib.elbo(model.encoder, model.decoder, x).elbo

    default, default_history = run()
    given, given_history = run(objective=plain_elbo)  # the same loss through objective=: the same run
    for (name, a), b in zip(default.state_dict().items(), given.state_dict().values(), strict=True):
        torch.testing.assert_close(a, b, msg=name)
    assert given_history.train_elbo == pytest.approx(default_history.train_elbo)
    with pytest.raises(ValueError, match=r"objective returned shape \(\); it must be \(64,\)"):
        run(objective=lambda model, x: plain_elbo(model, x).mean())
    with pytest.raises(ValueError, match="with objective= there is none to weight"):
        run(objective=plain_elbo, kl_warmup_epochs=1)


def test_kl_warmup_and_true_elbo_in_history(small):
    train, test = small
    torch.manual_seed(0)
    vae = vaelib.VAE.mlp(z_dim=4, hidden_dim=32)
    history = vaelib.fit(vae, train, test, epochs=2, batch_size=64, kl_warmup_epochs=2, progress=False)
    # With warm-up the objective differs from the ELBO; the history must still hold the ELBO itself.
    vae.eval()
    with torch.no_grad():
        x = train.images
        terms = vaelib.elbo(vae.encoder, vae.decoder, x)
    assert abs(terms.elbo.mean().item() - history.train_elbo[-1]) < 30
    assert history.test_elbo[-1] < 0


def test_estimate_log_likelihood_is_above_the_elbo(small):
    _, test = small
    torch.manual_seed(0)
    vae = vaelib.VAE.mlp(z_dim=4, hidden_dim=32)
    g = torch.Generator().manual_seed(0)
    data = test.binarized(generator=g)
    assert set(data.images.unique().tolist()) <= {0.0, 1.0}
    elbo = vaelib.evaluate(vae, data)
    estimate = vaelib.estimate_log_likelihood(vae, data, k=64, batch_size=64)
    assert estimate > elbo


def test_log_likelihood_per_image_is_the_bound_of_each_image_in_order(small):
    _, test = small
    torch.manual_seed(0)
    vae = vaelib.VAE.mlp(z_dim=4, hidden_dim=32)  # left in training mode, as after fit
    data = test.binarized(generator=torch.Generator().manual_seed(0)).subset(40)
    per_image = vaelib.log_likelihood_per_image(
        vae, data, k=16, batch_size=15, generator=torch.Generator().manual_seed(3)
    )
    assert per_image.shape == (40,) and not per_image.requires_grad
    assert vae.training, "the mode is restored"
    vae.eval()
    generator = torch.Generator().manual_seed(3)  # the same draws, batch by batch, in the same order
    expected = torch.cat(
        [
            vaelib.iwae_bound(vae.encoder, vae.decoder, x, 16, generator=generator)
            for x, _ in data.batches(15, shuffle=False)
        ]
    )
    torch.testing.assert_close(per_image, expected.detach())
    mean = vaelib.estimate_log_likelihood(vae, data, k=16, batch_size=15, generator=torch.Generator().manual_seed(3))
    assert abs(mean - per_image.mean().item()) < 1e-4, "estimate_log_likelihood is its mean"


def test_continuous_bernoulli_is_a_density_on_grey_pixels():
    logits = torch.zeros(2, 1, 28, 28)
    x = torch.full((2, 1, 28, 28), 0.3)
    # lambda = 0.5 is the uniform density on [0, 1]: log density 0 for every pixel.
    torch.testing.assert_close(vaelib.continuous_bernoulli_log_likelihood(logits, x), torch.zeros(2))
    reference = torch.distributions.ContinuousBernoulli(logits=torch.ones(3)).log_prob(torch.tensor([0.1, 0.5, 0.9]))
    ours = vaelib.continuous_bernoulli_log_likelihood(torch.ones(1, 3), torch.tensor([[0.1, 0.5, 0.9]]))
    torch.testing.assert_close(ours, reference.sum().unsqueeze(0))


def test_progress_bar_prints_its_final_state_on_stdout(small, capsys):
    train, _ = small
    vaelib.fit(vaelib.VAE.mlp(z_dim=4, hidden_dim=16), train.subset(64), epochs=2, batch_size=32)
    out, err = capsys.readouterr()
    final = out.split("\r")[-1]  # the bar redraws itself after each carriage return
    assert final.startswith("epochs: 100%") and "2/2" in final, out
    assert "epochs" not in err  # not on stderr, which the book renders as an error box


def test_progress_bar_can_be_switched_off(small, capsys):
    train, _ = small
    vaelib.fit(vaelib.VAE.mlp(z_dim=4, hidden_dim=16), train.subset(64), epochs=1, batch_size=32, progress=False)
    assert capsys.readouterr().out == ""


def test_fit_svi_scores_the_test_set_in_eval_mode(small):
    """Test batches must not move batch norm's running averages, and scoring uses those averages."""
    train, test = small

    def run(with_test):
        pyro.clear_param_store()
        torch.manual_seed(0)
        net = vaelib.VAE.conv(z_dim=2, channels=(4, 8))
        vae = vaelib.PyroVAE(net.encoder, net.decoder)
        history = vaelib.fit_svi(vae, train, test if with_test else None, epochs=1, batch_size=64, progress=False)
        return vae, history

    scored, history = run(with_test=True)
    unscored, _ = run(with_test=False)
    for key, value in scored.state_dict().items():
        torch.testing.assert_close(value, unscored.state_dict()[key], msg=f"test images changed {key}")
    assert scored.training, "fit_svi leaves the model in training mode, like fit"
    scored.eval()
    pyro.set_rng_seed(0)
    with torch.no_grad():
        x = next(iter(test.batches(len(test), shuffle=False, binarize=True)))[0]
        eval_mode = -pyro.infer.Trace_ELBO().loss(scored.model, scored.guide, x) / len(test)
    assert abs(eval_mode - history.test_elbo[-1]) < 15  # same estimator; only the random draws differ


def test_fit_svi_refuses_a_parameter_store_that_holds_another_model(small):
    train, _ = small
    pyro.clear_param_store()
    first = vaelib.VAE.mlp(z_dim=4, hidden_dim=16)
    vaelib.fit_svi(vaelib.PyroVAE(first.encoder, first.decoder), train, epochs=1, batch_size=64, progress=False)
    # Continuing to train the same model is fine: the store holds its own tensors.
    vaelib.fit_svi(vaelib.PyroVAE(first.encoder, first.decoder), train, epochs=1, batch_size=64, progress=False)
    second = vaelib.VAE.mlp(z_dim=4, hidden_dim=16)
    with pytest.raises(ValueError, match=r"'encoder\$\$\$hidden.weight' from another model.*clear_param_store"):
        vaelib.fit_svi(vaelib.PyroVAE(second.encoder, second.decoder), train, epochs=1, batch_size=64, progress=False)
    pyro.clear_param_store()
    before = second.decoder.logits.bias.detach().clone()
    vaelib.fit_svi(vaelib.PyroVAE(second.encoder, second.decoder), train, epochs=1, batch_size=64, progress=False)
    assert not torch.equal(before, second.decoder.logits.bias), "after clearing, the new model trains"


def test_evaluate_svi_is_the_trace_elbo_per_image_and_keeps_the_mode(small):
    _, test = small
    pyro.clear_param_store()
    net = vaelib.VAE.mlp(z_dim=4, hidden_dim=16)
    vae = vaelib.PyroVAE(net.encoder, net.decoder)
    x = next(iter(test.batches(len(test), shuffle=False, binarize=True)))[0]
    pyro.set_rng_seed(3)
    reference = -pyro.infer.Trace_ELBO().loss(vae.model, vae.guide, x) / len(test)
    # The same binary images, and after re-seeding the same draws of z.
    pyro.set_rng_seed(3)
    data = vaelib.ImageData(x, test.labels, test.source)
    assert abs(vaelib.evaluate_svi(vae, data, binarize=False) - reference) < 1e-6
    assert vae.training, "evaluate_svi restores the mode it found"


def test_the_history_counts_the_steps_every_loop_takes():
    """Counted work, not seconds: fit makes ceil(N / batch) steps an epoch, fit_classifier exactly `steps`."""
    torch.manual_seed(0)
    data = vaelib.ImageData((torch.rand(50, 1, 28, 28) > 0.5).float(), torch.arange(50) % 10, "test")
    history = vaelib.fit(vaelib.VAE.mlp(z_dim=2, hidden_dim=8), data, epochs=2, batch_size=16, progress=False)
    assert history.steps == 2 * 4
    baseline = vaelib.fit_classifier(vaelib.MLPClassifier(hidden_dim=8), data, steps=7, batch_size=16)
    assert baseline.steps == 7
