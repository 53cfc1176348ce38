r"""Binary 28x28 images of one shape drawn from known factors, in the manner of dSprites.

dSprites (Matthey et al., 2017) renders a white shape (square, ellipse or heart) at 6 scales,
40 orientations and 32 x 32 positions on a 64x64 canvas: 737,280 images, every combination once.
This generator keeps the idea and shrinks it for a CPU: the same three shapes and 6 scales in
[0.5, 1], 40 orientations in [0, 2 pi), and ``n_positions`` (at most 12) positions per axis, one
pixel apart, on MNIST's 28x28 canvas, so every network of the book reads the images unchanged.
Each image's factors are drawn independently and uniformly from these grids by a seeded
generator and returned with the images, so the same seed gives the same data everywhere and
nothing is downloaded.

A pixel is on when at least half of its area (estimated on a ``supersample`` x ``supersample``
sub-grid) lies inside the shape. Each of the 720 (shape, scale, rotation) combinations is drawn
once, centred, and moved by whole pixels, which keeps 20,000 images to about a second.
Taught in chapter 9.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from ..data import IMAGE_SHAPE, ImageData

SHAPES = ("square", "ellipse", "heart")
FACTOR_NAMES = ("shape", "scale", "rotation", "x", "y")
SCALES = tuple(0.5 + 0.1 * i for i in range(6))  # 6 values in [0.5, 1], as in dSprites
N_ROTATIONS = 40  # orientations 2 pi k / 40
SIZE = 0.22  # radius of a shape at scale 1, as a fraction of the canvas side
MAX_POSITIONS = 12  # whole-pixel shifts -6..5 keep every shape inside the canvas at every rotation
FACTORS_SOURCE = "vaelib.factors (dSprites-like shapes)"
ROTATION_SYMMETRY = (4, 2, 1)  # turns that map each shape onto itself: square 4, ellipse 2, heart 1


@dataclass
class FactorImages:
    """Images with the factors that made them.

    ``images`` (N, 1, 28, 28) in {0, 1}; ``factors`` (N, 5) int64, the index of each factor's value
    in its grid, in the order of :data:`FACTOR_NAMES`; ``values`` (N, 5) float: shape index, scale,
    angle in radians, and the centre's x and y as fractions of the canvas (x to the right, y down).
    What :func:`make_shapes` returns (chapter 9).
    """

    images: torch.Tensor
    factors: torch.Tensor
    values: torch.Tensor
    sizes: tuple[int, ...]  # number of values of each factor

    def __len__(self) -> int:
        return len(self.images)

    def as_image_data(self) -> ImageData:
        """The images as :class:`~vaelib.data.ImageData`, labelled by shape (0 square, 1 ellipse, 2 heart)."""
        return ImageData(self.images, self.factors[:, 0].clone(), FACTORS_SOURCE)


def _inside(shape: int, u: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """Whether points (u, v) of the shape's own frame (radius about 1, v pointing up) lie inside it."""
    if shape == 0:  # square
        return torch.maximum(u.abs(), v.abs()) <= 0.75
    if shape == 1:  # ellipse, twice as wide as high
        return u.pow(2) + (v / 0.5).pow(2) <= 1.0
    hu, hv = u / 0.85, v / 0.85 + 0.1  # heart: inside the curve (x^2 + y^2 - 1)^3 = x^2 y^3
    return (hu.pow(2) + hv.pow(2) - 1).pow(3) - hu.pow(2) * hv.pow(3) <= 0


def render(values: torch.Tensor, supersample: int = 4) -> torch.Tensor:
    """Images (B, 1, 28, 28) in {0, 1} for factor ``values`` (B, 5) laid out as in :class:`FactorImages`."""
    if values.dim() != 2 or values.shape[1] != len(FACTOR_NAMES):
        raise ValueError(f"values must have shape (B, {len(FACTOR_NAMES)}): {FACTOR_NAMES}; got {tuple(values.shape)}")
    side = IMAGE_SHAPE[-1]
    offsets = (torch.arange(supersample) + 0.5) / supersample  # sub-pixel points within a pixel
    grid = ((torch.arange(side).unsqueeze(1) + offsets).reshape(-1) / side).float()  # (side * s,)
    py, px = torch.meshgrid(grid, grid, indexing="ij")  # y down the rows, x along the columns
    px, py = px.reshape(1, -1), py.reshape(1, -1)  # (1, P)
    images = torch.zeros(len(values), 1, side, side)
    for shape in range(len(SHAPES)):
        which = (values[:, 0] == shape).nonzero().flatten()
        if len(which) == 0:
            continue
        scale, angle, cx, cy = (values[which, i : i + 1].float() for i in range(1, 5))  # each (b, 1)
        dx, dy = (px - cx) / (SIZE * scale), (cy - py) / (SIZE * scale)  # shape frame, v pointing up
        cos, sin = torch.cos(angle), torch.sin(angle)
        u, v = cos * dx + sin * dy, cos * dy - sin * dx  # the point rotated by -angle
        hits = _inside(shape, u, v).float().view(-1, side, supersample, side, supersample)
        images[which, 0] = (hits.mean(dim=(2, 4)) >= 0.5).float()  # on when half the pixel is inside
    return images


