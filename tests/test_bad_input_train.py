"""Bad input to the training loops and scores, the NaN guard's promises, and the KL-weight schedule.

Every refused call must leave the model (and the optimizer) exactly as it was; every guard message
must describe what happened."""

import functools
import math
import re
from pathlib import Path

import pyro
import pytest
import torch

import vaelib
import vaelib.checks
import vaelib.train

VAELIB = Path(vaelib.__file__).parent


@pytest.fixture
def small(digits):
    train, test = digits
    return train.subset(96), test.subset(64)


def snapshot(module):
    return {k: v.detach().clone() for k, v in module.state_dict().items()}


def assert_unchanged(module, before):
    for key, value in module.state_dict().items():
        assert torch.equal(value.nan_to_num(), before[key].nan_to_num()), f"{key} changed"


def tiny_vae():
    torch.manual_seed(0)
    return vaelib.VAE.mlp(z_dim=3, hidden_dim=8)


# ---------------------------------------------------------------- fit


def fit_cases(train, test, model):
    other = torch.nn.Linear(2, 2)
    empty = vaelib.ImageData(train.images[:0], train.labels[:0], train.source)
    return {
        "data-first": ((train, model), {}, TypeError, r"model is an ImageData; the model comes first"),
        "state-dict": (({"w": 1}, train), {}, TypeError, r"must be a torch\.nn\.Module, got dict"),
        "no-encoder": ((other, train), {}, TypeError, r"\(Linear\) has no encoder, decoder"),
        "tensor-data": ((model, train.images), {}, TypeError, r"train must be a vaelib\.ImageData, got Tensor"),
        "dataloader": (
            (model, torch.utils.data.DataLoader(list(range(4)))),
            {},
            TypeError,
            r"got DataLoader.*load_mnist",
        ),
        "epochs-as-test": ((model, train, 5), {}, TypeError, r"test must be an ImageData or None.*epochs=5"),
        "tensor-test": ((model, train, test.images), {}, TypeError, r"test must be a vaelib\.ImageData"),
        "empty": ((model, empty), {}, ValueError, r"train holds no images"),
        "negative-epochs": ((model, train), {"epochs": -1}, ValueError, r"epochs must be at least 0, got -1"),
        "float-epochs": ((model, train), {"epochs": 2.5}, TypeError, r"epochs must be a whole number, got 2\.5"),
        "float-batch": ((model, train), {"batch_size": 32.0}, TypeError, r"batch_size.*32\.0.*batch_size=32"),
        "zero-lr": ((model, train), {"lr": 0}, ValueError, r"lr must be positive, got 0"),
        "nan-lr": ((model, train), {"lr": math.nan}, ValueError, r"lr must be a finite number"),
        "str-lr": ((model, train), {"lr": "1e-3"}, TypeError, r"lr must be a number, got '1e-3'"),
        "negative-beta": ((model, train), {"beta": -1.0}, ValueError, r"beta must be at least 0\.0"),
        "negative-warmup": ((model, train), {"kl_warmup_epochs": -2}, ValueError, r"kl_warmup_epochs must be at"),
        "binarize-str": ((model, train), {"binarize": "yes"}, TypeError, r"binarize must be True or False"),
        "progress-none": ((model, train), {"progress": None}, TypeError, r"progress must be True or False"),
        "history-list": ((model, train), {"history": []}, TypeError, r"history must be the vaelib\.History"),
        "on-epoch-str": ((model, train), {"on_epoch": "print"}, TypeError, r"on_epoch must be a function"),
        "likelihood-str": ((model, train), {"log_likelihood": "bernoulli"}, TypeError, r"log_likelihood must be a"),
        "foreign-optimizer": (
            (model, train),
            {"optimizer": torch.optim.Adam(other.parameters())},
            ValueError,
            r"optimizer holds none of this model's parameters.*Adam\(model\.parameters\(\)\)",
        ),
        "pyro-optimizer": (
            (model, train),
            {"optimizer": pyro.optim.Adam({"lr": 1e-3})},
            TypeError,
            r"optimizer must be a torch\.optim\.Optimizer",
        ),
        "lr-and-optimizer": (
            (model, train),
            {"optimizer": torch.optim.Adam(model.parameters()), "lr": 1e-2},
            ValueError,
            r"pass either lr or optimizer, not both",
        ),
        "model-elsewhere": (
            (vaelib.VAE.mlp(z_dim=3, hidden_dim=8).to("meta"), train),
            {},
            ValueError,
            r"model is on meta but train on cpu.*\.to",
        ),
    }


