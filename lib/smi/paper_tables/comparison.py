"""Our bucketed fits beside the authors' numbers: the difference per (model, method, quantity), and the largest."""

from __future__ import annotations

import pandas as pd

from smi.errors import SmiError
from smi.paper_tables.fit_tables import QUANTITIES

__all__ = ["COMPARISON_COLUMNS", "compare_with_fit", "largest_differences"]

#: Columns of :func:`compare_with_fit`.
COMPARISON_COLUMNS = ["model", "method", "quantity", "ours", "paper", "abs_diff"]


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
        :func:`smi.paper_tables.load_main_table` (or :func:`smi.paper_tables.load_model_tables`).

    Returns
    -------
    pandas.DataFrame
        Columns model, method, quantity, ours, paper, abs_diff, for every (model,
        method) pair in both tables (in the paper's order) and every quantity of
        :data:`smi.paper_tables.QUANTITIES` that both tables hold (in that order).

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
        order of :data:`smi.paper_tables.QUANTITIES`.
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
