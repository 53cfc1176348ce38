"""The one training loop of vaelib: every ``fit_*`` is a small step function run by :func:`run_epochs`.

The loop owns what every training run needs and what used to be written once per loop: the
progress bar, the NaN guard between the gradients and the update (:func:`guarded_update`), the
per-epoch :class:`History` (train ELBO per image, wall time, test scores), eval mode while the test
set is scored (:func:`eval_mode`), and the ``on_epoch`` callback. A model family supplies a step:

    step(batch, progress_epochs, where) -> (loss, total, count)

``loss`` is the scalar to minimise; ``total`` the sum of the per-image quantity the history
records (the plain ELBO, nats) over the ``count`` images the batch holds, or ``None`` when the step
records nothing (a classifier). ``progress_epochs`` is the training progress in epochs (epochs in
the history before this run + steps done / steps per epoch), for schedules such as KL warm-up.
``where`` ("epoch 2, step 17") is for error messages. This is d2l's ``Trainer.fit`` / ``fit_epoch``
with a ``training_step``, and labml's trainer.
"""

from __future__ import annotations

import contextlib
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

import torch
from torch.nn.utils import get_total_norm
from tqdm import tqdm

Step = Callable[[object, float, str], tuple[torch.Tensor | None, torch.Tensor | None, int]]


def progress_bar(iterable, desc: str, enabled: bool = True) -> tqdm:
    """A tqdm text bar on standard output, for loops that take a while.

    It updates in place in a terminal, in Jupyter and on Colab. In the built book the updates
    arrive as separate outputs; the book's ``_ext/progress_bars.py`` keeps only the final line
    (``100%|...| 8/8 [00:41<00:00, 5.1s/it]``) among the cell's printed output.
    ``tqdm.auto``'s widget bar is avoided on purpose: a static page can show a widget only by
    loading scripts from a CDN, and without them it shows the bar's first state, "0%".

    Taught in chapter 4.
    """
    return tqdm(iterable, desc=desc, disable=not enabled, file=sys.stdout)


class NonFiniteLossError(FloatingPointError):
    """The loss or a gradient became NaN or infinite; the update it would have made was not applied.

    Raised by every training loop of vaelib (chapters 2-9: fit, fit_svi, fit_cvae, fit_m2, fit_classifier,
    fit with an objective), since all of them step through :func:`guarded_update`.
    """


@dataclass
class History:
    """Per-epoch record of a run; ELBOs in nats per image (higher is better).

    What :func:`vaelib.fit` and the other loops return (chapters 2-9 read it).
    """

    train_elbo: list[float] = field(default_factory=list)  # mean over the epoch's mini-batches
    test_elbo: list[float] = field(default_factory=list)  # on the test split after the epoch
    seconds: list[float] = field(default_factory=list)  # wall time of the epoch's training steps
    steps: int = 0  # optimizer steps taken (counted work: one update of every trained parameter each)

    @property
    def epochs(self) -> list[int]:
        return list(range(1, len(self.seconds) + 1))


def non_finite_parameters(module: torch.nn.Module) -> list[str]:
    """Names of the parameters holding NaN or inf (reads every parameter: for error messages only)."""
    with torch.no_grad():
        return [name for name, p in module.named_parameters() if not torch.isfinite(p).all()]


def non_finite_error(module: torch.nn.Module, where: str, loss: float, grad_norm: float) -> NonFiniteLossError:
    """The message says what was checked and what state the parameters are in; all of it is true."""
    broken = non_finite_parameters(module)
    if broken:
        return NonFiniteLossError(
            f"{where}: parameter(s) {', '.join(broken[:3])} already hold NaN or infinite values (the loss is "
            f"{loss:.4g}); no update was applied. Rebuild the model or load a checkpoint."
        )
    return NonFiniteLossError(
        f"{where}: the loss is {loss:.4g} and the gradients' norm {grad_norm:.4g}; no update was applied, so the "
        "parameters are those from before this step. Lower the learning rate, or check the encoder's scales."
    )


