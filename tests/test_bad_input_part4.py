"""Bad input on the API of chapters 7-9, the data sets, the exercise checks, checkpoints and records (issue 31).

Each silent-wrong case the issue names gets a test: the call now raises with a message that says what
was wrong and what to do, and nothing that was saved is lost.
"""

import gzip
import math

import pytest
import torch

import vaelib
from vaelib.book import records
from vaelib.data import ImageData

# ---------------------------------------------------------------- silent wrong numbers


def test_a_diagonal_scale_is_not_read_as_one_covariance_matrix():
    loc, scale = torch.zeros(4, 4), torch.full((4, 4), 0.5)
    with pytest.raises(ValueError, match=r"scale_tril must be one \(d, d\).*gaussian_kl_to_standard"):
        vaelib.full_covariance_kl_to_standard(loc, scale)
    with pytest.raises(ValueError, match=r"shape \(4, 4, 4\); got \(4, 3, 3\)"):
        vaelib.full_covariance_kl_to_standard(loc, torch.eye(3).expand(4, 3, 3))
    right = vaelib.full_covariance_kl_to_standard(loc, torch.diag_embed(scale))
    torch.testing.assert_close(right, vaelib.gaussian_kl_to_standard(loc, scale))


@pytest.mark.parametrize("load", [vaelib.load_digits_8x8, vaelib.load_fashion_mnist], ids=["digits", "fashion"])
def test_a_split_named_by_a_string_is_refused_not_read_as_the_training_split(load):
    with pytest.raises(TypeError, match=r"got 'test'\. For the test split pass train=False"):
        load("test", device="cpu")


def test_the_digits_test_split_is_the_test_split():
    train, _ = vaelib.load_digits_8x8(True, device="cpu")
    test, _ = vaelib.load_digits_8x8(False, device="cpu")
    assert (len(train), len(test)) == (1498, 299)


def correct_sampler(loc, log_var):
    return loc + (0.5 * log_var).exp() * torch.randn_like(loc)


@pytest.mark.parametrize("n_samples", [100, 150, 300, 500])
def test_the_sampler_check_accepts_a_correct_sampler_at_small_sample_sizes(n_samples):
    for seed in range(25):
        torch.manual_seed(seed)
        assert vaelib.check_log_variance_sampler(correct_sampler, n_samples=n_samples)


@pytest.mark.parametrize("n_samples", [100, 500])
def test_the_sampler_check_still_names_the_variance_mistake_at_small_sample_sizes(n_samples):
    torch.manual_seed(0)
    with pytest.raises(ValueError, match="exp\\(logvar\\), the variance, used as the standard deviation"):
        vaelib.check_log_variance_sampler(lambda loc, lv: loc + lv.exp() * torch.randn_like(loc), n_samples=n_samples)


@pytest.mark.parametrize(
    ("n", "error", "message"), [(50, ValueError, "at least 100"), (200.0, TypeError, "n_samples=200")]
)
def test_the_sampler_check_refuses_too_few_or_float_draws(n, error, message):
    with pytest.raises(error, match=message):
        vaelib.check_log_variance_sampler(correct_sampler, n_samples=n)


def test_a_traversal_leaves_a_batch_norm_decoder_as_it_was():
    torch.manual_seed(0)
    decoder = vaelib.VAE.conv(z_dim=3).decoder  # batch norm inside, left in train mode as fit leaves it
    decoder.train()
    before = {k: v.clone() for k, v in decoder.state_dict().items()}
    images = vaelib.latent_traversal(decoder, torch.zeros(3), torch.linspace(-2, 2, 5))
    assert images.shape == (15, 1, 28, 28) and decoder.training
    for key, value in decoder.state_dict().items():
        assert torch.equal(value, before[key]), f"{key} changed"
    with pytest.raises(ValueError, match=r"base must be one code \(d,\)"):
        vaelib.latent_traversal(decoder, torch.zeros(2, 3), torch.linspace(-2, 2, 5))


def tiny_binary_data(n=32):
    torch.manual_seed(0)
    return ImageData((torch.rand(n, 1, 28, 28) > 0.7).float(), torch.zeros(n, dtype=torch.long), "test")


