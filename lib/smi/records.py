"""The release's field names and its JSON records, read and checked without pandas.

Kept free of heavy imports so that :mod:`smi.counting` and the command line can
use them at start-up; :mod:`smi.release` builds its pandas frames on top of them.
"""

from __future__ import annotations

import json
from pathlib import Path

from smi.errors import SmiError

FACT_FIELDS = ("idx", "subj", "rel", "obj")
COUNT_FIELDS = (
    "time_seqs",
    "time_subj",
    "time_obj",
    "time_s1j1",
    "time_s1j0",
    "time_s0j1",
    "time_s0j0",
)


def read_json(path: Path) -> object:
    """Parse a JSON file, turning a missing file or bad JSON into a one-line :class:`SmiError`."""
    path = Path(path)
    if not path.is_file():
        raise SmiError(f"{path}: file not found")
    try:
        with open(path, encoding="utf-8") as handle:
            return json.load(handle)
    except json.JSONDecodeError as error:
        raise SmiError(f"{path}: line {error.lineno}: invalid JSON ({error.msg})") from None
    except UnicodeDecodeError:
        raise SmiError(f"{path}: not valid UTF-8") from None


def require_records(records: object, required: tuple[str, ...] | list[str], path: Path, unit: str = "record", first: int = 0) -> list[dict]:
    """``records`` (already parsed) if it is a non-empty list of objects each holding every field of ``required``.

    A field set to null counts as missing. Errors name ``path`` and the record as
    ``<unit> <number>``, numbered from ``first`` (records of a JSON list from 0,
    lines of a JSON-lines file from 1).
    """
    if not isinstance(records, list) or not records:
        raise SmiError(f"{path}: expected a non-empty JSON list of records")
    for number, record in enumerate(records, start=first):
        if not isinstance(record, dict):
            raise SmiError(f"{path}: {unit} {number}: expected an object")
        missing = [field for field in required if record.get(field) is None]
        if missing:
            raise SmiError(f"{path}: {unit} {number} (idx {record.get('idx')}): missing field '{missing[0]}'")
    return records
