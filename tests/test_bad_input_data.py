"""Bad input to the data pipeline and the settings: each error names what was wrong and what to do,
and nothing is lost or created on the way (no files, no folders, no state)."""

import gzip
from pathlib import Path

import pytest
import torch

import vaelib
from vaelib.data import MNIST_SOURCE, TensorBatches, check_data

from .conftest import write_idx


def good_images(n=4):
    return torch.rand(n, 1, 28, 28)


# ---------------------------------------------------------------- images


@pytest.mark.parametrize(
    ("bad", "error", "message"),
    [
        (torch.rand(4, 784), ValueError, r"\(4, 784\): flat vectors.*x\.view\(-1, 1, 28, 28\)"),
        (torch.rand(4, 28, 28), ValueError, r"no channel dimension.*x\.unsqueeze\(1\)"),
        (torch.rand(1, 28, 28), ValueError, r"one image.*x\.unsqueeze\(0\)"),
        (torch.rand(4, 3, 28, 28), ValueError, r"three colour channels.*x\.mean\(1, keepdim=True\)"),
        (torch.rand(4, 28, 28, 1), ValueError, r"channels last.*permute\(0, 3, 1, 2\)"),
        (torch.rand(4, 1, 32, 32), ValueError, r"\(4, 1, 32, 32\).*resize or reshape"),
        (torch.rand(4, 1, 28, 28, dtype=torch.float64), ValueError, r"float32.*got torch\.float64.*x\.float\(\)"),
        (torch.rand(4, 1, 28, 28).half(), ValueError, r"float32.*got torch\.float16.*x\.float\(\)"),
        (torch.randint(0, 255, (4, 1, 28, 28), dtype=torch.uint8), ValueError, r"uint8.*x\.float\(\) / 255"),
        (torch.rand(4, 1, 28, 28) * 255, ValueError, r"exceed 1.*0-255 pixels\? Divide them by 255"),
        (torch.rand(4, 1, 28, 28) * 1000, ValueError, r"exceed 1.*rescale them into \[0, 1\]"),
        ((torch.rand(4, 1, 28, 28) - 0.13) / 0.31, ValueError, r"negative values.*normalised images\? Use the raw"),
        (torch.full((4, 1, 28, 28), float("nan")), ValueError, r"contain NaN; check how they were made"),
        (torch.full((4, 1, 28, 28), float("inf")), ValueError, r"infinite values.*check how they were computed"),
        ([[0.0] * 784], TypeError, r"torch\.Tensor.*got list.*torch\.as_tensor"),
    ],
    ids=[
        "flat",
        "no-channel",
        "single-image",
        "rgb",
        "channels-last",
        "32x32",
        "float64",
        "float16",
        "uint8",
        "0-255",
        "0-1000",
        "normalised",
        "nan",
        "inf",
        "list",
    ],
)
def test_check_images_says_what_is_wrong_and_what_to_do(bad, error, message):
    with pytest.raises(error, match=message):
        vaelib.check_images(bad)


def test_three_channel_hint_is_not_the_view_that_makes_three_images():
    with pytest.raises(ValueError) as info:
        vaelib.check_images(torch.rand(2, 3, 28, 28))
    assert "view(-1, 1, 28, 28)" not in str(info.value)


def test_normalised_and_infinite_pixels_are_not_told_to_divide_by_255():
    for bad in ((torch.rand(2, 1, 28, 28) - 0.5) * 3, torch.full((2, 1, 28, 28), float("inf"))):
        with pytest.raises(ValueError) as info:
            vaelib.check_images(bad)
        assert "255" not in str(info.value), str(info.value)


