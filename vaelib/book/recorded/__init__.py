"""Data only: results of long runs, one JSON file each, read by :func:`vaelib.load_record`."""
