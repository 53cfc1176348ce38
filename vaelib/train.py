"""Training loops: plain PyTorch (:func:`fit`) and Pyro SVI (:func:`fit_svi`).

Both take in-memory :class:`~vaelib.data.ImageData`, show a progress bar
(:func:`progress_bar`), record the train and test ELBO per epoch in
nats per image, and stop with :class:`NonFiniteLossError` *before* applying an update
from a NaN or infinite loss, so the parameters are never corrupted.
"""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import torch
from tqdm import tqdm

from .data import ImageData
from .losses import LogLikelihood, bernoulli_log_likelihood, elbo, iwae_bound
from .models import VAE


def progress_bar(iterable, desc: str, enabled: bool = True) -> tqdm:
    """A tqdm text bar on standard output, for loops that take a while.

    It updates in place in a terminal, in Jupyter and on Colab. In the built book the updates
    arrive as separate outputs; the book's ``_ext/progress_bars.py`` keeps only the final line
    (``100%|...| 8/8 [00:41<00:00, 5.1s/it]``) among the cell's printed output.
    ``tqdm.auto``'s widget bar is avoided on purpose: a static page can show a widget only by
    loading scripts from a CDN, and without them it shows the bar's first state, "0%".
    """
    return tqdm(iterable, desc=desc, disable=not enabled, file=sys.stdout)


class NonFiniteLossError(FloatingPointError):
    """The loss became NaN or infinite; the step that produced it was not applied."""


@dataclass
class History:
    """Per-epoch record of a run; ELBOs in nats per image (higher is better)."""

    train_elbo: list[float] = field(default_factory=list)  # mean over the epoch's mini-batches
    test_elbo: list[float] = field(default_factory=list)  # on the test split after the epoch
    seconds: list[float] = field(default_factory=list)  # wall time of the epoch's training steps

    @property
    def epochs(self) -> list[int]:
        return list(range(1, len(self.train_elbo) + 1))


def _raise_non_finite(loss: torch.Tensor, epoch: int, step: int) -> None:
    raise NonFiniteLossError(
        f"the loss is {loss.item()} at epoch {epoch}, step {step}; training stopped before this update, "
        "so the model keeps its last finite parameters. Lower the learning rate, check the data lies "
        "in [0, 1], or clip gradients."
    )


@torch.no_grad()
def _mean_per_image(model: VAE, data: ImageData, batch_size: int, binarize: bool, generator, per_example) -> float:
    """Average of ``per_example(x)`` (shape (B,)) over ``data``, in eval mode, one host sync at the end."""
    was_training = model.training
    model.eval()
    total = torch.zeros((), device=data.images.device)
    for x, _ in data.batches(batch_size, shuffle=False, binarize=binarize, generator=generator):
        total += per_example(x).sum()
    model.train(was_training)
    return total.item() / len(data)


def evaluate(
    model: VAE,
    data: ImageData,
    batch_size: int = 1000,
    binarize: bool = False,
    generator: torch.Generator | None = None,
    log_likelihood: LogLikelihood = bernoulli_log_likelihood,
) -> float:
    """Mean ELBO per image over ``data`` (one posterior sample per image, analytic KL)."""

    def per_example(x):
        return elbo(model.encoder, model.decoder, x, generator=generator, log_likelihood=log_likelihood).elbo

    return _mean_per_image(model, data, batch_size, binarize, generator, per_example)


def estimate_log_likelihood(
    model: VAE,
    data: ImageData,
    k: int,
    batch_size: int = 100,
    binarize: bool = False,
    generator: torch.Generator | None = None,
    log_likelihood: LogLikelihood = bernoulli_log_likelihood,
) -> float:
    """Mean importance-weighted bound L_k per image over ``data`` (Burda et al., 2015); -> log p(x) as k grows."""

    def per_example(x):
        return iwae_bound(model.encoder, model.decoder, x, k, generator=generator, log_likelihood=log_likelihood)

    return _mean_per_image(model, data, batch_size, binarize, generator, per_example)


