"""Training loops, plain PyTorch (:func:`fit`) and Pyro SVI (:func:`fit_svi`), and the scores they report.

Every function here takes the model first and the data second; everything after the data is
keyword-only. Both loops are steps on :func:`vaelib.loop.run_epochs`, which shows the progress bar,
guards every update, scores the test set in eval mode and records the train and test ELBO per epoch
in nats per image.

**The NaN guard.** Each step computes the loss and the gradients, then checks both together
(the loss plus the gradients' total norm is finite: one host sync per step), and only then
updates the parameters. When the check fails, the loop raises :class:`NonFiniteLossError`
without updating, so the parameters are exactly those from before the failing step.

**What a score over a data set returns.** One number per image averaged over the set is a float
(:func:`evaluate`, :func:`evaluate_svi`, :func:`estimate_log_likelihood`, and chapter 8's
``classification_error``); one number per image kept image by image is a tensor (N,)
(:func:`log_likelihood_per_image`); several parts are a dict with the keys ``elbo``,
``reconstruction``, ``kl`` and ``bound`` for the parts computed (:func:`evaluate_objective`, chapter 7's
``score_bounds``, chapter 8's ``cvae_terms``). All score in eval mode and give the model back its mode.

**Why ``binarize`` defaults differ.** :func:`fit`, :func:`evaluate` and
:func:`estimate_log_likelihood` default to ``binarize=False``: they score the pixels they are
given (on grey pixels the Bernoulli term is a cross-entropy; chapter 6 discusses what that number
means). :func:`fit_svi` and :func:`evaluate_svi` default to ``binarize=True`` because a
:class:`~vaelib.pyro_vae.PyroVAE`'s Bernoulli is validated, as Pyro's distributions are by
default, and refuses grey pixels: the default model then trains on the default settings. With
``PyroVAE(..., grey_pixels=True)`` pass ``binarize=False``.
"""

from __future__ import annotations

import functools
import inspect
import math
from collections.abc import Callable, Iterable

import pyro
import torch
from pyro import poutine
from pyro.infer import ELBO, SVI, Trace_ELBO
from pyro.infer.util import zero_grads
from pyro.optim import Adam as PyroAdam
from torch.nn.utils import get_total_norm

from . import checks
from .data import ImageData, check_data
from .loop import (
    History,
    NonFiniteLossError,
    eval_mode,
    non_finite_error,
    non_finite_parameters,
    run_epochs,
)
from .losses import ELBOTerms, LogLikelihood, bernoulli_log_likelihood, elbo, iwae_bound
from .models import VAE
from .pyro_vae import PyroVAE


def kl_weight(progress_epochs: float, beta: float = 1.0, warmup_epochs: float = 0.0) -> float:
    r"""The weight of the KL term after ``progress_epochs`` epochs of training.

    .. math::
        w = \beta \min\Big(1, \frac{\text{progress}}{\text{warm-up}}\Big)

    a linear warm-up from 0 to ``beta`` over ``warmup_epochs`` (KL annealing; Bowman et al., 2016);
    with ``warmup_epochs=0`` the weight is ``beta`` from the start. :func:`fit` calls it before each
    step with progress = epochs in its history + steps done / steps per epoch, so a run continued
    with ``history=`` continues the schedule.
    Taught in chapter 6 (KL warm-up, through fit's ``kl_warmup_epochs``); used in chapter 4's warm-up exercise.
    """
    progress = checks.real_number(progress_epochs, "progress_epochs", minimum=0.0)
    beta = checks.real_number(beta, "beta", minimum=0.0)
    warmup = checks.real_number(warmup_epochs, "warmup_epochs", minimum=0.0)
    return beta * min(1.0, progress / warmup) if warmup > 0 else beta


# What vaelib trains when it is not the plain ELBO: objective(model, x) -> ELBOTerms or one value per example (B,).
Objective = Callable[[torch.nn.Module, torch.Tensor], "ELBOTerms | torch.Tensor"]


def _device_of(model: torch.nn.Module, name: str) -> torch.device:
    param = next(model.parameters(), None)
    if param is None:
        raise ValueError(f"{name} ({type(model).__name__}) has no parameters to train or score.")
    return param.device


