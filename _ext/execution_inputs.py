"""Sphinx extension: run every notebook again when what they import or read from the environment changes.

With ``execute_notebooks: cache``, myst-nb keeps each notebook's outputs in jupyter-cache, keyed on
the notebook's code cells alone, and Sphinx re-reads only the source files that changed. Neither
sees a change to ``vaelib`` or to a setting such as ``VAE_BOOK_SMOKE``: a build after such a change
would show outputs computed by the old code, or in the other mode.

This extension fingerprints those inputs: the ``*.py`` and ``*.json`` files under the folders named
in ``execution_inputs`` and the environment variables named in ``execution_environment``.

* The cache keeps the fingerprint it was filled under (a file beside its database). When the
  current one differs, or the file is missing, the cache is emptied, so notebooks execute anew.
* Sphinx's saved environment keeps the fingerprint of its last *completed* reading. When that
  differs, every notebook is read again (and so taken from the fresh cache or executed), which
  also covers a build that was interrupted after the cache had been emptied.

Only notebooks are affected, and only in ``cache`` mode.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path

from sphinx.util import logging

LOGGER = logging.getLogger(__name__)
STAMP = "execution-inputs.sha256"  # kept inside the jupyter-cache folder, so it goes when the cache goes
PATTERNS = ("*.py", "*.json")  # source and data files; editor backups and compiled files do not count
CACHE_MARKERS = ("global.db", "__version__.txt")  # what jupyter-cache keeps in its folder


def fingerprint(srcdir: Path, folders: list[str], variables: list[str]) -> str:
    """A digest of the source and data files under ``folders`` (relative to ``srcdir``) and of ``variables``."""
    digest = hashlib.sha256()
    for folder in sorted(folders):
        root = srcdir / folder
        if not root.is_dir():
            LOGGER.warning("execution_inputs: %s is not a folder; its files cannot be watched", root)
            continue
        files = sorted({p for pattern in PATTERNS for p in root.rglob(pattern) if p.is_file()})
        for path in (p for p in files if "__pycache__" not in p.parts):
            digest.update(path.relative_to(srcdir).as_posix().encode() + b"\0")
            digest.update(hashlib.sha256(path.read_bytes()).digest())
    for name in sorted(variables):
        value = os.environ.get(name)
        digest.update(f"{name}={'<unset>' if value is None else value}\0".encode())
    return digest.hexdigest()


def _empty_cache(cache: Path) -> None:
    if not cache.exists():
        return
    if not any((cache / marker).exists() for marker in CACHE_MARKERS):
        raise RuntimeError(
            f"execution_inputs: {cache} should be a jupyter-cache folder but holds none of {', '.join(CACHE_MARKERS)}; "
            "it was not emptied. Point nb_execution_cache_path at a folder of its own."
        )
    shutil.rmtree(cache)


def _check_inputs(app) -> None:
    app.env.execution_inputs_now = None
    config = getattr(app.env, "mystnb_config", None)
    if config is None or config.execution_mode != "cache":
        return
    now = fingerprint(Path(app.srcdir), app.config.execution_inputs, app.config.execution_environment)
    app.env.execution_inputs_now = now
    cache = Path(config.execution_cache_path)
    stamp = cache / STAMP
    if not stamp.exists() or stamp.read_text().strip() != now:
        if cache.exists():
            LOGGER.info("execution_inputs: inputs changed since the cache was filled; emptying %s", cache)
        _empty_cache(cache)
        app.env.execution_inputs_read = None  # read every notebook again, below
    cache.mkdir(parents=True, exist_ok=True)
    stamp.write_text(now + "\n")


def _outdated_notebooks(app, env, added, changed, removed) -> list[str]:
    now = getattr(env, "execution_inputs_now", None)
    if now is None or getattr(env, "execution_inputs_read", None) == now:
        return []
    env.execution_inputs_read = now  # saved with the environment only once reading has completed
    return sorted(doc for doc in env.found_docs if str(env.doc2path(doc)).endswith(".ipynb"))


def setup(app):
    app.add_config_value("execution_inputs", [], "env")
    app.add_config_value("execution_environment", [], "env")
    app.connect("builder-inited", _check_inputs, priority=900)  # after myst-nb has set the cache path
    app.connect("env-get-outdated", _outdated_notebooks)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
