"""Active units per epoch, the paired difference, and the log-variance conventions."""

import math

import pytest
import torch
from scipy import stats
from torch.distributions import Normal, kl_divergence

import vaelib
from vaelib import plots


def test_active_units_callback_records_every_epoch_and_agrees_with_active_units(digits):
    train, test = digits
    torch.manual_seed(0)
    model = vaelib.VAE.mlp(z_dim=6, hidden_dim=32)
    monitor = vaelib.ActiveUnits(model.encoder, test)
    seen = []
    monitor(0)  # the untrained model
    vaelib.fit(
        model,
        train.subset(256),
        epochs=3,
        batch_size=64,
        progress=False,
        on_epoch=lambda e, h: (monitor(e, h), seen.append(e)),
    )
    assert monitor.epochs == [0, 1, 2, 3] and seen == [1, 2, 3]
    assert monitor.activity.shape == (4, 6)
    count, activity = vaelib.active_units(vaelib.encode(model.encoder, test)[0])
    torch.testing.assert_close(monitor.activity[-1], activity.cpu())
    assert monitor.counts[-1] == count and model.training  # fit's training mode is left alone


def test_active_units_callback_every_and_errors(digits):
    _, test = digits
    model = vaelib.VAE.mlp(z_dim=2, hidden_dim=8)
    monitor = vaelib.ActiveUnits(model.encoder, test, every=2)
    for epoch in range(1, 6):
        monitor(epoch)
    assert monitor.epochs == [1, 2, 4]
    with pytest.raises(ValueError, match="nothing recorded"):
        _ = vaelib.ActiveUnits(model.encoder, test).activity
    with pytest.raises(ValueError, match="every"):
        vaelib.ActiveUnits(model.encoder, test, every=0)
    with pytest.raises(ValueError, match="at least 2 images"):
        vaelib.ActiveUnits(model.encoder, test.subset(1))


def test_activity_plot_draws_one_row_per_unit():
    fig = plots.activity_per_epoch([0, 1, 2], torch.rand(3, 5) * 0.1)
    assert fig.axes[0].images[0].get_array().shape == (5, 3)


def test_paired_difference_matches_scipy():
    g = torch.Generator().manual_seed(0)
    difficulty = torch.randn(400, generator=g, dtype=torch.float64) * 20  # shared by both models
    a = difficulty + torch.randn(400, generator=g, dtype=torch.float64) + 0.3
    b = difficulty + torch.randn(400, generator=g, dtype=torch.float64)
    result = vaelib.paired_difference(a, b)
    assert isinstance(result, vaelib.PairedDifference)
    reference = stats.ttest_rel(a.numpy(), b.numpy())
    assert result.z == pytest.approx(reference.statistic, rel=1e-9)
    assert result.mean == pytest.approx((a - b).mean().item())
    assert result.unpaired_se == pytest.approx(math.sqrt(a.var().item() / 400 + b.var().item() / 400))
    assert result.se < result.unpaired_se / 10  # the shared difficulty cancels in the pairs
    assert "paired SE" in str(result)
    with pytest.raises(ValueError, match="same shape"):
        vaelib.paired_difference(a, b[:3])
    with pytest.raises(ValueError, match="NaN"):
        vaelib.paired_difference(torch.tensor([1.0, float("nan")]), torch.zeros(2))


def test_kl_from_log_variance_matches_torch():
    g = torch.Generator().manual_seed(0)
    loc, log_var = torch.randn(4, 7, generator=g), torch.randn(4, 7, generator=g) * 2
    reference = kl_divergence(Normal(loc, (0.5 * log_var).exp()), Normal(0.0, 1.0)).sum(-1)
    torch.testing.assert_close(vaelib.kl_from_log_variance(loc, log_var), reference, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(
        vaelib.kl_from_log_variance(loc, log_var),
        vaelib.gaussian_kl_to_standard(loc, vaelib.scale_from_head(log_var, "log_variance")),
        rtol=1e-5,
        atol=1e-5,
    )


def test_scale_heads():
    raw = torch.tensor([-2.0, 0.0, 3.0])
    torch.testing.assert_close(vaelib.scale_from_head(raw, "log_scale"), raw.exp())
    torch.testing.assert_close(vaelib.scale_from_head(raw, "log_variance").pow(2), raw.exp())
    assert (vaelib.scale_from_head(raw, "softplus") > 0).all()
    with pytest.raises(ValueError, match="unknown head"):
        vaelib.scale_from_head(raw, "variance")


def test_check_log_variance_sampler_passes_the_right_sampler_and_names_the_mistakes():
    assert vaelib.check_log_variance_sampler(lambda m, lv: m + torch.exp(0.5 * lv) * torch.randn_like(m))
    assert vaelib.check_log_variance_sampler(lambda m, lv: Normal(m, (0.5 * lv).exp()).rsample())
    wrong = {
        "exp\\(logvar\\), the variance": lambda m, lv: m + lv.exp() * torch.randn_like(m),
        "logvar itself": lambda m, lv: m + lv * torch.randn_like(m),
        "times exp\\(log_var / 2\\)": lambda m, lv: m + 2 * (0.5 * lv).exp() * torch.randn_like(m),
        "not centred": lambda m, lv: (0.5 * lv).exp() * torch.randn_like(m),
        "one code per row": lambda m, lv: m[0],
    }
    for message, sample in wrong.items():
        with pytest.raises(ValueError, match=message):
            vaelib.check_log_variance_sampler(sample)
