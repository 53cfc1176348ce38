"""Bad input to the figures and to ``python -m tools.chapters``: an error before anything is drawn or
written, and the chapters are never overwritten by their solution-free copies."""

import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch

import vaelib
from tools import chapters
from vaelib import plots


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda: plots.image_grid(torch.randn(4, 1, 28, 28) * 5), ValueError, r"probabilities in \[0, 1\].*sigmoid"),
        (lambda: plots.image_grid(torch.rand(4, 784)), ValueError, r"\(N, 1, H, W\).*x\.view\(-1, 1, 28, 28\)"),
        (lambda: plots.image_grid(torch.rand(0, 1, 28, 28)), ValueError, r"non-empty batch"),
        (lambda: plots.image_grid(torch.rand(4, 1, 28, 28), nrow=0), ValueError, r"nrow must be at least 1"),
        (lambda: plots.image_grid(np.zeros((4, 1, 28, 28))), TypeError, r"images must be a torch\.Tensor"),
        (
            lambda: plots.reconstructions(torch.rand(4, 1, 28, 28), torch.rand(3, 1, 28, 28)),
            ValueError,
            r"one reconstruction per original",
        ),
        (lambda: plots.normal_quantile_grid(0), ValueError, r"n must be at least 1"),
        (lambda: plots.normal_quantile_grid(5, low=0.0), ValueError, r"0 < low < high < 1"),
        (lambda: plots.latent_manifold("decoder"), TypeError, r"decoder must be a torch\.nn\.Module"),
        (
            lambda: plots.interpolation(vaelib.MLPDecoder(z_dim=3, hidden_dim=8), torch.zeros(2), torch.ones(3)),
            ValueError,
            r"z_start must be one latent code of shape \(3,\), got \(2,\)",
        ),
        (
            lambda: plots.interpolation(vaelib.MLPDecoder(z_dim=3, hidden_dim=8), torch.zeros(3), torch.ones(3), 1),
            ValueError,
            r"steps must be at least 2",
        ),
        (lambda: plots.latent_scatter(np.zeros((5, 2)), np.zeros(4)), ValueError, r"one label per point, 5 in all"),
        (lambda: plots.elbo_curves({"train": [1.0]}), TypeError, r"history must be the vaelib\.History"),
        (
            lambda: plots.elbo_curves(vaelib.History(train_elbo=[-1.0, -2.0], test_elbo=[-1.0], seconds=[1.0, 1.0])),
            ValueError,
            r"2 train but 1 test ELBOs",
        ),
    ],
    ids=[
        "logits",
        "flat",
        "empty",
        "nrow-0",
        "numpy",
        "lengths",
        "grid-0",
        "grid-low",
        "manifold-str",
        "interp-shape",
        "interp-steps",
        "scatter-labels",
        "curves-dict",
        "curves-lengths",
    ],
)
def test_figures_refuse_bad_input_before_drawing(call, error, message):
    figures_before = plt.get_fignums()
    with pytest.raises(error, match=message):
        call()
    assert plt.get_fignums() == figures_before, "no half-drawn figure is left open"


def test_image_grid_allows_rounding_just_above_one():
    plots.image_grid(torch.full((2, 1, 28, 28), 1.0 + 1e-6))


@pytest.mark.parametrize("target", ["chapters", "chapters/."], ids=["chapters", "chapters-dot"])
def test_student_copies_never_overwrite_the_chapters(target, capsys):
    before = {path: path.read_bytes() for path in chapters.toc_chapters()}
    with pytest.raises(SystemExit) as info:
        chapters.main(["student-copies", str(chapters.ROOT / target)])
    assert info.value.code == 2
    assert "holds the chapters themselves; write the student copies elsewhere" in capsys.readouterr().err
    assert {path: path.read_bytes() for path in chapters.toc_chapters()} == before


def test_student_copies_into_a_file_is_refused(tmp_path, capsys):
    target = tmp_path / "notes.txt"
    target.write_text("keep")
    with pytest.raises(SystemExit):
        chapters.main(["student-copies", str(target)])
    assert "is a file; give a folder" in capsys.readouterr().err and target.read_text() == "keep"


@pytest.mark.parametrize(
    ("argv", "message"),
    [([], "required: command"), (["copy"], "invalid choice: 'copy'"), (["student-copies"], "required: out")],
    ids=["nothing", "unknown", "no-folder"],
)
def test_chapters_command_line_says_what_it_needs(argv, message, capsys):
    with pytest.raises(SystemExit):
        chapters.main(argv)
    assert message in capsys.readouterr().err
