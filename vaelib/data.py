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
import os
import socket
import warnings
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F

from . import checks
from .settings import DATA_ROOT_ENV, check_generator, data_root, pick_device

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
    """MNIST could not be loaded, so the offline stand-in is used instead.

    Warned in every chapter when the offline stand-in replaces MNIST.
    """


class MNISTFileError(RuntimeError):
    """A local MNIST file exists but is truncated or corrupt.

    Raised in every chapter's data loading when a file is damaged.
    """


class MNISTUnavailableError(RuntimeError):
    """MNIST could not be loaded and the offline stand-in was not allowed.

    Raised by load_mnist(allow_standin=False), as in chapter 6's recorded runs: tools/record_run.py relies on it.
    """


@dataclass
class ImageData:
    """One split of a data set, held whole on one device.

    ``images`` is float32 in [0, 1] with shape (N, 1, 28, 28); ``labels`` holds integer classes, (N,),
    on the same device. Both are checked when the split is made (:func:`check_images`: one pass
    over the pixels), so the training loops need not check them again per batch.

    What :func:`load_mnist` returns, one per split (every chapter holds its data in one).
    """

    images: torch.Tensor  # (N, 1, 28, 28), float32 in [0, 1]
    labels: torch.Tensor  # (N,), int64 digit classes
    source: str  # MNIST_SOURCE or STANDIN_SOURCE

    def __post_init__(self) -> None:
        check_images(self.images)
        checks.tensor(self.labels, "labels")
        if self.labels.shape != self.images.shape[:1]:
            raise ValueError(
                f"labels have shape {tuple(self.labels.shape)} but there are {len(self.images)} images; "
                "pass one label per image, shape (N,)."
            )
        if self.labels.is_floating_point() or self.labels.is_complex() or self.labels.dtype == torch.bool:
            raise TypeError(f"labels must be integer classes, got {self.labels.dtype}; convert with labels.long().")
        if self.labels.device != self.images.device:
            raise ValueError(
                f"labels are on {self.labels.device} but images on {self.images.device}; move both with .to(device)."
            )
        if not isinstance(self.source, str):
            raise TypeError(f"source must be a str naming the data, got {type(self.source).__name__}.")

    def __len__(self) -> int:
        return len(self.images)

    def subset(self, n: int | None) -> ImageData:
        """The first ``n`` items (all of them when ``n`` is None or larger than the split)."""
        if n is None:
            return self
        n = checks.whole_number(n, "subset's n")
        if n >= len(self):
            return self
        return ImageData(self.images[:n], self.labels[:n], self.source)

    def to(self, device: torch.device | str) -> ImageData:
        device = checks.device(device)
        return ImageData(self.images.to(device), self.labels.to(device), self.source)

    def binarized(self, generator: torch.Generator | None = None) -> ImageData:
        """One fixed Bernoulli draw per pixel (static binarization): the same 0/1 image every epoch."""
        check_generator(generator, self.images.device)
        return ImageData(torch.bernoulli(self.images, generator=generator), self.labels, self.source)

    def batches(self, batch_size: int, **kwargs) -> TensorBatches:
        """Mini-batches of this split; see :class:`TensorBatches` for the options."""
        return TensorBatches(self.images, self.labels, batch_size, **kwargs)


def check_data(data, name: str = "data") -> ImageData:
    """``data`` unless it is not a non-empty :class:`ImageData`; the error says how to make one."""
    if not isinstance(data, ImageData):
        kind = type(data).__name__
        if isinstance(data, torch.Tensor):
            how = "wrap the tensor: vaelib.ImageData(images, labels, source='mine')"
        elif kind == "DataLoader":
            how = "vaelib holds a split in memory instead of a DataLoader: use vaelib.load_mnist()"
        else:
            how = "use vaelib.load_mnist() or vaelib.ImageData(images, labels, source)"
        raise TypeError(f"{name} must be a vaelib.ImageData, got {kind}; {how}.")
    if len(data) == 0:
        raise ValueError(f"{name} holds no images; check the subset or filter that made it.")
    return data


