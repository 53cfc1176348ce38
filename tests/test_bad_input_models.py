"""Bad input to the networks, the Pyro wrapper, the analysis and gradient helpers, the toy model
and the exercise checks: our error (what was wrong, what to do), never torch's from deep inside."""

import math
import re

import numpy as np
import pytest
import torch

import vaelib
from vaelib.gradients import reparameterization_gradient, score_function_gradient
from vaelib.toy import LinearGaussian


@pytest.mark.parametrize(
    ("make", "error", "message"),
    [
        (lambda: vaelib.MLPEncoder(z_dim=0), ValueError, r"MLPEncoder's z_dim must be at least 1, got 0"),
        (lambda: vaelib.MLPDecoder(z_dim=2.0), TypeError, r"MLPDecoder's z_dim must be a whole number.*z_dim=2"),
        (lambda: vaelib.MLPEncoder(hidden_dim=-4), ValueError, r"MLPEncoder's hidden_dim must be at least 1"),
        (lambda: vaelib.ConvEncoder(channels=(8,)), ValueError, r"ConvEncoder's channels must be two whole numbers"),
        (lambda: vaelib.ConvDecoder(channels=32), ValueError, r"ConvDecoder's channels must be two whole numbers"),
        (lambda: vaelib.ConvDecoder(channels=(8, 0)), ValueError, r"ConvDecoder's channels must be at least 1"),
        (lambda: vaelib.VAE(torch.nn.Linear(2, 2), vaelib.MLPDecoder()), TypeError, r"encoder \(Linear\) has no z_dim"),
        (lambda: vaelib.VAE("mlp", vaelib.MLPDecoder()), TypeError, r"encoder must be a torch\.nn\.Module, got str"),
        (lambda: vaelib.PyroVAE(vaelib.MLPEncoder(), None), TypeError, r"decoder must be a torch\.nn\.Module"),
        (
            lambda: vaelib.PyroVAE(vaelib.MLPEncoder(), vaelib.MLPDecoder(), grey_pixels="yes"),
            TypeError,
            r"grey_pixels must be True or False",
        ),
    ],
    ids=[
        "z0",
        "float-z",
        "hidden-negative",
        "one-channel",
        "int-channels",
        "zero-channel",
        "no-z-dim",
        "str",
        "none-decoder",
        "grey-str",
    ],
)
def test_networks_refuse_bad_sizes_and_parts(make, error, message):
    with pytest.raises(error, match=message):
        make()


@pytest.mark.parametrize("kind", ["mlp", "conv"])
@pytest.mark.parametrize(
    ("x", "error", "message"),
    [
        (
            torch.rand(2, 1, 28, 28, dtype=torch.float64),
            ValueError,
            r"weights are torch\.float32 but its input is "
            r"torch\.float64; use x\.to\(torch\.float32\)",
        ),
        (torch.rand(2, 1, 28, 28, device="meta"), ValueError, r"weights are on cpu but its input is on meta.*x\.to"),
        (torch.rand(2, 3, 28, 28), ValueError, r"three colour channels.*mean\(1, keepdim=True\)"),
        (np.zeros((2, 1, 28, 28), dtype=np.float32), TypeError, r"expects a torch\.Tensor, got ndarray"),
    ],
    ids=["float64", "other-device", "rgb", "numpy"],
)
def test_encoders_name_dtype_device_and_shape_problems(kind, x, error, message):
    vae = getattr(vaelib.VAE, kind)(z_dim=2)
    with pytest.raises(error, match=message):
        vae.encoder(x)


def test_decoders_name_a_wrong_latent_dtype():
    with pytest.raises(ValueError, match=r"MLPDecoder's weights are torch\.float32 but its input is torch\.float16"):
        vaelib.MLPDecoder(z_dim=2)(torch.zeros(3, 2, dtype=torch.float16))


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"n": 0}, ValueError, r"n \(the number of samples\) must be at least 1"),
        ({"n": 2.5}, TypeError, r"n \(the number of samples\) must be a whole number"),
        ({"n": 2, "generator": 0}, TypeError, r"generator must be a torch\.Generator"),
    ],
    ids=["zero", "float", "seed-as-generator"],
)
def test_sampling_refuses_bad_counts(kwargs, error, message):
    with pytest.raises(error, match=message):
        vaelib.VAE.mlp(z_dim=2, hidden_dim=8).sample(**kwargs)


def test_encode_and_active_units_refuse_bad_input(digits):
    _, test = digits
    encoder = vaelib.MLPEncoder(z_dim=2, hidden_dim=8)
    with pytest.raises(TypeError, match=r"data must be a vaelib\.ImageData, got Tensor"):
        vaelib.encode(encoder, test.images)
    with pytest.raises(TypeError, match=r"encoder must be a torch\.nn\.Module, got ImageData"):
        vaelib.encode(test, encoder)
    with pytest.raises(TypeError, match=r"loc must hold floating-point numbers, got torch\.int64"):
        vaelib.active_units(torch.zeros(5, 2, dtype=torch.long))
    with pytest.raises(ValueError, match=r"threshold must be at least 0\.0"):
        vaelib.active_units(torch.randn(5, 2), threshold=-0.1)
    with pytest.raises(ValueError, match=r"NaN or infinite posterior means; check the encoder"):
        vaelib.active_units(torch.tensor([[0.0, math.nan], [1.0, 2.0]]))