def test_an_objective_with_a_learned_prior_is_refused_unless_its_parameters_are_passed():
    data, model = tiny_binary_data(), vaelib.VAE.mlp(z_dim=2, hidden_dim=8)
    prior = vaelib.MixturePrior(2, 3, generator=torch.Generator().manual_seed(0))
    before = prior.loc.detach().clone()

    def objective(m, x, prior=prior):
        return vaelib.elbo(m.encoder, m.decoder, x, prior=prior)

    with pytest.raises(ValueError, match=r"MixturePrior with 3 parameter tensor\(s\).*parameters=\[\*model"):
        vaelib.fit(model, data, objective=objective, epochs=1, batch_size=16, progress=False)
    assert torch.equal(prior.loc, before)
    parameters = [*model.parameters(), *prior.parameters()]
    vaelib.fit(model, data, objective=objective, parameters=parameters, epochs=1, batch_size=16, progress=False)
    assert not torch.equal(prior.loc, before), "with parameters= the prior trains"
    fixed = vaelib.MixturePrior(2, 3, generator=torch.Generator().manual_seed(1))
    kept = fixed.loc.detach().clone()
    vaelib.fit(
        model,
        data,
        objective=lambda m, x: vaelib.elbo(m.encoder, m.decoder, x, prior=fixed),
        parameters=model.parameters(),  # kept fixed on purpose: allowed
        epochs=1,
        batch_size=16,
        progress=False,
    )
    assert torch.equal(fixed.loc, kept)


def test_mixture_weights_that_do_not_sum_to_one_are_refused():
    loc, scale, z = torch.zeros(3, 2), torch.ones(3, 2), torch.zeros(5, 2)
    with pytest.raises(ValueError, match=r"sum to 1\.5, not 1, .*shift every log-density by 0\.4055"):
        vaelib.mixture_log_prob(loc, scale, torch.full((3,), 0.5).log(), z)
    with pytest.raises(ValueError, match=r"log_weights \(K,\)"):
        vaelib.mixture_log_prob(loc, scale, torch.zeros(4), z)
    good = vaelib.mixture_log_prob(loc, scale, torch.full((3,), 1 / 3).log(), z)
    torch.testing.assert_close(good, vaelib.standard_normal_log_prob(z))


def test_a_label_outside_the_classes_is_not_counted_as_the_last_class():
    classifier = vaelib.MLPClassifier()
    data = ImageData(torch.rand(4, 1, 28, 28), torch.tensor([0, 1, 2, -1]), "test")
    with pytest.raises(ValueError, match=r"labels from -1 to 2; a 10-class confusion matrix needs labels 0 to 9"):
        vaelib.confusion_matrix(classifier, data)


# ---------------------------------------------------------------- data, checkpoints and records


def test_a_missing_data_folder_is_an_mnist_unavailable_error_as_promised(tmp_path, monkeypatch):
    monkeypatch.setenv("VAE_BOOK_DATA", str(tmp_path / "mistyped"))
    with pytest.raises(vaelib.MNISTUnavailableError, match="does not exist") as info:
        vaelib.load_mnist(train=False, device="cpu", allow_standin=False)
    assert isinstance(info.value, FileNotFoundError)
    assert not (tmp_path / "mistyped").exists(), "a mistyped folder is not created"
    (tmp_path / "a_file").write_text("x")
    with pytest.raises(vaelib.MNISTUnavailableError, match="names a file"):
        vaelib.load_mnist(train=False, root=tmp_path / "a_file", device="cpu", allow_standin=False)


def test_an_archive_that_fails_its_checksum_is_named_not_blamed_on_the_network(tmp_path):
    raw = tmp_path / "MNIST" / "raw"
    raw.mkdir(parents=True)
    (raw / "t10k-images-idx3-ubyte.gz").write_bytes(gzip.compress(b"not mnist"))
    with pytest.raises(vaelib.MNISTFileError, match=r"t10k-images-idx3-ubyte\.gz fails its checksum.*not a network"):
        vaelib.load_mnist(train=False, root=tmp_path, device="cpu", allow_standin=False)
    assert (raw / "t10k-images-idx3-ubyte.gz").exists(), "nothing is deleted for the reader"


