"""Results of long runs, recorded once and shipped with vaelib, so that a chapter can show them
without training for hours.

A record is a JSON file in ``vaelib/recorded/``. ``python -m tools.record_run`` writes it: it
executes a chapter under a chosen budget and saves the dictionary the chapter leaves in its
``RECORD`` variable, together with the date, the hardware, the software and the commit it ran.
Because the file ships inside the package, a notebook on Colab finds it as well.
"""

from __future__ import annotations

import datetime
import json
import math
import platform
from pathlib import Path
from typing import TypedDict

import torch

RECORDS_DIR = Path(__file__).with_name("recorded")


class RunInfo(TypedDict):
    """How a record was made; ``tools/record_run.py`` adds it as the record's ``run`` entry."""

    notebook: str  # the chapter that ran, relative to the repository
    commit: str  # the commit it ran at
    uncommitted_changes: bool  # whether tracked files differed from that commit
    wall_seconds: float  # the whole run, kernel start to last cell
    command: str  # the command that made the record, to make it again


class Record(TypedDict):
    """A recorded run of a chapter: what a chapter's ``RECORD`` holds (:func:`new_record`), plus ``run``.

    The schema of chapter 6's RECORD (and of every recorded chapter).
    """

    chapter: str  # the notebook's name, e.g. "06_evaluation"
    budget: str  # the mode it ran in: "cpu" or "full"
    date: str  # ISO date of the run
    hardware: str  # vaelib.hardware_name(device)
    software: dict  # versions of python and torch
    data: str  # ImageData.source: "MNIST", or the stand-in's name
    settings: dict  # the chapter's settings in that mode (vaelib.chapter_settings) and sizes actually used
    results: dict  # what the chapter computed; its layout is the chapter's own
    run: RunInfo


REQUIRED_KEYS = tuple(Record.__annotations__)
RUN_KEYS = tuple(RunInfo.__annotations__)


def new_record(chapter: str, budget: str, device, data: str, settings: dict, results: dict) -> dict:
    """A chapter's ``RECORD``: this run's results with the conditions they were computed under.

    Everything of :class:`Record` but ``run``, which ``tools/record_run.py`` adds when it saves the
    record. Used in chapters 6-11, whose long runs are recorded.
    """
    from ..settings import hardware_name  # here, not at the top: settings imports nothing from records

    return {
        "chapter": chapter,
        "budget": budget,
        "date": datetime.date.today().isoformat(),
        "hardware": hardware_name(device),
        "software": {"python": platform.python_version(), "torch": torch.__version__},
        "data": data,
        "settings": settings,
        "results": results,
    }


class RecordError(ValueError):
    """A recorded result is missing, unreadable or incomplete.

    Raised by load_record in chapters 1 and 3-9; load_record_or_none catches it and says why.
    """


def record_names() -> list[str]:
    """The names of the records shipped with vaelib.

    Used by load_record's messages; chapter 6 shows a recorded run.
    """
    return sorted(path.stem for path in RECORDS_DIR.glob("*.json"))


def _how_to_record(name: str) -> str:
    return f"record it again: python -m tools.record_run chapters/<the chapter>.ipynb --name {name} --budget full"


def check_record(record: object, name: str = "the record", like: dict | None = None) -> dict:
    """Return ``record`` if it has every key a record has, and the keys of ``like`` two levels deep.

    ``like`` is typically the chapter's own ``RECORD`` of this run: a recorded run must hold at least
    the same entries (``settings.epochs``, ``results.curve``, ...) for the chapter to show it.
    Raises :class:`RecordError` naming what is missing.
    """
    if not isinstance(record, dict):
        raise RecordError(f"{name} holds a {type(record).__name__}, not a JSON object; {_how_to_record(name)}")
    missing = [key for key in REQUIRED_KEYS if key not in record]
    if "run" in record and not isinstance(record["run"], dict):
        raise RecordError(f"{name}'s run is a {type(record['run']).__name__}, not an object; {_how_to_record(name)}")
    if isinstance(record.get("run"), dict):
        missing += [f"run.{key}" for key in RUN_KEYS if key not in record["run"]]
        _check_run(record["run"], name)
    broken = _non_finite_numbers(record)
    if broken:
        raise RecordError(
            f"{name} holds NaN or infinite numbers at {', '.join(broken[:5])}: a run that went wrong is not a "
            f"result to show. {_how_to_record(name)}"
        )
    for key, value in (like or {}).items():
        if key not in record:
            missing += [key] if key not in REQUIRED_KEYS else []  # a missing required key is listed already
        elif isinstance(value, dict):
            inner = record[key] if isinstance(record[key], dict) else {}
            missing += [f"{key}.{sub}" for sub in value if sub not in inner]
    if missing:
        raise RecordError(f"{name} lacks {', '.join(missing)}; {_how_to_record(name)}")
    return record


_RUN_TYPES = {"notebook": str, "commit": str, "uncommitted_changes": bool, "wall_seconds": (int, float), "command": str}


def _check_run(run: dict, name: str) -> None:
    """The ``run`` entry's fields have the types tools/record_run.py writes (a wall time that is a real number >= 0)."""
    for key, kind in _RUN_TYPES.items():
        value = run.get(key)
        if key in run and (not isinstance(value, kind) or (kind is not bool and isinstance(value, bool))):
            raise RecordError(
                f"{name}'s run.{key} is {value!r}, not a {getattr(kind, '__name__', 'number')}; {_how_to_record(name)}"
            )
    seconds = run.get("wall_seconds")
    if isinstance(seconds, (int, float)) and not (math.isfinite(seconds) and seconds >= 0):
        raise RecordError(f"{name}'s run.wall_seconds is {seconds!r}, not a time; {_how_to_record(name)}")


def _non_finite_numbers(value, path: str = "") -> list[str]:
    """Where in a JSON value a NaN or an infinity sits, e.g. ['results.table[2].ll']."""
    if isinstance(value, float) and not math.isfinite(value):
        return [path or "the top level"]
    if isinstance(value, dict):
        return [
            p for key, item in value.items() for p in _non_finite_numbers(item, f"{path}.{key}" if path else str(key))
        ]
    if isinstance(value, list):
        return [p for i, item in enumerate(value) for p in _non_finite_numbers(item, f"{path}[{i}]")]
    return []


def load_record(name: str, like: dict | None = None) -> dict:
    """The record ``vaelib/recorded/<name>.json`` as a dict, checked by :func:`check_record`.

    Used in chapters 1, 3, 4 and 10, and in chapters 6-10 through load_record_or_none.
    """
    path = RECORDS_DIR / f"{name}.json"
    if not path.is_file():
        known = ", ".join(record_names()) or "none"
        raise RecordError(
            f"no record named {name!r} in {RECORDS_DIR} (recorded: {known}). Reinstall vaelib to get the shipped "
            f"records, or {_how_to_record(name)}"
        )
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise RecordError(
            f"{path} is not valid JSON ({error}). Restore it (git checkout -- vaelib/book/recorded/{path.name}, or "
            f"reinstall vaelib) or {_how_to_record(name)}"
        ) from None
    return check_record(record, name=str(path), like=like)


def load_record_or_none(name: str, like: dict | None = None) -> dict | None:
    """:func:`load_record`, or None after printing why there is no record to show.

    A chapter's page then shows its own run only, and the printed reason says what is missing and how
    to record it. Used in chapters 6-11.
    """
    try:
        return load_record(name, like=like)
    except RecordError as error:
        print(f"No recorded full-budget run to show: {error}")
        return None
