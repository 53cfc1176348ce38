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
        # answers that still carry autograd history, or live on a GPU, are read as plain numbers
        tensor = value.detach() if isinstance(value, torch.Tensor) else torch.as_tensor(value)
        if tensor.is_complex():  # casting would drop the imaginary part and call 1 + 2j "1"
            return None
        return tensor.to(device="cpu", dtype=torch.float64)
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


REPORT_KEYS = ("encoder", "decoder", "test_images", "k", "ll_per_image", "conditions")
REPORT_CONDITIONS = ("data", "likelihood", "architecture", "training", "hardware")


def check_log_likelihood_report(
    report, log_likelihood=None, max_images: int = 200, seed: int = 0, name: str = "report"
) -> bool:
    r"""Check a reported test log-likelihood L_K by recomputing it with :func:`vaelib.iwae_bound`; print, return.

    ``report`` is a dict with the trained ``encoder`` (x -> (loc, scale)) and ``decoder`` (z -> logits),
    the ``test_images`` scored (N, ...), the number of importance samples ``k``, the per-image values
    ``ll_per_image`` (N,), and ``conditions``: a dict naming at least the data (with its binarization),
    the likelihood, the architecture, the training budget and the hardware. The check recomputes
    L_K on up to ``max_images`` of the images with the same K and compares the two per image (a
    paired difference, so image-to-image spread cancels): it passes when the mean difference is
    within three standard errors of zero, or within 0.5 nats. An ELBO reported as L_K, or L_K of
    another model or other images, fails. ``log_likelihood`` defaults to the Bernoulli.

    Used in the capstone.
    """
    from ..losses import bernoulli_log_likelihood, iwae_bound
    from ..stats import paired_difference

    if report is None:
        print(f"{name}: not answered yet - fill in the report and run this cell again.")
        return False
    problems = []
    if not isinstance(report, dict):
        problems.append(f"expected a dict with keys {REPORT_KEYS}, got {type(report).__name__}")
    else:
        problems += [f"missing key {key!r}" for key in REPORT_KEYS if key not in report]
        conditions = report.get("conditions")
        if isinstance(conditions, dict):
            problems += [f"conditions lack {key!r}" for key in REPORT_CONDITIONS if not conditions.get(key)]
        elif "conditions" in report:
            problems.append("conditions must be a dict, e.g. {'data': ..., 'likelihood': ..., ...}")
    if not problems:
        x, values = report["test_images"], torch.as_tensor(report["ll_per_image"]).detach().flatten()
        if len(values) != len(x):
            problems.append(f"{len(values)} values in ll_per_image for {len(x)} test images")
        elif not (isinstance(report["k"], int) and report["k"] >= 1):
            problems.append(f"k must be a positive int, got {report['k']!r}")
    if problems:
        print(f"{name}: not yet - " + "; ".join(problems) + ".")
        return False
    pick = torch.randperm(len(x), generator=torch.Generator().manual_seed(seed))[:max_images].to(x.device)
    generator = torch.Generator(device=x.device).manual_seed(seed)
    with torch.no_grad():
        recomputed = iwae_bound(
            report["encoder"],
            report["decoder"],
            x[pick],
            report["k"],
            generator=generator,
            log_likelihood=log_likelihood or bernoulli_log_likelihood,
        )
    difference = paired_difference(values.to(recomputed.device)[pick].cpu(), recomputed.cpu())
    ok = abs(difference.mean) <= max(0.5, 3 * difference.se)
    mean = values.double().mean().item()
    if ok:
        print(
            f"{name}: correct. L_{report['k']} = {mean:.2f} nats per image; recomputed on {difference.n} images, "
            f"reported minus recomputed {difference}."
        )
    else:
        print(
            f"{name}: not yet - on {difference.n} of the images your values differ from L_{report['k']} "
            f"recomputed with vaelib.iwae_bound by {difference}. Did you report an ELBO, or another K?"
        )
    return ok