@pytest.mark.parametrize(
    "case",
    [
        "data-first",
        "state-dict",
        "no-encoder",
        "tensor-data",
        "dataloader",
        "epochs-as-test",
        "tensor-test",
        "empty",
        "negative-epochs",
        "float-epochs",
        "float-batch",
        "zero-lr",
        "nan-lr",
        "str-lr",
        "negative-beta",
        "negative-warmup",
        "binarize-str",
        "progress-none",
        "history-list",
        "on-epoch-str",
        "likelihood-str",
        "foreign-optimizer",
        "pyro-optimizer",
        "lr-and-optimizer",
        "model-elsewhere",
    ],
)
def test_fit_refuses_bad_input_and_leaves_the_model_as_it_was(small, case):
    train, test = small
    model = tiny_vae()
    args, kwargs, error, message = fit_cases(train, test, model)[case]
    target = args[0] if isinstance(args[0], torch.nn.Module) else model
    before = snapshot(target)
    with pytest.raises(error, match=message):
        vaelib.fit(*args, **{"progress": False, **kwargs})
    if next(target.parameters()).device.type != "meta":  # meta tensors hold no values to compare
        assert_unchanged(target, before)


def test_fit_takes_its_options_by_name_only(small):
    train, test = small
    with pytest.raises(TypeError, match="positional"):
        vaelib.fit(tiny_vae(), train, test, 1)


# ---------------------------------------------------------------- evaluate and estimate_log_likelihood


@pytest.mark.parametrize(
    ("function", "kwargs", "error", "message"),
    [
        (vaelib.evaluate, {"batch_size": 0}, ValueError, r"batch_size must be at least 1"),
        (vaelib.evaluate, {"binarize": None}, TypeError, r"binarize must be True or False"),
        (vaelib.evaluate, {"generator": 7}, TypeError, r"generator must be a torch\.Generator"),
        (vaelib.evaluate, {"log_likelihood": None}, TypeError, r"log_likelihood must be a function"),
        (vaelib.estimate_log_likelihood, {"k": 2.5}, TypeError, r"k \(importance samples per image\).*2\.5"),
        (vaelib.estimate_log_likelihood, {"k": 0}, ValueError, r"k \(importance samples per image\) must be at"),
        (vaelib.estimate_log_likelihood, {"k": 4, "batch_size": -1}, ValueError, r"batch_size must be at least 1"),
        (vaelib.log_likelihood_per_image, {"k": 0}, ValueError, r"k \(importance samples per image\) must be at"),
        (vaelib.log_likelihood_per_image, {"k": 4, "binarize": 1}, TypeError, r"binarize must be True or False"),
    ],
    ids=[
        "batch-0",
        "binarize-none",
        "seed-as-generator",
        "no-likelihood",
        "float-k",
        "zero-k",
        "negative-batch",
        "per-image-zero-k",
        "per-image-binarize-int",
    ],
)
def test_scores_refuse_bad_options(small, function, kwargs, error, message):
    _, test = small
    model = tiny_vae()
    before = snapshot(model)
    with pytest.raises(error, match=message):
        function(model, test, **kwargs)
    assert_unchanged(model, before)
    assert model.training, "the mode is as it was"