def _shifts(n_positions: int) -> torch.Tensor:
    """The whole-pixel offsets from the canvas centre of the ``n_positions`` positions per axis."""
    return torch.arange(n_positions) - n_positions // 2


def factor_values(factors: torch.Tensor, n_positions: int) -> torch.Tensor:
    """The factor values (B, 5) of factor indices (B, 5)."""
    positions = 0.5 + _shifts(n_positions).double() / IMAGE_SHAPE[-1]
    return torch.stack(
        [
            factors[:, 0].double(),
            torch.tensor(SCALES, dtype=torch.float64)[factors[:, 1]],
            2 * math.pi * factors[:, 2].double() / N_ROTATIONS,
            positions[factors[:, 3]],
            positions[factors[:, 4]],
        ],
        dim=1,
    )


def factors_modulo_symmetry(factors: torch.Tensor) -> torch.Tensor:
    """``factors`` (N, 5) with each rotation index reduced modulo its shape's symmetry.

    A square looks the same after a quarter turn and an ellipse after a half turn, so of the 40
    rotations only 10 (squares), 20 (ellipses) and 40 (hearts) give different images: the rotation
    index k becomes k mod (40 / symmetry). The other factors are returned unchanged. A MIG against
    these factors scores rotation on what an image can show. Used in chapter 9.
    """
    if factors.dim() != 2 or factors.shape[1] != len(FACTOR_NAMES):
        raise ValueError(
            f"factors must have shape (N, {len(FACTOR_NAMES)}): {FACTOR_NAMES}; got {tuple(factors.shape)}"
        )
    period = torch.tensor([N_ROTATIONS // order for order in ROTATION_SYMMETRY], device=factors.device)
    reduced = factors.clone()
    reduced[:, 2] = factors[:, 2] % period[factors[:, 0]]
    return reduced


def make_shapes(n: int, seed: int = 0, n_positions: int = MAX_POSITIONS) -> FactorImages:
    """``n`` images with factors drawn uniformly and independently from their grids, seeded by ``seed``.

    The factors are shape (3 values), scale (6), rotation (40), x and y (``n_positions`` each).
    The same ``seed`` and sizes always give the same images, on any machine. Taught in chapter 9.
    """
    if n < 1 or not 2 <= n_positions <= MAX_POSITIONS:
        raise ValueError(f"need n >= 1 and 2 <= n_positions <= {MAX_POSITIONS}; got n={n}, n_positions={n_positions}")
    sizes = (len(SHAPES), len(SCALES), N_ROTATIONS, n_positions, n_positions)
    generator = torch.Generator().manual_seed(seed)
    factors = torch.stack([torch.randint(k, (n,), generator=generator) for k in sizes], dim=1)  # (n, 5)
    # Every (shape, scale, rotation) drawn once at the centre, then moved by whole pixels.
    grid = torch.cartesian_prod(*(torch.arange(k) for k in sizes[:3]))  # (720, 3)
    centred = torch.cat([grid, torch.full((len(grid), 2), n_positions // 2)], dim=1)
    templates = render(factor_values(centred, n_positions))[:, 0]  # (720, 28, 28)
    side, pad = IMAGE_SHAPE[-1], MAX_POSITIONS // 2
    padded = torch.nn.functional.pad(templates, (pad, pad, pad, pad))  # (720, 28 + 2 pad, 28 + 2 pad)
    template = (factors[:, 0] * sizes[1] + factors[:, 1]) * sizes[2] + factors[:, 2]  # (n,) row of `grid`
    shifts = _shifts(n_positions)
    rows = pad - shifts[factors[:, 4]].unsqueeze(1) + torch.arange(side)  # (n, 28): y moves the shape down
    cols = pad - shifts[factors[:, 3]].unsqueeze(1) + torch.arange(side)  # (n, 28)
    images = padded[template[:, None, None], rows[:, :, None], cols[:, None, :]].unsqueeze(1)  # (n, 1, 28, 28)
    return FactorImages(images, factors, factor_values(factors, n_positions).float(), sizes)
