import pytest
import torch

import vaelib


@pytest.mark.parametrize("kind", ["mlp", "conv"])
@pytest.mark.parametrize("z_dim", [2, 16])
def test_shapes_and_positive_scale(kind, z_dim):
    vae = getattr(vaelib.VAE, kind)(z_dim=z_dim)
    x = torch.rand(5, 1, 28, 28)
    loc, scale = vae.encoder(x)
    assert loc.shape == scale.shape == (5, z_dim)
    assert (scale > 0).all()
    assert vae.decoder(loc).shape == (5, 1, 28, 28)
    assert vae.sample(3).shape == (3, 1, 28, 28)
    assert vae(x).min() >= 0 and vae(x).max() <= 1


def test_scale_is_safe_for_extreme_inputs():
    raw = torch.tensor([-1e4, -50.0, 0.0, 50.0, 1e4])
    scale = vaelib.models.positive_scale(raw)
    assert (scale >= vaelib.models.MIN_SCALE).all() and torch.isfinite(scale.log()).all()


@pytest.mark.parametrize("kind", ["mlp", "conv"])
def test_wrong_shapes_are_reported(kind):
    vae = getattr(vaelib.VAE, kind)(z_dim=4)
    with pytest.raises(ValueError, match=r"\(B, 1, 28, 28\).*\(5, 784\)"):
        vae.encoder(torch.rand(5, 784))
    with pytest.raises(ValueError, match=r"\(B, 4\)"):
        vae.decoder(torch.rand(5, 3))


def test_mismatched_latent_sizes_are_rejected():
    with pytest.raises(ValueError, match="z_dim"):
        vaelib.VAE(vaelib.MLPEncoder(z_dim=4), vaelib.MLPDecoder(z_dim=5))
    with pytest.raises(ValueError, match="z_dim"):
        vaelib.PyroVAE(vaelib.MLPEncoder(z_dim=4), vaelib.MLPDecoder(z_dim=5))


def test_mlp_has_the_tutorial_sizes():
    vae = vaelib.VAE.mlp(z_dim=50, hidden_dim=400)
    n_params = sum(p.numel() for p in vae.parameters())
    # encoder 784*400+400 + 2*(400*50+50), decoder 50*400+400 + 400*784+784
    assert n_params == (784 * 400 + 400 + 2 * (400 * 50 + 50)) + (50 * 400 + 400 + 400 * 784 + 784)


def test_encode_keeps_order_and_active_units_counts(digits):
    _, test = digits
    encoder = vaelib.MLPEncoder(z_dim=3, hidden_dim=8)
    loc, scale = vaelib.encode(encoder, test, batch_size=64)
    assert loc.shape == scale.shape == (len(test), 3)
    with torch.no_grad():
        torch.testing.assert_close(loc[:5], encoder(test.images[:5])[0])
    moving = torch.stack([torch.linspace(-2, 2, 100), torch.zeros(100), 0.001 * torch.randn(100)], dim=1)
    count, activity = vaelib.active_units(moving)
    assert count == 1 and activity.shape == (3,)
    with pytest.raises(ValueError, match="N >= 2"):
        vaelib.active_units(torch.zeros(1, 3))


def test_check_answer(capsys):
    assert not vaelib.check_answer(None, 1.0)
    assert "not answered yet" in capsys.readouterr().out
    assert vaelib.check_answer(0.50001, 0.5, name="kl")
    assert "kl: correct" in capsys.readouterr().out
    assert not vaelib.check_answer([1.0, 2.0], [1.0, 3.0])
    assert vaelib.check_answer("bernoulli", "bernoulli")


@pytest.mark.parametrize("kind", ["mlp", "conv"])
def test_integer_pixels_are_reported(kind):
    vae = getattr(vaelib.VAE, kind)(z_dim=2)
    with pytest.raises(ValueError, match=r"floating-point input, got torch.uint8.*x.float\(\) / 255"):
        vae.encoder(torch.zeros(2, 1, 28, 28, dtype=torch.uint8))


def test_the_conv_pair_halves_the_resolution_twice_and_mirrors_it():
    encoder, decoder = vaelib.ConvEncoder(z_dim=3), vaelib.ConvDecoder(z_dim=3)
    features = encoder.features(torch.zeros(2, *vaelib.IMAGE_SHAPE))  # (2, c2 * 7 * 7)
    assert features.shape == (2, 64 * 7 * 7)
    assert decoder(torch.zeros(2, 3)).shape == (2, *vaelib.IMAGE_SHAPE)
