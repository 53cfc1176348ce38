"""Run a chapter under a chosen budget and record its results in ``vaelib/book/recorded/``.

    python -m tools.record_run chapters/06_evaluation.ipynb --name evaluation_full --budget full

The chapter runs top to bottom in a fresh kernel (smoke mode off, ``VAE_BOOK_BUDGET`` set), as in
a book build. It must leave a dict named ``RECORD`` behind; that dict, with the commit, the wall
time and whether the working tree had uncommitted changes, becomes ``vaelib/book/recorded/<name>.json``,
which the chapter displays in every later build (``vaelib.load_record``). The executed notebook,
outputs included, is kept in ``_build/records/<name>.ipynb`` for inspection.

A full run takes long (the record says how long: ``run.wall_seconds``). Point ``VAE_BOOK_DATA``
at real MNIST first: a run on the offline stand-in data is refused before it starts.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

from vaelib import MNIST_SOURCE, MNISTUnavailableError, load_mnist
from vaelib.book.records import RunInfo, check_record
from vaelib.settings import BUDGET_ENV, SMOKE_ENV

ROOT = Path(__file__).resolve().parents[1]
OUTPUT_DIR = ROOT / "vaelib" / "book" / "recorded"  # in this checkout, whichever vaelib is installed
EXECUTED_DIR = ROOT / "_build" / "records"  # the executed notebooks, for inspection
MARKER = "RECORD-JSON:"
EMIT_SOURCE = f'import json\nprint("{MARKER}" + json.dumps(RECORD))'


def git(*args: str) -> str:
    return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=True).stdout.strip()


def emitted_record(cell) -> dict:
    """The RECORD dict printed by the cell appended to the notebook."""
    for output in cell.get("outputs", []):
        for line in output.get("text", "").splitlines():
            if line.startswith(MARKER):
                return json.loads(line[len(MARKER) :])
    raise RuntimeError("the notebook ran but printed no RECORD: does it define a dict named RECORD?")


def check_inputs(notebook: Path, name: str, allow_standin: bool) -> None:
    """Refuse at once, not after an hour, what would make the run useless."""
    if not re.fullmatch(r"[A-Za-z0-9_-]+", name):
        raise ValueError(f"--name {name!r}: use letters, digits, '_' and '-' only (it names a file in {OUTPUT_DIR})")
    if not notebook.is_file():
        raise FileNotFoundError(f"no notebook at {notebook}")
    if not allow_standin:
        try:
            load_mnist(train=False, device="cpu", allow_standin=False)  # downloads it if it can
        except MNISTUnavailableError as error:
            raise RuntimeError(f"real MNIST is needed for a record, not the offline stand-in: {error}") from None
    OUTPUT_DIR.mkdir(parents=True, exist_ok=True)


def record_run(notebook: Path, name: str, budget: str, allow_standin: bool = False) -> Path:
    """Execute ``notebook`` with ``budget`` and write its RECORD to ``vaelib/book/recorded/<name>.json``."""
    check_inputs(notebook, name, allow_standin)
    nb = nbformat.read(notebook, as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell(EMIT_SOURCE))
    env = {**os.environ, SMOKE_ENV: "0", BUDGET_ENV: budget}  # the kernel's environment
    commit, dirty = git("rev-parse", "HEAD"), bool(git("status", "--porcelain", "--untracked-files=no"))
    start = time.perf_counter()

    def report(cell, cell_index, **_):  # an hour-long run shows where it is
        minutes = (time.perf_counter() - start) / 60
        print(f"cell {cell_index + 1} of {len(nb.cells)} done, {minutes:.1f} min", flush=True)

    client = NotebookClient(
        nb,
        timeout=None,
        kernel_name="python3",
        resources={"metadata": {"path": notebook.parent}},
        on_cell_executed=report,
    )
    try:
        client.execute(env=env)
    finally:
        executed = EXECUTED_DIR / f"{name}.ipynb"
        executed.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, executed)
        print(f"executed notebook: {executed}")
    record = emitted_record(nb.cells[-1])
    if record.get("budget") != budget:
        raise RuntimeError(f"the notebook ran with budget {record.get('budget')!r}, not {budget!r}")
    if record.get("data") != MNIST_SOURCE and not allow_standin:
        raise RuntimeError(
            f"real MNIST is needed for a record, but the notebook used {record.get('data')!r}: set VAE_BOOK_DATA to "
            "a folder holding MNIST/raw/ (or pass --allow-standin for a record that says so)"
        )
    resolved = notebook.resolve()
    shown = resolved.relative_to(ROOT) if resolved.is_relative_to(ROOT) else resolved
    record["run"] = RunInfo(
        notebook=str(shown),
        commit=commit,
        uncommitted_changes=dirty,
        wall_seconds=round(time.perf_counter() - start, 1),
        command=f"python -m tools.record_run {shown} --name {name} --budget {budget}",
    )
    check_record(record, name="the notebook's RECORD")
    path = OUTPUT_DIR / f"{name}.json"
    path.write_text(json.dumps(record, indent=1, allow_nan=False) + "\n", encoding="utf-8")  # strict JSON
    return path


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("notebook", type=Path, help="the chapter to run, e.g. chapters/06_evaluation.ipynb")
    parser.add_argument("--name", required=True, help="the record's name: vaelib/book/recorded/<name>.json")
    parser.add_argument("--budget", choices=("cpu", "full"), default="full", help="VAE_BOOK_BUDGET for the run")
    parser.add_argument("--allow-standin", action="store_true", help="accept a run on the offline stand-in data")
    args = parser.parse_args(argv)
    path = record_run(args.notebook, args.name, args.budget, args.allow_standin)
    print(f"recorded: {path}")


if __name__ == "__main__":
    main()