def check_images(x: torch.Tensor) -> None:
    """Raise an error that says what is wrong and what to do unless ``x`` is float32 (N, 1, 28, 28) in [0, 1].

    Reading the range costs one pass over the pixels and one host sync: it runs where data enter
    vaelib (:class:`ImageData`), not per training step.

    Used by every chapter through load_mnist and ImageData, which call it.
    """
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"expected a torch.Tensor of images, got {type(x).__name__}; convert with torch.as_tensor.")
    if x.dim() != 4 or tuple(x.shape[1:]) != IMAGE_SHAPE:
        raise ValueError(
            f"expected images of shape (N, 1, 28, 28), got {tuple(x.shape)}: {checks.image_shape_hint(x.shape)}."
        )
    if not x.is_floating_point():
        raise ValueError(f"expected float pixels in [0, 1], got dtype {x.dtype}; use x.float() / 255.")
    if x.dtype != torch.float32:
        raise ValueError(f"expected float32 pixels (the networks' dtype), got {x.dtype}; use x.float().")
    if x.numel():
        problem = checks.pixel_range_problem(*checks.value_range(x))
        if problem:
            raise ValueError(f"pixel values must lie in [0, 1], but these {problem}.")


class TensorBatches:
    """Shuffled mini-batches drawn by index from tensors that already sit on the device.

    Each epoch draws one permutation with ``torch.randperm`` on the tensors' device and
    slices it; a batch is ``images[idx]``, one gather, with no Python per image.
    With ``binarize=True`` each batch is re-sampled as ``x ~ Bernoulli(pixels)``
    (dynamic binarization), so the Bernoulli likelihood sees the binary data it models.

    What ImageData.batches returns (every chapter that trains iterates one).
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
        checks.tensor(images, "images")
        checks.tensor(labels, "labels")
        batch_size = checks.whole_number(batch_size, "batch_size")
        for name, value in (("shuffle", shuffle), ("binarize", binarize), ("drop_last", drop_last)):
            checks.flag(value, name)
        if len(images) != len(labels):
            raise ValueError(f"{len(images)} images but {len(labels)} labels; pass one label per image.")
        if images.device != labels.device:
            raise ValueError(f"images are on {images.device} but labels on {labels.device}; move both with .to().")
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


def _split_files(train: bool) -> tuple[str, str]:
    """(images file, labels file) of a split, as MNIST ships them."""
    images, labels = MNIST_FILES[train]
    return images, labels


def _missing_report(raw_dir: Path, train: bool) -> str:
    """Which of the split's files ``raw_dir`` lacks, what it holds instead, and what to do."""
    missing = [name for name in _split_files(train) if not (raw_dir / name).is_file()]
    parts = [f"{raw_dir} has no {' or '.join(missing)}"]
    packed = [name + ".gz" for name in missing if (raw_dir / (name + ".gz")).is_file()]
    if packed:
        verb = "is" if len(packed) == 1 else "are"
        parts.append(f"{', '.join(packed)} {verb} there but not unpacked: unpack with gunzip -k, or pass download=True")
    other = [name for name in _split_files(not train) if (raw_dir / name).is_file()]
    if other:
        parts.append(f"it holds the {'test' if train else 'training'} split's {' and '.join(other)} instead")
    return "; ".join(parts)


class _MissingFolder(MNISTUnavailableError, FileNotFoundError):
    """The data folder named by the user does not exist (an MNISTUnavailableError and a FileNotFoundError)."""


class _FolderIsAFile(MNISTUnavailableError, NotADirectoryError):
    """The data folder named by the user is a file (an MNISTUnavailableError and a NotADirectoryError)."""


