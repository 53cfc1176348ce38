"""What each mode does: the shared budget and the chapters' per-mode tables (vaelib.book.budgets)."""

import dataclasses
import json
from pathlib import Path

import pytest
import yaml

import vaelib
from vaelib import MODES, ModeTable

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "chapters").glob("[0-9][0-9]_*.ipynb"))


def test_a_table_selects_one_mode_as_a_frozen_object():
    table = ModeTable("demo", rows=dict(epochs=(1, 5, 50), size=(10, None, None)), constants=dict(lr=1e-3))
    settings = table.select("cpu")
    assert (settings.epochs, settings.size, settings.lr) == (5, None, 1e-3)
    with pytest.raises(dataclasses.FrozenInstanceError):
        settings.epochs = 2
    assert dataclasses.replace(settings, epochs=2).epochs == 2
    assert dataclasses.asdict(table.select("full")) == {"lr": 1e-3, "epochs": 50, "size": None}
    with pytest.raises(AttributeError):
        settings.epoch  # noqa: B018 - a typo fails loudly


@pytest.mark.parametrize(
    "rows, constants, message",
    [
        (dict(epochs=(1, 5)), {}, r"rows \['epochs'\] need one value per mode"),
        (dict(epochs=[1, 5, 50]), {}, r"as a tuple \(smoke, cpu, full\)"),
        (dict(epochs=(1, 5, 50)), dict(epochs=3), r"both a constant and a per-mode row"),
        (dict(_hidden=(1, 2, 3)), {}, r"must be Python identifiers"),
    ],
    ids=["two values", "a list", "constant and row", "private name"],
)
def test_a_malformed_table_is_refused_with_what_to_fix(rows, constants, message):
    with pytest.raises(ValueError, match=message):
        ModeTable("demo", rows=rows, constants=constants)


def test_unknown_modes_and_chapters_say_what_is_known():
    with pytest.raises(ValueError, match=r"mode 'gpu' is not one of \('smoke', 'cpu', 'full'\)"):
        vaelib.chapter_table("01_elbo").select("gpu")
    with pytest.raises(KeyError, match=r"no settings for chapter '99_x'; known: 01_elbo"):
        vaelib.chapter_settings("99_x", "cpu")
    assert vaelib.chapter_settings("06_evaluation", vaelib.BUDGETS["full"]).k_values[-1] == 5000


def test_every_chapter_has_a_table_and_reads_it_in_its_setup_cell():
    assert {path.stem for path in NOTEBOOKS} == set(vaelib.CHAPTERS)
    for path in NOTEBOOKS:
        cells = json.loads(path.read_text())["cells"]
        setup = [c for c in cells if "setup" in c.get("metadata", {}).get("tags", [])]
        assert len(setup) == 1, f"{path.name}: exactly one cell tagged 'setup', found {len(setup)}"
        source = "".join(setup[0]["source"])
        call = f'SETTINGS = vaelib.chapter_settings("{path.stem}", BUDGET)'
        assert call in source, f"{path.name}: the setup cell must read its table with {call}"
        assert "vaelib.smoke_mode()" in source and "vaelib.pick_device()" in source, path.name
        assert "hide-input" in setup[0]["metadata"]["tags"], f"{path.name}: the setup cell is folded on the page"


@pytest.mark.parametrize("name", sorted(vaelib.CHAPTERS))
def test_modes_grow_from_smoke_to_full(name):
    """Sizes and counts never shrink from smoke to cpu to full (None = everything, the largest)."""
    for key, values in vaelib.chapter_table(name).rows.items():
        if all(isinstance(v, int) or v is None for v in values):
            as_numbers = [float("inf") if v is None else v for v in values]
            assert as_numbers == sorted(as_numbers), f"{name}.{key} shrinks across {MODES}: {values}"


def test_the_build_watches_exactly_the_settings_vaelib_reads():
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    watched = config["sphinx"]["config"]["execution_environment"]
    assert sorted(watched) == sorted(vaelib.ENVIRONMENT), "_config.yml's execution_environment vs vaelib.ENVIRONMENT"


def test_the_shared_budget_grows_from_smoke_to_full():
    smoke, cpu, full = (vaelib.BUDGETS[mode] for mode in MODES)
    assert all(isinstance(b, vaelib.Budget) for b in (smoke, cpu, full))
    assert smoke.epochs < cpu.epochs < full.epochs and smoke.train_size is not None and full.train_size is None
