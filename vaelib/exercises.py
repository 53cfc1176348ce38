"""Check cells for exercises: tell a student whether an answer is right, without raising.

A student copy of a chapter keeps the exercise's starter cell (``answer = None``) and its
check cell, and drops the solution; so the check must cope with an unanswered exercise.
"""

from __future__ import annotations

import torch


def _matches(answer, expected, rtol: float, atol: float) -> bool:
    try:
        got = torch.as_tensor(answer, dtype=torch.float64).cpu()  # answers computed on a GPU, too
        want = torch.as_tensor(expected, dtype=torch.float64).cpu()
    except (TypeError, ValueError, RuntimeError):
        return answer == expected
    return got.shape == want.shape and bool(torch.allclose(got, want, rtol=rtol, atol=atol))


def check_answer(answer, expected, name: str = "answer", rtol: float = 1e-3, atol: float = 1e-6) -> bool:
    """Print whether ``answer`` matches ``expected`` (numbers or tensors, within tolerance); return it."""
    if answer is None:
        print(f"{name}: not answered yet - replace None with your answer and run this cell again.")
        return False
    ok = _matches(answer, expected, rtol, atol)
    print(f"{name}: correct." if ok else f"{name}: not yet - got {answer!r}. Read the hint and try again.")
    return ok