def test_scores_refuse_swapped_or_empty_arguments(small):
    _, test = small
    model = tiny_vae()
    with pytest.raises(TypeError, match="the model comes first"):
        vaelib.evaluate(test, model)
    with pytest.raises(TypeError, match=r"data must be a vaelib\.ImageData, got Tensor"):
        vaelib.estimate_log_likelihood(model, test.images, k=4)
    with pytest.raises(ValueError, match="data holds no images"):
        vaelib.evaluate(model, vaelib.ImageData(test.images[:0], test.labels[:0], test.source))
    with pytest.raises(TypeError, match="k"):
        vaelib.estimate_log_likelihood(model, test)  # k is required, by name
    with pytest.raises(TypeError, match="positional"):
        vaelib.evaluate(model, test, 100)


# ---------------------------------------------------------------- fit_svi and evaluate_svi


def pyro_vae(grey_pixels=False):
    pyro.clear_param_store()
    net = tiny_vae()
    return vaelib.PyroVAE(net.encoder, net.decoder, grey_pixels=grey_pixels)


@pytest.mark.parametrize(
    ("make", "kwargs", "error", "message"),
    [
        (tiny_vae, {}, TypeError, r"need a vaelib\.PyroVAE.*got VAE.*PyroVAE\(vae\.encoder, vae\.decoder\)"),
        (lambda: torch.nn.Linear(2, 2), {}, TypeError, r"expected a vaelib\.PyroVAE first, got Linear"),
        (pyro_vae, {"binarize": False}, ValueError, r"train holds grey pixels.*support.*binarize=True.*grey_pixels"),
        (pyro_vae, {"loss": pyro.infer.Trace_ELBO}, TypeError, r"Pyro ELBO object.*note the parentheses"),
        (pyro_vae, {"lr": -1e-3}, ValueError, r"lr must be positive"),
        (pyro_vae, {"epochs": -1}, ValueError, r"epochs must be at least 0"),
        (pyro_vae, {"batch_size": 1.5}, TypeError, r"batch_size must be a whole number"),
        (pyro_vae, {"history": {}}, TypeError, r"history must be the vaelib\.History"),
    ],
    ids=["plain-vae", "not-a-vae", "grey", "elbo-class", "negative-lr", "negative-epochs", "float-batch", "dict"],
)
def test_fit_svi_refuses_bad_input_before_touching_anything(small, make, kwargs, error, message):
    train, _ = small
    vae = make()
    before = snapshot(vae)
    with pytest.raises(error, match=message):
        vaelib.fit_svi(vae, train, progress=False, **kwargs)
    assert_unchanged(vae, before)


def test_evaluate_svi_refuses_bad_input(small):
    _, test = small
    with pytest.raises(TypeError, match=r"PyroVAE\(vae\.encoder, vae\.decoder\)"):
        vaelib.evaluate_svi(tiny_vae(), test)
    vae = pyro_vae()
    with pytest.raises(ValueError, match=r"data holds grey pixels.*binarize=True"):
        vaelib.evaluate_svi(vae, test, binarize=False)
    with pytest.raises(TypeError, match="note the parentheses"):
        vaelib.evaluate_svi(vae, test, loss=pyro.infer.Trace_ELBO)
    with pytest.raises(TypeError, match="positional"):
        vaelib.evaluate_svi(vae, test, True)
    assert vae.training


def test_grey_pixels_are_fine_for_a_grey_pyro_vae_or_binarized(small):
    _, test = small
    assert math.isfinite(vaelib.evaluate_svi(pyro_vae(grey_pixels=True), test, binarize=False))
    assert math.isfinite(vaelib.evaluate_svi(pyro_vae(), test))  # binarize=True by default


# ---------------------------------------------------------------- the NaN guard's promises


class BadGradient(torch.autograd.Function):
    """Passes values through unchanged; its gradient is ``value`` (NaN or inf) everywhere."""

    @staticmethod
    def forward(ctx, x, value):
        ctx.value = value
        return x.clone()

    @staticmethod
    def backward(ctx, grad):
        return torch.full_like(grad, ctx.value), None