def _check_model_and_data(model, data, name: str, model_name: str = "model") -> None:
    """The data are a non-empty ImageData on the model's device."""
    check_data(data, name)
    device = _device_of(model, model_name)
    if device != data.images.device:
        raise ValueError(
            f"{model_name} is on {device} but {name} on {data.images.device}; move one of them, "
            f"e.g. {name} = {name}.to({str(device)!r})."
        )


def _check_vae(model, name: str = "model") -> None:
    if isinstance(model, ImageData):
        raise TypeError(f"{name} is an ImageData; the model comes first, then the data: (model, data).")
    checks.module(model, name, ("encoder", "decoder"))


def _check_last_batch(model: torch.nn.Module, train: ImageData, batch_size: int) -> None:
    """Batch norm cannot train on a batch of one image: say so before the first epoch, not at its last step."""
    norms = (torch.nn.BatchNorm1d, torch.nn.BatchNorm2d, torch.nn.BatchNorm3d, torch.nn.SyncBatchNorm)
    has_batch_norm = any(isinstance(m, norms) for m in model.modules())
    if has_batch_norm and len(train) > 1 and len(train) % batch_size == 1:
        raise ValueError(
            f"{len(train)} training images in batches of {batch_size} leave a last batch of one image, on which "
            f"the model's batch norm cannot train. Use batch_size={batch_size + 1} (or one that leaves more), or "
            f"train.subset({len(train) - 1})."
        )


def _check_diagonal(model, what: str) -> None:
    """The closed-form ELBO reads the encoder's (loc, scale): refuse a richer encoder before any work is done."""
    if hasattr(model.encoder, "rsample"):
        raise TypeError(
            f"{what} needs a diagonal Gaussian encoder (loc, scale), but this model's is a "
            f"{type(model.encoder).__name__}. Train it with fit(..., objective=vaelib.bounds.objective(1)) and score "
            "it with vaelib.score_bounds or vaelib.estimate_log_likelihood, which take any encoder."
        )


def _check_log_likelihood(log_likelihood) -> None:
    if not callable(log_likelihood):
        raise TypeError(
            f"log_likelihood must be a function (logits, x) -> (B,), got {type(log_likelihood).__name__}; "
            "e.g. vaelib.bernoulli_log_likelihood."
        )


def _unvalidated(log_likelihood: LogLikelihood) -> LogLikelihood:
    """vaelib's likelihoods check the data's range (a host sync) unless told not to; these loops
    feed them :class:`ImageData`, whose pixels were checked once when it was made, so they skip it."""
    try:
        takes_validate = "validate" in inspect.signature(log_likelihood).parameters
    except (TypeError, ValueError):  # builtins and some callables have no signature
        return log_likelihood
    return functools.partial(log_likelihood, validate=False) if takes_validate else log_likelihood


@torch.no_grad()
def _mean_per_image(model, data: ImageData, batch_size: int, binarize: bool, generator, per_example) -> float:
    """Average of ``per_example(x)`` (shape (B,)) over ``data``, in eval mode, one host sync at the end."""
    total = torch.zeros((), device=data.images.device)
    with eval_mode(model):
        for x, _ in data.batches(batch_size, shuffle=False, binarize=binarize, generator=generator):
            total += per_example(x).sum()
    return total.item() / len(data)


def _check_scoring(model, data, batch_size, binarize, log_likelihood) -> None:
    _check_vae(model)
    _check_model_and_data(model, data, "data")
    checks.whole_number(batch_size, "batch_size")
    checks.flag(binarize, "binarize")
    _check_log_likelihood(log_likelihood)


def evaluate(
    model: VAE,
    data: ImageData,
    *,
    batch_size: int = 1000,
    binarize: bool = False,
    generator: torch.Generator | None = None,
    log_likelihood: LogLikelihood = bernoulli_log_likelihood,
) -> float:
    """Mean ELBO per image over ``data`` (one posterior sample per image, analytic KL).

    ``binarize=False`` scores the pixels as given; see the module docstring for why
    :func:`evaluate_svi` binarizes by default instead.

    Taught in chapter 2; used in chapters 5, 6, 11.
    """
    _check_scoring(model, data, batch_size, binarize, log_likelihood)
    _check_diagonal(model, "evaluate (one-sample ELBO with the closed-form KL)")
    log_likelihood = _unvalidated(log_likelihood)

    def per_example(x):
        return elbo(model.encoder, model.decoder, x, generator=generator, log_likelihood=log_likelihood).elbo

    return _mean_per_image(model, data, batch_size, binarize, generator, per_example)