def fit(
    model: VAE,
    train: ImageData,
    test: ImageData | None = None,
    epochs: int = 1,
    batch_size: int = 256,
    lr: float = 1e-3,
    beta: float = 1.0,
    binarize: bool = False,
    optimizer: torch.optim.Optimizer | None = None,
    progress: bool = True,
    on_epoch: Callable[[int, History], None] | None = None,
    history: History | None = None,
    kl_warmup_epochs: float = 0,
    log_likelihood: LogLikelihood = bernoulli_log_likelihood,
    objective: Callable[[VAE, torch.Tensor], torch.Tensor] | None = None,
) -> History:
    """Maximise the (beta-)ELBO with Adam; returns the per-epoch :class:`History`.

    The loss is the negative objective *averaged* over the batch (nats per image), so the
    learning rate does not depend on the batch size. ``kl_warmup_epochs`` > 0 raises the KL
    weight linearly from 0 to ``beta`` over that many epochs (KL annealing; Bowman et al., 2016).
    The history records the plain ELBO (beta = 1), whatever weight was trained with.
    Pass ``history`` to continue a run.

    ``objective(model, x)`` replaces the ELBO by another quantity to maximise, one value per example
    (B,), e.g. the importance-weighted bound of :func:`vaelib.bounds.objective` (chapter 7); the
    history's ``train_elbo`` then records its mean, and the KL weight (``beta``, warm-up) does not apply.
    ``test`` is still scored with :func:`evaluate` (a diagonal encoder's ELBO): pass None for other encoders.
    """
    if objective is not None and (beta != 1.0 or kl_warmup_epochs > 0):
        raise ValueError("beta and kl_warmup_epochs weight the ELBO's KL term; with objective= there is none to weight")
    optimizer = optimizer or torch.optim.Adam(model.parameters(), lr=lr)
    history = history or History()
    for epoch in progress_bar(range(1, epochs + 1), "epochs", enabled=progress):
        model.train()
        total = torch.zeros((), device=train.images.device)
        start = time.perf_counter()
        batches = train.batches(batch_size, binarize=binarize)
        for step, (x, _) in enumerate(batches):
            progress_in_epochs = len(history.train_elbo) + step / len(batches)
            weight = beta * min(1.0, progress_in_epochs / kl_warmup_epochs) if kl_warmup_epochs > 0 else beta
            if objective is None:
                terms = elbo(model.encoder, model.decoder, x, beta=weight, log_likelihood=log_likelihood)
                per_example, plain = terms.elbo, terms.reconstruction - terms.kl  # (B,) each
            else:
                per_example = plain = objective(model, x)  # (B,)
                if per_example.shape != (len(x),):
                    raise ValueError(f"objective returned shape {tuple(per_example.shape)}; it must be ({len(x)},)")
            loss = -per_example.mean()
            if not torch.isfinite(loss):  # one host sync per step: the price of never stepping on NaN
                _raise_non_finite(loss, epoch, step)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            total += plain.detach().sum()
        history.seconds.append(time.perf_counter() - start)
        history.train_elbo.append(total.item() / len(train))
        if test is not None:
            history.test_elbo.append(evaluate(model, test, binarize=binarize, log_likelihood=log_likelihood))
        if on_epoch is not None:
            on_epoch(epoch, history)
    return history


@torch.no_grad()
def evaluate_svi(vae, data: ImageData, binarize: bool = True, loss=None, batch_size: int = 1000) -> float:
    """Mean ELBO per image of a :class:`~vaelib.pyro_vae.PyroVAE` over ``data``: ``-loss / N``, no update.

    ``loss`` is a Pyro ELBO object (default ``Trace_ELBO()``, one sample of z per image). The model
    is scored in eval mode, so batch norm uses its running averages and test images never change them.
    """
    from pyro.infer import Trace_ELBO

    loss = loss or Trace_ELBO()
    was_training = vae.training
    vae.eval()
    total = sum(
        loss.loss(vae.model, vae.guide, x) for x, _ in data.batches(batch_size, shuffle=False, binarize=binarize)
    )
    vae.train(was_training)
    return -total / len(data)


