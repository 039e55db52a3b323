"""The authors' own regression results shipped with the release, their comparison with ours, and the
paper's headline claim version by version.

The release holds, next to its data, the numbers the authors computed from it
(``analysis/`` of the release, fetched by ``smi data fetch``)::

    analysis/main_tables/main_table.xlsx     72 rows: model, method, a, b, F, R2, MSE,
                                             x intercept, upper bound, acc
    analysis/main_tables/r2_table.xlsx       R2 as a model x method table
    analysis/main_tables/mse_table.xlsx      MSE as a model x method table
    analysis/tables/<model>.xlsx             the three rows of one model (with a leading
                                             unnamed index column)

Every reader here checks the header, each cell and the table's consistency, and
returns the rows under this project's names (:data:`COLUMN_NAMES`,
:data:`METHOD_NAMES`, the model names of ``smi/resources/models.csv``), so that
:func:`compare_with_fit` can set them beside :func:`smi.regression.fit_release`.
"""

from __future__ import annotations

import math
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from smi import formats, metrics
from smi.errors import SmiError, check_one_of

#: Paths inside a release folder.
MAIN_TABLE = Path("analysis") / "main_tables" / "main_table.xlsx"
MODEL_TABLES = Path("analysis") / "tables"
WIDE_TABLES = {
    "r2": Path("analysis") / "main_tables" / "r2_table.xlsx",
    "mse": Path("analysis") / "main_tables" / "mse_table.xlsx",
}

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
#: Columns of :func:`compare_with_fit`.
COMPARISON_COLUMNS = ["model", "method", "quantity", "ours", "paper", "abs_diff"]

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


def load_wide_table(release_dir: Path, quantity: str) -> pd.DataFrame:
    """The authors' model x method table of R² or MSE (``analysis/main_tables/{r2,mse}_table.xlsx``).

    Parameters
    ----------
    release_dir : path
        The release folder.
    quantity : {"r2", "mse"}
        Which table.

    Returns
    -------
    pandas.DataFrame
        Long form: model, method, and a column named ``quantity``, one row per cell.
    """
    check_one_of(quantity, WIDE_TABLES, "quantity", "quantities")
    path = Path(release_dir) / WIDE_TABLES[quantity]
    header, body = _read_sheet(path)
    _check_header(path, header, ["model", *METHOD_NAMES])
    models, seen, rows = model_names(), {}, []
    for number, cells in body:
        if len(cells) != len(header):
            raise SmiError(f"{path}: row {number}: {len(cells)} cells, expected {len(header)}")
        model = _name(path, number, "model", cells[0], models, "model")
        if model in seen:
            raise SmiError(f"{path}: row {number}: model '{model}' already given in row {seen[model]}")
        seen[model] = number
        for method, value in zip(header[1:], cells[1:]):
            rows.append(
                {"model": model, "method": METHOD_NAMES[method], quantity: _number(path, number, method, value)}
            )
    return pd.DataFrame(rows, columns=["model", "method", quantity])


def _require_unique_pairs(table: pd.DataFrame, what: str) -> None:
    missing = {"model", "method"} - set(table.columns)
    if missing:
        raise SmiError(f"{what} table lacks column(s) {', '.join(sorted(missing))}")
    duplicated = table.duplicated(["model", "method"])
    if duplicated.any():
        first = table.loc[duplicated, ["model", "method"]].iloc[0]
        raise SmiError(f"{what} table has {first['model']} / {first['method']} more than once")


def compare_with_fit(bucketed: pd.DataFrame, paper: pd.DataFrame) -> pd.DataFrame:
    """Our bucketed fits beside the authors' numbers, one row per (model, method, quantity).

    Parameters
    ----------
    bucketed : pandas.DataFrame
        The bucketed table of :func:`smi.regression.fit_release` (model, method and
        the columns of :data:`smi.regression.BUCKETED_COLUMNS`, plus x_intercept).
    paper : pandas.DataFrame
        :func:`load_main_table` (or :func:`load_model_tables`).

    Returns
    -------
    pandas.DataFrame
        Columns model, method, quantity, ours, paper, abs_diff, for every (model,
        method) pair in both tables (in the paper's order) and every quantity of
        :data:`QUANTITIES` that both tables hold (in that order).

    Raises
    ------
    SmiError
        When a table lacks model or method, repeats a pair, the two share no
        quantity, or they share no (model, method) pair.

    Notes
    -----
    ``abs_diff`` :math:`= |\\text{ours} - \\text{paper}|`.
    """
    _require_unique_pairs(bucketed, "fitted")
    _require_unique_pairs(paper, "paper")
    quantities = [q for q in QUANTITIES if q in bucketed.columns and q in paper.columns]
    if not quantities:
        raise SmiError(f"the two tables share none of the quantities {', '.join(QUANTITIES)}")
    keys = ["model", "method"]
    merged = paper[keys + quantities].merge(
        bucketed[keys + quantities], on=keys, how="inner", suffixes=("_paper", "_ours"), sort=False
    )
    if merged.empty:
        raise SmiError("the fitted table and the paper's table have no (model, method) pair in common")
    rows = [
        {
            "model": row["model"],
            "method": row["method"],
            "quantity": quantity,
            "ours": float(row[f"{quantity}_ours"]),
            "paper": float(row[f"{quantity}_paper"]),
        }
        for _, row in merged.iterrows()
        for quantity in quantities
    ]
    comparison = pd.DataFrame(rows, columns=COMPARISON_COLUMNS[:-1])
    comparison["abs_diff"] = (comparison["ours"] - comparison["paper"]).abs()
    return comparison