@pytest.mark.parametrize("estimator", [score_function_gradient, reparameterization_gradient], ids=lambda e: e.__name__)
@pytest.mark.parametrize(
    ("args", "kwargs", "error", "message"),
    [
        (("z^2", torch.zeros(3), torch.ones(3)), {}, TypeError, r"f must be a function of z"),
        ((None, torch.zeros(3), -torch.ones(3)), {}, ValueError, r"scale must hold positive standard deviations"),
        ((None, torch.zeros(3), torch.ones(2)), {}, ValueError, r"loc \(3,\) and scale \(2,\) must have the same"),
        ((None, torch.zeros(3, dtype=torch.long), torch.ones(3)), {}, TypeError, r"loc must hold floating-point"),
        ((None, torch.zeros(3), torch.ones(3)), {"n_samples": 0}, ValueError, r"n_samples must be at least 1"),
        ((None, torch.zeros(3), torch.ones(3)), {"n_samples": 10.0}, TypeError, r"n_samples must be a whole number"),
        ((None, torch.zeros(3), torch.ones(3)), {"n_samples": (4, 0)}, ValueError, r"each entry of n_samples"),
        ((None, torch.zeros(3), torch.ones(3)), {"generator": 1}, TypeError, r"generator must be a torch\.Generator"),
    ],
    ids=["f-str", "negative-scale", "shapes", "int-loc", "zero-samples", "float-samples", "tuple-zero", "seed"],
)
def test_gradient_estimators_refuse_bad_input(estimator, args, kwargs, error, message):
    f, loc, scale = args
    with pytest.raises(error, match=message):
        estimator(f if f is not None else (lambda z: z.pow(2).sum(-1)), loc, scale, **kwargs)


def test_toy_model_refuses_bad_input():
    weight, bias = torch.randn(3, 2, dtype=torch.float64), torch.zeros(3, dtype=torch.float64)
    with pytest.raises(TypeError, match=r"weight must be a torch\.Tensor, got list"):
        LinearGaussian(weight.tolist(), bias, 0.5)
    with pytest.raises(TypeError, match=r"noise_std must be a number, got '0\.5'"):
        LinearGaussian(weight, bias, "0.5")
    with pytest.raises(ValueError, match=r"noise_std must be positive, got 0\.0"):
        LinearGaussian(weight, bias, 0.0)
    model = LinearGaussian(weight, bias, 0.5)
    with pytest.raises(ValueError, match=r"x is torch\.float32 on cpu but the model's weight torch\.float64.*x\.to"):
        model.log_marginal(torch.zeros(4, 3))
    with pytest.raises(ValueError, match=r"n must be at least 1"):
        model.sample(0)


@pytest.mark.parametrize(
    ("answer", "expected", "reason"),
    [
        (torch.tensor([0.5]), 0.5, r"shape \(1,\) but a single number, shape \(\) is expected; use \.item\(\)"),
        (torch.ones(2, 3), torch.ones(2), r"shape \(2, 3\) but shape \(2,\) is expected; check which dimensions"),
        (np.array(["0.5"]), 0.5, r"of type ndarray, not a number or a tensor of numbers"),
        ({"kl": 0.5}, 0.5, r"of type dict"),
        ([[1.0], [1.0, 2.0]], [1.0, 2.0], r"of type list"),
        (1 + 2j, 1.0, r"of type complex"),
        (torch.tensor(math.nan), 0.5, r"contains NaN; check for a log of zero"),
        (torch.tensor([1.0, 2.0]), torch.tensor([1.0, 3.0]), r"the values differ \(largest difference 1\)"),
        (np.array(["normal"]), "bernoulli", r"expected 'bernoulli'"),
    ],
    ids=["shape-1", "extra-dim", "str-array", "dict", "ragged", "complex", "nan", "wrong", "str-vs-array"],
)
def test_check_answer_says_why_and_never_raises(capsys, answer, expected, reason):
    assert vaelib.check_answer(answer, expected, name="kl") is False
    out = capsys.readouterr().out
    assert out.startswith("kl: not yet - got ") and "Read the hint" in out
    assert re.search(reason, out), out


def test_check_answer_survives_answers_that_misbehave(capsys):
    class Hostile:
        def __eq__(self, other):
            raise RuntimeError("no comparing")

        def __repr__(self):
            raise RuntimeError("no printing")

        def __float__(self):
            raise RuntimeError("no numbers")

    assert vaelib.check_answer(Hostile(), 0.5) is False
    assert vaelib.check_answer(Hostile(), "bernoulli") is False
    assert "a Hostile" in capsys.readouterr().out


def test_check_answer_accepts_answers_with_autograd_history(capsys):
    answer = torch.ones(3, requires_grad=True) * 2
    assert vaelib.check_answer(answer, torch.full((3,), 2.0)) is True
    assert "correct" in capsys.readouterr().out
