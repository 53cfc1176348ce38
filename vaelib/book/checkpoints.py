"""Save and load model weights safely.

Checkpoints hold plain tensors and a small dict of metadata, so loading can use
``torch.load(weights_only=True)``, which refuses to unpickle arbitrary objects (a
checkpoint from an untrusted source cannot run code). Saving writes a temporary file,
reads it back with that same safe loader, and only then renames it over the old one: a save
that fails, is interrupted, or wrote something the loader would refuse leaves the previous
checkpoint as it was and no temporary file behind.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import zipfile
from pathlib import Path
from types import MappingProxyType

import torch

from ..settings import CHECKPOINTS_ENV
from .budgets import MODES


class CheckpointError(RuntimeError):
    """A checkpoint could not be loaded; the message says why and what to do.

    Taught in chapter 5.
    """


# Exact types, not subclasses: numpy scalars, np.str_ and IntEnum members subclass these but are
# pickled as their own classes, which weights_only=True refuses to load.
_PLAIN = (str, int, float, bool, type(None))


def _convert_hint(value) -> str:
    if isinstance(value, torch.Tensor):
        return "x.item() or x.tolist()"
    if isinstance(value, os.PathLike):
        return "str(path)"
    if isinstance(value, str):
        return "str(x)"
    if isinstance(value, (int, float)) or hasattr(value, "item"):  # numpy scalars, IntEnum
        return "float(x) or int(x)"
    return "str(x), float(x) or a list"


def _check_plain(value, where: str) -> None:
    """Raise a TypeError unless ``value`` is plain data that ``weights_only=True`` will load back."""
    if type(value) in _PLAIN:
        return
    if type(value) in (list, tuple):
        for i, item in enumerate(value):
            _check_plain(item, f"{where}[{i}]")
        return
    if type(value) is dict:
        for key, item in value.items():
            if type(key) is not str:
                raise TypeError(f"checkpoint metadata {where} has a key {key!r}; use str keys, e.g. str(key).")
            _check_plain(item, f"{where}[{key!r}]")
        return
    raise TypeError(
        f"checkpoint metadata {where} is a {type(value).__name__}; only str, int, float, bool, None and lists or "
        f"dicts of them load back safely. Convert it first, e.g. {_convert_hint(value)}."
    )


def _check_model(model, verb: str) -> None:
    if isinstance(model, torch.nn.Module):
        return
    if isinstance(model, (str, os.PathLike)):
        hint = f"the model comes first: {verb}_checkpoint(model, path)"
    elif isinstance(model, dict):
        hint = "pass the model itself, not its state_dict()"
    else:
        hint = "pass the torch.nn.Module whose weights to " + ("save" if verb == "save" else "fill")
    raise TypeError(f"{verb}_checkpoint needs a torch.nn.Module first, got {type(model).__name__}; {hint}.")


def save_checkpoint(model: torch.nn.Module, path: str | Path, **metadata) -> Path:
    """Write ``model.state_dict()`` and ``metadata`` (str, numbers, lists, dicts) to ``path`` atomically.

    Metadata that could not be loaded back with ``weights_only=True`` is refused before anything is
    written, and the written file is read back before it replaces ``path``.

    Taught in chapter 3.
    """
    _check_model(model, "save")
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"path must be a str or Path, got {type(path).__name__}.")
    for key, value in metadata.items():
        _check_plain(value, repr(key))
    path = Path(path).expanduser()
    if path.is_dir():
        raise IsADirectoryError(f"{path} is a folder; give the checkpoint a file name, e.g. {path / 'model.pt'}.")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError) as err:
        raise NotADirectoryError(f"cannot save to {path}: {err.filename} is a file, not a folder.") from err
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")  # beside the target, so the rename is atomic
    try:
        try:
            state = model.state_dict()
            torch.save({"state_dict": state, "metadata": metadata, "weights_sha256": _weights_digest(state)}, tmp)
        except OSError as err:
            raise type(err)(f"cannot write beside {path} ({err.strerror}); any earlier file is unchanged.") from err
        try:
            torch.load(tmp, map_location="cpu", weights_only=True)  # what load_checkpoint will do
        except pickle.UnpicklingError as err:
            raise TypeError(
                f"the model's state_dict holds objects that a safe load refuses ({str(err).splitlines()[0]}); "
                f"{path} was left as it was."
            ) from err
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)  # gone after a successful replace; removed after any failure
    return path


def load_checkpoint(model: torch.nn.Module, path: str | Path, map_location="cpu") -> dict:
    """Load weights saved by :func:`save_checkpoint` into ``model``; returns the metadata.

    The tensors are read onto the CPU by default and then copied to wherever ``model`` lives, so a
    checkpoint saved on a GPU loads on a machine without one. The model is left untouched unless
    every tensor matches (name and shape) and the weights match the SHA-256 checksum that
    :func:`save_checkpoint` stored (a file damaged on disk is refused, not loaded).

    Taught in chapter 5.
    """
    _check_model(model, "load")
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"path must be a str or Path, got {type(path).__name__}.")
    path = Path(path).expanduser()
    if path.is_dir():
        raise CheckpointError(f"{path} is a folder, not a checkpoint; pass the checkpoint file's path.")
    if not path.exists():
        raise CheckpointError(f"no checkpoint at {path}; train the model first or check the path.")
    try:
        with path.open("rb"):
            pass
    except OSError as err:
        raise CheckpointError(f"{path} cannot be read ({err.strerror}); check its permissions.") from err
    if not zipfile.is_zipfile(path):  # torch.save writes a zip archive; anything else is damaged or foreign
        raise CheckpointError(f"{path} is not a readable checkpoint (truncated or corrupt?); save it again.")
    try:
        payload = torch.load(path, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as err:
        raise CheckpointError(
            f"{path} holds objects other than tensors and plain data, so it was not loaded "
            f"(weights_only=True refuses code that unpickling could run). Re-save it with "
            f"vaelib.save_checkpoint from a trusted copy. Detail: {str(err).splitlines()[0]}"
        ) from err
    except (RuntimeError, EOFError, OSError) as err:
        raise CheckpointError(f"{path} is not a readable checkpoint (truncated or corrupt?): {err}") from err
    if not isinstance(payload, dict) or not isinstance(payload.get("state_dict"), dict):
        raise CheckpointError(f"{path} was not written by vaelib.save_checkpoint (no 'state_dict' entry).")
    state = payload["state_dict"]
    if not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise CheckpointError(f"{path} was not written by vaelib.save_checkpoint (its state_dict holds non-tensors).")
    expected = model.state_dict()
    missing = sorted(set(expected) - set(state))
    unexpected = sorted(set(state) - set(expected))
    wrong = sorted(k for k in set(state) & set(expected) if state[k].shape != expected[k].shape)
    if missing or unexpected or wrong:
        raise CheckpointError(
            f"{path} does not fit this {type(model).__name__}: missing {missing[:5]}, unexpected "
            f"{unexpected[:5]}, wrong shapes {wrong[:5]}. Build the model with the settings it was saved with "
            f"(metadata: {payload.get('metadata')})."
        )
    stored = payload.get("weights_sha256")
    if stored is not None and stored != _weights_digest(state):
        raise CheckpointError(
            f"{path}'s weights do not match the checksum stored when it was saved: the file was damaged after it "
            "was written (disk, copy or edit), so it was not loaded and the model is unchanged. Save it again "
            "from the trained model, or retrain."
        )
    model.load_state_dict(state)
    return payload.get("metadata", {})


def _weights_digest(state: dict) -> str:
    """SHA-256 of every tensor's name, dtype, shape and bytes, in name order: what load_checkpoint verifies."""
    digest = hashlib.sha256()
    for name in sorted(state):
        tensor = state[name].detach().cpu().contiguous()
        digest.update(f"{name}|{tensor.dtype}|{tuple(tensor.shape)}|".encode())
        digest.update(tensor.reshape(-1).view(torch.uint8).numpy().tobytes())
    return digest.hexdigest()


