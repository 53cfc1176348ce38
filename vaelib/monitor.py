"""Watching a run epoch by epoch: callbacks for ``fit``'s and ``fit_svi``'s ``on_epoch``.

:class:`ActiveUnits` records the activity A_j of every latent unit after each epoch (the
criterion of :func:`vaelib.active_units`), so a figure can show *when* units switch off, not only
how many are off at the end.
"""

from __future__ import annotations

import torch

from .analysis import active_units, encode
from .data import ImageData


class ActiveUnits:
    """Callback ``(epoch, history)`` that stores the activity of every latent unit after each epoch.

    ``data`` are the images whose posterior means are measured (for a model trained on binarized
    images, pass one fixed binarization, e.g. ``test.binarized(generator)``, so the encoder sees the
    kind of input it was trained on). ``every`` measures only every so many epochs (and always the
    first). Reads: ``epochs`` (list), ``activity`` (tensor (E, z_dim) on the CPU), ``counts`` (list).
    Call it once with ``epoch=0`` before training to record the untrained model too.

    Taught in chapter 6.
    """

    def __init__(self, encoder: torch.nn.Module, data: ImageData, threshold: float = 0.01, every: int = 1):
        if every < 1:
            raise ValueError(f"every must be a positive number of epochs, got {every}")
        if len(data) < 2:
            raise ValueError(f"activity is a variance over images: pass at least 2 images, got {len(data)}")
        self.encoder, self.data, self.threshold, self.every = encoder, data, threshold, every
        self.epochs: list[int] = []
        self._activity: list[torch.Tensor] = []

    def __call__(self, epoch: int, history=None) -> None:
        if epoch > 1 and epoch % self.every:
            return
        loc, _ = encode(self.encoder, self.data)  # eval mode inside, training mode restored
        _, activity = active_units(loc, self.threshold)
        self.epochs.append(epoch)
        self._activity.append(activity.detach().cpu())

    @property
    def activity(self) -> torch.Tensor:
        """(E, z_dim): A_j of every unit at each recorded epoch."""
        if not self._activity:
            raise ValueError("nothing recorded yet: pass this object as on_epoch= to fit, or call it")
        return torch.stack(self._activity)

    @property
    def counts(self) -> list[int]:
        """The number of active units (A_j > threshold) at each recorded epoch."""
        return [int((a > self.threshold).sum()) for a in self._activity]
