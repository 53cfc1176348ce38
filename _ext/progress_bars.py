"""Sphinx extension: a text progress bar appears on the page once, in its final state.

vaelib's progress bars are tqdm text bars on stdout. In a notebook each update overwrites the
previous one with a carriage return; the kernel sends the updates as separate stream outputs,
and myst-nb's merging of those outputs ends each with a newline, so a page would list every
intermediate state ("epochs: 12%", "epochs: 25%", ...). This transform keeps, in every block of
printed output, only the last of consecutive lines drawn by the same bar.
"""

from __future__ import annotations

import re

from docutils import nodes
from sphinx.transforms import SphinxTransform

# "epochs:  38%|███▊      | 3/8 [00:08<00:13,  2.75s/it]": a description, a percentage, a bar.
BAR_LINE = re.compile(r"^(?P<desc>[^|\n]*?):\s+\d{1,3}%\|")


def collapse_progress_lines(text: str) -> str:
    """``text`` with each run of lines from the same progress bar reduced to its last line."""
    lines = text.replace("\r", "\n").split("\n")
    kept: list[str] = []
    bar = None  # description of the bar on the last kept line; blank lines after it keep it
    for i, line in enumerate(lines):
        match = BAR_LINE.match(line)
        if match:
            if match["desc"] == bar:
                kept[-1] = line  # a later state of the same bar replaces the earlier one
            else:
                kept.append(line)
            bar = match["desc"]
        elif bar is not None and not line.strip() and i < len(lines) - 1:
            continue  # a blank line left between or after updates by the merging of stream outputs
        else:
            kept.append(line)
            bar = None
    return "\n".join(kept)


class CollapseProgressBars(SphinxTransform):
    """Apply :func:`collapse_progress_lines` to every block of printed cell output."""

    default_priority = 500

    def apply(self, **kwargs) -> None:
        for block in self.document.findall(nodes.literal_block):
            if "stream" not in block.get("classes", []):
                continue
            text = block.astext()
            collapsed = collapse_progress_lines(text)
            if collapsed != text:
                block.children = [nodes.Text(collapsed)]
                block.rawsource = collapsed


def setup(app):
    app.add_transform(CollapseProgressBars)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
