"""Check cells for exercises: tell a student whether an answer is right, and if not why, without raising.

A student copy of a chapter keeps the exercise's starter cell (``answer = None``) and its
check cell, and drops the solution; so the check must cope with an unanswered exercise, and
with any value a student may try.
"""

from __future__ import annotations

import torch


def _as_numbers(value) -> torch.Tensor | None:
    """``value`` as a float64 CPU tensor, or None when it is not numbers (strings, objects, complex ...)."""
    try:
        if isinstance(value, torch.Tensor):
            value = value.detach()  # answers that still carry autograd history, or live on a GPU
        return torch.as_tensor(value, dtype=torch.float64).cpu()
    except (TypeError, ValueError, RuntimeError, OverflowError):
        return None


def _shape_text(shape: torch.Size) -> str:
    return "a single number, shape ()" if len(shape) == 0 else f"shape {tuple(shape)}"


def _mismatch(answer, expected, rtol: float, atol: float) -> str | None:
    """Why ``answer`` does not match ``expected``, or None when it does."""
    want = _as_numbers(expected)
    if want is None:  # a non-numeric expected value, e.g. the name of a distribution
        try:
            same = answer == expected
            return None if isinstance(same, bool) and same else f"expected {expected!r}"
        except Exception:  # comparing arbitrary objects may raise anything; the check must not
            return f"expected {expected!r}"
    got = _as_numbers(answer)
    if got is None:
        return f"it is of type {type(answer).__name__}, not a number or a tensor of numbers"
    if got.shape != want.shape:
        if want.dim() == 0 and got.numel() == 1:
            fix = "use .item() or .squeeze()"
        else:
            fix = "check which dimensions it should keep (a sum or mean over the wrong one?)"
        return f"it has {_shape_text(got.shape)} but {_shape_text(want.shape)} is expected; {fix}"
    if got.isnan().any() and not want.isnan().any():
        return "it contains NaN; check for a log of zero or a division by zero"
    if torch.allclose(got, want, rtol=rtol, atol=atol, equal_nan=True):
        return None
    largest = (got - want).abs().nan_to_num(nan=float("inf")).max().item()
    return f"the values differ (largest difference {largest:.3g})"


def check_answer(answer, expected, name: str = "answer", rtol: float = 1e-3, atol: float = 1e-6) -> bool:
    """Print whether ``answer`` matches ``expected`` (numbers or tensors, within tolerance) and, if not,
    why; return whether it does. Never raises on a student's answer.

    Used in every chapter.
    """
    if answer is None:
        print(f"{name}: not answered yet - replace None with your answer and run this cell again.")
        return False
    reason = _mismatch(answer, expected, rtol, atol)
    if reason is None:
        print(f"{name}: correct.")
        return True
    try:
        shown = repr(answer)
    except Exception:  # a broken __repr__ must not break the check
        shown = f"a {type(answer).__name__}"
    shown = shown if len(shown) <= 80 else shown[:77] + "..."
    print(f"{name}: not yet - got {shown}: {reason}. Read the hint and try again.")
    return False
