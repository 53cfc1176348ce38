"""Contracts between chapters, vaelib and the tests, written down once and checked here."""

import ast
import json
import re
from pathlib import Path

import pytest

import vaelib

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "chapters").glob("[0-9][0-9]_*.ipynb"))


def code_of(path: Path) -> str:
    cells = json.loads(path.read_text())["cells"]
    return "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "code")


CODE = {path.stem: code_of(path) for path in NOTEBOOKS}


def test_every_checkpoint_a_chapter_saves_is_a_shared_model_that_a_later_chapter_loads():
    saved = {}  # name -> chapter that saves it
    for chapter, code in CODE.items():
        for call in re.findall(r"save_checkpoint\((.*?)\n\)", code, flags=re.S):
            names = re.findall(r'checkpoint_path\("(\w+)"', call)
            assert len(names) == 1, f"{chapter}: save_checkpoint must write to vaelib.checkpoint_path(name, mode)"
            assert names[0] in vaelib.SHARED_MODELS, f"{chapter} saves {names[0]!r}, not in vaelib.SHARED_MODELS"
            assert names[0] not in saved, f"{names[0]!r} is saved by {saved.get(names[0])} and {chapter}"
            saved[names[0]] = chapter
    assert set(saved) == set(vaelib.SHARED_MODELS), "every shared model is saved by some chapter"
    for name, saver in saved.items():
        loaders = [ch for ch, code in CODE.items() if ch > saver and f'"{name}"' in code and "load_checkpoint" in code]
        assert loaders, f"{name!r} is saved by {saver} but no later chapter loads it: drop the save"


def test_checkpoint_names_and_modes_are_checked():
    assert vaelib.checkpoint_path("mlp_z2", "cpu") == Path("checkpoints") / "mlp_z2_cpu.pt"
    with pytest.raises(KeyError, match=r"'mlp_z3' is not a shared model; known: pyro_mlp_z50, mlp_z2"):
        vaelib.checkpoint_path("mlp_z3", "cpu")
    with pytest.raises(ValueError, match=r"mode 'gpu' is not one of"):
        vaelib.checkpoint_path("mlp_z2", "gpu")


def test_every_public_name_is_used_by_a_chapter_or_a_test():
    """A name in vaelib.__all__ that nothing uses is dead weight: use it, or stop exporting it."""
    corpus = "\n".join(CODE.values())
    for folder in ("tests", "tools", "benchmarks", "_ext"):
        corpus += "\n".join(p.read_text() for p in (ROOT / folder).glob("*.py") if p.name != "test_contracts.py")
    unused = [name for name in vaelib.__all__ if not re.search(rf"\b{re.escape(name)}\b", corpus)]
    assert not unused, f"public vaelib names that no chapter, test, tool or benchmark uses: {unused}"


def test_all_is_sorted_and_complete():
    assert vaelib.__all__ == sorted(vaelib.__all__, key=lambda n: (n.lower(), n)), "keep __all__ sorted"
    assert all(hasattr(vaelib, name) for name in vaelib.__all__)


def test_readme_names_every_vaelib_module():
    readme = (ROOT / "README.md").read_text()
    layout = readme[readme.index("## Layout") :]
    vaelib_root = ROOT / "vaelib"
    modules = sorted(p.relative_to(vaelib_root) for p in vaelib_root.rglob("*.py") if not p.stem.startswith("_"))
    folders = sorted({m.parent.as_posix() for m in modules if m.parent.as_posix() != "."})
    missing = [m.as_posix() for m in modules if not re.search(rf"\b{m.stem}\.py\b", layout)]
    missing += [f"{f}/" for f in folders if f"  {f}/" not in layout]
    assert not missing, f"README's Layout does not name these vaelib modules: {missing}"


def test_every_public_function_and_class_names_the_chapter_that_teaches_or_uses_it():
    """d2l's habit: the library says where it is taught, so the reach of a change is visible."""
    silent = []
    for name in vaelib.__all__:
        obj = getattr(vaelib, name)
        if not callable(obj) or isinstance(obj, type(vaelib)):
            continue  # constants and the plots/published namespaces
        if not re.search(r"[Cc]hapters? \d|every chapter|the capstone", obj.__doc__ or ""):
            silent.append(name)
    assert not silent, f"public names whose docstring names no chapter: {silent}"


# ---------------------------------------------------------------- the layout of vaelib (issue 24)

VAELIB = ROOT / "vaelib"
TOPICS = ("bounds", "labels", "priors", "discrete", "hierarchy")  # one sub-package per later chapter


def vaelib_imports(path: Path) -> list[tuple[str, list[str]]]:
    """(absolute vaelib module, imported names) for every import of vaelib code in ``path``."""
    package = ".".join(path.relative_to(ROOT).with_suffix("").parts[:-1])  # e.g. vaelib.bounds
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                module = ".".join([*base, node.module] if node.module else base)
            else:
                module = node.module or ""
            if module.startswith("vaelib"):
                found.append((module, [alias.name for alias in node.names]))
        elif isinstance(node, ast.Import):
            found += [(alias.name, []) for alias in node.names if alias.name.startswith("vaelib")]
    return found


