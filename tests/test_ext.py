"""The book's small Sphinx extensions in _ext/, tested without a build."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "_ext"))

from progress_bars import collapse_progress_lines  # noqa: E402


def test_progress_bar_lines_collapse_to_the_last_state():
    printed = (
        "untrained test ELBO: -578.5\n"
        "epochs:   0%|          | 0/8 [00:00<?, ?it/s]\n"
        "epochs:  12%|█▎        | 1/8 [00:02<00:19,  2.80s/it]\n"
        "epochs: 100%|██████████| 8/8 [00:22<00:00,  2.92s/it]\n"
        "epochs: 100%|██████████| 8/8 [00:22<00:00,  2.86s/it]\n"
        "\n"
        "after 8 epochs: test ELBO -107.2\n"
    )
    assert collapse_progress_lines(printed) == (
        "untrained test ELBO: -578.5\n"
        "epochs: 100%|██████████| 8/8 [00:22<00:00,  2.86s/it]\n"
        "after 8 epochs: test ELBO -107.2\n"
    )


def test_other_output_is_left_alone():
    printed = "a table\n\nwith a blank line\nratio: 12%| of the time, not a bar\n"
    assert collapse_progress_lines(printed) == printed
    two_bars = "models:  50%|█ | 1/2\nmodels: 100%|██| 2/2\nbeta:  50%|x | 1/2\nbeta: 100%|xx| 2/2"
    assert collapse_progress_lines(two_bars) == "models: 100%|██| 2/2\nbeta: 100%|xx| 2/2"
