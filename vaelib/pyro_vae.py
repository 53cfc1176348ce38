"""The VAE as a Pyro program: a model and a guide around vaelib's networks.

The networks are the same ``nn.Module`` objects the plain-PyTorch chapters train;
Pyro only adds the probabilistic bookkeeping (sample sites, plates, parameters).
"""

from __future__ import annotations

import pyro
import pyro.distributions as dist
import torch
import torch.nn as nn

from . import checks


class PyroVAE(nn.Module):
    """``model`` is p(z) p(x|z) and ``guide`` is q(z|x), for ``pyro.infer.SVI``.

    Data x is (B, 1, 28, 28). The Bernoulli likelihood validates its observations:
    with ``grey_pixels=False`` (the default) x must be binary, e.g. dynamically
    binarized batches. ``grey_pixels=True`` lifts that check on the 'obs' site only,
    to reproduce Pyro's tutorial; the log-likelihood of grey pixels is then a
    cross-entropy, not the log-probability of the data.
    """

    def __init__(self, encoder: nn.Module, decoder: nn.Module, grey_pixels: bool = False):
        super().__init__()
        checks.module(encoder, "encoder", ("z_dim",))
        checks.module(decoder, "decoder", ("z_dim",))
        checks.flag(grey_pixels, "grey_pixels")
        if encoder.z_dim != decoder.z_dim:
            raise ValueError(f"encoder has z_dim={encoder.z_dim} but decoder has z_dim={decoder.z_dim}")
        self.encoder, self.decoder = encoder, decoder
        self.z_dim = encoder.z_dim
        self.grey_pixels = grey_pixels

    def model(self, x: torch.Tensor) -> None:
        pyro.module("decoder", self.decoder)
        batch = x.shape[0]
        with pyro.plate("data", batch):
            loc = x.new_zeros((batch, self.z_dim))
            scale = x.new_ones((batch, self.z_dim))
            # to_event(1): the z_dim coordinates form one event, so log_prob sums them -> (B,)
            z = pyro.sample("z", dist.Normal(loc, scale).to_event(1))
            logits = self.decoder(z).flatten(1)  # (B, 784)
            pyro.sample("obs", self._likelihood(logits), obs=x.flatten(1))

    def _likelihood(self, logits: torch.Tensor) -> dist.TorchDistribution:
        """Bernoulli over the 784 pixels as one event; unvalidated only when grey pixels are asked for."""
        if not self.grey_pixels:
            return dist.Bernoulli(logits=logits).to_event(1)
        # Both the Bernoulli and its Independent wrapper check the value's support in log_prob.
        return dist.Independent(dist.Bernoulli(logits=logits, validate_args=False), 1, validate_args=False)

    def guide(self, x: torch.Tensor) -> None:
        pyro.module("encoder", self.encoder)
        with pyro.plate("data", x.shape[0]):
            loc, scale = self.encoder(x)  # (B, z), (B, z)
            pyro.sample("z", dist.Normal(loc, scale).to_event(1))
