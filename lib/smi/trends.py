"""Does a quantity grow with model size within each model series? The checks behind the notebooks' trend statements.

A sentence such as "accuracy grows with size" is only written once these functions have
counted, within every series, the steps from one model to the next larger one where the
quantity rises and those where it falls.
"""

from __future__ import annotations

import pandas as pd
from scipy import stats

from smi.errors import SmiError


def series_steps(
    frame: pd.DataFrame, value: str, series: str = "series", size: str = "parameters", name: str = "model"
) -> pd.DataFrame:
    """Each step from a model to the next larger one of its series.

    Columns: series, smaller, larger (model names), ``value`` of both (``before``, ``after``)
    and ``change`` = after − before. Series with a single model have no step.

    Parameters
    ----------
    frame : pandas.DataFrame
        One row per model.
    value : str
        The column that moves.
    series, size, name : str
        The columns holding each model's series, size and name.

    Returns
    -------
    pandas.DataFrame
        One row per step.

    Raises
    ------
    SmiError
        When a column is missing.
    """
    missing = [column for column in (value, series, size, name) if column not in frame.columns]
    if missing:
        raise SmiError(f"series_steps: no column '{missing[0]}'")
    rows = []
    for group, members in frame.sort_values([series, size], kind="stable").groupby(series, sort=False):
        members = members.reset_index(drop=True)
        for i in range(len(members) - 1):
            before, after = members.loc[i], members.loc[i + 1]
            rows.append(
                {
                    "series": group,
                    "smaller": before[name],
                    "larger": after[name],
                    "before": float(before[value]),
                    "after": float(after[value]),
                    "change": float(after[value] - before[value]),
                }
            )
    return pd.DataFrame(rows, columns=["series", "smaller", "larger", "before", "after", "change"])


def within_series_trend(
    frame: pd.DataFrame, value: str, series: str = "series", size: str = "parameters", name: str = "model"
) -> pd.DataFrame:
    """Per series with at least two models: how ``value`` moves with size.

    Columns: series, models, spearman (Spearman's ρ between size and ``value``; 1 when it
    rises at every step), rises and falls (steps up and down, see :func:`series_steps`) and
    ``where it falls`` (the falling steps, e.g. ``gpt-j-6b → gpt-neox-20b (−0.004)``).

    Parameters
    ----------
    frame, value, series, size, name
        As for :func:`series_steps`.

    Returns
    -------
    pandas.DataFrame
        One row per series.

    Raises
    ------
    SmiError
        When a column is missing.
    """
    steps = series_steps(frame, value, series, size, name)
    rows = []
    for group, members in frame.groupby(series, sort=False):
        if len(members) < 2:
            continue
        own = steps[steps["series"] == group]
        falling = own[own["change"] < 0]
        rows.append(
            {
                "series": group,
                "models": len(members),
                "spearman": float(stats.spearmanr(members[size], members[value])[0]),
                "rises": int((own["change"] > 0).sum()),
                "falls": len(falling),
                "where it falls": "; ".join(f"{r.smaller} → {r.larger} ({r.change:+.3f})" for r in falling.itertuples())
                or "—",
            }
        )
    return pd.DataFrame(rows, columns=["series", "models", "spearman", "rises", "falls", "where it falls"])


def trend_sentence(trend: pd.DataFrame, quantity: str) -> str:
    """One sentence (no final full stop) stating what :func:`within_series_trend` found, without hiding a fall.

    E.g. "Mean accuracy rises at 17 of 19 steps to a larger model of the same series; it falls at
    gpt-j-6b → gpt-neox-20b (-0.004); ours-7b → ours-13b (-0.006)". The first letter is capitalised.

    Parameters
    ----------
    trend : pandas.DataFrame
        :func:`within_series_trend`'s output.
    quantity : str
        What the value is, e.g. "mean accuracy".

    Returns
    -------
    str
        The sentence.
    """
    steps = int(trend["rises"].sum() + trend["falls"].sum())
    if steps == 0:
        text = f"no series has two models, so nothing can be said about how {quantity} changes with size"
    else:
        falls = [text for text in trend["where it falls"] if text != "—"]
        rises = int(trend["rises"].sum())
        if not falls and rises == steps:
            text = f"{quantity} rises at every one of the {steps} steps to a larger model of the same series"
        else:
            text = f"{quantity} rises at {rises} of {steps} steps to a larger model of the same series"
            if falls:
                text += "; it falls at " + "; ".join(falls)
    return text[0].upper() + text[1:]
