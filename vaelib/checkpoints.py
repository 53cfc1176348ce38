"""Save and load model weights safely.

Checkpoints hold plain tensors and a small dict of metadata, so loading can use
``torch.load(weights_only=True)``, which refuses to unpickle arbitrary objects (a
checkpoint from an untrusted source cannot run code). Saving writes a temporary file
and renames it, so an interrupted save never destroys the previous checkpoint.
"""

from __future__ import annotations

import os
import pickle
import zipfile
from pathlib import Path
from types import MappingProxyType

import torch

from .budgets import MODES


class CheckpointError(RuntimeError):
    """A checkpoint could not be loaded; the message says why and what to do."""


_PLAIN = (str, int, float, bool, type(None))


def _check_plain(value, where: str) -> None:
    """Raise a TypeError unless ``value`` is plain data that ``weights_only=True`` will load back."""
    if isinstance(value, _PLAIN):
        return
    if isinstance(value, (list, tuple)):
        for i, item in enumerate(value):
            _check_plain(item, f"{where}[{i}]")
        return
    if isinstance(value, dict) and all(isinstance(k, str) for k in value):
        for key, item in value.items():
            _check_plain(item, f"{where}[{key!r}]")
        return
    raise TypeError(
        f"checkpoint metadata {where} is a {type(value).__name__}; only str, int, float, bool, None and lists or "
        "dicts of them load back safely. Convert it first, e.g. str(path) or float(x)."
    )


def save_checkpoint(model: torch.nn.Module, path: str | Path, **metadata) -> Path:
    """Write ``model.state_dict()`` and ``metadata`` (str, numbers, lists, dicts) to ``path`` atomically.

    Metadata that could not be loaded back with ``weights_only=True`` is refused before anything is written.
    """
    for key, value in metadata.items():
        _check_plain(value, repr(key))
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    torch.save({"state_dict": model.state_dict(), "metadata": metadata}, tmp)
    os.replace(tmp, path)
    return path


def load_checkpoint(model: torch.nn.Module, path: str | Path, map_location="cpu") -> dict:
    """Load weights saved by :func:`save_checkpoint` into ``model``; returns the metadata.

    The tensors are read onto the CPU by default and then copied to wherever ``model`` lives, so a
    checkpoint saved on a GPU loads on a machine without one. The model is left untouched unless
    every tensor matches (name and shape).
    """
    path = Path(path)
    if not path.exists():
        raise CheckpointError(f"no checkpoint at {path}; train the model first or check the path.")
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
    if not isinstance(payload, dict) or "state_dict" not in payload:
        raise CheckpointError(f"{path} was not written by vaelib.save_checkpoint (no 'state_dict' entry).")
    state = payload["state_dict"]
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
    model.load_state_dict(state)
    return payload.get("metadata", {})


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


def checkpoint_path(name: str, mode: str, root: str | Path = CHECKPOINT_DIR) -> Path:
    """Where the shared model ``name`` trained in budget ``mode`` lives: ``root/<name>_<mode>.pt``.

    Used by chapter 3 (which saves) and chapter 5 (which loads); ``name`` must be one of
    :data:`SHARED_MODELS`, so a typo fails here instead of as a missing file in a later chapter.
    """
    if name not in SHARED_MODELS:
        raise KeyError(f"{name!r} is not a shared model; known: {', '.join(SHARED_MODELS)} (vaelib/checkpoints.py)")
    if mode not in MODES:
        raise ValueError(f"mode {mode!r} is not one of {MODES}; pass BUDGET.mode")
    return Path(root) / f"{name}_{mode}.pt"
