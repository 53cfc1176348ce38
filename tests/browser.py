"""Headless Chromium for the rendering test: a local HTTP server and offline MathJax.

The built pages load MathJax from a CDN. No test may depend on the network, so requests
for it are answered from the ``mathjax`` npm package (``npm install`` at the project root,
from package.json); every other request that leaves this machine is refused and reported.
"""

from __future__ import annotations

import functools
import http.server
import mimetypes
import os
import shutil
import threading
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MATHJAX_DIR = ROOT / "node_modules" / "mathjax"
MATHJAX_URL = "https://cdn.jsdelivr.net/npm/mathjax@3/"
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def chromium_path() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


def missing_requirements() -> list[str]:
    """What the browser test lacks on this machine (empty when it can run)."""
    missing = []
    if chromium_path() is None:
        missing.append("Debian's chromium (apt-get install chromium)")
    if not (MATHJAX_DIR / "es5" / "tex-mml-chtml.js").exists():
        missing.append("MathJax (npm install, at the project root)")
    try:
        import playwright  # noqa: F401
    except ImportError:
        missing.append("playwright (pip install -r requirements.txt)")
    return missing


def require(test: str) -> None:
    """Skip ``test`` when headless Chromium cannot run here; fail it where VAE_BOOK_REQUIRE_BROWSER is set (CI)."""
    import pytest

    missing = missing_requirements()
    if missing and os.environ.get("VAE_BOOK_REQUIRE_BROWSER"):
        pytest.fail(f"{test} cannot run without: " + "; ".join(missing))
    if missing:
        pytest.skip("needs " + "; ".join(missing))


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):  # keep the test output clean
        pass


@contextmanager
def serve(directory: Path):
    """Serve ``directory`` on a free loopback port; yields the base URL."""
    handler = functools.partial(_QuietHandler, directory=str(directory))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


def route_offline(page, refused: list[str]) -> None:
    """Answer MathJax's CDN requests from node_modules; refuse (and record) other remote requests."""

    def handle(route):
        url = route.request.url
        if url.startswith(MATHJAX_URL):
            path = MATHJAX_DIR / url[len(MATHJAX_URL) :].split("?")[0]
            if path.is_file():
                kind = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
                route.fulfill(status=200, body=path.read_bytes(), content_type=kind)
                return
        if url.startswith("http://127.0.0.1") or url.startswith("data:"):
            route.continue_()
            return
        refused.append(url)
        route.abort()

    page.route("**/*", handle)
