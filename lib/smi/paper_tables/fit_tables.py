"""The authors' regression results as the release ships them, read, checked and given this project's names.

The release holds, next to its data, the numbers the authors computed from it
(``analysis/`` of the release, fetched by ``smi data fetch``)::

    analysis/main_tables/main_table.xlsx     72 rows: model, method, a, b, F, R2, MSE,
                                             x intercept, upper bound, acc
    analysis/tables/<model>.xlsx             the three rows of one model (with a leading
                                             unnamed index column)

Each reader checks the header, each cell and the table's consistency, and returns the rows
under this project's names (:data:`COLUMN_NAMES`, :data:`METHOD_NAMES`, the model names of
``smi/resources/models.csv``).
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import pandas as pd

from smi import formats, metrics
from smi.errors import SmiError
from smi.paper_tables.sheets import _check_header, _name, _number, _read_sheet

__all__ = [
    "COLUMN_NAMES",
    "MAIN_TABLE",
    "METHOD_NAMES",
    "MODEL_TABLES",
    "QUANTITIES",
    "TABLE_COLUMNS",
    "load_main_table",
    "load_model_tables",
    "main_table_path",
    "model_names",
]

#: Paths inside a release folder.
MAIN_TABLE = Path("analysis") / "main_tables" / "main_table.xlsx"
MODEL_TABLES = Path("analysis") / "tables"

#: The release's column names and ours. ``F`` is the fitted line written out ("y = 0.457x + 0.033").
COLUMN_NAMES = {
    "model": "model",
    "method": "method",
    "a": "slope",
    "b": "intercept",
    "F": "formula",
    "R2": "r2",
    "MSE": "mse",
    "x intercept": "x_intercept",
    "upper bound": "upper_bound",
    "acc": "mean_acc",
}
#: The release's method names and ours (:data:`smi.metrics.METHODS`).
METHOD_NAMES = {"CO-OCCUR": "CO-OCCUR", "MI": "MI", "SMI": "SMI"}
#: The numbers of a row, in the order of the release's table.
QUANTITIES = ("slope", "intercept", "r2", "mse", "x_intercept", "upper_bound", "mean_acc")
#: Columns of :func:`load_main_table` and :func:`load_model_tables`.
TABLE_COLUMNS = ["model", "method", *QUANTITIES]

_FORMULA = re.compile(r"y = (-?\d+\.\d+)x ([+-]) (\d+\.\d+)")
_CONSISTENCY_TOLERANCE = 1e-12


def model_names() -> dict[str, str]:
    """The release's model names and ours.

    Returns
    -------
    dict of str to str
        One entry per model of the packaged models table. The release names its
        per-model files (``infer/merge_outputs/<name>.json``) and its analysis
        tables with the very names of ``smi/resources/models.csv``, so each
        entry maps a name to itself; a name outside it is an error in every reader.
    """
    return {name: name for name in formats.load_models()["name"]}


def _check_row_consistency(path: Path, number: int, row: dict, formula) -> None:
    """The written line, the upper bound and the x-intercept must agree with slope and intercept."""
    slope, intercept = row["slope"], row["intercept"]
    match = _FORMULA.fullmatch(formula) if isinstance(formula, str) else None
    if match is None:
        raise SmiError(f"{path}: row {number}: column 'F': expected 'y = <a>x + <b>', got {formula!r}")
    shown_slope = float(match.group(1))
    shown_intercept = float(match.group(3)) * (-1 if match.group(2) == "-" else 1)
    decimals = len(match.group(3).split(".")[1])
    rounding = 0.5 * 10.0**-decimals + _CONSISTENCY_TOLERANCE
    if abs(shown_slope - slope) > rounding or abs(shown_intercept - intercept) > rounding:
        raise SmiError(f"{path}: row {number}: column 'F' ({formula!r}) disagrees with a={slope!r}, b={intercept!r}")
    checks = {
        "upper bound": (row["upper_bound"], slope + intercept),
        "x intercept": (row["x_intercept"], -intercept / slope if slope else math.nan),
    }
    for column, (stored, implied) in checks.items():
        if not abs(stored - implied) <= _CONSISTENCY_TOLERANCE * max(1.0, abs(implied)):
            raise SmiError(f"{path}: row {number}: column '{column}' is {stored!r}, but a and b give {implied!r}")


def _parse_fit_rows(path: Path, header: list, body: list[tuple[int, list]], index_column: bool) -> pd.DataFrame:
    """Rows of a main-table-like sheet as :data:`TABLE_COLUMNS`, each cell and row checked."""
    expected = ([None] if index_column else []) + list(COLUMN_NAMES)
    _check_header(path, header, expected)
    models, seen, rows = model_names(), {}, []
    for number, cells in body:
        if len(cells) > len(expected):
            raise SmiError(f"{path}: row {number}: {len(cells)} cells, but the header names {len(expected)} columns")
        values = dict(zip(expected, cells + [None] * (len(expected) - len(cells))))
        row = {
            "model": _name(path, number, "model", values["model"], models, "model"),
            "method": _name(path, number, "method", values["method"], METHOD_NAMES, "method"),
        }
        for column, ours in COLUMN_NAMES.items():
            if ours in QUANTITIES:
                row[ours] = _number(path, number, column, values[column])
        _check_row_consistency(path, number, row, values["F"])
        key = (row["model"], row["method"])
        if key in seen:
            raise SmiError(f"{path}: row {number}: {key[0]} / {key[1]} already given in row {seen[key]}")
        seen[key] = number
        rows.append(row)
    table = pd.DataFrame(rows, columns=TABLE_COLUMNS)
    _check_complete_models(path, table)
    return table


def _check_complete_models(path: Path, table: pd.DataFrame) -> None:
    """Every model has one row per method, and one mean accuracy shared by its rows."""
    for model, rows in table.groupby("model", sort=False):
        missing = [method for method in metrics.METHODS if method not in set(rows["method"])]
        if missing:
            raise SmiError(f"{path}: model '{model}' has no row for {', '.join(missing)}")
        if rows["mean_acc"].nunique() != 1:
            raise SmiError(f"{path}: model '{model}': column 'acc' differs between its rows")


def main_table_path(release_dir: Path) -> Path:
    """Path of the authors' ``main_table.xlsx`` inside a release folder.

    Parameters
    ----------
    release_dir : Path
        The release folder.

    Returns
    -------
    Path
        The spreadsheet.
    """
    return Path(release_dir) / MAIN_TABLE


def load_main_table(release_dir: Path) -> pd.DataFrame:
    """The authors' regression results (``analysis/main_tables/main_table.xlsx``), checked and renamed.

    Parameters
    ----------
    release_dir : path
        The release folder (e.g. :func:`smi.data.release_dir`).

    Returns
    -------
    pandas.DataFrame
        One row per (model, method) in the file's order, with columns model, method
        (our names), slope, intercept, r2, mse, x_intercept, upper_bound, mean_acc.

    Raises
    ------
    SmiError
        One line naming the file (and the row where there is one) when the file is
        missing or unreadable, the header is not the expected one, a model or method
        name is unknown, a number is missing or not finite, the written line ``F``,
        the upper bound or the x-intercept disagree with slope and intercept, a
        (model, method) pair repeats, or a model lacks one of the three methods.

    Notes
    -----
    The release's columns are a (slope), b (intercept), F (the line rounded to three
    decimals, checked and dropped), R2, MSE, x intercept :math:`= -b/a`, upper bound
    :math:`= a + b` and acc (mean accuracy of the model's facts, the same in its three rows).
    """
    path = main_table_path(release_dir)
    header, body = _read_sheet(path)
    return _parse_fit_rows(path, header, body, index_column=False)


def load_model_tables(release_dir: Path, models: list[str] | None = None) -> pd.DataFrame:
    """The authors' per-model tables (``analysis/tables/<model>.xlsx``) as one table.

    Parameters
    ----------
    release_dir : path
        The release folder.
    models : list of str, optional
        Which models to read (default: all 24 of the models table).

    Returns
    -------
    pandas.DataFrame
        The columns of :func:`load_main_table`, the models in the order given.

    Raises
    ------
    SmiError
        As :func:`load_main_table`; also when a file holds rows of another model.
    """
    names = list(model_names()) if models is None else list(models)
    frames = []
    for name in names:
        path = Path(release_dir) / MODEL_TABLES / f"{name}.xlsx"
        header, body = _read_sheet(path)
        table = _parse_fit_rows(path, header, body, index_column=True)
        strangers = sorted(set(table["model"]) - {name})
        if strangers:
            raise SmiError(f"{path}: holds rows of {', '.join(strangers)}, expected only {name}")
        frames.append(table)
    return pd.concat(frames, ignore_index=True)
