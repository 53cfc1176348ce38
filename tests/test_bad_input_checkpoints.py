"""Bad input to save_checkpoint and load_checkpoint: a good file is never replaced by one its own
load would refuse, a failed save leaves no temporary file, and a refused load leaves the model as it was."""

import enum
import os
from collections import namedtuple
from pathlib import Path

import numpy as np
import pytest
import torch

import vaelib
import vaelib.book.checkpoints


class Mode(enum.IntEnum):
    SMOKE = 1


Point = namedtuple("Point", "x y")


def model():
    torch.manual_seed(0)
    return vaelib.VAE.mlp(z_dim=2, hidden_dim=8)


@pytest.fixture
def saved(tmp_path):
    """A good checkpoint and its bytes, to check that refused saves leave it as it was."""
    path = vaelib.save_checkpoint(model(), tmp_path / "good.pt", epochs=3)
    return path, path.read_bytes()


def no_temporary_files(folder: Path) -> bool:
    return not list(folder.glob("*.tmp"))


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (np.float64(-101.2), r"'test_elbo' is a float64.*float\(x\)"),
        (np.mean([1.0, 2.0]), r"'test_elbo' is a float64"),
        (np.int64(3), r"is a int64.*int\(x\)"),
        (np.str_("MNIST"), r"is a str_.*str\(x\)"),
        (Mode.SMOKE, r"is a Mode"),
        (Point(1, 2), r"is a Point"),
        ([1.0, np.float32(2.0)], r"'test_elbo'\[1\] is a float32"),
        ({"a": np.bool_(True)}, r"'test_elbo'\['a'\] is a bool"),
        ({1: 2.0}, r"has a key 1; use str keys"),
        (torch.tensor(1.5), r"is a Tensor.*x\.item\(\)"),
        (Path("/data"), r"is a PosixPath.*str\(path\)"),
    ],
    ids=[
        "np-float64",
        "np-mean",
        "np-int64",
        "np-str",
        "int-enum",
        "namedtuple",
        "list-item",
        "dict-item",
        "int-key",
        "tensor",
        "path",
    ],
)
def test_metadata_that_would_not_load_back_never_replaces_a_good_file(saved, value, message):
    path, good = saved
    with pytest.raises(TypeError, match=message):
        vaelib.save_checkpoint(model(), path, test_elbo=value)
    assert path.read_bytes() == good, "the good checkpoint is untouched"
    assert no_temporary_files(path.parent)
    assert vaelib.load_checkpoint(model(), path) == {"epochs": 3}


def test_a_save_that_fails_midway_leaves_the_old_file_and_no_temporary_file(saved, monkeypatch):
    path, good = saved
    real_save = torch.save

    def interrupted(obj, f, *args, **kwargs):
        real_save(obj, f, *args, **kwargs)
        Path(f).write_bytes(Path(f).read_bytes()[:100])  # half written ...
        raise KeyboardInterrupt  # ... when the user pressed Ctrl-C

    monkeypatch.setattr(torch, "save", interrupted)
    with pytest.raises(KeyboardInterrupt):
        vaelib.save_checkpoint(model(), path, epochs=4)
    assert path.read_bytes() == good and no_temporary_files(path.parent)


def test_a_save_the_safe_loader_would_refuse_is_not_renamed_into_place(saved, monkeypatch):
    """The last line of defence: whatever slips past the metadata check is caught by reading the file back."""
    path, good = saved
    # pretend the check missed it
    monkeypatch.setattr(vaelib.book.checkpoints, "_check_plain", lambda value, where: None)
    with pytest.raises(TypeError, match=r"a safe load refuses.*left as it was"):
        vaelib.save_checkpoint(model(), path, test_elbo=np.float64(1.0))
    assert path.read_bytes() == good and no_temporary_files(path.parent)


