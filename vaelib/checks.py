"""Checks of arguments shared by vaelib's public functions, and the hints their errors give.

Each check raises ``TypeError`` for the wrong kind of value and ``ValueError`` for the right kind
with a wrong value, in a message that names the argument, shows what was given and says what to
pass instead. None of them reads a tensor's values, so none costs a host-device sync; the few
checks that must read values (pixel ranges, positive scales) sit in the function that needs them,
and their docstrings say when they run.
"""

from __future__ import annotations

import math
import numbers

import torch

DIGITS = 10  # MNIST's classes 0-9


def whole_number(value, name: str, minimum: int = 1) -> int:
    """``value`` as an int, or an error unless it is a whole number (not a bool, not a float) >= ``minimum``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        hint = f"; write {name}={int(value)}" if isinstance(value, float) and value.is_integer() else ""
        raise TypeError(f"{name} must be a whole number, got {value!r} ({type(value).__name__}){hint}.")
    if value < minimum:
        raise ValueError(f"{name} must be at least {minimum}, got {value}.")
    return int(value)


def flag(value, name: str) -> bool:
    """``value`` unless it is something other than True or False (1, 'yes', None ...)."""
    if not isinstance(value, bool):
        raise TypeError(f"{name} must be True or False, got {value!r} ({type(value).__name__}).")
    return value


def real_number(value, name: str, *, positive: bool = False, minimum: float | None = None) -> float:
    """``value`` as a finite float; with ``positive`` it must be > 0, with ``minimum`` >= that.

    A one-element tensor is accepted (reading it costs one host sync, so callers in a training loop
    pass Python numbers).
    """
    if isinstance(value, torch.Tensor) and value.numel() == 1 and not value.is_complex():
        value = value.item()
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a number, got {value!r} ({type(value).__name__}).")
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"{name} must be a finite number, got {value}.")
    if positive and value <= 0:
        raise ValueError(f"{name} must be positive, got {value}.")
    if minimum is not None and value < minimum:
        raise ValueError(f"{name} must be at least {minimum}, got {value}.")
    return value


def tensor(value, name: str, *, floating: bool = False) -> torch.Tensor:
    """``value`` unless it is not a tensor (or, with ``floating``, not a floating-point one)."""
    if not isinstance(value, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(value).__name__}; convert with torch.as_tensor.")
    if floating and not value.is_floating_point():
        raise TypeError(f"{name} must hold floating-point numbers, got {value.dtype}; convert with .float().")
    return value


def module(value, name: str, needs: tuple[str, ...] = ()) -> torch.nn.Module:
    """``value`` unless it is not an ``nn.Module`` with the attributes ``needs``."""
    if not isinstance(value, torch.nn.Module):
        raise TypeError(f"{name} must be a torch.nn.Module, got {type(value).__name__}.")
    missing = [attr for attr in needs if not hasattr(value, attr)]
    if missing:
        raise TypeError(f"{name} ({type(value).__name__}) has no {', '.join(missing)}; vaelib's networks set them.")
    return value


def device(value, name: str = "device") -> torch.device:
    """``value`` as a torch.device, or an error that says which devices this machine has."""
    try:
        result = torch.device(value)
    except (RuntimeError, TypeError) as err:
        raise ValueError(f"{name}={value!r} is not a device; use 'cpu', 'cuda' or vaelib.pick_device().") from err
    if result.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"{name}={value!r}, but CUDA is not available here; use vaelib.pick_device() (the CPU).")
    return result


def same_shape(a: torch.Tensor, b: torch.Tensor, names: str, hint: str = "") -> None:
    """Raise unless ``a`` and ``b`` have equal shapes: broadcasting one against the other would be a silent bug."""
    if a.shape != b.shape:
        first, second = names.split(" and ")
        raise ValueError(
            f"{first} {tuple(a.shape)} and {second} {tuple(b.shape)} must have the same shape{hint or '.'}"
        )


def image_shape_hint(shape: tuple[int, ...]) -> str:
    """What to do with images of ``shape`` so that they become (N, 1, 28, 28)."""
    shape = tuple(shape)
    if len(shape) == 2 and shape[1] == 28 * 28:
        return "flat vectors: reshape with x.view(-1, 1, 28, 28)"
    if shape == (1, 28, 28):
        return "one image: add the batch dimension with x.unsqueeze(0)"
    if len(shape) == 3 and shape[1:] == (28, 28):
        return "no channel dimension: add it with x.unsqueeze(1)"
    if len(shape) == 4 and shape[2:] == (28, 28) and shape[1] == 3:
        return "three colour channels: make them grey, e.g. x.mean(1, keepdim=True)"
    if len(shape) == 4 and shape[1:3] == (28, 28) and shape[3] in (1, 3):
        return "channels last: move them with x.permute(0, 3, 1, 2)"
    return "resize or reshape them to (N, 1, 28, 28)"


def pixel_range_problem(low: float, high: float) -> str | None:
    """What is wrong with pixels spanning [low, high] for a model of [0, 1] pixels, and what to do; None if nothing."""
    span = f"[{low:.3g}, {high:.3g}]"
    if math.isnan(low) or math.isnan(high):
        return "contain NaN; check how they were made or loaded"
    if math.isinf(low) or math.isinf(high):
        return f"contain infinite values (range {span}); check how they were computed"
    if low < 0:
        return f"include negative values (range {span}): normalised images? Use the raw pixels in [0, 1]"
    if high > 1:
        if high <= 255:
            return f"exceed 1 (range {span}): 0-255 pixels? Divide them by 255"
        return f"exceed 1 (range {span}); rescale them into [0, 1]"
    return None


def value_range(x: torch.Tensor) -> tuple[float, float]:
    """(min, max) of ``x`` in one pass and one host sync; NaN when ``x`` holds a NaN."""
    low, high = torch.aminmax(x.detach())
    return tuple(torch.stack([low, high]).tolist())


def positive_values(scale: torch.Tensor, name: str) -> None:
    """Raise unless every standard deviation in ``scale`` is positive and finite (one host sync)."""
    if scale.numel():
        low, high = value_range(scale)
        if not (low > 0 and math.isfinite(high)):
            raise ValueError(
                f"{name} must hold positive, finite standard deviations, found values in [{low:.3g}, {high:.3g}]. "
                "From a log-variance use (0.5 * logvar).exp(); from a raw output, softplus(raw)."
            )


def gaussian_parameters(loc: torch.Tensor, scale: torch.Tensor) -> None:
    """loc and scale are float tensors of one rank whose shapes broadcast (size-1 dimensions only).

    Different ranks are refused: a (B,) scale against a (B, z) loc would broadcast along z, a
    silently wrong result when B == z.
    """
    tensor(loc, "loc", floating=True)
    tensor(scale, "scale", floating=True)
    try:
        torch.broadcast_shapes(loc.shape, scale.shape)
        fits = loc.dim() == scale.dim()
    except RuntimeError:
        fits = False
    if not fits:
        raise ValueError(
            f"loc {tuple(loc.shape)} and scale {tuple(scale.shape)} must have the same shape: one standard "
            "deviation per coordinate of loc (for one scale shared by all rows, scale.expand_as(loc))."
        )


def network_input(x: torch.Tensor, shape: tuple[int, ...], what: str, weight: torch.Tensor) -> None:
    """Shape, dtype and device of a network's input against its first ``weight``: no tensor values are read."""
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"{what} expects a torch.Tensor, got {type(x).__name__}; convert with torch.as_tensor.")
    if x.dim() != len(shape) + 1 or tuple(x.shape[1:]) != shape:
        want = ", ".join(["B", *map(str, shape)])
        hint = f": {image_shape_hint(x.shape)}" if len(shape) == 3 else ""
        raise ValueError(f"{what} expects a tensor of shape ({want}), got {tuple(x.shape)}{hint}")
    if not x.is_floating_point():  # e.g. uint8 pixels 0-255: a dtype check costs no device sync
        raise ValueError(f"{what} expects floating-point input, got {x.dtype}; for 0-255 pixels use x.float() / 255")
    if x.dtype != weight.dtype:
        raise ValueError(f"{what}'s weights are {weight.dtype} but its input is {x.dtype}; use x.to({weight.dtype}).")
    if x.device != weight.device:
        raise ValueError(
            f"{what}'s weights are on {weight.device} but its input is on {x.device}; move it with x.to(device)."
        )


def rows(x: torch.Tensor, name: str, minimum: int = 1) -> torch.Tensor:
    """``x`` unless it is not a tensor of at least ``minimum`` rows (codes, factors, scores)."""
    tensor(x, name)
    if x.dim() == 0 or len(x) < minimum:
        got = "a single number" if x.dim() == 0 else f"{len(x)} row(s)"
        raise ValueError(f"{name} holds {got}; at least {minimum} are needed. Check the subset or filter that made it.")
    return x
