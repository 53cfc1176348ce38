"""MNIST as one tensor on the device, batched by shuffled index.

The seed tutorials wrap MNIST in a ``DataLoader`` whose ``ToTensor`` transform runs
once per image per epoch in Python. Here the whole split is converted once, moved
to the device once, and every mini-batch is an index into that tensor: no per-item
transform and no worker processes (``benchmarks/data_pipeline.py`` measures the
difference).

When MNIST cannot be obtained (no network and no local copy), :func:`load_mnist`
falls back to scikit-learn's bundled 8x8 digits, resized to MNIST's 28x28 layout,
and says so with a :class:`StandInDataWarning`.
"""

from __future__ import annotations

import contextlib
import io
import socket
import warnings
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F

from .settings import check_generator, data_root, pick_device

IMAGE_SHAPE = (1, 28, 28)  # channels, height, width of every image in the book
N_PIXELS = 28 * 28
MNIST_SOURCE = "MNIST"
STANDIN_SOURCE = "scikit-learn digits (offline stand-in)"
DOWNLOAD_TIMEOUT = 30  # seconds a download connection may stay silent before the next mirror is tried

# The four files torchvision reads, with the shape their IDX header must declare.
MNIST_FILES = {
    True: {"train-images-idx3-ubyte": (60000, 28, 28), "train-labels-idx1-ubyte": (60000,)},
    False: {"t10k-images-idx3-ubyte": (10000, 28, 28), "t10k-labels-idx1-ubyte": (10000,)},
}


class StandInDataWarning(UserWarning):
    """MNIST could not be loaded, so the offline stand-in is used instead."""


class MNISTFileError(RuntimeError):
    """A local MNIST file exists but is truncated or corrupt."""


class MNISTUnavailableError(RuntimeError):
    """MNIST could not be loaded and the offline stand-in was not allowed."""


@dataclass
class ImageData:
    """One split of a data set, held whole on one device.

    ``images`` is float32 in [0, 1] with shape (N, 1, 28, 28); ``labels`` is int64 (N,).
    """

    images: torch.Tensor  # (N, 1, 28, 28), float32 in [0, 1]
    labels: torch.Tensor  # (N,), int64 digit classes
    source: str  # MNIST_SOURCE or STANDIN_SOURCE

    def __post_init__(self) -> None:
        check_images(self.images)
        if self.labels.shape != self.images.shape[:1]:
            raise ValueError(
                f"labels have shape {tuple(self.labels.shape)} but there are {len(self.images)} images; "
                "pass one label per image."
            )

    def __len__(self) -> int:
        return len(self.images)

    def subset(self, n: int | None) -> ImageData:
        """The first ``n`` items (all of them when ``n`` is None or larger than the split)."""
        if n is None or n >= len(self):
            return self
        return ImageData(self.images[:n], self.labels[:n], self.source)

    def to(self, device: torch.device | str) -> ImageData:
        return ImageData(self.images.to(device), self.labels.to(device), self.source)

    def binarized(self, generator: torch.Generator | None = None) -> ImageData:
        """One fixed Bernoulli draw per pixel (static binarization): the same 0/1 image every epoch."""
        check_generator(generator, self.images.device)
        return ImageData(torch.bernoulli(self.images, generator=generator), self.labels, self.source)

    def batches(self, batch_size: int, **kwargs) -> TensorBatches:
        """Mini-batches of this split; see :class:`TensorBatches` for the options."""
        return TensorBatches(self.images, self.labels, batch_size, **kwargs)


def check_images(x: torch.Tensor) -> None:
    """Raise a ValueError that says what is wrong unless ``x`` is (N, 1, 28, 28) in [0, 1]."""
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"expected a torch.Tensor of images, got {type(x).__name__}")
    if x.dim() != 4 or tuple(x.shape[1:]) != IMAGE_SHAPE:
        raise ValueError(
            f"expected images of shape (N, 1, 28, 28), got {tuple(x.shape)}; "
            "reshape flat vectors with x.view(-1, 1, 28, 28)."
        )
    if not x.is_floating_point():
        raise ValueError(f"expected float pixels in [0, 1], got dtype {x.dtype}; use x.float() / 255.")
    if x.isnan().any():
        raise ValueError("images contain NaN pixels; check how they were produced or loaded.")
    if x.numel() and (x.min() < 0 or x.max() > 1):
        raise ValueError(
            f"pixel values must lie in [0, 1], found [{x.min().item():.3g}, {x.max().item():.3g}]; "
            "divide 0-255 images by 255."
        )


class TensorBatches:
    """Shuffled mini-batches drawn by index from tensors that already sit on the device.

    Each epoch draws one permutation with ``torch.randperm`` on the tensors' device and
    slices it; a batch is ``images[idx]``, one gather, with no Python per image.
    With ``binarize=True`` each batch is re-sampled as ``x ~ Bernoulli(pixels)``
    (dynamic binarization), so the Bernoulli likelihood sees the binary data it models.
    """

    def __init__(
        self,
        images: torch.Tensor,
        labels: torch.Tensor,
        batch_size: int,
        shuffle: bool = True,
        binarize: bool = False,
        drop_last: bool = False,
        generator: torch.Generator | None = None,
    ):
        if batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, got {batch_size}")
        if len(images) != len(labels):
            raise ValueError(f"{len(images)} images but {len(labels)} labels")
        self.images, self.labels = images, labels
        self.batch_size, self.shuffle, self.binarize, self.drop_last = batch_size, shuffle, binarize, drop_last
        check_generator(generator, images.device)
        self.generator = generator  # lives on the same device as the images

    def __len__(self) -> int:
        n, b = len(self.images), self.batch_size
        return n // b if self.drop_last else -(-n // b)

    def __iter__(self):
        n, device = len(self.images), self.images.device
        if self.shuffle:
            order = torch.randperm(n, device=device, generator=self.generator)
        else:
            order = torch.arange(n, device=device)
        stop = n - n % self.batch_size if self.drop_last else n
        for start in range(0, stop, self.batch_size):
            idx = order[start : start + self.batch_size]
            x = self.images[idx]  # (B, 1, 28, 28)
            if self.binarize:
                x = torch.bernoulli(x, generator=self.generator)
            yield x, self.labels[idx]


