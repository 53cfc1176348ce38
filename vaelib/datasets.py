"""Data sets beyond MNIST, for the capstone exercise: plain tensors, no vaelib pipeline needed.

* :func:`load_digits_8x8`: scikit-learn's 1,797 handwritten digits at their own resolution, 8x8
  pixels with 17 grey levels (0-16). They ship with scikit-learn, so this works offline.
* :func:`load_fashion_mnist`: Zalando's Fashion-MNIST (Xiao et al., 2017), 70,000 28x28 grey
  images of clothes in ten classes, through ``torchvision`` (downloaded on first use). Without a
  network or a local copy it raises :class:`DataUnavailableError`; it never substitutes other data.

Both return ``(images, labels)``: float32 images in [0, 1] of shape (N, 1, H, W) and int64 labels.
"""

from __future__ import annotations

import contextlib
import io
import socket
from pathlib import Path

import torch

from .data import DOWNLOAD_TIMEOUT
from .settings import data_root, pick_device

DIGITS_LEVELS = 17  # scikit-learn's digits count ink in 4x4 blocks: values 0..16


class DataUnavailableError(RuntimeError):
    """A data set could not be loaded (no network and no local copy).

    Caught in the capstone, which then falls back to the 8x8 digits.
    """


def _device(device):
    return torch.device(device) if device is not None else pick_device()


def _split_flag(train) -> bool:
    """``train`` as True or False; a split's name ('test', 'train') is refused, not read as truthy."""
    if not isinstance(train, bool):
        hint = " For the test split pass train=False." if isinstance(train, str) else ""
        raise TypeError(f"train must be True (training split) or False (test split), got {train!r}.{hint}")
    return train


def load_digits_8x8(train: bool = True, device: torch.device | str | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """scikit-learn's digits as (N, 1, 8, 8) grey levels k / 16 in [0, 1], and their labels.

    The split is the one :func:`vaelib.load_standin_digits` uses: every sixth image (299 in all) is
    the test split, the other 1,498 the training split.

    Used in the capstone.
    """
    from sklearn.datasets import load_digits

    digits = load_digits()
    images = torch.tensor(digits.images, dtype=torch.float32).unsqueeze(1) / (DIGITS_LEVELS - 1)  # (1797, 1, 8, 8)
    labels = torch.tensor(digits.target, dtype=torch.int64)
    is_test = torch.arange(len(labels)) % 6 == 5
    keep = ~is_test if _split_flag(train) else is_test
    device = _device(device)
    return images[keep].to(device), labels[keep].to(device)


def load_fashion_mnist(
    train: bool = True,
    root: str | Path | None = None,
    device: torch.device | str | None = None,
    download: bool = True,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Fashion-MNIST (train: 60,000 images, test: 10,000) as (N, 1, 28, 28) floats in [0, 1], and labels.

    Reads from (or downloads into) ``root``/FashionMNIST, by default under ``$VAE_BOOK_DATA``.
    Raises :class:`DataUnavailableError`, saying what was tried, when that fails.

    Used in the capstone.
    """
    train = _split_flag(train)
    from torchvision.datasets import FashionMNIST

    if root is not None and not Path(root).expanduser().is_dir():
        raise DataUnavailableError(
            f"root={str(root)!r} is not a folder; fix the path, or create it (mkdir -p {root}) to download into it."
        )
    root = Path(root).expanduser() if root is not None else data_root()
    log = io.StringIO()  # torchvision prints every mirror it tries
    timeout = socket.getdefaulttimeout()
    socket.setdefaulttimeout(DOWNLOAD_TIMEOUT)
    try:
        with contextlib.redirect_stdout(log):
            dataset = FashionMNIST(str(root), train=train, download=download)
    except (RuntimeError, OSError) as err:
        detail = " ".join(line.strip() for line in str(err).splitlines() if line.strip())
        raise DataUnavailableError(
            f"could not load Fashion-MNIST from {root} ({type(err).__name__}: {detail}). It needs a network on "
            "first use, or a folder holding FashionMNIST/raw/ (set VAE_BOOK_DATA or pass root=). "
            "Offline, use vaelib.load_digits_8x8() instead."
        ) from err
    finally:
        socket.setdefaulttimeout(timeout)
    images = dataset.data.unsqueeze(1).to(device=_device(device), dtype=torch.float32).div_(255)
    return images, dataset.targets.to(images.device)
