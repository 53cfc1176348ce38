"""What the NaN guard of ``vaelib.fit`` costs per training step.

    python benchmarks/nan_guard.py            # MLP and conv VAE, batch 256, on CUDA when present
    python benchmarks/nan_guard.py --steps 20 # fewer steps, seconds

Three versions of one Adam step on the ELBO, from the same weights and data, timed in turn:

* ``no guard``: forward, backward, step;
* ``loss only``: the old guard, ``isfinite(loss)`` before backward (one host sync);
* ``loss + grads``: fit's guard, ``isfinite(loss + total gradient norm)`` after backward, before the
  step (one host sync; the norm comes from the public ``torch.nn.utils.get_total_norm``).

It prints the median time per step of each and the guard's cost over ``no guard``.
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch
from torch.nn.utils import get_total_norm

import vaelib


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def make_step(model, optimizer, x, guard: str):
    params = [p for group in optimizer.param_groups for p in group["params"]]

    def step() -> None:
        terms = vaelib.elbo(model.encoder, model.decoder, x, log_likelihood=vaelib.bernoulli_log_likelihood)
        loss = -terms.elbo.mean()
        if guard == "loss only" and not torch.isfinite(loss):
            raise FloatingPointError("non-finite loss")
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if guard == "loss + grads":
            norm = get_total_norm([p.grad for p in params if p.grad is not None])
            if not torch.isfinite(loss.detach() + norm):
                raise FloatingPointError("non-finite loss or gradient")
        optimizer.step()

    return step


def time_steps(step, steps: int, device: torch.device) -> float:
    step()  # warm-up
    sync(device)
    start = time.perf_counter()
    for _ in range(steps):
        step()
    sync(device)
    return (time.perf_counter() - start) / steps


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=50, help="steps per timing (default 50)")
    parser.add_argument("--rounds", type=int, default=5, help="timings per version, interleaved (default 5)")
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--device", default=None, help="cpu or cuda (default: CUDA when present)")
    args = parser.parse_args(argv)
    if args.steps < 1 or args.rounds < 1 or args.batch_size < 1:
        parser.error("--steps, --rounds and --batch-size must be at least 1")
    device = torch.device(args.device) if args.device else vaelib.pick_device()
    x = torch.bernoulli(torch.full((args.batch_size, 1, 28, 28), 0.3, device=device))
    print(
        f"device: {device}; threads: {torch.get_num_threads()}; batch {args.batch_size}; {args.steps} steps x "
        f"{args.rounds} rounds"
    )
    for name, make in (("MLP 784-400-50", lambda: vaelib.VAE.mlp()), ("conv z=16", lambda: vaelib.VAE.conv())):
        torch.manual_seed(0)
        model = make().to(device)
        optimizer = torch.optim.Adam(model.parameters(), lr=1e-4)
        times: dict[str, list[float]] = {"no guard": [], "loss only": [], "loss + grads": []}
        for _ in range(args.rounds):  # interleaved, so a busy machine slows every version alike
            for guard in times:
                times[guard].append(time_steps(make_step(model, optimizer, x, guard), args.steps, device))
        base = statistics.median(times["no guard"])
        cells = []
        for guard, values in times.items():
            median = statistics.median(values)
            cells.append(f"{guard}: {1e3 * median:.3f} ms ({100 * (median / base - 1):+.1f}%)")
        print(f"{name:<16}" + "; ".join(cells))


if __name__ == "__main__":
    main()