def guarded_update(module: torch.nn.Module, optimizer, params, loss: torch.Tensor, where: str) -> None:
    """Backward, then one check of the loss and the gradients' norm (one host sync), then the update.

    When either is NaN or infinite the gradients are dropped and nothing is stepped; the error says
    which (:func:`non_finite_error`). Every training loop of vaelib steps through here.
    """
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    grad_norm = get_total_norm([p.grad for p in params if p.grad is not None])
    if not torch.isfinite(loss.detach() + grad_norm):  # the guard's one host sync per step
        optimizer.zero_grad(set_to_none=True)  # drop the bad gradients; nothing was stepped
        raise non_finite_error(module, where, loss.item(), grad_norm.item())
    optimizer.step()


@contextlib.contextmanager
def eval_mode(*modules: torch.nn.Module) -> Iterator[None]:
    """Put ``modules`` in eval mode for the block and give each back the mode it had, even when the block raises.

    Batch norm then uses its running averages and scored images never change them. Used by every
    scorer of vaelib (chapters 2-9).
    """
    was_training = [m.training for m in modules]
    for m in modules:
        m.eval()
    try:
        yield
    finally:
        for m, mode in zip(modules, was_training, strict=True):
            m.train(mode)


class Epoch:
    """One epoch's batches from a generator, with its number of steps (the loop reads ``len``).

    For loops whose batches are not an ImageData's: cycling labelled streams, fresh draws of codes.
    Used in chapter 8 through fit_classifier and fit_code_m2.
    """

    def __init__(self, batches: Iterable, steps: int):
        self.batches, self.steps = batches, steps

    def __iter__(self):
        return iter(self.batches)

    def __len__(self) -> int:
        return self.steps


def trained_parameters(optimizer: torch.optim.Optimizer) -> list[torch.nn.Parameter]:
    """Every parameter the optimizer updates (what the guard checks)."""
    return [p for group in optimizer.param_groups for p in group["params"]]


def run_epochs(
    module: torch.nn.Module,
    optimizer: torch.optim.Optimizer | None,
    batches: Callable[[], Iterable],
    step: Step,
    *,
    epochs: int,
    history: History,
    evaluate: Callable[[], dict[str, float]] | None = None,
    on_epoch: Callable[[int, History], None] | None = None,
    progress: bool = True,
    record: str = "train_elbo",
) -> History:
    """Run ``epochs`` passes of ``step`` over ``batches()`` and record each in ``history``; returns it.

    ``batches()`` gives one epoch's batches (a sized iterable, made anew each epoch so it can
    reshuffle). Each step's loss goes through :func:`guarded_update` with ``optimizer``; pass
    ``optimizer=None`` only for a step that applies its own guarded update (Pyro's SVI in
    :func:`vaelib.fit_svi`); its ``loss`` is then not used. After each epoch the history gets the
    epoch's wall time and mean recorded value per image (when the step records one) in its field
    ``record`` (``train_elbo`` unless the step records something else, such as a loss); then
    ``evaluate()``, run in eval mode, returns scores to append to the history's fields of the same
    names (``{"test_elbo": ...}``, ``{"test_error": ...}``); then ``on_epoch(epoch, history)``.
    Used by every training loop of chapters 2-9.
    """
    params = trained_parameters(optimizer) if optimizer is not None else []
    for epoch in progress_bar(range(1, epochs + 1), "epochs", enabled=progress):
        module.train()
        done = len(history.seconds)
        epoch_batches = batches()
        steps = max(len(epoch_batches), 1)
        total, count, start = None, 0, time.perf_counter()
        for i, batch in enumerate(epoch_batches):
            where = f"epoch {epoch}, step {i}"
            loss, recorded, n = step(batch, done + i / steps, where)
            if optimizer is not None:
                guarded_update(module, optimizer, params, loss, where)
            if recorded is not None:
                recorded = recorded.detach() if isinstance(recorded, torch.Tensor) else recorded
                total = recorded if total is None else total + recorded  # stays on the device: no host sync
                count += n
            history.steps += 1
        history.seconds.append(time.perf_counter() - start)
        if total is not None:
            getattr(history, record).append(float(total) / count)
        if evaluate is not None:
            with eval_mode(module):
                for name, value in evaluate().items():
                    getattr(history, name).append(value)
        if on_epoch is not None:
            on_epoch(epoch, history)
    return history