def estimate_log_likelihood(model: VAE, data: ImageData, **options) -> float:
    """Mean importance-weighted bound L_k per image over ``data`` (Burda et al., 2015); -> log p(x) as k grows.

    The mean of :func:`log_likelihood_per_image`, which takes the same keyword-only ``options``: ``k``
    (importance samples per image, required), ``prior`` (an object with ``log_prob(z)``, chapter 9;
    N(0, I) by default), ``batch_size``, ``binarize`` (as in :func:`evaluate`), ``generator`` and
    ``log_likelihood``.

    Taught in chapter 6; used in chapter 9.
    """
    return log_likelihood_per_image(model, data, **options).mean().item()


def log_likelihood_per_image(
    model: VAE,
    data: ImageData,
    *,
    k: int,
    prior: torch.nn.Module | None = None,
    batch_size: int = 100,
    binarize: bool = False,
    generator: torch.Generator | None = None,
    log_likelihood: LogLikelihood = bernoulli_log_likelihood,
) -> torch.Tensor:
    """The importance-weighted bound L_k of every image of ``data``, shape (N,), in eval mode.

    What :func:`estimate_log_likelihood` averages; kept image by image for paired comparisons of two
    models on the same images (:func:`vaelib.paired_difference`). Arguments as there.

    Taught in chapter 6; used in chapter 11.
    """
    k = checks.whole_number(k, "k (importance samples per image)")
    _check_scoring(model, data, batch_size, binarize, log_likelihood)
    log_likelihood = _unvalidated(log_likelihood)
    with eval_mode(model), torch.no_grad():
        return torch.cat(
            [
                iwae_bound(
                    model.encoder, model.decoder, x, k, prior=prior, generator=generator, log_likelihood=log_likelihood
                )
                for x, _ in data.batches(batch_size, shuffle=False, binarize=binarize, generator=generator)
            ]
        )


def _check_optimizer(optimizer, model: torch.nn.Module, lr) -> None:
    if lr is not None:
        raise ValueError("pass either lr or optimizer, not both: set the learning rate when you build the optimizer.")
    if not isinstance(optimizer, torch.optim.Optimizer):
        raise TypeError(
            f"optimizer must be a torch.optim.Optimizer, got {type(optimizer).__name__}; "
            "e.g. torch.optim.Adam(model.parameters(), lr=1e-3)."
        )
    held = {id(p) for group in optimizer.param_groups for p in group["params"]}
    if not any(id(p) in held for p in model.parameters()):
        raise ValueError(
            "optimizer holds none of this model's parameters (was it built for another model?), so fit would "
            "train nothing. Build it from this model: torch.optim.Adam(model.parameters())."
        )


def _check_loop_options(epochs, batch_size, binarize, history, on_epoch, progress) -> None:
    checks.whole_number(epochs, "epochs", minimum=0)
    checks.whole_number(batch_size, "batch_size")
    checks.flag(binarize, "binarize")
    checks.flag(progress, "progress")
    if history is not None and not isinstance(history, History):
        raise TypeError(f"history must be the vaelib.History a previous run returned, got {type(history).__name__}.")
    if on_epoch is not None and not callable(on_epoch):
        raise TypeError(f"on_epoch must be a function (epoch, history), got {type(on_epoch).__name__}.")


def _objective_values(value, n: int) -> tuple[torch.Tensor, torch.Tensor]:
    """(what is trained, what is recorded) per example from an objective's return value."""
    if isinstance(value, ELBOTerms):
        return value.elbo, value.reconstruction - value.kl
    if isinstance(value, torch.Tensor) and value.shape == (n,):
        return value, value
    if not isinstance(value, torch.Tensor):
        raise TypeError(
            f"objective returned a {type(value).__name__}; it must return vaelib.ELBOTerms or ({n},) values"
        )
    raise ValueError(f"objective returned shape {tuple(value.shape)}; it must be ({n},), one value per example")


