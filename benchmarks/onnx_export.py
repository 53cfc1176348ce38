"""What exporting chapter 3's 2-D decoder to ONNX adds to a book build (issue budget: under 2 s).

    python benchmarks/onnx_export.py            # each variant in a fresh Python process, 3 repeats
    python benchmarks/onnx_export.py --threads 1 --repeats 5

A build pays for the first export in a kernel that has already imported torch and vaelib (the
chapter trained its model in it), so each measurement starts a fresh process, imports torch and
vaelib untimed, and then times, in wall-clock and process CPU seconds:

* ``vaelib (auto)``: :func:`export.decoder_onnx_bytes` as chapter 3 calls it (the
  TorchScript-based exporter while PyTorch has it);
* ``vaelib (dynamo)``: the same with ``exporter="dynamo"``, the torch.export-based exporter without
  graph optimisation, including the import of onnxscript: what a build pays once PyTorch drops the other;
* ``dynamo + optimize``: that exporter with its onnxscript graph optimiser, as torch.onnx runs it by
  default: the baseline the others are compared with.

It prints the median over repeats of each, and each one's ratio to the baseline and to the budget.
Timings on a machine shared with other jobs are too high by the load factor; the CPU seconds are
less affected than the wall-clock ones.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys

BUDGET_S = 2.0

CHILD = r"""
import json, time
import torch
torch.set_num_threads({threads})
import vaelib
from vaelib.book import export

decoder = vaelib.MLPDecoder(z_dim=2)  # chapter 3's 2-D decoder (784-400-2); its weights do not matter here
variant = {variant!r}
wall, cpu = time.perf_counter(), time.process_time()
if variant.startswith("vaelib"):
    size = len(export.decoder_onnx_bytes(decoder, 2, exporter=variant.split("(")[1].rstrip(")")))
else:
    import onnxscript  # noqa: F401
    model = export._Probabilities(decoder).eval()
    program = torch.onnx.export(
        model, (torch.zeros(4, 2),), dynamo=True, optimize=True, input_names=["z"], output_names=["probs"],
        dynamic_shapes=({{0: torch.export.Dim("batch")}},), verbose=False,
    )
    size = len(program.model_proto.SerializeToString())
print(json.dumps(dict(wall=time.perf_counter() - wall, cpu=time.process_time() - cpu, size=size)))
"""

VARIANTS = ("dynamo + optimize", "vaelib (dynamo)", "vaelib (auto)")


def measure(variant: str, threads: int) -> dict:
    done = subprocess.run(
        [sys.executable, "-c", CHILD.format(variant=variant, threads=threads)], capture_output=True, text=True
    )
    if done.returncode != 0:
        raise RuntimeError(f"{variant}: the export failed:\n{done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=3, help="fresh processes per variant")
    parser.add_argument("--threads", type=int, default=2, help="torch threads in each process")
    args = parser.parse_args()
    runs = {v: [measure(v, args.threads) for _ in range(args.repeats)] for v in VARIANTS}
    median = {v: {k: statistics.median(r[k] for r in rs) for k in ("wall", "cpu")} for v, rs in runs.items()}
    base = median[VARIANTS[0]]
    print(f"first export in a fresh process, median of {args.repeats}, {args.threads} torch thread(s)")
    print(f"{'variant':<20} {'wall s':>7} {'cpu s':>7} {'x baseline (wall)':>18} {'x budget':>9} {'MB':>6}")
    for v in VARIANTS:
        m, size = median[v], runs[v][0]["size"] / 1e6
        print(
            f"{v:<20} {m['wall']:7.2f} {m['cpu']:7.2f} {m['wall'] / base['wall']:18.2f} "
            f"{m['wall'] / BUDGET_S:9.2f} {size:6.2f}"
        )


if __name__ == "__main__":
    main()