# Models one chapter trains and saves for a later chapter to load: the name is the contract, written once
# here. A test checks that each is saved by exactly one chapter and loaded by another, and that no chapter
# saves a checkpoint that nothing loads.
SHARED_MODELS = MappingProxyType(
    {
        "pyro_mlp_z50": "chapter 3's 784-400-50 MLP VAE (SVI, binarized images); loaded by chapter 5",
        "mlp_z2": "chapter 3's MLP VAE with a 2-D latent space (SVI, binarized images); loaded by chapter 5",
    }
)
CHECKPOINT_DIR = Path("checkpoints")  # relative to the notebook's folder (chapters/checkpoints/, git-ignored)


def checkpoint_path(name: str, mode: str, root: str | Path | None = None) -> Path:
    """Where the shared model ``name`` trained in budget ``mode`` lives: ``root/<name>_<mode>.pt``.

    ``root`` defaults to ``$VAE_BOOK_CHECKPOINTS`` when it is set, else :data:`CHECKPOINT_DIR`
    (relative to the notebook's folder): two runs of the book at once (the tests' smoke build and
    their Colab pass) each set their own folder, so neither reads the other's half-written files.

    Used by chapter 3 (which saves) and chapter 5 (which loads); ``name`` must be one of
    :data:`SHARED_MODELS`, so a typo fails here instead of as a missing file in a later chapter.
    """
    if name not in SHARED_MODELS:
        raise KeyError(f"{name!r} is not a shared model; known: {', '.join(SHARED_MODELS)} (vaelib/checkpoints.py)")
    if mode not in MODES:
        raise ValueError(f"mode {mode!r} is not one of {MODES}; pass BUDGET.mode")
    if root is None:
        raw = os.environ.get(CHECKPOINTS_ENV, "")
        if raw != raw.strip():
            raise ValueError(
                f"{CHECKPOINTS_ENV}={raw!r} has spaces around the path; remove them, "
                f"e.g. {CHECKPOINTS_ENV}={raw.strip()}"
            )
        root = Path(raw).expanduser() if raw else CHECKPOINT_DIR
    return Path(root) / f"{name}_{mode}.pt"