@pytest.mark.parametrize(
    ("labels", "error", "message"),
    [
        (torch.zeros(3, dtype=torch.long), ValueError, r"labels have shape \(3,\) but there are 4 images.*one label"),
        (torch.zeros(4, 1, dtype=torch.long), ValueError, r"shape \(4, 1\).*shape \(N,\)"),
        (torch.zeros(4), TypeError, r"integer classes, got torch\.float32.*labels\.long\(\)"),
        (torch.zeros(4, dtype=torch.bool), TypeError, r"integer classes.*labels\.long\(\)"),
        ([0, 1, 2, 3], TypeError, r"labels must be a torch\.Tensor.*torch\.as_tensor"),
        (torch.zeros(4, dtype=torch.long, device="meta"), ValueError, r"labels are on meta but images on cpu.*\.to"),
    ],
    ids=["too-few", "2-d", "float", "bool", "list", "other-device"],
)
def test_image_data_rejects_bad_labels(labels, error, message):
    with pytest.raises(error, match=message):
        vaelib.ImageData(good_images(), labels, "test")


def test_image_data_rejects_a_source_that_is_not_a_name():
    with pytest.raises(TypeError, match="source must be a str"):
        vaelib.ImageData(good_images(), torch.zeros(4, dtype=torch.long), None)


@pytest.mark.parametrize(
    ("n", "error", "message"),
    [
        (-5, ValueError, r"n must be at least 1, got -5"),
        (0, ValueError, r"n must be at least 1, got 0"),
        (2.0, TypeError, r"whole number, got 2\.0.*write subset's n=2"),
        ("10", TypeError, r"whole number, got '10'"),
        (True, TypeError, r"whole number, got True"),
    ],
    ids=["negative", "zero", "float", "str", "bool"],
)
def test_subset_rejects_sizes_that_would_slice_silently(digits, n, error, message):
    train, _ = digits
    with pytest.raises(error, match=message):
        train.subset(n)
    assert len(train) == 1498, "the split is untouched"


def test_subset_still_takes_none_and_numpy_integers(digits):
    import numpy as np

    train, _ = digits
    assert train.subset(None) is train and len(train.subset(np.int64(7))) == 7


@pytest.mark.parametrize(
    ("device", "message"),
    [("gpu", r"device='gpu' is not a device.*'cpu', 'cuda'"), ("cuda", r"CUDA is not available.*pick_device")],
    ids=["unknown", "cuda-without-gpu"],
)
def test_moving_data_to_a_device_that_is_not_there(digits, device, message):
    if device == "cuda" and torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    _, test = digits
    with pytest.raises(ValueError, match=message):
        test.to(device)


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"batch_size": 0}, ValueError, r"batch_size must be at least 1, got 0"),
        ({"batch_size": 32.0}, TypeError, r"batch_size must be a whole number, got 32\.0.*batch_size=32"),
        ({"batch_size": 32, "shuffle": "yes"}, TypeError, r"shuffle must be True or False, got 'yes'"),
        ({"batch_size": 32, "binarize": 1}, TypeError, r"binarize must be True or False, got 1"),
        ({"batch_size": 32, "generator": 0}, TypeError, r"generator must be a torch\.Generator.*manual_seed"),
    ],
    ids=["zero", "float", "shuffle-str", "binarize-int", "seed-for-generator"],
)
def test_batches_reject_bad_options(digits, kwargs, error, message):
    train, _ = digits
    with pytest.raises(error, match=message):
        train.batches(**kwargs)


def test_tensor_batches_reject_labels_elsewhere_and_non_tensors():
    images = good_images()
    with pytest.raises(ValueError, match=r"images are on cpu but labels on meta.*\.to"):
        TensorBatches(images, torch.zeros(4, dtype=torch.long, device="meta"), 2)
    with pytest.raises(TypeError, match=r"images must be a torch\.Tensor, got ndarray"):
        TensorBatches(images.numpy(), torch.zeros(4, dtype=torch.long), 2)


