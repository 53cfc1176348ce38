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
