"""Results of long runs, recorded once and shipped with vaelib, so that a chapter can show them
without training for hours.

A record is a JSON file in ``vaelib/recorded/``. ``python -m tools.record_run`` writes it: it
executes a chapter under a chosen budget and saves the dictionary the chapter leaves in its
``RECORD`` variable, together with the date, the hardware, the software and the commit it ran.
Because the file ships inside the package, a notebook on Colab finds it as well.
"""

from __future__ import annotations

import json
from pathlib import Path

RECORDS_DIR = Path(__file__).with_name("recorded")
REQUIRED_KEYS = ("chapter", "budget", "date", "hardware", "software", "data", "settings", "results", "run")
RUN_KEYS = ("commit", "uncommitted_changes", "wall_seconds", "command")  # what tools/record_run.py adds


class RecordError(ValueError):
    """A recorded result is missing, unreadable or incomplete."""


def record_names() -> list[str]:
    """The names of the records shipped with vaelib."""
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
    if isinstance(record.get("run"), dict):
        missing += [f"run.{key}" for key in RUN_KEYS if key not in record["run"]]
    for key, value in (like or {}).items():
        if key not in record:
            missing += [key] if key not in REQUIRED_KEYS else []  # a missing required key is listed already
        elif isinstance(value, dict):
            inner = record[key] if isinstance(record[key], dict) else {}
            missing += [f"{key}.{sub}" for sub in value if sub not in inner]
    if missing:
        raise RecordError(f"{name} lacks {', '.join(missing)}; {_how_to_record(name)}")
    return record


def load_record(name: str, like: dict | None = None) -> dict:
    """The record ``vaelib/recorded/<name>.json`` as a dict, checked by :func:`check_record`."""
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
            f"{path} is not valid JSON ({error}). Restore it (git checkout -- vaelib/recorded/{path.name}, or "
            f"reinstall vaelib) or {_how_to_record(name)}"
        ) from None
    return check_record(record, name=str(path), like=like)
