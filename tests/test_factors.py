"""The dSprites-like generator (vaelib.priors.shapes): deterministic, and its factors are what the images show."""

import math

import pytest
import torch

import vaelib
from vaelib.priors import shapes as factors


@pytest.fixture(scope="module")
def shapes():
    return vaelib.make_shapes(3000, seed=3)


def test_same_seed_same_images_other_seed_other_images(shapes):
    again = vaelib.make_shapes(3000, seed=3)
    assert torch.equal(again.images, shapes.images) and torch.equal(again.factors, shapes.factors)
    other = vaelib.make_shapes(3000, seed=4)
    assert not torch.equal(other.factors, shapes.factors)


def test_images_are_binary_mnist_shaped_and_every_factor_value_occurs(shapes):
    assert isinstance(shapes, vaelib.FactorImages) and len(shapes) == 3000
    data = shapes.as_image_data()  # ImageData validates shape and range
    assert set(data.labels.unique().tolist()) == set(range(len(vaelib.SHAPES))), "labelled by shape"
    assert set(data.images.unique().tolist()) == {0.0, 1.0}
    assert shapes.sizes == (3, 6, 40, 12, 12) and shapes.factors.shape == (3000, 5)
    for k, size in enumerate(shapes.sizes):
        assert torch.equal(shapes.factors[:, k].unique(), torch.arange(size)), vaelib.FACTOR_NAMES[k]
    border = torch.cat([data.images[..., 0, :], data.images[..., -1, :], data.images[..., :, 0], data.images[..., -1]])
    assert border.sum() == 0, "every shape stays inside the canvas"


def test_shifted_templates_equal_direct_rendering(shapes):
    torch.testing.assert_close(factors.render(shapes.values[:200]), shapes.images[:200], rtol=0, atol=0)


def test_centroid_follows_x_and_y(shapes):
    img = shapes.images[:, 0]  # (N, 28, 28)
    mass = img.sum((1, 2))
    coords = torch.arange(28.0) + 0.5  # pixel centres
    cx = (img.sum(1) * coords).sum(1) / mass / 28  # as fractions of the canvas
    cy = (img.sum(2) * coords).sum(1) / mass / 28
    symmetric = shapes.factors[:, 0] < 2  # squares and ellipses are centred on their position
    assert (cx - shapes.values[:, 3])[symmetric].abs().max() < 0.6 / 28, "within a fraction of a pixel"
    assert (cy - shapes.values[:, 4])[symmetric].abs().max() < 0.6 / 28
    for measured, true in ((cx, shapes.values[:, 3]), (cy, shapes.values[:, 4])):  # hearts too, roughly
        assert torch.corrcoef(torch.stack([measured, true]))[0, 1] > 0.97


def test_area_follows_the_square_of_the_scale(shapes):
    area = shapes.images.sum((1, 2, 3))
    for shape in range(3):
        for k, scale in enumerate(factors.SCALES):
            which = (shapes.factors[:, 0] == shape) & (shapes.factors[:, 1] == k)
            ratio = area[which] / scale**2  # area in pixels per unit scale^2
            reference = area[(shapes.factors[:, 0] == shape) & (shapes.factors[:, 1] == 5)].mean()
            assert ratio.mean() == pytest.approx(reference.item(), rel=0.12), (shape, scale)
    square = (shapes.factors[:, 0] == 0) & (shapes.factors[:, 1] == 5)  # side 1.5 * SIZE * 28 pixels at scale 1
    assert area[square].mean().item() == pytest.approx((1.5 * factors.SIZE * 28) ** 2, rel=0.1)


def test_rotation_turns_the_ellipse():
    angles = torch.tensor([0.0, math.pi / 2])
    values = torch.tensor([[1, 1.0, 0, 0.5, 0.5]] * 2)
    values[:, 2] = angles
    flat, upright = factors.render(values)[:, 0]
    assert flat.any(0).sum() > 1.6 * flat.any(1).sum(), "at angle 0 the ellipse is wider than high"
    torch.testing.assert_close(upright, flat.T)


def test_bad_sizes_are_refused():
    with pytest.raises(ValueError, match="n_positions <= 12"):
        vaelib.make_shapes(10, n_positions=20)
    with pytest.raises(ValueError, match=r"values must have shape \(B, 5\)"):
        factors.render(torch.zeros(3, 4))