def layer(module: str) -> str:
    """'core', a topic's name, or 'book' for an absolute vaelib module name."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[1] in (*TOPICS, "book") else "core"


def test_no_vaelib_module_imports_another_modules_private_name():
    crossing = [
        f"{path.relative_to(ROOT)} imports {name} from {module}"
        for path in VAELIB.rglob("*.py")
        for module, names in vaelib_imports(path)
        for name in names
        if name.startswith("_") and name != "__future__"
    ]
    assert not crossing, crossing


def test_the_core_imports_no_topic_and_no_topic_imports_the_book_or_another_topic():
    """A flat core for chapters 1-6; topics on the core only; the book's machinery on top of everything."""
    wrong = []
    for path in VAELIB.rglob("*.py"):
        if path.name == "__init__.py" and path.parent == VAELIB:
            continue  # the public API gathers every layer
        own = layer(".".join(path.relative_to(ROOT).with_suffix("").parts))
        for module, names in vaelib_imports(path):
            targets = [layer(module)] + [layer(f"{module}.{n}") for n in names if module == "vaelib"]
            for target in targets:
                if own == "core" and target != "core":
                    wrong.append(f"core module {path.relative_to(ROOT)} imports {module} ({target})")
                if own in TOPICS and target not in ("core", own):
                    wrong.append(f"{own} module {path.relative_to(ROOT)} imports {module} ({target})")
    assert not wrong, wrong


def test_vaelib_is_one_level_deep():
    packages = {p.parent.relative_to(VAELIB) for p in VAELIB.rglob("__init__.py")}
    deep = [p.as_posix() for p in packages if len(p.parts) > 1 and p.parts[-1] != "recorded"]
    assert not deep, f"sub-packages more than one level deep: {deep}"


def test_every_training_loop_runs_on_the_one_loop():
    """Each fit* function of vaelib hands its step to vaelib.loop.run_epochs (or calls a fit* function that does),
    and only the loop applies the guarded update."""
    for path in VAELIB.rglob("*.py"):
        tree = ast.parse(path.read_text())
        for node in tree.body:  # module-level functions (a method such as CodeScaler.fit is not a loop)
            if isinstance(node, ast.FunctionDef) and node.name.startswith("fit"):
                calls = {c.func.id for c in ast.walk(node) if isinstance(c, ast.Call) and isinstance(c.func, ast.Name)}
                delegated = "run_epochs" in calls or any(name.startswith("fit") for name in calls)  # itself checked
                assert delegated, f"{path.relative_to(ROOT)}:{node.name} has a loop of its own"
        if path.name != "loop.py":
            assert "guarded_update(" not in path.read_text(), f"{path.relative_to(ROOT)} steps outside vaelib.loop"


# ---------------------------------------------------------------- back-references derived from the chapters' code

CHAPTER_CODE = {
    (int(p.stem[:2]) if p.stem[:2].isdigit() else "capstone"): code_of(p) for p in ROOT.glob("chapters/*.ipynb")
}
NUMBERED = sorted(k for k in CHAPTER_CODE if k != "capstone")
NAMESPACES = "vaelib|bounds|labels|priors|discrete|hierarchy|plots|published|book"


def chapters_using(name: str) -> set:
    """The chapters whose code names ``vaelib.NAME`` (or ``vaelib.<topic>.NAME``, ``bounds.NAME`` ...)."""
    pattern = re.compile(rf"(?<![\w.])(?:vaelib\.)?(?:{NAMESPACES})\.{re.escape(name)}\b")
    return {chapter for chapter, code in CHAPTER_CODE.items() if pattern.search(code)}


def claim_text(doc: str) -> str:
    """The sentences of a docstring that say where a name is used: 'Taught in ...', 'Used in ...', 'Caught in ...'."""
    flat = " ".join(doc.split())
    pattern = r"(?:[Tt]aught|[Uu]sed|Shown|Trained|Measured|Caught) (?:in|by) [^.;]*"
    return " ".join(m.group(0) for m in re.finditer(pattern, flat))


def claimed_chapters(claims: str) -> set:
    found = set(NUMBERED) if "every chapter" in claims else set()
    if "the capstone" in claims:
        found.add("capstone")
    for run in re.finditer(r"[Cc]hapters? ((?:\d+(?:\s*-\s*\d+)?(?:, and |, | and )?)+)", claims):
        for first, last in re.findall(r"(\d+)(?:\s*-\s*(\d+))?", run.group(1)):
            found |= set(range(int(first), int(last) + 1)) if last else {int(first)}
    return found


def test_every_docstring_names_exactly_the_chapters_whose_code_uses_it():
    """The back-references cannot drift: each chapter a docstring says uses a name uses it (directly, or through
    the public names it gives after 'through'), and each chapter whose code uses a name is named."""
    wrong = []
    for name in vaelib.__all__:
        obj = getattr(vaelib, name)
        if not callable(obj) or isinstance(obj, type(vaelib)):
            continue
        claims = claim_text(obj.__doc__ or "")
        through = [
            word
            for run in re.finditer(r"through ((?:[A-Za-z_0-9]+(?:, and |, | and )?)+)", claims)
            for word in re.findall(r"[A-Za-z_]\w*", run.group(1))
            if word in vaelib.__all__
        ]
        direct, named = chapters_using(name), claimed_chapters(claims)
        indirect = set().union(*(chapters_using(word) for word in through))
        if named - direct - indirect:
            wrong.append(f"{name}: named chapters {sorted(named - direct - indirect, key=str)} do not use it")
        if direct - named:
            wrong.append(f"{name}: used by chapters {sorted(direct - named, key=str)} that its docstring does not name")
    assert not wrong, "\n".join(wrong)