@pytest.mark.parametrize(
    ("data", "error", "message"),
    [
        (torch.rand(4, 1, 28, 28), TypeError, r"vaelib\.ImageData, got Tensor.*ImageData\(images, labels"),
        (torch.utils.data.DataLoader(list(range(4))), TypeError, r"got DataLoader.*in memory.*load_mnist"),
        ([1, 2], TypeError, r"got list.*load_mnist\(\) or vaelib\.ImageData"),
    ],
    ids=["tensor", "dataloader", "list"],
)
def test_check_data_tells_how_to_make_an_image_data(data, error, message):
    with pytest.raises(error, match=message):
        check_data(data, "train")


def test_empty_data_is_refused_with_the_likely_cause(digits):
    _, test = digits
    empty = vaelib.ImageData(test.images[:0], test.labels[:0], test.source)  # e.g. a filter that kept nothing
    with pytest.raises(ValueError, match=r"train holds no images; check the subset or filter"):
        check_data(empty, "train")


# ---------------------------------------------------------------- MNIST files and folders


def test_load_mnist_refuses_a_split_name(tiny_mnist):
    root, _ = tiny_mnist
    with pytest.raises(TypeError, match=r"train must be True.*or False \(the test split\), got 'test'"):
        vaelib.load_mnist("test", root=root, download=False, device="cpu")
    with pytest.raises(TypeError, match=r"train must be True.*got 'test'"):
        vaelib.load_standin_digits("test")


@pytest.mark.parametrize("option", ["download", "allow_standin"])
def test_load_mnist_flags_must_be_true_or_false(tiny_mnist, option):
    root, _ = tiny_mnist
    with pytest.raises(TypeError, match=rf"{option} must be True or False, got 'no'"):
        vaelib.load_mnist(root=root, device="cpu", **{option: "no"})


def test_a_mistyped_data_folder_is_reported_and_not_created(tmp_path, monkeypatch):
    mistyped = tmp_path / "dta"
    monkeypatch.setenv("VAE_BOOK_DATA", str(mistyped))
    with pytest.raises(FileNotFoundError, match=r"VAE_BOOK_DATA='.*dta' names .*does not exist.*mkdir -p"):
        vaelib.load_mnist(device="cpu")
    assert not mistyped.exists(), "a mistyped folder must not be created (and filled)"
    with pytest.raises(FileNotFoundError, match=r"root='.*dta'.*does not exist"):
        vaelib.load_mnist(root=mistyped, device="cpu")
    assert not mistyped.exists()


def test_a_data_folder_that_is_a_file_is_reported(tmp_path, monkeypatch):
    monkeypatch.setenv("VAE_BOOK_DATA", str(tmp_path / "notes.txt"))
    (tmp_path / "notes.txt").write_text("keep me")
    with pytest.raises(NotADirectoryError, match=r"names a file.*folder that holds MNIST/raw"):
        vaelib.load_mnist(device="cpu")
    assert (tmp_path / "notes.txt").read_text() == "keep me"


def test_a_space_padded_data_variable_is_an_error_not_a_new_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("VAE_BOOK_DATA", f" {tmp_path} ")
    with pytest.raises(ValueError, match=r"VAE_BOOK_DATA=.* has spaces around the path; remove them"):
        vaelib.data_root()
    with pytest.raises(ValueError, match=r"spaces around the path"):
        vaelib.load_mnist(device="cpu")
    assert not any(p.name.startswith(" ") for p in tmp_path.iterdir()), "no folder named ' /...' is created"


def remove(root: Path, *names: str) -> None:
    for name in names:
        (root / "MNIST" / "raw" / name).unlink()


def test_a_missing_labels_file_is_named_with_the_folder(tiny_mnist):
    root, _ = tiny_mnist
    remove(root, "train-labels-idx1-ubyte")
    raw = root / "MNIST" / "raw"
    with pytest.warns(vaelib.StandInDataWarning, match=rf"{raw} has no train-labels-idx1-ubyte.*OFFLINE STAND-IN"):
        data = vaelib.load_mnist(root=root, download=False, device="cpu")
    assert data.source != MNIST_SOURCE
    with pytest.raises(vaelib.MNISTUnavailableError, match=r"has no train-labels-idx1-ubyte.*VAE_BOOK_DATA"):
        vaelib.load_mnist(root=root, download=False, allow_standin=False, device="cpu")
    assert (raw / "train-images-idx3-ubyte").exists(), "the files that are there stay"


