"""The release's field names and its JSON records, read and checked without pandas.

Kept free of heavy imports so that :mod:`smi.counting` and the command line can
use them at start-up; :mod:`smi.release` builds its pandas frames on top of them.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
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
    """Parse a JSON file, turning a missing file or bad JSON into a one-line :class:`SmiError`.

    Parameters
    ----------
    path : Path
        The JSON file.

    Returns
    -------
    object
        The parsed value.

    Raises
    ------
    SmiError
        When the file is missing, not UTF-8, not JSON, or nested too deeply (naming the line).
    """
    path = Path(path)
    if not path.is_file():
        raise SmiError(f"{path}: file not found")
    try:
        # decoded whole: faster than a text stream (0.3 s on a million facts); a byte-order mark is accepted
        return json.loads(path.read_bytes().decode("utf-8").removeprefix("\ufeff"))
    except json.JSONDecodeError as error:
        raise SmiError(f"{path}: line {error.lineno}: invalid JSON ({error.msg})") from None
    except UnicodeDecodeError:
        raise SmiError(f"{path}: not valid UTF-8") from None
    except RecursionError:
        raise SmiError(f"{path}: invalid JSON (nested too deeply)") from None


def require_records(
    records: object, required: tuple[str, ...] | list[str], path: Path, unit: str = "record", first: int = 0
) -> list[dict]:
    """``records`` (already parsed) if it is a non-empty list of objects each holding every field of ``required``.

    A field set to null counts as missing. Errors name ``path`` and the record as
    ``<unit> <number>``, numbered from ``first`` (records of a JSON list from 0,
    lines of a JSON-lines file from 1).

    Parameters
    ----------
    records : object
        A parsed JSON value.
    required : tuple or list of str
        Fields every record must hold (not null).
    path : Path
        Where the records came from, for the message.
    unit : str
        What a record is called in the message (``record``, ``line``).
    first : int
        The number of the first record.

    Returns
    -------
    list of dict
        ``records`` itself.

    Raises
    ------
    SmiError
        When ``records`` is not a non-empty list, an item is not an object, or a field is missing.
    """
    if not isinstance(records, list) or not records:
        raise SmiError(f"{path}: expected a non-empty JSON list of records")
    for number, record in enumerate(records, start=first):
        if not isinstance(record, dict):
            raise SmiError(f"{path}: {unit} {number}: expected an object")
        missing = [field for field in required if record.get(field) is None]
        if missing:
            idx = record.get("idx")
            shown = repr(idx) if isinstance(idx, str) else idx  # quoted, so that a lone surrogate prints escaped
            raise SmiError(f"{path}: {unit} {number} (idx {shown}): missing field '{missing[0]}'")
    return records


def parse_json_line(line: str) -> tuple[object, str | None]:
    """One line of a JSON-lines file parsed: (value, None), or (None, what is wrong with it).

    Parameters
    ----------
    line : str
        One line of text.

    Returns
    -------
    value : object or None
        The parsed value, None when the line is not valid JSON.
    problem : str or None
        What is wrong with the line, None when it parsed.
    """
    try:
        return json.loads(line), None
    except json.JSONDecodeError as error:
        return None, f"invalid JSON ({error.msg})"
    except RecursionError:
        return None, "invalid JSON (nested too deeply)"


def decoded_lines(path: Path) -> Iterator[tuple[int, str | None]]:
    """(line number from 1, text) of each line of a file; text is None where the bytes are not UTF-8.

    A UTF-8 byte-order mark at the start of the file is dropped.

    Parameters
    ----------
    path : Path
        The text file.

    Yields
    ------
    number : int
        The line number, from 1.
    text : str or None
        The line without its line break, or None when its bytes are not UTF-8.
    """
    with open(path, "rb") as handle:
        for number, raw in enumerate(handle, start=1):
            if number == 1 and raw.startswith(b"\xef\xbb\xbf"):
                raw = raw[3:]
            try:
                yield number, raw.decode("utf-8")
            except UnicodeDecodeError:
                yield number, None


def _is_utf8(text: str) -> bool:
    """Whether ``text`` can be written as UTF-8 (it holds no lone surrogate)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _field_problem(record: dict, required: tuple[str, ...]) -> str | None:
    """What is wrong with the ``required`` fields of a record (the first missing one first), or None."""
    missing = [name for name in required if not isinstance(record.get(name), str) or not record[name].strip()]
    if missing:
        return f"missing field '{missing[0]}'"
    for name in required:
        if not _is_utf8(record[name]):
            return f"field '{name}' is not valid Unicode (a lone surrogate)"
    return None


def read_json_lines(
    path: Path, required: tuple[str, ...] = (), skipped: list[tuple[int, str]] | None = None
) -> tuple[list[dict], list[int]]:
    """The objects of a JSON-lines file and their line numbers (from 1): the one reader of JSON-lines records.

    Blank lines are skipped and a UTF-8 byte-order mark at the start is accepted.
    A bad line raises a one-line :class:`SmiError` naming the file and the line:
    bytes that are not UTF-8, a line that is not a JSON object (or is nested too
    deeply), or, for each field of ``required``, a field that is missing, not a
    non-empty string, or holds a lone surrogate (which cannot be written back as
    UTF-8). When ``skipped`` is a list, a bad line is instead left out and
    appended to it as (line number, problem).

    Parameters
    ----------
    path : Path
        The JSON-lines file.
    required : tuple of str
        Fields every record must hold as a non-empty string.
    skipped : list or None
        Receives (line number, problem) of each bad line, which is then left out; None to raise instead.

    Returns
    -------
    records : list of dict
        The good objects, in file order.
    line_numbers : list of int
        The line of each object.

    Raises
    ------
    SmiError
        When the file is missing, or (without ``skipped``) a line is bad (naming the line).
    """
    path = Path(path)
    if not path.is_file():
        raise SmiError(f"{path}: file not found")
    records, numbers = [], []
    for number, line in decoded_lines(path):
        if line is not None and not line.strip():
            continue
        record, problem = parse_json_line(line) if line is not None else (None, "not valid UTF-8")
        if problem is None and not isinstance(record, dict):
            problem = "expected a JSON object"
        if problem is None:
            problem = _field_problem(record, required)
        if problem:
            if skipped is None:
                raise SmiError(f"{path}: line {number}: {problem}")
            skipped.append((number, problem))
            continue
        records.append(record)
        numbers.append(number)
    return records, numbers
