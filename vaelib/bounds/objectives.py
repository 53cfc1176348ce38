r"""Tighter bounds and how to train with them: IWAE and DReG objectives, gradient SNR, refinement, gaps.

Every function takes any encoder of vaelib (diagonal, full-covariance or flow; see
:mod:`vaelib.bounds.encoders`) and works on the log importance weights

.. math::
    \log w_k = \log p_\theta(x \mid z_k) + \log p(z_k) - \log q_\phi(z_k \mid x), \qquad z_k \sim q_\phi(z \mid x),

whose log-mean-exp over K draws is the importance-weighted bound L_K (Burda et al., 2015) and whose
mean is the ELBO. Values are per example, shape (B,) or (K, B). Taught in chapter 7.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

import torch
import torch.nn as nn

from .. import checks
from ..data import ImageData, check_data
from ..loop import eval_mode
from ..losses import LogLikelihood, bernoulli_log_likelihood, log_importance_weights, log_mean_exp
from ..sampling import local_params, same_kind

ESTIMATORS = ("iwae", "dreg")  # gradient estimators of L_K that iwae_objective offers


def iwae_objective(
    encoder: nn.Module,
    decoder: nn.Module,
    x: torch.Tensor,
    k: int,
    *,
    estimator: str = "iwae",
    generator: torch.Generator | None = None,
    log_likelihood: LogLikelihood = bernoulli_log_likelihood,
) -> torch.Tensor:
    r"""A one-draw estimate of L_K per example, (B,), to maximise; its gradient depends on ``estimator``.

    ``"iwae"``: the reparameterization gradient of Burda et al. (2015),
    :math:`\sum_k \tilde w_k \nabla \log w_k` with normalised weights :math:`\tilde w_k = w_k / \sum_j w_j`.
    ``"dreg"``: the doubly reparameterized gradient of Tucker et al. (2019). The decoder's gradient is
    the same; the encoder's becomes (at K = 1 it is Roeder et al.'s "sticking the landing" gradient)

    .. math::
        \sum_k \tilde w_k^2 \, \frac{\partial \log w_k}{\partial z_k} \frac{\partial z_k}{\partial \phi},

    with log q evaluated at parameters held fixed: the score term, whose noise does not shrink as K
    grows, is replaced by its reparameterized equivalent. Implemented with log q at detached parameters
    and a hook that multiplies the gradient reaching each z_k by :math:`\tilde w_k`; it is unbiased for
    the same expected gradient (tests/test_bounds.py checks it). Gaussian encoders only (a flow would
    need its inverse). Call ``backward`` once per call. Taught in chapter 7.
    """
    if estimator not in ESTIMATORS:
        raise ValueError(f"estimator={estimator!r} is not one of {ESTIMATORS}")
    dreg = estimator == "dreg"
    weights, codes = log_importance_weights(
        encoder,
        decoder,
        x,
        k,
        generator=generator,
        log_likelihood=log_likelihood,
        chunk_size=k,
        stop_gradient=dreg,
        return_codes=True,
    )
    if dreg:
        (z,) = codes  # one chunk of all k samples
        if z.requires_grad:
            normalised = torch.softmax(weights.detach(), dim=0).unsqueeze(-1)  # (k, B, 1)
            z.register_hook(lambda grad: grad * normalised)
    return log_mean_exp(weights)


def objective(k: int, estimator: str = "iwae", log_likelihood: LogLikelihood = bernoulli_log_likelihood):
    """``objective(model, x) -> L_K per example`` for ``vaelib.fit(..., objective=...)``. Taught in chapter 7."""
    if estimator not in ESTIMATORS:
        raise ValueError(f"estimator={estimator!r} is not one of {ESTIMATORS}")

    def per_example(model, x):
        return iwae_objective(model.encoder, model.decoder, x, k, estimator=estimator, log_likelihood=log_likelihood)

    per_example.__name__ = f"{estimator}_k{k}"
    return per_example


def gradient_snr(
    estimate: Callable[[], torch.Tensor], groups: Mapping[str, Iterable[torch.Tensor]], repeats: int
) -> dict[str, torch.Tensor]:
    r"""Signal-to-noise ratio of a stochastic gradient, per parameter element (Rainforth et al., 2018):

    .. math::
        \mathrm{SNR}_j = \frac{\lvert \mathbb{E}[\hat g_j] \rvert}{\sqrt{\mathrm{Var}[\hat g_j]}},

    from ``repeats`` independent gradients of the scalar ``estimate()`` (each call draws fresh noise).
    ``groups`` maps a name (e.g. "encoder") to its parameters; returns name -> SNR of every element
    (flattened; NaN where the gradient never varies). Running sums in float64, so memory does not grow
    with ``repeats``. Taught in chapter 7.
    """
    repeats = checks.whole_number(repeats, "repeats (gradient draws; a variance needs at least 2)", minimum=2)
    names = list(groups)
    params = [list(groups[name]) for name in names]
    flat = [p for group in params for p in group]
    total = [torch.zeros(p.numel(), dtype=torch.float64, device=p.device) for p in flat]
    square = [torch.zeros_like(t) for t in total]
    for _ in range(repeats):
        value = estimate()
        if not isinstance(value, torch.Tensor) or value.numel() != 1:
            got = tuple(value.shape) if isinstance(value, torch.Tensor) else type(value).__name__
            raise ValueError(f"estimate() must return one number (a scalar tensor) to differentiate, got {got}")
        grads = torch.autograd.grad(value, flat, allow_unused=True)
        for i, g in enumerate(grads):
            if g is not None:
                g = g.detach().flatten().double()
                total[i] += g
                square[i] += g * g
    # A NaN or inf in any draw stays in the running sums: one check (one host sync) after all draws.
    if not torch.stack([torch.isfinite(t).all() for t in total]).all():  # an SNR of NaN is not "no variance"
        raise ValueError(
            "a gradient draw held NaN or infinite values, so no SNR can be computed (the estimate or the model's "
            "parameters went non-finite); check estimate() on its own first."
        )
    out, i = {}, 0
    for name, group in zip(names, params, strict=True):
        mean = torch.cat([total[i + j] for j in range(len(group))]) / repeats
        var = torch.cat([square[i + j] for j in range(len(group))]) / repeats - mean.pow(2)
        var = var * repeats / (repeats - 1)
        i += len(group)
        snr = mean.abs() / var.clamp_min(0).sqrt()
        out[name] = torch.where(var > 0, snr, torch.full_like(snr, float("nan"))).float()
    return out


def refine(
    encoder: nn.Module,
    decoder: nn.Module,
    x: torch.Tensor,
    steps: int,
    lr: float,
    *,
    samples: int = 1,
    params: tuple[torch.Tensor, ...] | None = None,
    create_graph: bool = False,
    generator: torch.Generator | None = None,
    log_likelihood: LogLikelihood = bernoulli_log_likelihood,
) -> tuple[torch.Tensor, ...]:
    r"""Semi-amortized inference (Kim et al., 2018): start from the encoder's local parameters
    :math:`\lambda_0 = \mathrm{enc}_\phi(x)` and take ``steps`` gradient-ascent steps on each image's ELBO,

    .. math::
        \lambda_{t+1} = \lambda_t + \eta \, \nabla_\lambda \widehat{\mathrm{ELBO}}(x; \lambda_t, \theta),

    each ELBO estimated with ``samples`` draws. With ``create_graph`` the steps stay differentiable,
    so a loss on the refined ELBO trains the encoder *through* the refinement (Kim et al.'s
    end-to-end training; it costs a second-order backward pass); without, the refined parameters are
    returned detached (refinement at test time). Kim et al. use momentum and gradient clipping; these
    are plain steps. Taught in chapter 7.
    """
    steps = checks.whole_number(steps, "steps", minimum=0)
    lr = checks.real_number(lr, "lr", positive=True)
    samples = checks.whole_number(samples, "samples")
    params = local_params(encoder, x) if params is None else params
    if not create_graph:
        params = same_kind(params, (p.detach().requires_grad_() for p in params))
    finite = torch.ones((), dtype=torch.bool, device=x.device)
    for _ in range(steps):
        elbo = log_importance_weights(
            encoder, decoder, x, samples, params=params, generator=generator, log_likelihood=log_likelihood
        ).mean(0)  # (B,)
        finite = finite & torch.isfinite(elbo.detach()).all()  # no host sync inside the loop
        grads = torch.autograd.grad(elbo.sum(), params, create_graph=create_graph)
        params = same_kind(params, (p + lr * g for p, g in zip(params, grads, strict=True)))
        if not create_graph:
            params = same_kind(params, (p.detach().requires_grad_() for p in params))
    # At test time, one check after the last step (one host sync): a step too large would give a bound of
    # -inf downstream. In training (create_graph) the loop's guard refuses the non-finite loss it leads to.
    if steps and not create_graph:
        with torch.no_grad():
            last = log_importance_weights(
                encoder, decoder, x, samples, params=params, generator=generator, log_likelihood=log_likelihood
            )
        if not bool(finite & torch.isfinite(last).all()):
            raise ValueError(
                f"refinement diverged: the refined q gives a non-finite ELBO for some images. Lower lr (now {lr}) "
                "or take fewer steps."
            )
    return params if create_graph else same_kind(params, (p.detach() for p in params))


def semi_amortized_objective(steps: int, lr: float, log_likelihood: LogLikelihood = bernoulli_log_likelihood):
    """``objective(model, x)`` for ``vaelib.fit``: the one-sample ELBO after :func:`refine` with
    ``create_graph=True``, so encoder and decoder both learn through the refinement steps. Chapter 7."""

    def per_example(model, x):
        refined = refine(model.encoder, model.decoder, x, steps, lr, create_graph=True, log_likelihood=log_likelihood)
        return log_importance_weights(
            model.encoder, model.decoder, x, 1, params=refined, log_likelihood=log_likelihood
        )[0]

    per_example.__name__ = f"semi_amortized_{steps}_steps"
    return per_example


def score_bounds(
    model: nn.Module,
    data: ImageData,
    k: int,
    *,
    batch_size: int = 100,
    refine_steps: int = 0,
    refine_lr: float = 1e-2,
    generator: torch.Generator | None = None,
    log_likelihood: LogLikelihood = bernoulli_log_likelihood,
) -> dict[str, float]:
    """Mean ELBO and L_k per image over ``data`` from the same k draws per image: the mean and the
    log-mean-exp of the log-weights (chapter 6's estimate, for any encoder). With ``refine_steps`` > 0
    each image's q is first refined by :func:`refine` (semi-amortized inference at test time). The
    model is scored in eval mode and keeps its mode. The means of chapter 7's per-image scores
    (``score_per_image``)."""
    check_data(data)
    elbo = bound = 0.0
    with eval_mode(model):
        for x, _ in data.batches(batch_size, shuffle=False):
            params = None
            if refine_steps:
                params = refine(model.encoder, model.decoder, x, refine_steps, refine_lr, log_likelihood=log_likelihood)
            with torch.no_grad():
                w = log_importance_weights(
                    model.encoder,
                    model.decoder,
                    x,
                    k,
                    params=params,
                    generator=generator,
                    log_likelihood=log_likelihood,
                )
            elbo += w.mean(0).sum().item()
            bound += log_mean_exp(w).sum().item()
    return {"elbo": elbo / len(data), "bound": bound / len(data)}


def inference_gaps(
    encoder: nn.Module,
    decoder: nn.Module,
    x: torch.Tensor,
    *,
    k: int,
    steps: int,
    samples: int,
    lr: float = 1e-2,
    seed: int = 7,
    params: tuple[torch.Tensor, ...] | None = None,
    log_likelihood: LogLikelihood = bernoulli_log_likelihood,
    per_image: bool = False,
) -> dict[str, float] | dict[str, torch.Tensor]:
    r"""The split of chapter 6 (Cremer et al., 2018) for any encoder, averaged over the images ``x``:

    approximation gap = log p(x) - ELBO(q*), amortization gap = ELBO(q*) - ELBO(q_phi), where q* has
    its own local parameters per image, started at the encoder's and optimised with Adam (``steps``
    steps, ``samples`` draws each) with the decoder fixed. log p(x) is the larger of the two L_k, both
    ELBOs come from the same k draws (seeded alike). For a flow encoder q* keeps the shared flow
    networks: its family is what *those* networks can express, so its approximation gap bounds from above
    the gap of the best q of that flow family (other step networks could do better). q* is only as good as
    its ``steps``: an unconverged q* overstates the approximation gap and understates the amortization gap.
    ``params`` replaces the encoder's output as the q being measured (and as the optimisation's start),
    e.g. the refined parameters of :func:`refine`. Returns the gaps, the three levels and ``total``:
    their means over the images, or with ``per_image`` the tensors (N,) (for paired standard errors).
    Taught in chapter 7.
    """
    steps, lr = checks.whole_number(steps, "steps", minimum=0), checks.real_number(lr, "lr", positive=True)
    if not isinstance(per_image, bool):
        raise TypeError(f"per_image must be True or False, got {per_image!r}")
    given = local_params(encoder, x) if params is None else params
    start = same_kind(given, (p.detach() for p in given))
    free = [p.clone().requires_grad_() for p in start]
    optimizer = torch.optim.Adam(free, lr=lr)
    for _ in range(steps):
        elbo = log_importance_weights(
            encoder, decoder, x, samples, params=same_kind(start, free), log_likelihood=log_likelihood
        ).mean(0)
        grads = torch.autograd.grad(-elbo.sum(), free)  # each image's parameters get their own gradient only
        for p, g in zip(free, grads, strict=True):
            p.grad = g
        optimizer.step()
    levels = {}
    with torch.no_grad():
        for name, params in (("amortised", start), ("optimised", same_kind(start, (p.detach() for p in free)))):
            seeded = torch.Generator(device=x.device).manual_seed(seed)
            w = log_importance_weights(
                encoder, decoder, x, k, params=params, generator=seeded, log_likelihood=log_likelihood
            )
            levels[name] = (w.mean(0), log_mean_exp(w))
    log_px = torch.maximum(levels["amortised"][1], levels["optimised"][1])
    elbo_a, elbo_o = levels["amortised"][0], levels["optimised"][0]
    values = {
        "elbo_amortised": elbo_a,
        "elbo_optimised": elbo_o,
        "log_px": log_px,
        "total": log_px - elbo_a,
        "approximation": log_px - elbo_o,
        "amortization": elbo_o - elbo_a,
    }
    return values if per_image else {name: value.mean().item() for name, value in values.items()}
