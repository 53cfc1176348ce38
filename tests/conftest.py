"""Shared fixtures: small offline data, a writer of tiny, valid MNIST IDX files, the smoke build of the book."""

import contextlib
import io
import json
import os
import shutil
import subprocess
import sys
import warnings
from pathlib import Path

import pytest
import torch

import vaelib


@pytest.fixture(scope="session")
def digits():
    """(train, test) of the offline stand-in, on the CPU."""
    return vaelib.load_standin_digits(train=True, device="cpu"), vaelib.load_standin_digits(train=False, device="cpu")


def write_idx(path: Path, data: torch.Tensor) -> None:
    """Write ``data`` (uint8) in the IDX format MNIST ships in: magic, big-endian dims, bytes."""
    header = bytes([0, 0, 0x08, data.dim()]) + b"".join(int(d).to_bytes(4, "big") for d in data.shape)
    path.write_bytes(header + data.contiguous().numpy().tobytes())


@pytest.fixture
def tiny_mnist(tmp_path):
    """A data root whose MNIST/raw/ holds 12 train and 6 test random images, laid out as torchvision expects."""
    raw = tmp_path / "MNIST" / "raw"
    raw.mkdir(parents=True)
    g = torch.Generator().manual_seed(0)
    arrays = {}
    for prefix, n in (("train", 12), ("t10k", 6)):
        images = torch.randint(0, 256, (n, 28, 28), dtype=torch.uint8, generator=g)
        labels = torch.arange(n, dtype=torch.uint8) % 10
        write_idx(raw / f"{prefix}-images-idx3-ubyte", images)
        write_idx(raw / f"{prefix}-labels-idx1-ubyte", labels)
        arrays[prefix] = (images, labels)
    return tmp_path, arrays


def build_book(
    book: Path, *, strict: bool = False, config: Path | None = None, output: Path | None = None
) -> tuple[int, str]:
    """Build the tiny book in ``book`` as `jupyter-book build BOOK [--config CONFIG] [--path-output OUTPUT]`
    does, but in this process (sparing each build an interpreter start and the import of Sphinx and the
    extensions): (status, everything the build printed). ``strict``: -W --keep-going. The html goes to
    OUTPUT/_build/html (OUTPUT defaults to ``book``). The kernels that execute the notebooks inherit this
    process's environment (set variables with monkeypatch).
    """
    from jupyter_book.sphinx import build_sphinx

    printed = io.StringIO()
    with contextlib.redirect_stdout(printed), contextlib.redirect_stderr(printed), warnings.catch_warnings():
        warnings.simplefilter("default")  # as in a `jupyter-book build` process: libraries' warnings are printed
        warnings.showwarning = lambda message, category, filename, lineno, file=None, line=None: printed.write(
            warnings.formatwarning(message, category, filename, lineno, line)
        )
        status = build_sphinx(
            book,
            (output or book) / "_build" / "html",
            noconfig=True,
            path_config=config or book / "_config.yml",
            confoverrides={"external_toc_path": (book / "_toc.yml").as_posix(), "latex_individualpages": False},
            warningiserror=strict,
            keep_going=strict,
        )
    if not isinstance(status, int):  # build_sphinx returns the exception that stopped the build
        return 1, printed.getvalue() + repr(status)
    return status, printed.getvalue()


ROOT = Path(__file__).resolve().parents[1]
SMOKE_BUILD = ROOT / "_build" / "smoke"
SMOKE_CACHE = SMOKE_BUILD / "_build" / ".jupyter_cache"  # the build's execution record (jupyter-cache)
SMOKE_REPORTS = SMOKE_BUILD / "_build" / "html" / "reports"  # myst-nb's <docname>.err.log of a failed notebook
# The smoke build's own folder for the models chapter 3 saves and chapter 5 loads: the Colab pass runs
# the same chapters at the same time on the other test worker, with its own folder.
SMOKE_CHECKPOINTS = SMOKE_BUILD / "checkpoints"
SMOKE_RESULT = SMOKE_BUILD / "result.json"  # the build's exit status and output, for another xdist worker


@pytest.hookimpl(tryfirst=True)  # before xdist reads the groups
def pytest_collection_modifyitems(config, items):
    """Send every test that reads the smoke build to one test worker (pytest-xdist ``--dist loadgroup``).

    ``smoke_book`` is a session fixture, and each xdist worker has its own session: grouping its users
    keeps the book built once. Without xdist the mark does nothing.
    """
    for item in items:
        if "smoke_book" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.xdist_group("book"))


@pytest.fixture(scope="session")
def smoke_book():
    """Build the whole book once in smoke mode, strict (-W -n): (result of the build, html folder).

    This build is the test suite's one execution of every chapter on the data found here (the offline
    stand-in unless VAE_BOOK_DATA says otherwise): ``test_chapter_executes`` (tests/test_build.py) reads
    its execution record. Shared by the build tests (tests/test_build.py) and the browser test
    (tests/test_browser.py).

    Under pytest-xdist its users run on one worker (group "book", above). Should that grouping fail
    (pytest-xdist#1386: pytest 9.2 breaks it), a lock file still keeps the build single: the first
    worker builds, and another worker of the same run (PYTEST_XDIST_TESTRUNUID) reads its result.
    """
    import filelock

    run = os.environ.get("PYTEST_XDIST_TESTRUNUID")
    html = SMOKE_BUILD / "_build" / "html"
    SMOKE_BUILD.parent.mkdir(parents=True, exist_ok=True)
    with filelock.FileLock(str(SMOKE_BUILD) + ".lock"):
        if run and SMOKE_RESULT.exists():
            saved = json.loads(SMOKE_RESULT.read_text())
            if saved["run"] == run:  # built by another worker of this test run
                output = saved["stdout"], saved["stderr"]
                return subprocess.CompletedProcess(saved["args"], saved["returncode"], *output), html
        shutil.rmtree(SMOKE_BUILD, ignore_errors=True)  # a cached build would hide execution errors
        env = {**os.environ, "VAE_BOOK_SMOKE": "1", "VAE_BOOK_CHECKPOINTS": str(SMOKE_CHECKPOINTS)}
        env.setdefault("OMP_NUM_THREADS", "1")  # one core per kernel: the other test worker has the other one
        env.pop("MPLBACKEND", None)  # Agg in the kernels would keep every figure out of the book
        jupyter_book = shutil.which("jupyter-book", path=str(Path(sys.executable).parent)) or "jupyter-book"
        command = [jupyter_book, "build", ".", "--path-output", str(SMOKE_BUILD), "-W", "-n", "--keep-going"]
        result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, env=env, timeout=3600)
        if run:
            saved = {"run": run, "args": command, "returncode": result.returncode}
            SMOKE_RESULT.write_text(json.dumps({**saved, "stdout": result.stdout, "stderr": result.stderr}))
    return result, html
