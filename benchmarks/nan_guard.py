"""What the NaN guard of ``vaelib.fit`` costs per training step.

    python benchmarks/nan_guard.py                          # MLP and conv VAE, batch 256, CUDA when present
    python benchmarks/nan_guard.py --threads 1 --clock cpu  # on a busy CPU: this process's CPU time

Three versions of one Adam step on the ELBO, from the same weights and data, timed in turn:

* ``no guard``: forward, backward, step;
* ``loss only``: the old guard, ``isfinite(loss)`` before backward (one host sync);
* ``loss + grads``: fit's guard, ``isfinite(loss + total gradient norm)`` after backward, before the
  step (one host sync; the norm comes from the public ``torch.nn.utils.get_total_norm``).

It prints the median time per step of each and the guard's cost over ``no guard``, and, since
whole steps on a busy machine vary by more than the guard costs, the best time of the guard's own
work (the norm and the finiteness check) measured alone on the model's gradients.
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


def time_steps(step, steps: int, device: torch.device, clock) -> float:
    step()  # warm-up
    sync(device)
    start = clock()
    for _ in range(steps):
        step()
    sync(device)
    return (clock() - start) / steps


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=50, help="steps per timing (default 50)")
    parser.add_argument("--rounds", type=int, default=5, help="timings per version, interleaved (default 5)")
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--device", default=None, help="cpu or cuda (default: CUDA when present)")
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's choice)")
    parser.add_argument(
        "--clock", choices=["wall", "cpu"], default="wall", help="wall time, or this process's CPU time (CPU only)"
    )
    args = parser.parse_args(argv)
    if args.threads is not None:
        if args.threads < 1:
            parser.error("--threads must be at least 1")
        torch.set_num_threads(args.threads)
    if args.steps < 1 or args.rounds < 1 or args.batch_size < 1:
        parser.error("--steps, --rounds and --batch-size must be at least 1")
    device = torch.device(args.device) if args.device else vaelib.pick_device()
    if args.clock == "cpu" and device.type != "cpu":
        parser.error("--clock cpu measures CPU work; on a GPU use the wall clock")
    clock = time.process_time if args.clock == "cpu" else time.perf_counter
    x = torch.bernoulli(torch.full((args.batch_size, 1, 28, 28), 0.3, device=device))
    print(
        f"device: {device}; threads: {torch.get_num_threads()}; {args.clock} clock; batch {args.batch_size}; "
        f"{args.steps} steps x {args.rounds} rounds"
    )
    for name, make in (("MLP 784-400-50", lambda: vaelib.VAE.mlp()), ("conv z=16", lambda: vaelib.VAE.conv())):
        torch.manual_seed(0)
        model = make().to(device)
        optimizer = torch.optim.Adam(model.parameters(), lr=1e-4)
        times: dict[str, list[float]] = {"no guard": [], "loss only": [], "loss + grads": []}
        for _ in range(args.rounds):  # interleaved, so a busy machine slows every version alike
            for guard in times:
                times[guard].append(time_steps(make_step(model, optimizer, x, guard), args.steps, device, clock))
        params = list(model.parameters())
        make_step(model, optimizer, x, "no guard")()  # leaves this step's gradients in place
        grads = [p.grad for p in params if p.grad is not None]
        loss = torch.zeros((), device=device)

        def guard_alone(loss=loss, grads=grads) -> None:
            if not torch.isfinite(loss + get_total_norm(grads)):
                raise FloatingPointError("non-finite gradient")

        alone = min(time_steps(guard_alone, args.steps, device, clock) for _ in range(args.rounds))
        base = statistics.median(times["no guard"])
        cells = []
        for guard, values in times.items():
            median = statistics.median(values)
            cells.append(f"{guard}: {1e3 * median:.3f} ms ({100 * (median / base - 1):+.1f}%)")
        print(f"{name:<16}" + "; ".join(cells))
        n_params = sum(p.numel() for p in params)
        print(f"{'':<16}the guard's norm and check alone, on {n_params:,} gradients: {1e3 * alone:.3f} ms (best)")


if __name__ == "__main__":
    main()
