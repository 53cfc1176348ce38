"""Root pytest configuration: every run of the test suite is a smoke run.

nbval starts each notebook's kernel from this process's environment, so setting the
switch here reaches the chapters too. Export VAE_BOOK_SMOKE=0 to test a real run.
"""

import os

os.environ.setdefault("VAE_BOOK_SMOKE", "1")
os.environ.setdefault("MPLBACKEND", "Agg")
