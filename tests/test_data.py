"""The data pipeline: real loading path (on tiny IDX files), the offline stand-in, clear errors, batching."""

from pathlib import Path

import pytest
import torch

import vaelib
from vaelib.data import MNIST_SOURCE, STANDIN_SOURCE

from .conftest import write_idx

SHARED_MNIST = Path(__file__).resolve().parents[2] / "shared" / "data"


def test_standin_looks_like_mnist(digits):
    train, test = digits
    assert (len(train), len(test)) == (1498, 299)
    for split in digits:
        assert split.images.shape[1:] == (1, 28, 28) and split.images.dtype == torch.float32
        assert 0 <= split.images.min() and split.images.max() <= 1
        assert split.source == STANDIN_SOURCE
        assert set(split.labels.tolist()) == set(range(10))
    # MNIST's layout: the digit sits in the central 20x20 box, a 4-pixel margin stays blank.
    assert train.images[..., :4, :].abs().max() == 0 and train.images[..., -4:].abs().max() == 0
    assert train.images[..., 4:24, 4:24].mean() > 0.1


def test_missing_mnist_falls_back_to_standin_with_a_notice(tmp_path):
    with pytest.warns(vaelib.StandInDataWarning, match="OFFLINE STAND-IN"):
        data = vaelib.load_mnist(train=False, root=tmp_path, download=False, device="cpu")
    assert data.source == STANDIN_SOURCE and len(data) == 299


def test_missing_mnist_without_standin_says_what_to_do(tmp_path):
    with pytest.raises(vaelib.MNISTUnavailableError, match="VAE_BOOK_DATA"):
        vaelib.load_mnist(root=tmp_path, download=False, allow_standin=False, device="cpu")


def test_real_loading_path_reads_idx_files(tiny_mnist):
    root, arrays = tiny_mnist
    for train, prefix in ((True, "train"), (False, "t10k")):
        data = vaelib.load_mnist(train=train, root=root, download=False, device="cpu")
        images, labels = arrays[prefix]
        assert data.source == MNIST_SOURCE
        torch.testing.assert_close(data.images, images.unsqueeze(1).float() / 255)
        torch.testing.assert_close(data.labels, labels.long())


def test_truncated_file_names_the_file_and_the_fix(tiny_mnist):
    root, _ = tiny_mnist
    path = root / "MNIST" / "raw" / "train-images-idx3-ubyte"
    path.write_bytes(path.read_bytes()[:-100])
    with pytest.raises(vaelib.MNISTFileError, match=r"train-images-idx3-ubyte.*truncated.*Delete"):
        vaelib.load_mnist(root=root, download=False, device="cpu")


def test_file_with_bad_header_is_reported(tiny_mnist):
    root, _ = tiny_mnist
    (root / "MNIST" / "raw" / "t10k-labels-idx1-ubyte").write_bytes(b"<html>not found</html>")
    with pytest.raises(vaelib.MNISTFileError, match="t10k-labels-idx1-ubyte.*bad header"):
        vaelib.load_mnist(train=False, root=root, download=False, device="cpu")


@pytest.mark.skipif(not (SHARED_MNIST / "MNIST" / "raw").exists(), reason="real MNIST is not beside the project")
def test_real_mnist_when_present():
    data = vaelib.load_mnist(train=False, root=SHARED_MNIST, download=False, device="cpu")
    assert len(data) == 10_000 and data.source == MNIST_SOURCE
    assert data.labels[:5].tolist() == [7, 2, 1, 0, 4]


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        (torch.rand(4, 784), "shape"),
        (torch.rand(4, 28, 28), "shape"),
        (torch.rand(4, 1, 28, 28) * 255, r"\[0, 1\].*255"),
        (torch.randint(0, 255, (4, 1, 28, 28), dtype=torch.uint8), "dtype"),
        (torch.full((4, 1, 28, 28), float("nan")), "NaN"),
    ],
    ids=["flat", "no-channel", "0-255", "uint8", "nan"],
)
def test_check_images_rejects_bad_input(bad, message):
    with pytest.raises(ValueError, match=message):
        vaelib.check_images(bad)


def test_image_data_rejects_mismatched_labels():
    with pytest.raises(ValueError, match="one label per image"):
        vaelib.ImageData(torch.rand(3, 1, 28, 28), torch.zeros(2, dtype=torch.long), "test")


def test_batches_cover_every_image_once_per_epoch(digits):
    train, _ = digits
    batches = train.batches(100, generator=torch.Generator().manual_seed(0))
    assert len(batches) == 15
    seen = torch.cat([y for _, y in batches])
    assert len(seen) == len(train)
    assert torch.equal(seen.sort().values, train.labels.sort().values)
    first, second = next(iter(batches))[1], next(iter(batches))[1]
    assert not torch.equal(first, second)  # reshuffled every epoch
    assert len(train.batches(100, drop_last=True)) == 14
    assert all(len(x) == 100 for x, _ in train.batches(100, drop_last=True))


def test_unshuffled_batches_keep_order(digits):
    _, test = digits
    x, y = next(iter(test.batches(10, shuffle=False)))
    assert torch.equal(x, test.images[:10]) and torch.equal(y, test.labels[:10])


def test_dynamic_binarization_is_binary_and_unbiased(digits):
    train, _ = digits
    g = torch.Generator().manual_seed(0)
    x, _ = next(iter(train.batches(len(train), shuffle=False, binarize=True, generator=g)))
    assert set(x.unique().tolist()) <= {0.0, 1.0}
    assert abs(x.mean().item() - train.images.mean().item()) < 0.005
    x2, _ = next(iter(train.batches(len(train), shuffle=False, binarize=True, generator=g)))
    assert not torch.equal(x, x2)  # a fresh draw each time


def test_batches_reject_bad_settings(digits):
    train, _ = digits
    with pytest.raises(ValueError, match="batch_size"):
        train.batches(0)
    with pytest.raises(ValueError, match="labels"):
        vaelib.TensorBatches(train.images, train.labels[:3], 10)


def test_subset_and_to(digits):
    train, _ = digits
    small = train.subset(10).to("cpu")
    assert len(small) == 10 and train.subset(None) is train and len(train.subset(10**6)) == len(train)


def test_file_with_wrong_image_size_is_reported(tiny_mnist):
    root, _ = tiny_mnist
    small = torch.zeros(6, 20, 20, dtype=torch.uint8)  # a valid IDX file, but of 20x20 images
    write_idx(root / "MNIST" / "raw" / "t10k-images-idx3-ubyte", small)
    with pytest.raises(vaelib.MNISTFileError, match=r"t10k-images-idx3-ubyte declares items of shape \(20, 20\)"):
        vaelib.load_mnist(train=False, root=root, download=False, device="cpu")


def test_non_tensor_images_are_rejected():
    with pytest.raises(TypeError, match="expected a torch.Tensor"):
        vaelib.check_images([[0.0] * 784])


def test_generator_on_another_device_is_reported(digits):
    train, _ = digits
    cpu_generator = torch.Generator().manual_seed(0)
    # Only the device types are compared, so a CUDA tensor is not needed to check the message.
    with pytest.raises(ValueError, match=r"torch.Generator\(device='cuda'\)"):
        vaelib.settings.check_generator(cpu_generator, "cuda")
    vaelib.settings.check_generator(cpu_generator, "cpu")  # the right device passes
    vaelib.settings.check_generator(None, "cuda")  # no generator: the global one, always fine
    train.batches(32, generator=cpu_generator)  # CPU tensors with a CPU generator
