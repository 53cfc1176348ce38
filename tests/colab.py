"""A stand-in for a fresh Colab runtime: Colab's packages only, a ``google.colab`` module, a kernel.

Colab ships PyTorch, NumPy, matplotlib, scikit-learn and the rest, but not Pyro or this book's
vaelib: each chapter's first cell installs those. To test that cell as a student meets it, the test
needs an interpreter that sees *only* what Colab has. Installing Colab's packages afresh would take
minutes (torch alone is gigabytes), and a ``--system-site-packages`` venv would see Pyro. So:

* :func:`build_colab_site` makes a folder of symbolic links to the files of the distributions named
  in :data:`COLAB_SHIPS`, and of everything they depend on, as installed in this environment (a few
  seconds, no disk space: it reads every installed distribution's file list). A top-level folder
  shared with a distribution outside that set is linked file by file, so nothing else leaks in.
* :func:`new_runtime` makes an empty venv whose ``colab.pth`` puts that folder (and a stub
  ``google.colab``) on ``sys.path``. pip run there sees Colab's packages as installed, and installs
  what the cell asks for into the venv's own site-packages. pip never uninstalls a distribution that
  lives outside the venv, so a cell that reinstalls one of Colab's packages cannot touch this
  environment: the new copy lands in the venv, where :meth:`Runtime.installed` finds it.
* :meth:`Runtime.write_kernel_spec` describes an IPython kernel on that venv's interpreter with
  ``google.colab`` imported, as Colab's kernel has it.

The versions (and the Python) are this environment's, not Colab's of the day: the test checks what a
chapter needs, not binary compatibility with Colab's builds.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import sysconfig
import venv
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement

# What Colab ships that the book uses (directly, or through a library: pip runs the Colab cell,
# ipywidgets is what tqdm's notebook bars look for). Their own dependencies come along.
COLAB_SHIPS = (
    "torch",
    "torchvision",
    "numpy",
    "scipy",
    "matplotlib",
    "scikit-learn",
    "tqdm",
    "ipython",
    "ipykernel",
    "ipywidgets",
    "protobuf",  # Colab has it (TensorFlow needs it); onnx, for the live latent map, imports google.protobuf
    "pip",
)
KERNEL_NAME = "colab-runtime"
GOOGLE_COLAB_STUB = '"""Stand-in for Colab\'s google.colab: the Colab cell only tests that it is imported."""\n'


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def closure(names=COLAB_SHIPS) -> dict[str, metadata.Distribution]:
    """The installed distributions ``names`` and everything they require (markers evaluated, extras followed)."""
    found: dict[str, metadata.Distribution] = {}
    followed: set[tuple[str, str]] = set()  # (distribution, extra) whose requirements were read
    todo = [(name, "") for name in names]
    while todo:
        name, extra = todo.pop()
        name = canonical(name)
        if (name, extra) in followed:
            continue
        followed.add((name, extra))
        if name not in found:
            try:
                found[name] = metadata.distribution(name)
            except metadata.PackageNotFoundError:
                if name in map(canonical, names):
                    raise RuntimeError(f"{name} is not installed here: pip install -r requirements.txt") from None
                continue  # an optional dependency this platform does not use
        for text in found[name].requires or []:
            requirement = Requirement(text)
            if requirement.marker is None or requirement.marker.evaluate({"extra": extra}):
                todo.extend((requirement.name, e) for e in ("", *requirement.extras))
    return found


def _site_files(dist: metadata.Distribution, site: Path) -> list[Path]:
    """The files of ``dist`` inside ``site``, relative to it (scripts installed elsewhere are left out)."""
    files = []
    for file in dist.files or []:
        path = Path(file)
        if path.parts and path.parts[0] != ".." and not path.is_absolute():
            files.append(path)
    return files


def build_colab_site(target: Path, names=COLAB_SHIPS) -> dict[str, str]:
    """Fill ``target`` with links to the files of :func:`closure` (``names``); return {name: version}."""
    site = Path(sysconfig.get_paths()["purelib"])
    chosen = closure(names)
    owners: dict[str, set[str]] = {}
    for dist in metadata.distributions(path=[str(site)]):
        name = canonical(dist.metadata["Name"])
        for top in {path.parts[0] for path in _site_files(dist, site)}:
            owners.setdefault(top, set()).add(name)
    names_chosen = set(chosen)
    target.mkdir(parents=True, exist_ok=True)
    for name, dist in chosen.items():
        if Path(str(dist.locate_file(""))).resolve() != site.resolve():
            raise RuntimeError(f"{name} is installed outside {site} ({dist.locate_file('')}); cannot link it")
        for path in _site_files(dist, site):
            top = path.parts[0]
            if owners[top] <= names_chosen:  # nothing outside Colab's set lives there: link it whole
                link = target / top
                if not link.is_symlink():
                    link.symlink_to(site / top)
            elif (site / path).exists():  # shared with a package Colab lacks: link this file alone
                link = target / path
                link.parent.mkdir(parents=True, exist_ok=True)
                if not link.is_symlink():
                    link.symlink_to(site / path)
    return {name: dist.version for name, dist in sorted(chosen.items())}


