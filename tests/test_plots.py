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


def test_posterior_ellipses_are_axis_aligned_one_sigma_contours():
    loc = torch.tensor([[0.0, 0.0], [1.0, -1.0], [2.0, 0.5]])
    scale = torch.tensor([[0.1, 0.3], [0.5, 0.2], [1.0, 1.0]])
    labels = torch.tensor([3, 3, 7])
    background = torch.randn(50, 2, generator=torch.Generator().manual_seed(0))
    fig = plots.posterior_ellipses(loc, scale, labels, background=background, n_sigma=2.0, title="q(z|x)")
    ax = fig.axes[0]
    ellipses = [p for p in ax.patches if isinstance(p, matplotlib.patches.Ellipse)]
    assert len(ellipses) == 3
    for ellipse, centre, (sx, sy) in zip(ellipses, loc.tolist(), scale.tolist(), strict=True):
        assert ellipse.center == pytest.approx(centre)
        assert (ellipse.width, ellipse.height, ellipse.angle) == pytest.approx((4 * sx, 4 * sy, 0.0))
    assert ellipses[0].get_edgecolor() == ellipses[1].get_edgecolor() != ellipses[2].get_edgecolor()
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["3", "7", "posterior means"]
    assert len(ax.collections[0].get_offsets()) == 50  # the grey background of means
    ax.figure.canvas.draw()
    x_low, x_high = ax.get_xlim()
    assert x_low <= 2.0 - 2 * 1.0 and x_high >= 2.0 + 2 * 1.0, "the view holds the largest ellipse"


@pytest.mark.parametrize(
    "loc, scale, labels, message",
    [
        (torch.zeros(3, 3), torch.ones(3, 3), torch.zeros(3), r"shape \(N, 2\)"),
        (torch.zeros(3, 2), torch.ones(2, 2), torch.zeros(3), "same shape"),
        (torch.zeros(3, 2), torch.zeros(3, 2), torch.zeros(3), "positive standard deviations"),
        (torch.zeros(3, 2), torch.ones(3, 2), torch.zeros(2), "one label per ellipse"),
        (torch.full((3, 2), float("nan")), torch.ones(3, 2), torch.zeros(3), "NaN"),
    ],
    ids=["3-D", "mismatch", "zero scale", "labels", "nan"],
)
def test_posterior_ellipses_explain_bad_input(loc, scale, labels, message):
    with pytest.raises(ValueError, match=message):
        plots.posterior_ellipses(loc, scale, labels)
