"""Naming the rows of a file in messages, and reading a table or a list of records with its row names."""

from __future__ import annotations

import numbers
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from smi.errors import SmiError
from smi.records import read_json, read_json_lines, require_records

if TYPE_CHECKING:
    import pandas as pd


#: What a name may not contain (``smi count`` joins documents with it).
NUL = "\x00"
#: The table formats every reader accepts.
TABLE_SUFFIXES = (".csv", ".parquet")
#: The row formats: JSON list, JSON lines, and the tables.
ROW_SUFFIXES = (".json", ".jsonl", *TABLE_SUFFIXES)

Where = Callable[[int], str]


@dataclass(frozen=True)
class Rows:
    """Names the rows of one file in messages: ``<path>: <word> <number>``.

    ``numbers`` gives each row's number explicitly (the lines of a JSON-lines
    file, where blank lines are skipped); otherwise row ``i`` is ``first + i``.
    """

    path: Path
    word: str = "record"
    first: int = 0
    numbers: tuple[int, ...] | None = None

    def label(self, row: int) -> str:
        """``<word> <number>`` of a row, without the path."""
        return f"{self.word} {self.numbers[row] if self.numbers is not None else row + self.first}"

    def __call__(self, row: int) -> str:
        return f"{self.path}: {self.label(row)}"


def _rows(where: Where | Path | str) -> Where:
    """``where`` as a row namer: a path names JSON-list records (from 0)."""
    return where if callable(where) else Rows(Path(where))


def _cell(value: object) -> str:
    """A cell of a table as a message shows it (a NumPy scalar as the Python value it holds)."""
    return repr(value.item() if hasattr(value, "item") else value)


def shown(value: object) -> str:
    """A value as a message shows it: an int as written, a string quoted (lone surrogates escaped)."""
    value = value.item() if hasattr(value, "item") else value  # a NumPy scalar as the Python value it holds
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        return str(int(value))
    return repr(value)


def _read_table(path: Path) -> tuple[pd.DataFrame, int, str]:
    """A CSV or Parquet table, with the number and word naming its first row in messages.

    CSV cells are read as written: a subject "NA" or "None" stays text, an empty cell
    is an empty string (which the checks refuse where a value is needed).
    """
    import pandas as pd

    path = Path(path)
    if path.suffix.lower() == ".csv":
        try:
            table = pd.read_csv(path, dtype={"subj": str, "obj": str, "rel": str}, keep_default_na=False)
        except (pd.errors.ParserError, UnicodeDecodeError, ValueError) as error:
            raise SmiError(f"{path}: cannot read CSV ({str(error).splitlines()[0]})") from None
        return table, 2, "line"
    try:
        table = pd.read_parquet(path)
    except Exception as error:  # pyarrow raises several types for a bad file
        reason = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise SmiError(f"{path}: cannot read parquet ({reason})") from None
    return table, 1, "row"


def _read_rows(path: Path, required: Iterable[str], what: str) -> tuple[pd.DataFrame, Rows]:
    """A JSON list, JSON-lines, CSV or Parquet file as a DataFrame whose rows all hold ``required``."""
    import pandas as pd

    path = Path(path)
    required = list(required)
    if not path.is_file():
        raise SmiError(f"{path}: {what} not found")
    suffix = path.suffix.lower()
    if suffix == ".json":
        records = require_records(read_json(path), required, path)
        return pd.DataFrame.from_records(records), Rows(path, "record", 0)
    if suffix == ".jsonl":
        records, line_numbers = read_json_lines(path)
        if not records:
            raise SmiError(f"{path}: no records")
        for record, number in zip(records, line_numbers):
            missing = [field for field in required if record.get(field) is None]
            if missing:
                raise SmiError(f"{path}: line {number} (idx {shown(record.get('idx'))}): missing field '{missing[0]}'")
        return pd.DataFrame.from_records(records), Rows(path, "line", numbers=tuple(line_numbers))
    if suffix in TABLE_SUFFIXES:
        frame, first, word = _read_table(path)
        missing = [column for column in required if column not in frame.columns]
        if missing:
            raise SmiError(f"{path}: missing column '{missing[0]}' (needed: {', '.join(required)})")
        if frame.empty:
            raise SmiError(f"{path}: no rows under the header")
        return frame, Rows(path, word, first)
    raise SmiError(f"{path}: a {what} must end in {', '.join(ROW_SUFFIXES)}")


def _first(mask) -> int:
    """Position of the first True of a boolean array or Series."""
    import numpy as np

    return int(np.flatnonzero(np.asarray(mask))[0])
