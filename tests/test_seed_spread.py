"""Chapter 9's statistics: the two-way split of a score over seeds and settings, and rotation modulo symmetry."""

import math

import pytest
import torch

import vaelib


def test_two_way_split_adds_up_and_matches_a_hand_computation():
    table = torch.tensor([[0.017, 0.063, 0.133], [0.025, 0.032, 0.046], [0.026, 0.005, 0.005]], dtype=torch.float64)
    split = vaelib.two_way_spread(table)
    s, b = table.shape
    grand = table.mean()
    ss_seed = b * ((table.mean(1) - grand) ** 2).sum()
    ss_setting = s * ((table.mean(0) - grand) ** 2).sum()
    ss_total = ((table - grand) ** 2).sum()
    ss_residual = ss_total - ss_seed - ss_setting  # the decomposition is exact
    assert split["residual_sd"] ** 2 * (s - 1) * (b - 1) == pytest.approx(ss_residual.item())
    assert split["f_setting"] == pytest.approx((ss_setting / (b - 1) / (ss_residual / ((s - 1) * (b - 1)))).item())
    assert split["setting_means_sd"] == pytest.approx(table.mean(0).std().item())
    assert split["within_sd_over_root_seeds"] == pytest.approx(table.std(0).mean().item() / math.sqrt(s))
    assert 0 < split["p_setting"] < 1 and 0 < split["p_seed"] < 1


def test_a_real_setting_effect_is_found_and_its_absence_is_not_mistaken_for_one():
    generator = torch.Generator().manual_seed(0)
    noise = 0.01 * torch.randn(5, 4, generator=generator, dtype=torch.float64)
    seeds = 0.05 * torch.randn(5, 1, generator=generator, dtype=torch.float64)  # a strong seed effect
    with_effect = vaelib.two_way_spread(noise + seeds + torch.tensor([0.0, 0.05, 0.1, 0.15], dtype=torch.float64))
    assert with_effect["p_setting"] < 1e-3 and with_effect["p_seed"] < 1e-3
    without = vaelib.two_way_spread(noise + seeds)
    assert without["p_setting"] > 0.01 and without["p_seed"] < 1e-3
    # the naive comparison: the spread over seeds beats the spread of the means even with a real effect
    assert with_effect["within_sd"] > with_effect["setting_means_sd"] / 3


@pytest.mark.parametrize(
    ("table", "message"),
    [([1.0, 2.0], "must be 2-D"), ([[1.0, 2.0]], "at least 2 of each"), ([[1.0, float("nan")], [1.0, 2.0]], "NaN")],
    ids=["1-D", "one-seed", "nan"],
)
def test_bad_tables_are_refused_with_a_reason(table, message):
    with pytest.raises(ValueError, match=message):
        vaelib.two_way_spread(table)


def test_rotation_modulo_symmetry_matches_what_the_images_show():
    shapes = vaelib.make_shapes(3_000, seed=3)
    reduced = vaelib.factors_modulo_symmetry(shapes.factors)
    assert torch.equal(reduced[:, [0, 1, 3, 4]], shapes.factors[:, [0, 1, 3, 4]])
    for shape, period in enumerate((10, 20, 40)):
        assert reduced[shapes.factors[:, 0] == shape, 2].max() < period
    values = torch.tensor([[0, 1.0, 0.3, 0.5, 0.5], [1, 1.0, 0.3, 0.5, 0.5], [2, 1.0, 0.3, 0.5, 0.5]])
    quarter, half = values.clone(), values.clone()
    quarter[:, 2] += math.pi / 2
    half[:, 2] += math.pi
    from vaelib.priors.shapes import render

    before, after_quarter, after_half = render(values), render(quarter), render(half)
    assert torch.equal(before[0], after_quarter[0]), "a square repeats after a quarter turn"
    assert torch.equal(before[1], after_half[1]) and not torch.equal(before[1], after_quarter[1]), "an ellipse: half"
    assert not torch.equal(before[2], after_half[2]), "a heart has no rotational symmetry"
    with pytest.raises(ValueError, match=r"shape \(N, 5\)"):
        vaelib.factors_modulo_symmetry(shapes.factors[:, :4])
