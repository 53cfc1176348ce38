"""Shared fixtures: small offline data, a writer of tiny, valid MNIST IDX files, the smoke build of the book."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch

import vaelib


@pytest.fixture(scope="session")
def digits():
    """(train, test) of the offline stand-in, on the CPU."""
    return vaelib.load_standin_digits(train=True, device="cpu"), vaelib.load_standin_digits(train=False, device="cpu")


def write_idx(path: Path, data: torch.Tensor) -> None:
    """Write ``data`` (uint8) in the IDX format MNIST ships in: magic, big-endian dims, bytes."""
    header = bytes([0, 0, 0x08, data.dim()]) + b"".join(int(d).to_bytes(4, "big") for d in data.shape)
    path.write_bytes(header + data.contiguous().numpy().tobytes())


@pytest.fixture
def tiny_mnist(tmp_path):
    """A data root whose MNIST/raw/ holds 12 train and 6 test random images, laid out as torchvision expects."""
    raw = tmp_path / "MNIST" / "raw"
    raw.mkdir(parents=True)
    g = torch.Generator().manual_seed(0)
    arrays = {}
    for prefix, n in (("train", 12), ("t10k", 6)):
        images = torch.randint(0, 256, (n, 28, 28), dtype=torch.uint8, generator=g)
        labels = torch.arange(n, dtype=torch.uint8) % 10
        write_idx(raw / f"{prefix}-images-idx3-ubyte", images)
        write_idx(raw / f"{prefix}-labels-idx1-ubyte", labels)
        arrays[prefix] = (images, labels)
    return tmp_path, arrays


ROOT = Path(__file__).resolve().parents[1]
SMOKE_BUILD = ROOT / "_build" / "smoke"


@pytest.fixture(scope="session")
def smoke_book():
    """Build the whole book once in smoke mode, strict (-W -n): (result of the build, html folder).

    Shared by the build test (tests/test_build.py) and the browser test (tests/test_browser.py).
    """
    shutil.rmtree(SMOKE_BUILD, ignore_errors=True)  # a cached build would hide execution errors
    env = {**os.environ, "VAE_BOOK_SMOKE": "1"}
    env.pop("MPLBACKEND", None)  # Agg in the kernels would keep every figure out of the book
    jupyter_book = shutil.which("jupyter-book", path=str(Path(sys.executable).parent)) or "jupyter-book"
    command = [jupyter_book, "build", ".", "--path-output", str(SMOKE_BUILD), "-W", "-n", "--keep-going"]
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, env=env, timeout=3600)
    return result, SMOKE_BUILD / "_build" / "html"