def _check_objective_trains_its_modules(objective, model: torch.nn.Module) -> None:
    """Refuse an objective that closes over a module with parameters of its own (a learned prior) which
    ``fit`` would not train because ``parameters`` was not given: it would silently stay as built."""
    held = {id(p) for p in model.parameters()}
    captured = [*(c.cell_contents for c in (getattr(objective, "__closure__", None) or ()) if _filled(c))]
    captured += [
        *(getattr(objective, "__defaults__", None) or ()),
        *(getattr(objective, "__kwdefaults__", None) or {}).values(),
    ]
    for value in captured:
        if isinstance(value, torch.nn.Module) and value is not model:
            own = [p for p in value.parameters() if id(p) not in held]
            if own:
                raise ValueError(
                    f"the objective uses a {type(value).__name__} with {len(own)} parameter tensor(s) of its own that "
                    "fit would not train, since only the model's are trained by default. Pass parameters="
                    "[*model.parameters(), *prior.parameters()] to train both, or parameters=model.parameters() to "
                    "keep it fixed on purpose."
                )


def _filled(cell) -> bool:
    try:
        cell.cell_contents  # noqa: B018  (an empty cell raises ValueError)
    except ValueError:
        return False
    return True


@torch.no_grad()
def evaluate_objective(
    model: torch.nn.Module, objective: Objective, data: ImageData, *, batch_size: int = 500, binarize: bool = False
) -> dict[str, float]:
    """Means per image over ``data`` of what ``objective(model, x)`` returns, in eval mode.

    For :class:`~vaelib.losses.ELBOTerms`: ``reconstruction``, ``kl`` and their difference, the plain
    ``elbo``; for one value per example: ``elbo``, its mean (what :func:`fit` records for such an
    objective). ``binarize`` as in :func:`evaluate`. Taught in chapter 9.
    """
    checks.whole_number(batch_size, "batch_size")
    checks.flag(binarize, "binarize")
    check_data(data, "data")
    sums: dict[str, torch.Tensor] = {}
    with eval_mode(model):
        for x, _ in data.batches(batch_size, shuffle=False, binarize=binarize):
            value = objective(model, x)
            parts = {"reconstruction": value.reconstruction, "kl": value.kl} if isinstance(value, ELBOTerms) else {}
            parts["elbo"] = _objective_values(value, len(x))[1]
            for name, part in parts.items():
                sums[name] = sums.get(name, 0.0) + part.sum()
    return {name: float(total) / len(data) for name, total in sums.items()}