def _check_root(root: Path, explicit: str | None) -> None:
    """A data folder named by the user must exist: a mistyped one is not created (and filled) silently.

    The errors are MNISTUnavailableErrors (what ``allow_standin=False`` promises, and what
    tools/record_run.py catches) as well as the OSErrors that describe them.
    """
    if explicit is None:
        return
    if root.is_file():
        raise _FolderIsAFile(f"{explicit} names a file, {root}; point it at the folder that holds MNIST/raw/.")
    if not root.exists():
        raise _MissingFolder(
            f"{explicit} names {root}, which does not exist. Fix the path, or create the folder "
            f"(mkdir -p {root}) to download MNIST into it."
        )


def _check_archives(raw_dir: Path, train: bool) -> None:
    """A downloaded archive (``.gz``) of the split that fails torchvision's checksum is named, not blamed on the
    network: torchvision would try to download it again and report the mirrors' failure instead."""
    from torchvision.datasets import MNIST
    from torchvision.datasets.utils import check_integrity

    for filename, md5 in MNIST.resources:
        if not filename.startswith("train" if train else "t10k"):
            continue
        path = raw_dir / filename
        if path.is_file() and not check_integrity(str(path), md5):
            raise MNISTFileError(
                f"{path} fails its checksum (a truncated or corrupt download, not a network problem). "
                "Delete it and run again to download it afresh."
            )


def _read_split(raw_dir: Path, train: bool, device: torch.device) -> ImageData:
    """The split's two IDX files (already checked by :func:`check_mnist_files`) as one ImageData on ``device``."""
    from torchvision.datasets.mnist import read_image_file, read_label_file

    image_file, label_file = (raw_dir / name for name in _split_files(train))
    images, labels = read_image_file(str(image_file)), read_label_file(str(label_file))
    fix = "Delete it and run again to download it afresh."
    if len(images) != len(labels):
        raise MNISTFileError(
            f"{image_file} holds {len(images):,} images but {label_file} {len(labels):,} labels (files from two "
            f"different downloads?). Delete both and run again to download them afresh."
        )
    low, high = checks.value_range(labels) if len(labels) else (0, 0)
    if low < 0 or high >= checks.DIGITS:
        raise MNISTFileError(f"{label_file} holds labels from {low} to {high}, not digits 0-9 (corrupt?). {fix}")
    pixels = images.unsqueeze(1).to(device=device, dtype=torch.float32).div_(255)  # (N, 1, 28, 28)
    return ImageData(pixels, labels.to(device), MNIST_SOURCE)