@dataclass
class Runtime:
    """One fresh 'Colab runtime': a venv that sees Colab's packages, and the kernel spec to run it."""

    root: Path

    @property
    def python(self) -> Path:
        return self.root / "venv" / "bin" / "python"

    @property
    def site(self) -> Path:
        scheme = sysconfig.get_paths(vars={"base": str(self.root / "venv"), "platbase": str(self.root / "venv")})
        return Path(scheme["purelib"])

    def installed(self) -> dict[str, str]:
        """{name: version} of what was installed into the runtime itself (not Colab's packages)."""
        return {canonical(d.metadata["Name"]): d.version for d in metadata.distributions(path=[str(self.site)])}

    def environment(self) -> dict[str, str]:
        """This process's environment as a Colab kernel would have it: no PYTHONPATH, the venv first on PATH."""
        env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "MPLBACKEND")}
        env["VIRTUAL_ENV"] = str(self.root / "venv")
        env["PATH"] = f"{self.python.parent}{os.pathsep}{env.get('PATH', '')}"
        env["JUPYTER_PATH"] = str(self.root)  # where write_kernel_spec puts the kernel
        return env

    def write_kernel_spec(self) -> None:
        """Write the kernel spec :data:`KERNEL_NAME` (this venv's interpreter, google.colab imported) to root/kernels.

        :meth:`environment` puts ``root`` on ``JUPYTER_PATH``, so a client started there finds it by name.
        """
        spec = self.root / "kernels" / KERNEL_NAME
        spec.mkdir(parents=True, exist_ok=True)
        argv = [str(self.python), "-m", "ipykernel_launcher", "-f", "{connection_file}"]
        argv.append("--IPKernelApp.exec_lines=import google.colab")
        (spec / "kernel.json").write_text(json.dumps({"argv": argv, "display_name": "Colab", "language": "python"}))


def reinstalled(runtime: Runtime, colab_versions: dict[str, str]) -> dict[str, str]:
    """Colab's packages that were installed again into ``runtime``: {name: "new version (Colab has ...)"}."""
    return {
        name: f"{version} (Colab has {colab_versions[name]})"
        for name, version in sorted(runtime.installed().items())
        if name in colab_versions
    }


def new_runtime(root: Path, colab_site: Path) -> Runtime:
    """An empty venv under ``root`` whose interpreter sees ``colab_site`` and a stub ``google.colab``."""
    runtime = Runtime(root)
    venv.EnvBuilder(with_pip=False, symlinks=True).create(root / "venv")
    stub = root / "google-colab" / "google" / "colab"
    stub.mkdir(parents=True)
    (stub / "__init__.py").write_text(GOOGLE_COLAB_STUB)
    runtime.site.mkdir(parents=True, exist_ok=True)
    (runtime.site / "colab.pth").write_text(f"{colab_site}\n{root / 'google-colab'}\n")
    runtime.write_kernel_spec()
    return runtime


def snapshot_repository(source: Path, target: Path, branch: str) -> Path:
    """A git repository at ``target`` whose ``branch`` holds ``source``'s working tree as it is now.

    The Colab cell installs vaelib from a branch of the repository; pointing it at this snapshot
    tests the files as they are (uncommitted changes included), in a checkout or a worktree alike.
    """
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=source,
        capture_output=True,
        check=True,
    ).stdout.split(b"\0")
    for name in filter(None, listed):
        src = source / os.fsdecode(name)
        if src.is_file():
            dst = target / os.fsdecode(name)
            dst.parent.mkdir(parents=True, exist_ok=True)
            dst.write_bytes(src.read_bytes())
    env = {**os.environ, "GIT_AUTHOR_NAME": "test", "GIT_AUTHOR_EMAIL": "test@localhost"}
    env.update(GIT_COMMITTER_NAME="test", GIT_COMMITTER_EMAIL="test@localhost")
    for command in (["init", "-q", "-b", branch], ["add", "-A"], ["commit", "-q", "-m", "snapshot"]):
        subprocess.run(["git", *command], cwd=target, env=env, check=True, capture_output=True)
    return target


def pip_url(repository: Path) -> str:
    """The address pip accepts for a local repository: ``git+file:///path`` is refused, ``localhost`` is not."""
    return f"git+file://localhost{repository.resolve().as_posix()}"


if __name__ == "__main__":  # python -m tests.colab DIR: make the folder and list what it holds
    for name, version in build_colab_site(Path(sys.argv[1])).items():
        print(name, version)
