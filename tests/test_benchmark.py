"""The data-pipeline benchmark runs and reports sane numbers (speed itself is its output, not a test)."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_benchmark_runs_in_smoke_mode(tmp_path):
    env = {**os.environ, "VAE_BOOK_DATA": str(tmp_path)}  # no MNIST there: the stand-in is used
    command = [sys.executable, "benchmarks/data_pipeline.py", "--smoke"]
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, env=env, timeout=600)
    assert result.returncode == 0, result.stderr
    lines = {line.split(":")[0]: line for line in result.stdout.splitlines() if ":" in line}
    # Speed is the benchmark's output, not a test: only check the report is complete and sane.
    assert float(lines["data iteration speed-up"].split()[3].rstrip("x")) > 0
    assert float(lines["whole-epoch speed-up"].split()[2].rstrip("x")) > 0
    assert "offline stand-in" in result.stdout
    # Same initial weights and model: the two pipelines must reach nearly the same test ELBO.
    difference = float(lines["final test ELBO difference (tensor - per-item)"].split()[-2])
    assert abs(difference) < 5, result.stdout