class GradientBreaker(torch.nn.Module):
    """A decoder whose ``at_call``-th forward pass has finite logits but a NaN/inf gradient. It copies
    the watched model's parameters at that call: what they must still be after the guard stops."""

    def __init__(self, inner, at_call, value):
        super().__init__()
        self.inner, self.z_dim, self.at_call, self.value, self.calls = inner, inner.z_dim, at_call, value, 0
        self.watched, self.at_break = None, None

    def forward(self, z):
        self.calls += 1
        logits = self.inner(z)
        if self.calls == self.at_call:
            self.at_break = snapshot(self.watched)
            return BadGradient.apply(logits, self.value)
        return logits


@pytest.mark.parametrize("value", [math.nan, math.inf], ids=["nan", "inf"])
def test_fit_checks_the_gradients_not_only_the_loss(small, value):
    train, _ = small
    torch.manual_seed(0)
    decoder = GradientBreaker(vaelib.MLPDecoder(z_dim=3, hidden_dim=8), at_call=3, value=value)
    model = vaelib.VAE(vaelib.MLPEncoder(z_dim=3, hidden_dim=8), decoder)
    object.__setattr__(decoder, "watched", model)  # a plain reference, not a submodule
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    with pytest.raises(vaelib.NonFiniteLossError) as info:
        vaelib.fit(model, train, epochs=1, batch_size=32, optimizer=optimizer, progress=False)
    message = str(info.value)
    assert re.search(r"epoch 1, step 2: the loss is -?\d.*gradients' norm (nan|inf); no update was applied", message)
    assert_unchanged(model, decoder.at_break)
    assert all(p.grad is None for p in model.parameters()), "the bad gradients are dropped"
    assert {s["step"].item() for s in optimizer.state.values()} == {2.0}, "Adam took exactly the two good steps"


@pytest.mark.parametrize("grey_pixels", [False, True], ids=["validated", "unvalidated"])
def test_fit_svi_checks_the_gradients_not_only_the_loss(small, grey_pixels):
    train, _ = small
    pyro.clear_param_store()
    torch.manual_seed(0)
    decoder = GradientBreaker(vaelib.MLPDecoder(z_dim=3, hidden_dim=8), at_call=3, value=math.nan)
    vae = vaelib.PyroVAE(vaelib.MLPEncoder(z_dim=3, hidden_dim=8), decoder, grey_pixels=grey_pixels)
    object.__setattr__(decoder, "watched", vae)
    with pytest.raises(vaelib.NonFiniteLossError, match=r"epoch 1, step 2: the loss is \d.*norm nan; no update was"):
        vaelib.fit_svi(vae, train, epochs=1, batch_size=32, progress=False)
    assert_unchanged(vae, decoder.at_break)
    assert all(p.grad is None for p in vae.parameters())


def test_fit_svi_says_so_when_the_parameters_were_broken_before_training(small):
    train, _ = small
    vae = pyro_vae()
    with torch.no_grad():
        vae.decoder.logits.bias[3] = math.nan
    before = snapshot(vae)
    with pytest.raises(vaelib.NonFiniteLossError, match=r"step 0: parameter\(s\) decoder\.logits\.bias already"):
        vaelib.fit_svi(vae, train, epochs=1, batch_size=32, progress=False)
    assert_unchanged(vae, before)


def test_a_pyro_validation_error_that_is_not_a_nan_is_passed_on(small):
    """Told apart by a check (the loss without validation is finite), not by the text of Pyro's message."""
    train, _ = small

    class NegativeScaleGuide(vaelib.PyroVAE):
        def guide(self, x):
            pyro.module("encoder", self.encoder)
            with pyro.plate("data", x.shape[0]):
                loc, scale = self.encoder(x)
                pyro.sample("z", pyro.distributions.Normal(loc, -scale).to_event(1))

    pyro.clear_param_store()
    net = tiny_vae()
    vae = NegativeScaleGuide(net.encoder, net.decoder)
    before = snapshot(vae)
    with pytest.raises(ValueError, match="scale") as info:
        vaelib.fit_svi(vae, train, epochs=1, batch_size=32, progress=False)
    assert not isinstance(info.value, vaelib.NonFiniteLossError)
    assert_unchanged(vae, before)