def fit(
    model: VAE,
    train: ImageData,
    test: ImageData | None = None,
    *,
    epochs: int = 1,
    batch_size: int = 256,
    lr: float | None = None,
    beta: float = 1.0,
    kl_warmup_epochs: float = 0.0,
    binarize: bool = False,
    log_likelihood: LogLikelihood = bernoulli_log_likelihood,
    optimizer: torch.optim.Optimizer | None = None,
    history: History | None = None,
    on_epoch: Callable[[int, History], None] | None = None,
    progress: bool = True,
    objective: Objective | None = None,
    parameters: Iterable[torch.nn.Parameter] | None = None,
) -> History:
    """Maximise the (beta-)ELBO with Adam; returns the per-epoch :class:`History`.

    The loss is the negative objective *averaged* over the batch (nats per image), so the
    learning rate does not depend on the batch size. ``lr`` (default 1e-3) builds the Adam
    optimizer; pass ``optimizer`` instead to use your own. The KL weight follows
    :func:`kl_weight` (``beta``, warmed up over ``kl_warmup_epochs``); the history records the
    plain ELBO (beta = 1), whatever weight was trained with. ``binarize=False`` trains on the pixels
    as given (see the module docstring). Pass ``history`` to continue a run. A NaN or infinite loss
    or gradient stops the run before that update (:class:`NonFiniteLossError`).


    ``objective(model, x)`` (an :data:`Objective`) replaces the ELBO by another quantity to maximise and
    the KL weight (``beta``, warm-up) does not apply. When it returns :class:`~vaelib.losses.ELBOTerms`
    (a beta-weighted ELBO, the ELBO under a learned prior, the beta-TCVAE objective: chapter 9) its
    ``elbo`` is trained and its plain ELBO ``reconstruction - kl`` is recorded, and ``test`` is scored with
    :func:`evaluate_objective`; when it returns one value per example (B,) (the importance-weighted bound
    of :func:`vaelib.bounds.objective`, chapter 7) the history records its mean, on ``test`` too.
    ``parameters`` are what Adam trains, by default the model's; pass a learned prior's as well
    (duplicates, such as a VampPrior's shared encoder, are dropped).

    Taught in chapter 2; used in chapters 4, 5, 6, 7, 9, 10, 11.
    """
    _check_vae(model)
    _check_model_and_data(model, train, "train")
    if test is not None:
        if isinstance(test, (int, float)):
            raise TypeError(f"test must be an ImageData or None, got {test!r}; pass epochs by name: epochs={test}.")
        _check_model_and_data(model, test, "test")
    _check_loop_options(epochs, batch_size, binarize, history, on_epoch, progress)
    checks.real_number(beta, "beta", minimum=0.0)
    checks.real_number(kl_warmup_epochs, "kl_warmup_epochs", minimum=0.0)
    _check_log_likelihood(log_likelihood)
    if objective is not None and not callable(objective):
        raise TypeError(
            f"objective must be a function (model, x) -> ELBOTerms or (B,), got {type(objective).__name__}."
        )
    if parameters is not None and optimizer is not None:
        raise ValueError("pass either parameters or optimizer, not both: build the optimizer from the parameters.")
    if objective is not None and parameters is None and optimizer is None:
        _check_objective_trains_its_modules(objective, model)
    if objective is None:
        _check_diagonal(model, "fit's default objective (the ELBO with the closed-form KL)")
    _check_last_batch(model, train, batch_size)
    if objective is not None and (beta != 1.0 or kl_warmup_epochs > 0):
        raise ValueError("beta and kl_warmup_epochs weight the ELBO's KL term; with objective= there is none to weight")
    if optimizer is not None:
        _check_optimizer(optimizer, model, lr)
    else:
        lr = checks.real_number(1e-3 if lr is None else lr, "lr", positive=True)
        trained = model.parameters() if parameters is None else parameters
        optimizer = torch.optim.Adam(list({id(p): p for p in trained}.values()), lr=lr)
    log_likelihood = _unvalidated(log_likelihood)

    def step(batch, progress_epochs, where):
        x, _ = batch
        if objective is None:
            weight = kl_weight(progress_epochs, beta, kl_warmup_epochs)
            terms = elbo(model.encoder, model.decoder, x, beta=weight, log_likelihood=log_likelihood)
            per_example, plain = terms.elbo, terms.reconstruction - terms.kl  # (B,) each
        else:
            per_example, plain = _objective_values(objective(model, x), len(x))  # (B,) each
        return -per_example.mean(), plain.sum(), len(x)

    def score_test():
        if objective is None:
            return {"test_elbo": evaluate(model, test, binarize=binarize, log_likelihood=log_likelihood)}
        return {"test_elbo": evaluate_objective(model, objective, test, binarize=binarize)["elbo"]}

    loop = dict(epochs=epochs, history=history or History(), on_epoch=on_epoch, progress=progress)
    batches = functools.partial(train.batches, batch_size, binarize=binarize)
    return run_epochs(model, optimizer, batches, step, evaluate=None if test is None else score_test, **loop)


def _check_pyro_vae(vae) -> None:
    if isinstance(vae, PyroVAE):
        return
    if isinstance(vae, torch.nn.Module) and hasattr(vae, "encoder") and hasattr(vae, "decoder"):
        raise TypeError(
            f"fit_svi and evaluate_svi need a vaelib.PyroVAE (a model and a guide), got {type(vae).__name__}; "
            "wrap its networks: PyroVAE(vae.encoder, vae.decoder), or train it with vaelib.fit."
        )
    raise TypeError(f"expected a vaelib.PyroVAE first, got {type(vae).__name__}.")


