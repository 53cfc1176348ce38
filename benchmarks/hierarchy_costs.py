"""What chapter 11's pieces cost on one CPU thread: the numbers its budgets are sized from.

Each workload runs ``--repeats`` times, interleaved with the others (round robin), so that a machine
whose load changes during the run slows every workload alike; the median per call is printed. Speed is
the output, nothing is asserted. Run with ``OMP_NUM_THREADS=1 python benchmarks/hierarchy_costs.py``
(``--smoke`` for a quick check on the stand-in digits).
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch

import vaelib
from vaelib import hierarchy

BATCH = 128


def training_step(model, objective, parameters=None):
    optimizer = torch.optim.Adam(parameters if parameters is not None else model.parameters(), lr=1e-3)

    def step(x):
        loss = -objective(model, x).elbo.mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()

    return step


def plain_elbo(model, x):
    return vaelib.elbo(model.encoder, model.decoder, x)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--smoke", action="store_true")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    torch.set_num_threads(1)
    torch.manual_seed(0)
    train = vaelib.load_mnist(train=True)
    x = torch.bernoulli(train.images[:BATCH], generator=torch.Generator().manual_seed(0))
    x100 = x[:100]
    steps = 20 if args.smoke else 1000
    k = 50 if args.smoke else 5000

    one_layer = vaelib.VAE.mlp(50, 250)
    two_layer = hierarchy.TwoLayerVAE()
    pixels = hierarchy.DiffusionVAE(784, 2, hidden_dim=512)
    conv = vaelib.VAE.conv(16).eval()
    latent = hierarchy.LatentDiffusion(conv, 1.0, hidden_dim=256)
    print(
        f"parameters: one-layer VAE.mlp(50, 250) {hierarchy.parameter_count(one_layer):,}, "
        f"TwoLayerVAE() {hierarchy.parameter_count(two_layer):,}, "
        f"DiffusionVAE(784) {hierarchy.parameter_count(pixels):,}"
    )
    gen = torch.Generator().manual_seed(1)

    def two_layer_lk():
        with torch.no_grad():
            vaelib.iwae_bound(two_layer.encoder, two_layer.decoder, x100, k, prior=two_layer.prior, generator=gen)

    def terms():
        with torch.no_grad():
            hierarchy.diffusion_terms(pixels, x100, steps, generator=gen)

    work = {
        f"one-layer VAE step (batch {BATCH})": (training_step(one_layer, plain_elbo), x),
        f"two-layer VAE step (batch {BATCH})": (training_step(two_layer, hierarchy.LadderObjective()), x),
        f"two-layer L_{k}, 100 images": (lambda _: two_layer_lk(), None),
        f"pixel diffusion step, continuous time (batch {BATCH})": (
            training_step(pixels, hierarchy.DiffusionObjective()),
            x,
        ),
        f"pixel diffusion ELBO term by term, T={steps}, 100 images": (lambda _: terms(), None),
        f"pixel diffusion, 64 samples, T={steps}": (
            lambda _: hierarchy.sample_diffusion(pixels, 64, steps, generator=gen),
            None,
        ),
        f"latent diffusion step on a conv VAE's codes (batch {BATCH})": (
            training_step(latent, hierarchy.DiffusionObjective(), latent.trained_parameters()),
            x,
        ),
        f"latent diffusion, 64 samples, T={steps}": (lambda _: latent.sample(64, steps, generator=gen), None),
    }
    seconds = {name: [] for name in work}
    for _ in range(args.repeats):
        for name, (fn, arg) in work.items():
            start = time.perf_counter()
            fn(arg)
            seconds[name].append(time.perf_counter() - start)
    print(f"one thread, median of {args.repeats} interleaved repeats ({vaelib.hardware_name('cpu')}):")
    for name, values in seconds.items():
        print(f"  {name}: {statistics.median(values) * 1000:.1f} ms")


if __name__ == "__main__":
    main()