def test_training_code_has_no_private_torch_api_and_reads_no_error_text():
    for path in VAELIB.rglob("*.py"):
        source = path.read_text()
        assert not re.search(r"torch\._[a-z]", source), f"{path.name} uses a private torch API"
        matches_text = re.search(r"[\"'] (not )?in str\(", source) or "Expected parameter" in source
        assert not matches_text, f"{path.name} decides by the text of an error message"


# ---------------------------------------------------------------- the KL-weight schedule


@pytest.mark.parametrize(
    ("progress", "beta", "warmup", "expected"),
    [(0, 2.0, 4, 0.0), (1, 2.0, 4, 0.5), (3.0, 2.0, 4, 1.5), (4, 2.0, 4, 2.0), (9, 2.0, 4, 2.0), (0, 1.5, 0, 1.5)],
    ids=["start", "quarter", "three-quarters", "end", "after", "no-warmup"],
)
def test_kl_weight_warms_up_linearly_to_beta(progress, beta, warmup, expected):
    assert vaelib.kl_weight(progress, beta, warmup) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("args", "error", "message"),
    [
        ((-0.5, 1.0, 2.0), ValueError, r"progress_epochs must be at least 0"),
        ((1.0, math.nan, 2.0), ValueError, r"beta must be a finite number"),
        ((1.0, 1.0, -1.0), ValueError, r"warmup_epochs must be at least 0"),
        ((1.0, "1", 2.0), TypeError, r"beta must be a number, got '1'"),
    ],
    ids=["negative-progress", "nan-beta", "negative-warmup", "str-beta"],
)
def test_kl_weight_refuses_bad_input(args, error, message):
    with pytest.raises(error, match=message):
        vaelib.kl_weight(*args)


def test_fit_follows_the_schedule_and_a_continued_run_continues_it(small, monkeypatch):
    train, _ = small
    seen = []
    real_elbo = vaelib.train.elbo

    def recording_elbo(*args, beta, **kwargs):
        seen.append(beta)
        return real_elbo(*args, beta=beta, **kwargs)

    monkeypatch.setattr(vaelib.train, "elbo", recording_elbo)
    model = tiny_vae()
    history = vaelib.fit(model, train, epochs=1, batch_size=32, beta=2.0, kl_warmup_epochs=1.5, progress=False)
    vaelib.fit(model, train, epochs=1, batch_size=32, beta=2.0, kl_warmup_epochs=1.5, history=history, progress=False)
    steps = len(train.batches(32))
    expected = [vaelib.kl_weight(e + s / steps, 2.0, 1.5) for e in range(2) for s in range(steps)]
    assert seen == pytest.approx(expected)
    assert seen[0] == 0 and seen[-1] == 2.0


# ---------------------------------------------------------------- no value checks per training step


def test_training_reads_no_tensor_values_for_validation_per_step(small, monkeypatch):
    """The likelihoods' range checks (a host sync each) are skipped inside the loops: the images were
    checked once, when the ImageData was made."""
    train, _ = small
    calls = []
    real = vaelib.checks.value_range
    monkeypatch.setattr(vaelib.checks, "value_range", lambda x: calls.append(x.shape) or real(x))
    likelihoods = [
        vaelib.bernoulli_log_likelihood,
        vaelib.continuous_bernoulli_log_likelihood,
        functools.partial(vaelib.gaussian_log_likelihood, std=0.5),
    ]
    for log_likelihood in likelihoods:
        vaelib.fit(tiny_vae(), train, epochs=1, batch_size=16, log_likelihood=log_likelihood, progress=False)
        vaelib.evaluate(tiny_vae(), train, batch_size=16, log_likelihood=log_likelihood)
    assert calls == [], f"{len(calls)} value checks ran inside the loops"
    with pytest.raises(ValueError, match=r"Bernoulli data must lie in \[0, 1\]"):  # called directly: checked
        vaelib.bernoulli_log_likelihood(torch.zeros(2, 4), torch.full((2, 4), 3.0))
    assert calls, "the direct call did check"