def load_mnist(
    train: bool = True,
    root: str | Path | None = None,
    device: torch.device | str | None = None,
    download: bool = True,
    allow_standin: bool = True,
) -> ImageData:
    """Load one MNIST split as a single tensor on ``device``.

    Reads the split's two files from ``root/MNIST/raw/`` (``root`` defaults to
    :func:`~vaelib.settings.data_root`); when they are missing and ``download`` is true,
    ``torchvision.datasets.MNIST`` downloads them first. If that fails for want of a network or
    files, and ``allow_standin`` is true, returns :func:`load_standin_digits` with a
    :class:`StandInDataWarning` that names the missing files and the folder. A file that is present
    but truncated or corrupt raises :class:`MNISTFileError` instead: a broken download should be
    repaired, not silently replaced. A ``root`` (or ``VAE_BOOK_DATA``) that does not exist is an
    error too, so a mistyped path is never created and filled.

    Used in every chapter.
    """
    from torchvision.datasets import MNIST

    if not isinstance(train, bool):
        raise TypeError(f"train must be True (the training split) or False (the test split), got {train!r}.")
    checks.flag(download, "download")
    checks.flag(allow_standin, "allow_standin")
    explicit = f"root={str(root)!r}" if root is not None else None
    if root is None and os.environ.get(DATA_ROOT_ENV):
        explicit = f"{DATA_ROOT_ENV}={os.environ[DATA_ROOT_ENV]!r}"
    root = Path(root).expanduser() if root is not None else data_root()
    device = checks.device(device) if device is not None else pick_device()
    _check_root(root, explicit)
    raw_dir = root / "MNIST" / "raw"
    check_mnist_files(raw_dir, train)
    if all((raw_dir / name).is_file() for name in _split_files(train)):
        return _read_split(raw_dir, train, device)
    missing = _missing_report(raw_dir, train)
    if download:
        _check_archives(raw_dir, train)
        log = io.StringIO()  # torchvision prints every mirror it tries; keep that for the notice
        timeout = socket.getdefaulttimeout()
        socket.setdefaulttimeout(DOWNLOAD_TIMEOUT)  # torchvision's urlopen has none: a silent network would hang
        try:
            with contextlib.redirect_stdout(log):
                MNIST(str(root), train=train, download=True)
        except (RuntimeError, OSError) as err:
            # torchvision raises RuntimeError when no mirror answers.
            tried = log.getvalue().strip().splitlines()
            detail = " ".join(line.strip() for line in str(err).splitlines() if line.strip())
            reason = f"{missing}; downloading failed with {type(err).__name__}: {detail[:300]}"
            reason += f" [torchvision: {tried[-1]}]" if tried else ""
            return _unavailable(reason, train, device, allow_standin, err)
        finally:
            socket.setdefaulttimeout(timeout)
        check_mnist_files(raw_dir, train)
        return _read_split(raw_dir, train, device)
    return _unavailable(f"{missing}, and download=False", train, device, allow_standin, None)


def _unavailable(reason: str, train: bool, device, allow_standin: bool, err: BaseException | None) -> ImageData:
    """The stand-in with a warning that says why, or (without ``allow_standin``) an error."""
    if not allow_standin:
        raise MNISTUnavailableError(
            f"could not load MNIST: {reason}. Connect to the internet, or point "
            f"{DATA_ROOT_ENV} at a folder that holds MNIST/raw/."
        ) from err
    warnings.warn(
        f"MNIST is not available ({reason}). Using the OFFLINE STAND-IN instead: scikit-learn's "
        "1,797 8x8 digits resized to 28x28. Numbers and pictures will differ from real MNIST. "
        f"Connect to the internet, or set {DATA_ROOT_ENV} to a folder holding MNIST/raw/, to use MNIST.",
        StandInDataWarning,
        stacklevel=3,
    )
    return load_standin_digits(train=train, device=device)


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
        fix = f"Delete {path} and run again to download it afresh."
        if not path.is_file():
            raise MNISTFileError(f"{path} is a folder, not an MNIST file. {fix}")
        size = path.stat().st_size
        try:
            with path.open("rb") as fh:
                header = fh.read(4 + 4 * len(shape))
        except OSError as err:
            raise MNISTFileError(f"{path} cannot be read ({err.strerror}); check its permissions.") from err
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

    Used by every chapter through load_mnist when MNIST cannot be had.
    """
    from sklearn.datasets import load_digits

    if not isinstance(train, bool):
        raise TypeError(f"train must be True (the training split) or False (the test split), got {train!r}.")
    device = checks.device(device) if device is not None else pick_device()
    digits = load_digits()
    pixels = torch.tensor(digits.images, dtype=torch.float32).unsqueeze(1) / 16.0  # (1797, 1, 8, 8)
    # MNIST digits fill a 20x20 box centred in 28x28; do the same.
    pixels = F.interpolate(pixels, size=(20, 20), mode="bilinear", align_corners=False).clamp_(0, 1)
    images = F.pad(pixels, (4, 4, 4, 4))  # (1797, 1, 28, 28)
    labels = torch.tensor(digits.target, dtype=torch.int64)
    is_test = torch.arange(len(labels)) % 6 == 5
    keep = ~is_test if train else is_test
    return ImageData(images[keep].to(device), labels[keep].to(device), STANDIN_SOURCE)