def test_a_checkpoint_damaged_on_disk_is_refused_and_the_model_is_unchanged(tmp_path):
    torch.manual_seed(0)
    model = vaelib.VAE.mlp(z_dim=2, hidden_dim=8)
    with torch.no_grad():
        model.decoder.logits.bias.copy_(torch.arange(784, dtype=torch.float32) * 1e-3 + 0.123)
    path = vaelib.save_checkpoint(model, tmp_path / "m.pt", epochs=1)
    blob = bytearray(path.read_bytes())
    marker = model.decoder.logits.bias.detach().numpy().tobytes()[400:416]
    at = blob.find(marker)
    assert at > 0, "the weights' bytes are stored as they are"
    blob[at + 3] ^= 0x01  # one flipped bit in one weight
    path.write_bytes(bytes(blob))
    fresh = vaelib.VAE.mlp(z_dim=2, hidden_dim=8)
    before = {k: v.clone() for k, v in fresh.state_dict().items()}
    with pytest.raises(vaelib.CheckpointError, match="do not match the checksum.*model is unchanged"):
        vaelib.load_checkpoint(fresh, path)
    assert all(torch.equal(v, before[k]) for k, v in fresh.state_dict().items())
    intact = vaelib.save_checkpoint(model, tmp_path / "ok.pt", epochs=1)
    assert vaelib.load_checkpoint(fresh, intact) == {"epochs": 1}


def a_record(**changes):
    record = vaelib.new_record("06_evaluation", "full", "cpu", "MNIST", {"epochs": 1}, {"ll": -90.0})
    record["run"] = {
        "notebook": "x",
        "commit": "abc",
        "uncommitted_changes": False,
        "wall_seconds": 1.0,
        "command": "c",
    }
    for key, value in changes.items():
        if key.startswith("run_"):
            record["run"][key[4:]] = value
        else:
            record[key] = value
    return record


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"results": {"table": [{"ll": math.nan}]}}, r"NaN or infinite numbers at results\.table\[0\]\.ll"),
        ({"results": {"ll": math.inf}}, r"NaN or infinite numbers at results\.ll"),
        ({"run": "made by hand"}, "run is a str, not an object"),
        ({"run_wall_seconds": -5.0}, "wall_seconds is -5.0, not a time"),
        ({"run_uncommitted_changes": "no"}, "uncommitted_changes is 'no', not a bool"),
    ],
    ids=["nan", "inf", "run-str", "negative-time", "flag-str"],
)
def test_a_record_with_nan_or_a_malformed_run_is_refused(changes, message):
    with pytest.raises(vaelib.RecordError, match=message):
        records.check_record(a_record(**changes))
    assert records.check_record(a_record())["results"] == {"ll": -90.0}


# ---------------------------------------------------------------- priors, encoders, answers and paths


def test_a_torch_distribution_prior_per_coordinate_or_of_another_size_is_refused():
    from torch.distributions import Independent, Normal

    torch.manual_seed(0)
    model = vaelib.VAE.mlp(z_dim=3, hidden_dim=8)
    x = (torch.rand(3, 1, 28, 28) > 0.5).float()  # a batch as large as z_dim: a broadcast would not fail
    with pytest.raises(ValueError, match=r"returned \(3, 3\) for codes \(3, 3\).*Independent\(Normal"):
        vaelib.elbo(model.encoder, model.decoder, x, prior=Normal(0.0, 1.0))
    with pytest.raises(ValueError, match="prior is over codes of size 5 but the encoder's codes have 3"):
        vaelib.log_importance_weights(model.encoder, model.decoder, x, 4, prior=vaelib.StandardNormalPrior(5))
    with pytest.raises(TypeError, match="must have a log_prob"):
        vaelib.prior_log_prob("normal", torch.zeros(2, 3))
    wrapped = Independent(Normal(torch.zeros(3), 1.0), 1)
    eps = torch.randn(3, 3)
    ours = vaelib.elbo(model.encoder, model.decoder, x, prior=wrapped, eps=eps).elbo
    reference = vaelib.elbo(model.encoder, model.decoder, x, analytic_kl=False, eps=eps).elbo
    torch.testing.assert_close(ours, reference)


