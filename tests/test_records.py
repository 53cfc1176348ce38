"""Recorded results (vaelib.book.records) and the tool that makes them (tools/record_run.py)."""

import dataclasses
import json
import math
import re
from itertools import pairwise

import nbformat
import pytest

import vaelib
from tools import record_run
from vaelib.book import records

ROOT = record_run.ROOT


@pytest.fixture(scope="module")
def evaluation_full():
    return vaelib.load_record("evaluation_full")


def test_evaluation_record_is_a_full_run_of_the_current_chapter(evaluation_full):
    record = evaluation_full
    assert record["chapter"] == "06_evaluation" and record["budget"] == "full" and record["data"] == "MNIST"
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", record["date"]) and record["hardware"]
    assert re.fullmatch(r"[0-9a-f]{40}", record["run"]["commit"]) and not record["run"]["uncommitted_changes"]
    settings = record["settings"]
    expected = dataclasses.asdict(vaelib.chapter_settings("06_evaluation", "full"))  # what the chapter runs with
    expected["k_values"] = list(expected["k_values"])  # JSON has lists
    stale = {key: (settings.get(key), value) for key, value in expected.items() if settings.get(key) != value}
    assert not stale, f"the chapter's full settings changed since the record was made (recorded, now): {stale}"
    assert settings["k"] == 5000 and settings["train_images"] == 60_000
    assert settings["test_images"] == settings["log_px_images"] == 10_000


def test_evaluation_record_obeys_the_bounds(evaluation_full):
    results = evaluation_full["results"]
    curve = [results["curve"][str(k)] for k in evaluation_full["settings"]["k_values"]]
    assert all(b >= a - 1e-4 for a, b in pairwise(curve)), "L_K never decreases in K"
    spread = [results["spread"][str(k)] for k in evaluation_full["settings"]["k_values"][:-1]]
    assert all(b < a for a, b in pairwise(spread)), "one estimate gets less noisy as K grows"
    for row in results["table"]:
        assert math.isfinite(row["ll"]) and math.isfinite(row["elbo"])
        assert row["ll"] >= row["elbo"] - 1.0, f"L_K below the ELBO: {row}"
        if row["kind"] == "log-likelihood":
            assert row["ll"] < 0, "a binary image's log-likelihood is negative"
    assert results["scores"]["grey-scale Bernoulli"]["elbo"] <= results["grey_ceiling"]
    gaps = results["gaps"]
    assert gaps["total"] == pytest.approx(gaps["approximation"] + gaps["amortization"], abs=1e-3)
    assert all(0 <= count <= evaluation_full["settings"]["z_dim"] for count in results["active_units"].values())


WELL_FORMED_RUN = {
    "notebook": "x.ipynb",
    "commit": "abc",
    "uncommitted_changes": False,
    "wall_seconds": 1.0,
    "command": "c",
}
assert set(WELL_FORMED_RUN) == set(records.RUN_KEYS)


def test_record_must_hold_what_the_chapter_shows():
    record = {key: {} for key in records.REQUIRED_KEYS}
    record["run"] = dict(WELL_FORMED_RUN)
    like = {"chapter": "x", "settings": {"epochs": 1}, "results": {"curve": {}, "gaps": {}}}
    with pytest.raises(vaelib.RecordError, match=r"lacks settings.epochs, results.curve, results.gaps; record it"):
        records.check_record(record, like=like)
    record["settings"]["epochs"] = 100
    record["results"].update(curve={}, gaps={})
    assert records.check_record(record, like=like) is record
    del record["run"]["commit"]
    with pytest.raises(vaelib.RecordError, match=r"lacks run.commit"):
        records.check_record(record, like=like)


def test_missing_record_names_the_known_ones(monkeypatch, tmp_path):
    (tmp_path / "other.json").write_text("{}")
    monkeypatch.setattr(records, "RECORDS_DIR", tmp_path)
    with pytest.raises(vaelib.RecordError, match=r"no record named 'nope'.*recorded: other"):
        vaelib.load_record("nope")


