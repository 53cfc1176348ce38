"""Run-wide settings: the smoke switch, the device, seeding and where data live.

Every chapter reads these in its setup cell, so one environment variable turns a
notebook from a full training run into a seconds-long smoke test:

* ``VAE_BOOK_SMOKE=1`` -> smoke mode (tiny data, one or two epochs). When the
  variable is unset, smoke mode is on exactly when ``CI`` is set to anything but a false
  value (``CI=false`` or ``CI=0`` leaves it off).
* ``VAE_BOOK_DATA=/path`` -> where MNIST lives or is downloaded to.
* ``VAE_BOOK_BUDGET=cpu|full`` -> the budget of a real (non-smoke) run, read by
  :func:`vaelib.book.budgets.budget` (the book's machinery), named here with the others.
* ``VAE_BOOK_CHECKPOINTS=/path`` -> the folder of the models chapter 3 saves for chapter 5
  (default ``checkpoints/`` beside the notebook), so that two runs of the book at once keep apart.

Nothing here runs at import time; each function reads the environment when called.
"""

from __future__ import annotations

import numbers
import os
import platform
import random
from pathlib import Path

import pyro
import torch

SMOKE_ENV = "VAE_BOOK_SMOKE"
DATA_ROOT_ENV = "VAE_BOOK_DATA"
BUDGET_ENV = "VAE_BOOK_BUDGET"
CI_ENV = "CI"  # set by CI services; turns smoke mode on when VAE_BOOK_SMOKE is unset
CHECKPOINTS_ENV = "VAE_BOOK_CHECKPOINTS"  # where chapter 3 saves the models chapter 5 loads (vaelib.checkpoint_path)
# Every environment variable vaelib reads: _config.yml's execution_environment must name the same ones,
# so that the build runs the chapters again when one of them changes (tests/test_settings.py checks it).
ENVIRONMENT = (SMOKE_ENV, BUDGET_ENV, DATA_ROOT_ENV, CI_ENV, CHECKPOINTS_ENV)
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def smoke_mode() -> bool:
    """Whether to run in smoke mode (``VAE_BOOK_SMOKE``; defaults to on under CI).

    Used in every chapter and the capstone.
    """
    raw = os.environ.get(SMOKE_ENV)
    if raw is None:  # CI services set CI=true (or 1, or their name); CI=false means "not CI"
        return os.environ.get(CI_ENV, "").strip().lower() not in _FALSE
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ValueError(f"{SMOKE_ENV}={raw!r} is not understood: set it to 1 (smoke run) or 0 (real run).")


def pick_device() -> torch.device:
    """CUDA when a GPU is usable, else the CPU.

    Used in every chapter and the capstone.
    """
    # torch.accelerator may name 'cuda' on a machine without a GPU; ask CUDA itself.
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def seed_everything(seed: int = 0) -> torch.Generator:
    """Seed Python, torch (CPU and CUDA) and Pyro; return a CPU generator seeded alike.

    Used in every chapter and the capstone.
    """
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral):
        raise TypeError(f"seed must be a whole number, got {seed!r} ({type(seed).__name__}); e.g. seed_everything(0).")
    if seed < 0:
        raise ValueError(f"seed must be 0 or more, got {seed}; e.g. seed_everything(0).")
    seed = int(seed)
    random.seed(seed)
    torch.manual_seed(seed)  # also seeds every CUDA device
    pyro.set_rng_seed(seed)
    return torch.Generator().manual_seed(seed)


def check_generator(generator: torch.Generator | None, device: torch.device | str) -> None:
    """Raise a ValueError that says what to do unless ``generator`` is None or lives on ``device``.

    torch draws random numbers with a generator only on the generator's own device; a CPU
    generator used for CUDA tensors fails with an error that does not say so.
    """
    if generator is not None and not isinstance(generator, torch.Generator):
        raise TypeError(
            f"generator must be a torch.Generator or None, got {type(generator).__name__}; "
            "make one with torch.Generator().manual_seed(seed)."
        )
    device = torch.device(device)
    if generator is not None and generator.device.type != device.type:
        raise ValueError(
            f"the random generator lives on {generator.device.type} but the tensors on {device}; "
            f"make it with torch.Generator(device={str(device)!r}).manual_seed(seed)"
        )


def data_root() -> Path:
    """Where MNIST is stored or downloaded to: ``$VAE_BOOK_DATA`` or ``~/.cache/vae-book``.

    A value with spaces around the path is an error rather than a folder whose name starts with a
    space; :func:`~vaelib.data.load_mnist` also refuses a ``VAE_BOOK_DATA`` folder that does not exist.

    Used by every chapter through load_mnist.
    """
    raw = os.environ.get(DATA_ROOT_ENV)
    if raw and raw != raw.strip():
        raise ValueError(
            f"{DATA_ROOT_ENV}={raw!r} has spaces around the path; remove them, e.g. {DATA_ROOT_ENV}={raw.strip()}"
        )
    return Path(raw).expanduser() if raw else Path.home() / ".cache" / "vae-book"


def hardware_name(device: torch.device | str) -> str:
    """What a run on ``device`` ran on, for records of results: the GPU's name, or the CPU's model
    and the number of threads torch uses.

    Used in chapters 7, 8 and the capstone, and in chapter 6 through new_record; also by tools/record_run.py.
    """
    device = torch.device(device)
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    model = ""
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():  # Linux names the model here; platform.processor() is often empty there
        for line in cpuinfo.read_text(errors="replace").splitlines():
            if line.startswith("model name"):
                model = line.partition(":")[2].strip()
                break
    model = model or platform.processor() or platform.machine() or "unknown processor"
    return f"CPU: {model}, {torch.get_num_threads()} threads"