def test_a_flow_encoder_is_refused_before_any_training_by_the_diagonal_elbo():
    data = tiny_binary_data()
    model = vaelib.VAE(vaelib.FlowEncoder(2, hidden_dim=8), vaelib.MLPDecoder(2, hidden_dim=8))
    before = {k: v.clone() for k, v in model.state_dict().items()}
    with pytest.raises(TypeError, match="needs a diagonal Gaussian encoder.*FlowEncoder.*bounds.objective"):
        vaelib.fit(model, data, data, epochs=1, batch_size=16, progress=False)
    assert all(torch.equal(v, before[k]) for k, v in model.state_dict().items()), "nothing was trained"
    with pytest.raises(TypeError, match="evaluate .*needs a diagonal Gaussian encoder"):
        vaelib.evaluate(model, data)
    history = vaelib.fit(
        model, data, data, objective=vaelib.bounds.objective(1), epochs=1, batch_size=16, progress=False
    )
    assert len(history.test_elbo) == 1 and math.isfinite(history.test_elbo[0])


@pytest.mark.parametrize("answer", [1 + 0j, torch.tensor([2.0 + 1j]), [1j]], ids=["complex", "tensor", "list"])
def test_a_complex_answer_is_not_called_correct_and_the_check_does_not_raise(answer, capsys):
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the cast that drops an imaginary part warns: it must not happen
        assert vaelib.check_answer(answer, torch.tensor([2.0]) if isinstance(answer, torch.Tensor) else 1.0) is False
    assert "not a number or a tensor of numbers" in capsys.readouterr().out


def test_checkpoint_paths_with_a_tilde_mean_the_home_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    model = vaelib.VAE.mlp(z_dim=2, hidden_dim=8)
    path = vaelib.save_checkpoint(model, "~/models/m.pt")
    assert path == tmp_path / "models" / "m.pt" and path.is_file()
    assert vaelib.load_checkpoint(model, "~/models/m.pt") == {}


@pytest.mark.parametrize(
    ("make", "error", "message"),
    [
        (lambda: vaelib.MixturePrior(2, 0), ValueError, "n_components must be at least 1"),
        (lambda: vaelib.MixturePrior(2, 3.0), TypeError, "write n_components=3"),
        (lambda: vaelib.StandardNormalPrior(0), ValueError, "z_dim must be at least 1"),
        (lambda: vaelib.VampPrior(vaelib.VAE.mlp(z_dim=2, hidden_dim=4).encoder, 0), ValueError, "n_pseudo must be"),
    ],
    ids=["no-components", "float-components", "z-dim-0", "no-pseudo-inputs"],
)
def test_priors_refuse_counts_that_are_zero_or_floats(make, error, message):
    with pytest.raises(error, match=message):
        make()


def test_a_last_batch_of_one_image_is_refused_before_a_batch_norm_model_trains():
    torch.manual_seed(0)
    data = tiny_binary_data(33)
    model = vaelib.VAE.conv(z_dim=2)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    with pytest.raises(ValueError, match="last batch of one image.*batch_size=17"):
        vaelib.fit(model, data, epochs=1, batch_size=16, progress=False)
    assert all(torch.equal(v, before[k]) for k, v in model.state_dict().items())
    vaelib.fit(vaelib.VAE.mlp(z_dim=2, hidden_dim=8), data, epochs=1, batch_size=16, progress=False)  # no batch norm


def test_a_scorer_that_raises_gives_the_model_back_its_mode():
    model = vaelib.VAE.mlp(z_dim=2, hidden_dim=8)
    model.train()

    def broken(z):
        raise RuntimeError("the decoder broke")

    model.decoder.forward = broken
    with pytest.raises(RuntimeError, match="the decoder broke"):
        vaelib.evaluate(model, tiny_binary_data())
    assert model.training and model.decoder.training


def test_a_mistyped_fashion_mnist_folder_is_not_created(tmp_path):
    with pytest.raises(vaelib.DataUnavailableError, match="is not a folder"):
        vaelib.load_fashion_mnist(root=tmp_path / "mistyped", device="cpu")
    assert not (tmp_path / "mistyped").exists()


def test_an_snr_of_nan_gradients_is_an_error_not_no_variance():
    torch.manual_seed(0)
    w = torch.nn.Parameter(torch.ones(3))
    with pytest.raises(ValueError, match="a gradient draw held NaN or infinite values"):
        vaelib.gradient_snr(lambda: (w * float("nan")).sum(), {"w": [w]}, repeats=5)
    with pytest.raises(TypeError, match="repeats .* must be a whole number"):
        vaelib.gradient_snr(lambda: (w * torch.randn(3)).sum(), {"w": [w]}, repeats=5.0)
    with pytest.raises(ValueError, match="must return one number"):
        vaelib.gradient_snr(lambda: w * torch.randn(3), {"w": [w]}, repeats=5)
    snr = vaelib.gradient_snr(lambda: (w * (1 + torch.randn(3))).sum(), {"w": [w]}, repeats=200)["w"]
    assert torch.isfinite(snr).all()