@pytest.mark.parametrize(
    ("args", "error", "message"),
    [
        (("model.pt", "MODEL"), TypeError, r"needs a torch\.nn\.Module first, got str; the model comes first"),
        (({"w": torch.zeros(1)}, "x.pt"), TypeError, r"got dict; pass the model itself, not its state_dict\(\)"),
        ((None, 3), TypeError, r"needs a torch\.nn\.Module first, got NoneType"),
    ],
    ids=["swapped", "state-dict", "none"],
)
def test_save_refuses_what_is_not_a_model(tmp_path, args, error, message):
    first, name = args
    target = tmp_path / name if isinstance(name, str) else name
    with pytest.raises(error, match=message):
        vaelib.save_checkpoint(first, target)
    assert list(tmp_path.iterdir()) == []


def test_save_to_a_folder_or_below_a_file(tmp_path):
    with pytest.raises(IsADirectoryError, match=r"is a folder; give the checkpoint a file name, e\.g\..*model\.pt"):
        vaelib.save_checkpoint(model(), tmp_path)
    (tmp_path / "notes").write_text("keep")
    with pytest.raises(NotADirectoryError, match=r"cannot save to .*notes.*is a file, not a folder"):
        vaelib.save_checkpoint(model(), tmp_path / "notes" / "model.pt")
    assert (tmp_path / "notes").read_text() == "keep" and no_temporary_files(tmp_path)
    with pytest.raises(TypeError, match=r"path must be a str or Path, got int"):
        vaelib.save_checkpoint(model(), 3)


def test_save_into_a_folder_that_cannot_be_written(saved, monkeypatch):
    path, good = saved

    def refuse(obj, f, *args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(torch, "save", refuse)
    with pytest.raises(PermissionError, match=r"cannot write beside .*good\.pt \(Permission denied\).*unchanged"):
        vaelib.save_checkpoint(model(), path)
    assert path.read_bytes() == good and no_temporary_files(path.parent)


def test_load_a_folder_is_not_called_corrupt(tmp_path):
    target = model()
    before = {k: v.clone() for k, v in target.state_dict().items()}
    with pytest.raises(vaelib.CheckpointError, match=r"is a folder, not a checkpoint; pass the checkpoint file"):
        vaelib.load_checkpoint(target, tmp_path)
    assert all(torch.equal(v, before[k]) for k, v in target.state_dict().items())


def test_load_an_unreadable_file_is_not_called_corrupt(saved, monkeypatch):
    path, good = saved
    real_open = Path.open

    def no_permission(self, *args, **kwargs):
        if self == path:
            raise PermissionError(13, "Permission denied", str(self))
        return real_open(self, *args, **kwargs)

    monkeypatch.setattr(Path, "open", no_permission)
    with pytest.raises(vaelib.CheckpointError, match=r"cannot be read \(Permission denied\); check its permissions"):
        vaelib.load_checkpoint(model(), path)
    monkeypatch.undo()
    assert path.read_bytes() == good


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their permissions")
def test_load_a_file_without_read_permission(saved):
    path, _ = saved
    path.chmod(0)
    try:
        with pytest.raises(vaelib.CheckpointError, match=r"cannot be read.*permissions"):
            vaelib.load_checkpoint(model(), path)
    finally:
        path.chmod(0o644)


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ({"state_dict": [1, 2]}, r"not written by vaelib\.save_checkpoint"),
        ({"state_dict": {"hidden.weight": 1.0}}, r"holds non-tensors"),
        ([torch.zeros(2)], r"not written by vaelib\.save_checkpoint"),
    ],
    ids=["list-state", "number-entries", "list"],
)
def test_load_foreign_files_leaves_the_model_as_it_was(tmp_path, payload, message):
    path = tmp_path / "foreign.pt"
    torch.save(payload, path)
    target = model()
    before = {k: v.clone() for k, v in target.state_dict().items()}
    with pytest.raises(vaelib.CheckpointError, match=message):
        vaelib.load_checkpoint(target, path)
    assert all(torch.equal(v, before[k]) for k, v in target.state_dict().items())


def test_load_refuses_what_is_not_a_model(saved):
    path, _ = saved
    with pytest.raises(TypeError, match=r"load_checkpoint needs a torch\.nn\.Module first, got PosixPath; the model"):
        vaelib.load_checkpoint(path, model())
