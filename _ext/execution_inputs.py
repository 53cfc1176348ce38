"""Sphinx extension: run every notebook again when what they import or read from the environment changes.

With ``execute_notebooks: cache``, myst-nb keeps each notebook's outputs in jupyter-cache, keyed on
the notebook's code cells alone, and Sphinx re-reads only the source files that changed. Neither
sees a change to ``vaelib`` or to a setting such as ``VAE_BOOK_SMOKE``: a build after such a change
would show outputs computed by the old code, or in the other mode.

This extension keeps a fingerprint of those inputs (the files under the folders named in
``execution_inputs`` and the environment variables named in ``execution_environment``) next to the
cache. When it differs from the last build's, the cache is emptied and every notebook is read, and
so executed, again. Only notebooks are affected, and only in ``cache`` mode.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path

from sphinx.util import logging

LOGGER = logging.getLogger(__name__)
STAMP = "execution-inputs.sha256"  # kept inside the jupyter-cache folder, so it goes when the cache goes


def fingerprint(srcdir: Path, folders: list[str], variables: list[str]) -> str:
    """A digest of every file under ``folders`` (relative to ``srcdir``) and of ``variables``' values."""
    digest = hashlib.sha256()
    for folder in sorted(folders):
        root = srcdir / folder
        files = sorted(p for p in root.rglob("*") if p.is_file() and "__pycache__" not in p.parts)
        for path in files:
            digest.update(path.relative_to(srcdir).as_posix().encode() + b"\0")
            digest.update(hashlib.sha256(path.read_bytes()).digest())
    for name in sorted(variables):
        value = os.environ.get(name)
        digest.update(f"{name}={'<unset>' if value is None else value}\0".encode())
    return digest.hexdigest()


def _check_inputs(app) -> None:
    app.env.execution_inputs_changed = False
    config = getattr(app.env, "mystnb_config", None)
    if config is None or config.execution_mode != "cache":
        return
    cache = Path(config.execution_cache_path)
    stamp = cache / STAMP
    now = fingerprint(Path(app.srcdir), app.config.execution_inputs, app.config.execution_environment)
    if cache.exists() and (not stamp.exists() or stamp.read_text().strip() != now):
        LOGGER.info(
            "execution_inputs: %s or %s changed since the last build; executing every notebook again",
            ", ".join(app.config.execution_inputs),
            ", ".join(app.config.execution_environment),
        )
        shutil.rmtree(cache)
        app.env.execution_inputs_changed = True
    cache.mkdir(parents=True, exist_ok=True)
    stamp.write_text(now + "\n")


def _outdated_notebooks(app, env, added, changed, removed) -> list[str]:
    if not getattr(env, "execution_inputs_changed", False):
        return []
    return sorted(doc for doc in env.found_docs if str(env.doc2path(doc)).endswith(".ipynb"))


def setup(app):
    app.add_config_value("execution_inputs", [], "env")
    app.add_config_value("execution_environment", [], "env")
    app.connect("builder-inited", _check_inputs, priority=900)  # after myst-nb has set the cache path
    app.connect("env-get-outdated", _outdated_notebooks)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
