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


class RecordError(ValueError):
    """A recorded result is missing, unreadable or incomplete."""


def record_names() -> list[str]:
    """The names of the records shipped with vaelib."""
    return sorted(path.stem for path in RECORDS_DIR.glob("*.json"))


def check_record(record: object, where: str = "the record") -> dict:
    """Return ``record`` if it is a dict with every key of :data:`REQUIRED_KEYS`; else raise :class:`RecordError`."""
    if not isinstance(record, dict):
        raise RecordError(f"{where} holds a {type(record).__name__}, not a JSON object; record it again.")
    missing = [key for key in REQUIRED_KEYS if key not in record]
    if missing:
        raise RecordError(f"{where} lacks {', '.join(missing)}; record it again with python -m tools.record_run.")
    return record


def load_record(name: str) -> dict:
    """The record ``vaelib/recorded/<name>.json`` as a dict, checked for the keys every record has."""
    path = RECORDS_DIR / f"{name}.json"
    if not path.is_file():
        known = ", ".join(record_names()) or "none"
        raise RecordError(
            f"no record named {name!r} in {RECORDS_DIR} (recorded: {known}). Reinstall vaelib, or make it with "
            "python -m tools.record_run."
        )
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise RecordError(
            f"{path} is not valid JSON ({error}). Restore it (git checkout -- {path.name}, or reinstall vaelib) "
            "or record it again with python -m tools.record_run."
        ) from None
    return check_record(record, where=str(path))