def _check_support(vae: PyroVAE, data: ImageData, binarize: bool, name: str) -> None:
    """Grey pixels reach a validated Bernoulli only by mistake: say so once, before training starts."""
    if binarize or vae.grey_pixels:
        return
    grey = any(bool(((x > 0) & (x < 1)).any()) for x in data.images.split(8192))  # a few syncs, once per call
    if grey:
        raise ValueError(
            f"{name} holds grey pixels, outside the support {{0, 1}} of this PyroVAE's validated Bernoulli. "
            "Pass binarize=True (the default), or build PyroVAE(..., grey_pixels=True) to score grey pixels."
        )


def _check_elbo(loss) -> ELBO:
    if loss is None:
        return Trace_ELBO()
    if not isinstance(loss, ELBO):
        raise TypeError(
            f"loss must be a Pyro ELBO object such as pyro.infer.Trace_ELBO() (note the parentheses), got {loss!r}."
        )
    return loss


@torch.no_grad()
def evaluate_svi(
    vae: PyroVAE,
    data: ImageData,
    *,
    batch_size: int = 1000,
    binarize: bool = True,
    loss: ELBO | None = None,
) -> float:
    """Mean ELBO per image of a :class:`~vaelib.pyro_vae.PyroVAE` over ``data``: ``-loss / N``, no update.

    ``loss`` is a Pyro ELBO object (default ``Trace_ELBO()``, one sample of z per image). The model
    is scored in eval mode, so batch norm uses its running averages and test images never change them.
    ``binarize=True`` by default because the PyroVAE's Bernoulli refuses grey pixels (module docstring).

    Taught in chapter 3.
    """
    _check_pyro_vae(vae)
    _check_model_and_data(vae, data, "data", "vae")
    checks.whole_number(batch_size, "batch_size")
    checks.flag(binarize, "binarize")
    loss = _check_elbo(loss)
    _check_support(vae, data, binarize, "data")
    with eval_mode(vae):
        batches = data.batches(batch_size, shuffle=False, binarize=binarize)
        total = sum(loss.loss(vae.model, vae.guide, x) for x, _ in batches)
    return -total / len(data)


def _check_param_store(vae) -> None:
    """Refuse to train when Pyro's global parameter store holds another model's weights under our names.

    ``pyro.module("encoder", net)`` returns the stored tensors when the names already exist, so SVI
    would silently optimise the old model and leave this one untouched.
    """
    store = pyro.get_param_store()
    for prefix, net in (("encoder", vae.encoder), ("decoder", vae.decoder)):
        for name, param in net.named_parameters():
            key = f"{prefix}$$${name}"
            if key in store and store[key] is not param:
                raise ValueError(
                    f"Pyro's parameter store already holds {key!r} from another model, so SVI would train that "
                    "model instead of this one. Call pyro.clear_param_store() before training a new model."
                )


def _clear_grads(params) -> None:
    for p in params:
        p.grad = None


def _nan_in_traces(vae: PyroVAE, x: torch.Tensor) -> bool:
    """Whether any distribution in the guide and model at ``x`` has a NaN or infinite parameter or value.

    Tells a NaN that Pyro's validation refused apart from other invalid values (a negative scale,
    grey pixels): a check on the values, not on the text of Pyro's message. Runs with validation
    off and only after an error, never per step.
    """
    try:
        with torch.no_grad(), pyro.validation_enabled(False):
            guide = poutine.trace(vae.guide).get_trace(x)
            model = poutine.trace(poutine.replay(vae.model, trace=guide)).get_trace(x)
        for trace in (guide, model):
            for site in trace.nodes.values():
                if site["type"] != "sample":
                    continue
                fn = site["fn"]
                while hasattr(fn, "base_dist"):  # Independent, Expanded, Masked ...
                    fn = fn.base_dist
                values = [site["value"], *(getattr(fn, name, None) for name in getattr(fn, "arg_constraints", {}))]
                if any(isinstance(v, torch.Tensor) and not torch.isfinite(v).all() for v in values):
                    return True
    except Exception:  # any failure here means we cannot tell, so the first error stands
        return False
    return False


