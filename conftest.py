"""Root pytest configuration: every run of the test suite is a smoke run.

nbval starts each notebook's kernel from this process's environment, so setting the
switch here reaches the chapters too. Export VAE_BOOK_SMOKE=0 to test a real run.

MPLBACKEND is deliberately left alone: a kernel that inherits ``MPLBACKEND=Agg`` skips
matplotlib's inline backend, so the chapters would run without drawing a single figure
(and the built book would have none). Headless, matplotlib picks Agg by itself.
"""

import os

os.environ.setdefault("VAE_BOOK_SMOKE", "1")
