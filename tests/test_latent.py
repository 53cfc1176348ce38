"""Linear and spherical interpolation, and where the prior's mass lies."""

import math

import pytest
import torch
from scipy.spatial.transform import Rotation, Slerp

import vaelib


def test_slerp_matches_scipy_for_unit_quaternions():
    # For unit 4-vectors at an angle below 90 degrees, vector slerp is quaternion slerp.
    g = torch.Generator().manual_seed(0)
    a = torch.randn(4, generator=g, dtype=torch.float64)
    b = a + 0.8 * torch.randn(4, generator=g, dtype=torch.float64)
    a, b = a / a.norm(), b / b.norm()
    assert a @ b > 0
    t = torch.linspace(0, 1, 7, dtype=torch.float64)
    ours = vaelib.slerp(a, b, t)
    # scipy stores quaternions as (x, y, z, w)
    reference = Slerp([0, 1], Rotation.from_quat([a.numpy(), b.numpy()]))(t.numpy()).as_quat()
    reference = torch.from_numpy(reference)
    reference = reference * torch.sign((reference * ours).sum(1, keepdim=True))  # q and -q are one rotation
    torch.testing.assert_close(ours, reference)


def test_slerp_keeps_the_norm_and_turns_at_a_constant_rate():
    g = torch.Generator().manual_seed(1)
    a, b = torch.randn(50, generator=g, dtype=torch.float64), torch.randn(50, generator=g, dtype=torch.float64)
    b = b * a.norm() / b.norm()
    path = vaelib.slerp(a, b, 11)
    torch.testing.assert_close(path[0], a)
    torch.testing.assert_close(path[-1], b)
    torch.testing.assert_close(path.norm(dim=1), torch.full((11,), a.norm().item(), dtype=torch.float64))
    angles = torch.arccos((path @ a / (path.norm(dim=1) * a.norm())).clamp(-1, 1))
    torch.testing.assert_close(angles, torch.linspace(0, angles[-1].item(), 11, dtype=torch.float64))
    line = vaelib.lerp(a, b, 11)
    assert line[5].norm() < path[5].norm()  # the straight line cuts inside the sphere


def test_slerp_edge_cases():
    a = torch.tensor([1.0, 0.0])
    torch.testing.assert_close(vaelib.slerp(a, 2 * a, 3), vaelib.lerp(a, 2 * a, 3))  # parallel: the line
    with pytest.raises(ValueError, match="opposite directions"):
        vaelib.slerp(a, -a, 3)
    with pytest.raises(ValueError, match="nonzero"):
        vaelib.slerp(a, torch.zeros(2), 3)
    with pytest.raises(ValueError, match="same shape"):
        vaelib.slerp(a, torch.ones(3), 3)
    with pytest.raises(ValueError, match="at least 2 steps"):
        vaelib.lerp(a, a, 1)


def test_prior_norm_interval_matches_monte_carlo():
    low, high = vaelib.prior_norm_interval(50, mass=0.98)
    norms = torch.randn(200_000, 50, generator=torch.Generator().manual_seed(0)).norm(dim=1)
    inside = ((norms > low) & (norms < high)).double().mean().item()
    assert inside == pytest.approx(0.98, abs=0.002)
    assert low < math.sqrt(50) < high
    with pytest.raises(ValueError, match="between 0 and 1"):
        vaelib.prior_norm_interval(50, mass=1.0)