def _svi_step(svi: SVI, vae: PyroVAE, x: torch.Tensor, where: str) -> float:
    """``SVI.step`` with the guard between the gradients and the update; returns the loss (a float).

    The same calls as ``SVI.step`` (gradients from ``svi.loss_and_grads``, the update by
    ``svi.optim``, then the gradients are zeroed), so results equal SVI's, plus one host sync for
    the gradients' norm (Pyro's loss is already a float on the host).
    """
    try:
        with poutine.trace(param_only=True) as capture:
            loss = svi.loss_and_grads(svi.model, svi.guide, x)  # negative ELBO summed over the batch
    except ValueError as err:  # Pyro's validation refused a value before any update
        _clear_grads(vae.parameters())
        if not _nan_in_traces(vae, x):
            raise  # not a NaN (e.g. a custom guide's negative scale): Pyro's message stands
        if non_finite_parameters(vae):
            raise non_finite_error(vae, where, math.nan, math.nan) from err
        first_line = (str(err).splitlines() or [type(err).__name__])[0]
        if len(first_line) > 100:
            first_line = first_line[:100].rsplit(" ", 1)[0] + " ..."
        raise NonFiniteLossError(
            f"{where}: the networks produced NaN or infinite values, which Pyro's validation refused "
            f"({first_line}); no update was applied, so the parameters are those from before this step. "
            "Lower the learning rate, or check the networks."
        ) from err
    params = {site["value"].unconstrained() for site in capture.trace.nodes.values()}
    grad_norm = get_total_norm([p.grad for p in params if p.grad is not None])
    if not (math.isfinite(loss) and torch.isfinite(grad_norm)):  # the guard's one host sync per step
        _clear_grads(params)
        raise non_finite_error(vae, where, loss, grad_norm.item())
    svi.optim(params)
    zero_grads(params)
    return loss


def fit_svi(
    vae: PyroVAE,
    train: ImageData,
    test: ImageData | None = None,
    *,
    epochs: int = 1,
    batch_size: int = 256,
    lr: float = 1e-3,
    binarize: bool = True,
    loss: ELBO | None = None,
    history: History | None = None,
    on_epoch: Callable[[int, History], None] | None = None,
    progress: bool = True,
) -> History:
    """Train a :class:`~vaelib.pyro_vae.PyroVAE` with ``pyro.infer.SVI`` and Adam.

    ``loss`` defaults to ``Trace_ELBO()``; pass ``JitTrace_ELBO()`` to compile it (Pyro then
    skips distribution validation). The test ELBO comes from :func:`evaluate_svi` (same estimator
    as training, one sample), computed in eval mode so batch norm uses its running averages.
    ``binarize=True`` by default (module docstring). Each step is ``SVI.step`` with the NaN guard
    between the gradients and the update: a NaN or infinite loss or gradient raises
    :class:`NonFiniteLossError`, and no update is applied.

    Taught in chapter 3.
    """
    _check_pyro_vae(vae)
    _check_model_and_data(vae, train, "train", "vae")
    if test is not None:
        _check_model_and_data(vae, test, "test", "vae")
    _check_loop_options(epochs, batch_size, binarize, history, on_epoch, progress)
    lr = checks.real_number(lr, "lr", positive=True)
    loss = _check_elbo(loss)
    for name, data in (("train", train), ("test", test)):
        if data is not None:
            _check_support(vae, data, binarize, name)
    _check_param_store(vae)
    svi = SVI(vae.model, vae.guide, PyroAdam({"lr": lr}), loss=loss)

    def step(batch, progress_epochs, where):  # SVI.step's update, guarded: the loop is given no optimizer
        x, _ = batch
        return None, -_svi_step(svi, vae, x, where), len(x)  # Pyro's loss is already a float on the host

    def score_test():
        return {"test_elbo": evaluate_svi(vae, test, binarize=binarize, loss=loss)}

    batches = functools.partial(train.batches, batch_size, binarize=binarize)
    history = history or History()
    return run_epochs(
        vae,
        None,
        batches,
        step,
        epochs=epochs,
        history=history,
        evaluate=None if test is None else score_test,
        on_epoch=on_epoch,
        progress=progress,
    )
