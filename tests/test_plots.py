import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch

import vaelib
from vaelib import plots


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def test_image_grid_and_reconstructions():
    images = torch.rand(6, 1, 28, 28)
    fig = plots.image_grid(images, nrow=3, title="six")
    shown = fig.axes[0].images[0].get_array()
    assert shown.shape == (2 * 30 + 2, 3 * 30 + 2)  # 28-pixel tiles with 2-pixel padding
    fig = plots.reconstructions(images[:4], images[:4].flip(-1))
    assert fig.axes[0].images[0].get_array().shape == (2 * 30 + 2, 4 * 30 + 2)


def test_normal_quantile_grid():
    grid = plots.normal_quantile_grid(5)
    assert grid.shape == (25, 2)
    assert grid[0, 0] < grid[1, 0]  # z_1 grows along a row
    assert grid[0, 1] > grid[5, 1]  # z_2 falls down the rows
    assert grid.abs().max().item() == pytest.approx(1.6449, abs=1e-3)  # the 95% quantile
    torch.testing.assert_close(grid.mean(0), torch.zeros(2), atol=1e-6, rtol=0)


def test_latent_manifold_needs_two_dimensions():
    plots.latent_manifold(vaelib.MLPDecoder(z_dim=2, hidden_dim=8), n=4)
    with pytest.raises(ValueError, match="2-D latent"):
        plots.latent_manifold(vaelib.MLPDecoder(z_dim=3, hidden_dim=8))


def test_latent_scatter_has_ten_distinct_colours_and_a_legend():
    rng = np.random.default_rng(0)
    fig = plots.latent_scatter(rng.normal(size=(200, 2)), np.arange(200) % 10)
    ax = fig.axes[0]
    legend = ax.get_legend()
    assert [t.get_text() for t in legend.get_texts()] == [str(d) for d in range(10)]
    colours = {tuple(c.get_facecolor()[0]) for c in ax.collections}
    assert len(colours) == 10
    with pytest.raises(ValueError, match=r"\(N, 2\)"):
        plots.latent_scatter(rng.normal(size=(5, 3)), np.zeros(5))


def test_interpolation_and_curves():
    decoder = vaelib.MLPDecoder(z_dim=3, hidden_dim=8)
    fig = plots.interpolation(decoder, torch.zeros(3), torch.ones(3), steps=7)
    assert fig.axes[0].images[0].get_array().shape == (32, 7 * 30 + 2)
    history = vaelib.History(train_elbo=[-200.0, -150.0], test_elbo=[-190.0, -160.0], seconds=[1.0, 1.0])
    ax = plots.elbo_curves(history, label="MLP").axes[0]
    assert [line.get_label() for line in ax.get_lines()] == ["MLP train", "MLP test"]
    ax.figure.canvas.draw()
    ticks = [t for t in ax.get_xticks() if 1 <= t <= 2]
    assert ticks and all(float(t).is_integer() for t in ticks), f"epoch ticks {ticks} should be whole numbers"
    assert isinstance(fig, matplotlib.figure.Figure)