def _check_param_store(vae) -> None:
    """Refuse to train when Pyro's global parameter store holds another model's weights under our names.

    ``pyro.module("encoder", net)`` returns the stored tensors when the names already exist, so SVI
    would silently optimise the old model and leave this one untouched.
    """
    import pyro

    store = pyro.get_param_store()
    for prefix, net in (("encoder", vae.encoder), ("decoder", vae.decoder)):
        for name, param in net.named_parameters():
            key = f"{prefix}$$${name}"
            if key in store and store[key] is not param:
                raise ValueError(
                    f"Pyro's parameter store already holds {key!r} from another model, so SVI would train that "
                    "model instead of this one. Call pyro.clear_param_store() before training a new model."
                )


def fit_svi(
    vae,
    train: ImageData,
    test: ImageData | None = None,
    epochs: int = 1,
    batch_size: int = 256,
    lr: float = 1e-3,
    binarize: bool = True,
    loss=None,
    progress: bool = True,
    on_epoch: Callable[[int, History], None] | None = None,
    history: History | None = None,
) -> History:
    """Train a :class:`~vaelib.pyro_vae.PyroVAE` with ``pyro.infer.SVI`` and Adam.

    ``loss`` defaults to ``Trace_ELBO()``; pass ``JitTrace_ELBO()`` to compile it (Pyro then
    skips distribution validation). The test ELBO comes from :func:`evaluate_svi` (same estimator
    as training, one sample), computed in eval mode so batch norm uses its running averages.
    """
    from pyro.infer import SVI, Trace_ELBO
    from pyro.optim import Adam

    _check_param_store(vae)
    loss = loss or Trace_ELBO()
    svi = SVI(vae.model, vae.guide, Adam({"lr": lr}), loss=loss)
    history = history or History()
    params = list(vae.parameters())
    last_good = [p.detach().clone() for p in params]  # SVI steps before we see the loss: keep a copy
    for epoch in progress_bar(range(1, epochs + 1), "epochs", enabled=progress):
        vae.train()  # batch norm: batch statistics, running averages updated
        total, start = 0.0, time.perf_counter()
        for step, (x, _) in enumerate(train.batches(batch_size, binarize=binarize)):
            try:
                batch_loss = svi.step(x)  # negative ELBO summed over the batch, already a float
            except ValueError as err:  # Pyro's validation sees NaN parameters before any update
                if "Expected parameter" not in str(err):  # e.g. grey pixels for a Bernoulli: not ours
                    raise
                raise NonFiniteLossError(
                    f"the networks produced NaN or infinite values at epoch {epoch}, step {step} (Pyro: "
                    f"{str(err).splitlines()[0]}); no update was applied. Lower the learning rate or check the data."
                ) from err
            if not math.isfinite(batch_loss):
                with torch.no_grad():
                    torch._foreach_copy_([p.data for p in params], last_good)
                raise NonFiniteLossError(
                    f"the SVI loss is {batch_loss} at epoch {epoch}, step {step}; the parameters were restored "
                    "to their values before this step. Lower the learning rate or check the data lies in [0, 1]."
                )
            with torch.no_grad():
                torch._foreach_copy_(last_good, [p.detach() for p in params])
            total += batch_loss
        history.seconds.append(time.perf_counter() - start)
        history.train_elbo.append(-total / len(train))
        if test is not None:
            history.test_elbo.append(evaluate_svi(vae, test, binarize=binarize, loss=loss))
        if on_epoch is not None:
            on_epoch(epoch, history)
    return history