def test_a_refinement_that_diverges_says_so_instead_of_returning_a_bound_of_minus_infinity():
    torch.manual_seed(0)
    model = vaelib.VAE.mlp(z_dim=2, hidden_dim=8)
    x = (torch.rand(4, 1, 28, 28) > 0.5).float()
    with pytest.raises(ValueError, match="refinement diverged.*Lower lr"):
        vaelib.refine(model.encoder, model.decoder, x, 3, 1e6)
    with pytest.raises(TypeError, match="write steps=3"):
        vaelib.refine(model.encoder, model.decoder, x, 3.0, 1e-2)
    refined = vaelib.refine(model.encoder, model.decoder, x, 3, 1e-2)
    assert all(torch.isfinite(p).all() for p in refined)


def test_a_diagonal_encoders_own_output_is_not_read_as_its_local_parameters():
    """The issue's worst case: inference_gaps given (loc, scale) read it as (loc, log scale), 17.0 nats for 1.7."""
    torch.manual_seed(0)
    model = vaelib.VAE.mlp(z_dim=2, hidden_dim=8)
    x = (torch.rand(3, 1, 28, 28) > 0.5).float()
    loc, scale = model.encoder(x)
    with pytest.raises(TypeError, match=r"would be read as \(loc, log scale\).*DiagonalParams\(loc, scale.log\(\)\)"):
        vaelib.inference_gaps(model.encoder, model.decoder, x, k=10, steps=2, samples=1, params=(loc, scale))
    with pytest.raises(TypeError, match="must be its local parameters"):
        vaelib.log_importance_weights(model.encoder, model.decoder, x, 5, params=(loc, scale))
    options = dict(k=50, steps=3, samples=2, seed=7)
    torch.manual_seed(1)  # the optimisation draws its samples from the global generator
    given = vaelib.inference_gaps(
        model.encoder, model.decoder, x, params=vaelib.DiagonalParams(loc, scale.log()), **options
    )
    torch.manual_seed(1)
    default = vaelib.inference_gaps(model.encoder, model.decoder, x, **options)
    assert given == pytest.approx(default, rel=1e-4, abs=1e-4)
    refined = vaelib.refine(model.encoder, model.decoder, x, 2, 1e-2)
    assert isinstance(refined, vaelib.DiagonalParams), "refinement keeps the kind of parameters it was given"


def test_posterior_mean_leaves_a_batch_norm_encoder_as_it_was():
    torch.manual_seed(0)
    encoder = vaelib.VAE.conv(z_dim=3).encoder
    encoder.train()
    before = {k: v.clone() for k, v in encoder.state_dict().items()}
    mean = vaelib.posterior_mean(encoder, torch.rand(4, 1, 28, 28))
    assert mean.shape == (4, 3) and encoder.training and not mean.requires_grad
    assert all(torch.equal(v, before[k]) for k, v in encoder.state_dict().items())


@pytest.mark.parametrize(
    ("labels", "message"),
    [
        (torch.tensor([0, 1, 10]), r"lie in 0\.\.9"),
        (torch.tensor([0.0, 1.0]), "must be integers"),
        (torch.tensor([True, False]), "must be integers"),
    ],
    ids=["ten", "float", "bool"],
)
def test_one_hot_refuses_labels_that_are_not_classes(labels, message):
    with pytest.raises(ValueError, match=message):
        vaelib.one_hot(labels)


def test_one_hot_takes_any_integer_dtype():
    assert torch.equal(vaelib.one_hot(torch.tensor([3], dtype=torch.uint8)), vaelib.one_hot(torch.tensor([3])))


def test_split_labelled_refuses_float_counts_and_labels_outside_the_classes():
    images = torch.rand(40, 1, 28, 28)
    good = ImageData(images, torch.arange(40) % 10, "test")
    with pytest.raises(TypeError, match="write n_labelled=20"):
        vaelib.split_labelled(good, 20.0)
    bad = ImageData(images, torch.arange(40) % 10 - 1, "test")
    with pytest.raises(ValueError, match="labels from -1 to 8"):
        vaelib.split_labelled(bad, 10)
    assert len(vaelib.split_labelled(good, 20).labelled) == 20