def test_load_record_or_none_prints_why_and_returns_none(monkeypatch, tmp_path, capsys):
    monkeypatch.setattr(records, "RECORDS_DIR", tmp_path)
    assert vaelib.load_record_or_none("nope") is None
    assert "No recorded full-budget run to show: no record named 'nope'" in capsys.readouterr().out
    (tmp_path / "short.json").write_text('{"chapter": "x"}')
    assert vaelib.load_record_or_none("short") is None
    assert "lacks budget" in capsys.readouterr().out
    record = {key: {} for key in records.REQUIRED_KEYS}
    record["run"] = dict(WELL_FORMED_RUN)
    (tmp_path / "good.json").write_text(json.dumps(record))
    assert vaelib.load_record_or_none("good") == record and capsys.readouterr().out == ""


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"chapter": ', "not valid JSON"),
        (b"\xff\xfe{}", "not valid JSON"),
        ("[1, 2]", "holds a list"),
        ('{"chapter": "x", "budget": "full"}', "lacks date, hardware"),
    ],
    ids=["truncated", "not-utf8", "a-list", "missing-keys"],
)
def test_broken_record_is_a_clear_error(monkeypatch, tmp_path, text, message):
    path = tmp_path / "broken.json"
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    monkeypatch.setattr(records, "RECORDS_DIR", tmp_path)
    with pytest.raises(vaelib.RecordError, match=message):
        vaelib.load_record("broken")
    assert path.read_bytes() == (text if isinstance(text, bytes) else text.encode()), "the file is left as it was"


TINY_CHAPTER = """\
import vaelib
RECORD = dict(chapter="tiny", budget=vaelib.budget().mode, date="2026-01-01", hardware=vaelib.hardware_name("cpu"),
              software={}, data=DATA, settings={}, results={"smoke": vaelib.smoke_mode()})
"""


def tiny_notebook(tmp_path, data="stand-in digits"):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(f"DATA = {data!r}"), nbformat.v4.new_code_cell(TINY_CHAPTER)]
    path = tmp_path / "tiny.ipynb"
    nbformat.write(nb, path)
    return path


@pytest.mark.slow
def test_record_run_executes_with_the_budget_and_writes_the_record(monkeypatch, tmp_path):
    out = tmp_path / "records"
    out.mkdir()
    monkeypatch.setattr(record_run, "OUTPUT_DIR", out)
    monkeypatch.setattr(record_run, "EXECUTED_DIR", tmp_path / "executed")
    monkeypatch.setenv("VAE_BOOK_SMOKE", "1")  # the tool turns smoke mode off in the kernel, not here
    path = record_run.record_run(tiny_notebook(tmp_path), "tiny_full", "full", allow_standin=True)
    record = json.loads(path.read_text())
    assert path == out / "tiny_full.json"
    assert record["budget"] == "full" and record["results"] == {"smoke": False}
    assert re.fullmatch(r"[0-9a-f]{40}", record["run"]["commit"]) and record["run"]["wall_seconds"] > 0
    assert vaelib.smoke_mode(), "this process's environment is untouched"


@pytest.mark.slow
def test_record_run_refuses_the_standin_data(monkeypatch, tmp_path):
    monkeypatch.setattr(record_run, "OUTPUT_DIR", tmp_path / "records")
    monkeypatch.setattr(record_run, "EXECUTED_DIR", tmp_path / "executed")
    monkeypatch.setattr(record_run, "check_inputs", lambda *args: None)  # as if MNIST were there
    with pytest.raises(RuntimeError, match="needed for a record, but the notebook used 'stand-in digits'"):
        record_run.record_run(tiny_notebook(tmp_path), "tiny", "cpu")
    assert not (tmp_path / "records" / "tiny.json").exists()


def test_record_run_refuses_at_once_without_mnist(monkeypatch, tmp_path):
    monkeypatch.setattr(record_run, "OUTPUT_DIR", tmp_path / "records")
    monkeypatch.setenv("VAE_BOOK_DATA", str(tmp_path / "no-data"))
    monkeypatch.setattr(record_run, "load_mnist", fail_to_load)
    with pytest.raises(RuntimeError, match="real MNIST is needed for a record, not the offline stand-in: offline"):
        record_run.record_run(tiny_notebook(tmp_path), "tiny", "full")
    with pytest.raises(ValueError, match="letters, digits"):
        record_run.record_run(tiny_notebook(tmp_path), "../escape", "full", allow_standin=True)
    assert not (tmp_path / "records").exists() or not any((tmp_path / "records").iterdir())


def fail_to_load(**kwargs):
    assert kwargs["allow_standin"] is False, "the check must not accept the stand-in"
    raise vaelib.MNISTUnavailableError("offline")


def test_the_record_schema_is_one_typed_dict():
    assert records.REQUIRED_KEYS == tuple(vaelib.Record.__annotations__)
    assert records.RUN_KEYS == tuple(records.RunInfo.__annotations__)
    assert "evaluation_full" in vaelib.record_names()
    fresh = vaelib.new_record("06_evaluation", "cpu", "cpu", data="MNIST", settings={"epochs": 1}, results={})
    assert set(fresh) == set(records.REQUIRED_KEYS) - {"run"} and re.fullmatch(r"\d{4}-\d{2}-\d{2}", fresh["date"])
