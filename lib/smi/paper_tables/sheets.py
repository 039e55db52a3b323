"""One sheet of the release's xlsx files read, and its cells checked: every error names the file, row and column.

The helpers serve the readers of :mod:`smi.paper_tables.fit_tables`; none is public.
"""

from __future__ import annotations

import math
import zipfile
from pathlib import Path

from smi.errors import SmiError, check_one_of

__all__: list[str] = []


def _read_sheet(path: Path) -> tuple[list, list[tuple[int, list]]]:
    """Header and data rows of the only sheet of an xlsx file.

    Returns the header cells and ``(row number as Excel shows it, cells)`` for each
    row that is not entirely empty; trailing empty cells are dropped.
    """
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    path = Path(path)
    if not path.is_file():
        raise SmiError(f"{path}: file not found (run `smi data fetch`)")
    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, OSError, ValueError) as error:
        raise SmiError(f"{path}: cannot read xlsx ({type(error).__name__}: {error})") from None
    try:
        if len(workbook.worksheets) != 1:
            raise SmiError(f"{path}: expected one sheet, found {len(workbook.worksheets)} ({workbook.sheetnames})")
        rows = [list(cells) for cells in workbook.worksheets[0].iter_rows(values_only=True)]
    finally:
        workbook.close()
    for cells in rows:
        while cells and cells[-1] is None:
            cells.pop()
    if not rows or not rows[0]:
        raise SmiError(f"{path}: empty sheet, expected a header row")
    body = [(number, cells) for number, cells in enumerate(rows[1:], start=2) if cells]
    if not body:
        raise SmiError(f"{path}: no data rows under the header")
    return rows[0], body


def _check_header(path: Path, header: list, expected: list) -> None:
    if header != expected:
        raise SmiError(f"{path}: row 1: header {header} differs from the expected {expected}")


def _name(path: Path, number: int, column: str, value, names: dict[str, str], what: str) -> str:
    """Our name for the release's ``value`` of a name column, or a one-line error."""
    try:
        return names[check_one_of(value, names, what)]
    except SmiError as error:
        raise SmiError(f"{path}: row {number}: column '{column}': {error}") from None


def _number(path: Path, number: int, column: str, value) -> float:
    """A finite number from a cell, or a one-line error naming the cell."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise SmiError(f"{path}: row {number}: column '{column}' must be a finite number, got {value!r}")
    return float(value)