def test_label_models_refuse_networks_that_disagree():
    encoder, decoder = vaelib.LabelMLPEncoder(z_dim=4, hidden_dim=8), vaelib.LabelMLPDecoder(z_dim=5, hidden_dim=8)
    with pytest.raises(ValueError, match=r"disagree on z_dim \(encoder 4, decoder 5\)"):
        vaelib.CVAE(encoder, decoder)
    decoder = vaelib.LabelMLPDecoder(z_dim=4, hidden_dim=8)
    classifier = vaelib.MLPClassifier(hidden_dim=8, n_classes=5)
    with pytest.raises(ValueError, match=r"disagree on n_classes \(encoder 10, decoder 10, classifier 5\)"):
        vaelib.M2(encoder, decoder, classifier)


@pytest.mark.parametrize("make", [lambda: vaelib.FullCovarianceEncoder(z_dim=0), lambda: vaelib.FlowEncoder(z_dim=0)])
def test_richer_encoders_refuse_an_empty_code(make):
    with pytest.raises(ValueError, match="z_dim must be at least 1"):
        make()


def test_zero_images_or_codes_are_refused_with_the_likely_cause_not_a_division_by_zero():
    empty = ImageData(torch.zeros(0, 1, 28, 28), torch.zeros(0, dtype=torch.long), "test")
    model, classifier = vaelib.VAE.mlp(z_dim=2, hidden_dim=4), vaelib.MLPClassifier(hidden_dim=4)
    cvae = vaelib.CVAE(vaelib.LabelMLPEncoder(2, 4), vaelib.LabelMLPDecoder(2, 4))
    for call in (
        lambda: vaelib.score_bounds(model, empty, 5),
        lambda: vaelib.score_per_image(model, empty, 5),
        lambda: vaelib.classification_error(classifier, empty),
        lambda: vaelib.confusion_matrix(classifier, empty),
        lambda: vaelib.cvae_terms(cvae, empty),
    ):
        with pytest.raises(ValueError, match="holds no images; check the subset"):
            call()
    for call in (
        lambda: vaelib.mutual_information_gap(torch.zeros(0, 2), torch.zeros(0, 5, dtype=torch.long)),
        lambda: vaelib.total_correlation(torch.zeros(1, 2), torch.ones(1, 2)),
        lambda: vaelib.elbo_surgery(torch.zeros(0, 2), torch.ones(0, 2), vaelib.StandardNormalPrior(2).log_prob),
    ):
        with pytest.raises(ValueError, match=r"holds \d row\(s\); at least 2 are needed"):
            call()


def test_counts_given_as_floats_are_refused_by_chapter_8s_loops_and_the_gap_split():
    data = ImageData((torch.rand(20, 1, 28, 28) > 0.5).float(), torch.arange(20) % 10, "test")
    with pytest.raises(TypeError, match="write steps=10"):
        vaelib.fit_classifier(vaelib.MLPClassifier(hidden_dim=4), data, steps=10.0)
    cvae = vaelib.CVAE(vaelib.LabelMLPEncoder(2, 4), vaelib.LabelMLPDecoder(2, 4))
    with pytest.raises(TypeError, match="write epochs=1"):
        vaelib.fit_cvae(cvae, data, epochs=1.0, progress=False)
    model = vaelib.VAE.mlp(z_dim=2, hidden_dim=4)
    with pytest.raises(TypeError, match="write steps=3"):
        vaelib.inference_gaps(model.encoder, model.decoder, data.images[:2], k=5, steps=3.0, samples=1)


def test_a_diverging_refinement_in_training_is_stopped_by_the_loops_guard():
    torch.manual_seed(0)
    model = vaelib.VAE.mlp(z_dim=2, hidden_dim=8)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    objective = vaelib.bounds.semi_amortized_objective(2, 1e6)
    with pytest.raises(vaelib.NonFiniteLossError, match="no update was applied"):
        vaelib.fit(model, tiny_binary_data(16), objective=objective, epochs=1, batch_size=16, progress=False)
    assert all(torch.equal(v, before[k]) for k, v in model.state_dict().items())