def test_only_the_test_split_present(tiny_mnist):
    root, arrays = tiny_mnist
    remove(root, "train-images-idx3-ubyte", "train-labels-idx1-ubyte")
    with pytest.raises(vaelib.MNISTUnavailableError, match=r"holds the test split's t10k-images-idx3-ubyte"):
        vaelib.load_mnist(root=root, download=False, allow_standin=False, device="cpu")
    test = vaelib.load_mnist(train=False, root=root, download=False, device="cpu")  # needs only its own files
    assert test.source == MNIST_SOURCE and len(test) == len(arrays["t10k"][0])


def test_packed_files_are_named_with_how_to_unpack_them(tiny_mnist):
    root, _ = tiny_mnist
    raw = root / "MNIST" / "raw"
    for name in ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"):
        (raw / f"{name}.gz").write_bytes(gzip.compress((raw / name).read_bytes()))
        (raw / name).unlink()
    with pytest.raises(vaelib.MNISTUnavailableError, match=r"t10k-images-idx3-ubyte\.gz.*not unpacked.*gunzip -k"):
        vaelib.load_mnist(train=False, root=root, download=False, allow_standin=False, device="cpu")


def test_labels_out_of_range_are_a_corrupt_file(tiny_mnist):
    root, _ = tiny_mnist
    path = root / "MNIST" / "raw" / "train-labels-idx1-ubyte"
    write_idx(path, torch.tensor([0, 1, 12, 3, 4, 5, 6, 7, 8, 9, 0, 1], dtype=torch.uint8))
    with pytest.raises(vaelib.MNISTFileError, match=r"train-labels-idx1-ubyte holds labels from 0 to 12.*Delete"):
        vaelib.load_mnist(root=root, download=False, device="cpu")


def test_image_and_label_counts_that_differ_are_reported(tiny_mnist):
    root, _ = tiny_mnist
    write_idx(root / "MNIST" / "raw" / "train-labels-idx1-ubyte", torch.zeros(10, dtype=torch.uint8))
    with pytest.raises(vaelib.MNISTFileError, match=r"holds 12 images but .*labels-idx1-ubyte 10 labels.*Delete both"):
        vaelib.load_mnist(root=root, download=False, device="cpu")


def test_a_folder_where_a_file_should_be(tiny_mnist):
    root, _ = tiny_mnist
    path = root / "MNIST" / "raw" / "t10k-images-idx3-ubyte"
    path.unlink()
    path.mkdir()
    with pytest.raises(vaelib.MNISTFileError, match=r"t10k-images-idx3-ubyte is a folder.*Delete"):
        vaelib.load_mnist(train=False, root=root, download=False, device="cpu")


# ---------------------------------------------------------------- settings


@pytest.mark.parametrize(
    ("ci", "expected"),
    [("false", False), ("False", False), ("0", False), ("", False), ("true", True), ("1", True), ("gitlab", True)],
    ids=str,
)
def test_ci_false_leaves_smoke_mode_off(monkeypatch, ci, expected):
    monkeypatch.delenv("VAE_BOOK_SMOKE", raising=False)
    monkeypatch.setenv("CI", ci)
    assert vaelib.smoke_mode() is expected


@pytest.mark.parametrize(
    ("seed", "error", "message"),
    [
        (1.5, TypeError, r"seed must be a whole number, got 1\.5"),
        ("0", TypeError, r"seed must be a whole number, got '0'"),
        (-1, ValueError, r"seed must be 0 or more, got -1"),
    ],
    ids=["float", "str", "negative"],
)
def test_seed_everything_rejects_seeds_that_would_be_truncated_or_fail(seed, error, message):
    with pytest.raises(error, match=message):
        vaelib.seed_everything(seed)
