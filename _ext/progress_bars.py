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
    kept: list[str] = []
    previous = None  # description of the bar on the last kept line, if it is a bar line
    body, newline, _ = text.replace("\r", "\n").rpartition("\n") if text.endswith("\n") else (text, "", "")
    for line in body.split("\n"):
        match = BAR_LINE.match(line)
        desc = match.group("desc") if match else None
        if desc is not None and desc == previous:
            kept[-1] = line
        elif desc is not None or line.strip() or previous is None:
            kept.append(line)
        # else: an empty line right after a bar, left behind by the merging of stream outputs
        previous = desc if desc is not None else (previous if not line.strip() else None)
    return "\n".join(kept) + newline


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