def largest_differences(comparison: pd.DataFrame) -> pd.DataFrame:
    """Per quantity of a :func:`compare_with_fit` table: the largest ``abs_diff`` and where it is.

    Parameters
    ----------
    comparison : pandas.DataFrame
        :func:`compare_with_fit`'s output.

    Returns
    -------
    pandas.DataFrame
        Columns quantity, max_abs_diff, model, method, n_rows (rows compared), in the
        order of :data:`QUANTITIES`.
    """
    rows = []
    for quantity, group in comparison.groupby("quantity", sort=False):
        worst = group.loc[group["abs_diff"].idxmax()]
        rows.append(
            {
                "quantity": quantity,
                "max_abs_diff": float(worst["abs_diff"]),
                "model": worst["model"],
                "method": worst["method"],
                "n_rows": len(group),
            }
        )
    return pd.DataFrame(rows, columns=["quantity", "max_abs_diff", "model", "method", "n_rows"])


# ---------------------------------------------------------------------------
# The paper's headline claim, version by version
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class HeadlineClaim:
    """One version of the paper's headline claim about the bucketed :math:`R^2` of SMI.

    Attributes
    ----------
    version : str
        Which version of the paper states it.
    threshold : float
        The :math:`R^2` the claim names.
    models : tuple of str
        The models it names (this project's names); empty when it names a size instead.
    min_parameters : float
        With ``models`` empty: the claim covers every model with more parameters than this.
    approximate : bool
        True when the claim is "about ``threshold``" rather than "above ``threshold``".
    """

    version: str
    threshold: float
    models: tuple[str, ...] = ()
    min_parameters: float = 0.0
    approximate: bool = False

    @property
    def statement(self) -> str:
        """The claim in one line."""
        who = ", ".join(self.models) if self.models else f"every model over {self.min_parameters / 1e9:g}B parameters"
        relation = "about" if self.approximate else "above"
        return f"bucketed R² of SMI {relation} {self.threshold:g} for {who}"


#: The four models the first version names: 1.1B, 1.6B, 7B and 13B parameters.
HEADLINE_MODELS = ("TinyLlama-1.1B-intermediate-step-480k-1T", "ours-1.6b", "ours-7b", "ours-13b")

#: The headline claim as it changed between versions of the paper (arXiv 2502.04066, then ACL 2026).
HEADLINE_CLAIMS = (
    HeadlineClaim("arXiv, first version", 0.84, HEADLINE_MODELS),
    HeadlineClaim("arXiv, first revision", 0.75, HEADLINE_MODELS),
    HeadlineClaim("arXiv, second revision", 0.70, min_parameters=1e9),
    HeadlineClaim("ACL 2026", 0.70, min_parameters=1e9, approximate=True),
)

#: How far the median may lie from an "about" claim's value for the claim to hold.
APPROXIMATE_TOLERANCE = 0.05


def claim_models(claim: HeadlineClaim, models: pd.DataFrame) -> list[str]:
    """The models of ``models`` (a models table: name, parameters) that ``claim`` covers, in the table's order."""
    if claim.models:
        missing = sorted(set(claim.models) - set(models["name"]))
        if missing:
            raise SmiError(f"the models table lacks {', '.join(missing)}, named by the claim of {claim.version}")
        return [name for name in models["name"] if name in claim.models]
    return list(models.loc[models["parameters"] > claim.min_parameters, "name"])


def check_headline(claims, fits: dict[str, pd.DataFrame], models: pd.DataFrame) -> pd.DataFrame:
    """Each version of the headline claim checked against bucketed fits of the release.

    Parameters
    ----------
    claims : sequence of HeadlineClaim
        Usually :data:`HEADLINE_CLAIMS`.
    fits : dict of str to pandas.DataFrame
        Bucketed tables of :func:`smi.regression.fit_all` (model, method, r2), keyed by a label
        of the facts they were fitted on (e.g. all facts; without the answer-in-subject facts).
    models : pandas.DataFrame
        The models table (name, parameters).

    Returns
    -------
    pandas.DataFrame
        One row per claim and fit: version, claim, facts (the fit's label), models (how many
        the claim covers), lowest, median and highest R² of SMI over them, and holds.

    Notes
    -----
    A claim "above :math:`t`" holds when every model it covers has :math:`R^2 > t`; a claim
    "about :math:`t`" holds when the median over its models lies within
    :data:`APPROXIMATE_TOLERANCE` of :math:`t`.
    """
    rows = []
    for claim in claims:
        names = claim_models(claim, models)
        for label, table in fits.items():
            r2 = table[table["method"] == "SMI"].set_index("model")["r2"].reindex(names)
            if r2.isna().any():
                raise SmiError(f"the fit '{label}' lacks {', '.join(r2.index[r2.isna()])}")
            if claim.approximate:
                holds = abs(r2.median() - claim.threshold) <= APPROXIMATE_TOLERANCE
            else:
                holds = bool((r2 > claim.threshold).all())
            rows.append(
                {
                    "version": claim.version,
                    "claim": claim.statement,
                    "facts": label,
                    "models": len(names),
                    "lowest": r2.min(),
                    "median": r2.median(),
                    "highest": r2.max(),
                    "holds": bool(holds),
                }
            )
    return pd.DataFrame(rows)