def load_mnist(
    train: bool = True,
    root: str | Path | None = None,
    device: torch.device | str | None = None,
    download: bool = True,
    allow_standin: bool = True,
) -> ImageData:
    """Load one MNIST split as a single tensor on ``device``.

    Uses ``torchvision.datasets.MNIST`` (downloading into ``root`` when allowed).
    If that fails for want of a network or files, and ``allow_standin`` is true,
    returns :func:`load_standin_digits` with a :class:`StandInDataWarning`.
    A file that is present but truncated or corrupt raises :class:`MNISTFileError`
    instead: a broken download should be repaired, not silently replaced.
    """
    from torchvision.datasets import MNIST

    root = Path(root) if root is not None else data_root()
    device = torch.device(device) if device is not None else pick_device()
    check_mnist_files(root / "MNIST" / "raw", train)
    log = io.StringIO()  # torchvision prints every mirror it tries; keep that for the notice
    timeout = socket.getdefaulttimeout()
    socket.setdefaulttimeout(DOWNLOAD_TIMEOUT)  # torchvision's urlopen has none: a silent network would hang
    try:
        with contextlib.redirect_stdout(log):
            dataset = MNIST(str(root), train=train, download=download)
    except (RuntimeError, OSError) as err:
        # torchvision raises RuntimeError when no mirror answers or files are missing.
        tried = log.getvalue().strip().splitlines()
        detail = " ".join(line.strip() for line in str(err).splitlines() if line.strip())
        reason = f"{type(err).__name__}: {detail}" + (f" [torchvision: {tried[-1]}]" if tried else "")
        if not allow_standin:
            raise MNISTUnavailableError(
                f"could not load MNIST from {root}: {reason}. Connect to the internet, or point "
                "VAE_BOOK_DATA at a folder that holds MNIST/raw/."
            ) from err
        warnings.warn(
            f"MNIST is not available ({reason}). Using the OFFLINE STAND-IN instead: scikit-learn's "
            "1,797 8x8 digits resized to 28x28. Numbers and pictures will differ from real MNIST. "
            "Connect to the internet, or set VAE_BOOK_DATA to a folder holding MNIST/raw/, to use MNIST.",
            StandInDataWarning,
            stacklevel=2,
        )
        return load_standin_digits(train=train, device=device)
    finally:
        socket.setdefaulttimeout(timeout)
    images = dataset.data.unsqueeze(1).to(device=device, dtype=torch.float32).div_(255)  # (N, 1, 28, 28)
    return ImageData(images, dataset.targets.to(device), MNIST_SOURCE)


def check_mnist_files(raw_dir: Path, train: bool) -> None:
    """Raise :class:`MNISTFileError` naming any MNIST file in ``raw_dir`` that is cut short or corrupt.

    Checks the IDX header (magic number, unsigned-byte type, dimensions) against the file's size,
    so a partial download is caught before torchvision fails with an unhelpful reshape error.
    Missing files are fine here (they may still be downloaded).
    """
    for name, shape in MNIST_FILES[train].items():
        path = Path(raw_dir) / name
        if not path.exists():
            continue
        size = path.stat().st_size
        with path.open("rb") as fh:
            header = fh.read(4 + 4 * len(shape))
        fix = f"Delete {path} and run again to download it afresh."
        if len(header) < 4 + 4 * len(shape) or header[:3] != b"\x00\x00\x08" or header[3] != len(shape):
            raise MNISTFileError(f"{path} is not an MNIST IDX file of unsigned bytes (bad header). {fix}")
        dims = tuple(int.from_bytes(header[4 + 4 * i : 8 + 4 * i], "big") for i in range(len(shape)))
        if dims[1:] != shape[1:]:
            raise MNISTFileError(f"{path} declares items of shape {dims[1:]}, expected {shape[1:]}. {fix}")
        expected = len(header) + torch.Size(dims).numel()
        if size != expected:
            raise MNISTFileError(
                f"{path} holds {size:,} bytes but its header declares {expected:,} "
                f"(a truncated or corrupt download). {fix}"
            )


def load_standin_digits(train: bool = True, device: torch.device | str | None = None) -> ImageData:
    """scikit-learn's 8x8 digits laid out like MNIST: 28x28, centred in a 20x20 box, in [0, 1].

    The 1,797 images ship with scikit-learn, so this works offline. Every sixth image
    (299 in all) is the test split; the other 1,498 are the training split.
    """
    from sklearn.datasets import load_digits

    digits = load_digits()
    pixels = torch.tensor(digits.images, dtype=torch.float32).unsqueeze(1) / 16.0  # (1797, 1, 8, 8)
    # MNIST digits fill a 20x20 box centred in 28x28; do the same.
    pixels = F.interpolate(pixels, size=(20, 20), mode="bilinear", align_corners=False).clamp_(0, 1)
    images = F.pad(pixels, (4, 4, 4, 4))  # (1797, 1, 28, 28)
    labels = torch.tensor(digits.target, dtype=torch.int64)
    is_test = torch.arange(len(labels)) % 6 == 5
    keep = ~is_test if train else is_test
    device = torch.device(device) if device is not None else pick_device()
    return ImageData(images[keep].to(device), labels[keep].to(device), STANDIN_SOURCE)
