"""R² of given predictions on the facts, and the bucketed (paper's) line scored on the facts.

The bucketed line on facts (:func:`line_r2`, :func:`bucketed_line_on_facts`): the paper's line
:math:`\\beta_0 + \\beta_1 x_i` itself scored on the facts,
:math:`1 - \\sum_i (a_i - \\beta_0 - \\beta_1 x_i)^2 / \\sum_i (a_i - \\bar a)^2`, never above the
per-fact fit's R² (:func:`smi.regression.per_fact_fit`) and possibly negative.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from smi import metrics
from smi.errors import SmiError

__all__ = ["bucketed_line_on_facts", "line_r2", "r_squared"]


def r_squared(acc: np.ndarray, pred: np.ndarray) -> float:
    """Share of the per-fact variance of ``acc`` that the predictions ``pred`` explain (can be negative).

    The one computation of R² from predictions in the package: held-out predictions
    (:mod:`smi.prediction`) and a given line on the facts (:func:`line_r2`) both use it.

    Parameters
    ----------
    acc : array-like
        Each fact's accuracy.
    pred : array-like
        Each fact's prediction.

    Returns
    -------
    float
        R²; NaN when there is no fact or the accuracy does not vary (R² is undefined then).

    Notes
    -----
    :math:`R^2 = 1 - \\sum_i (a_i - \\hat a_i)^2 / \\sum_i (a_i - \\bar a)^2`.
    """
    acc, pred = np.asarray(acc, dtype=float), np.asarray(pred, dtype=float)
    if len(acc) == 0 or np.ptp(acc) == 0:
        return float("nan")
    return float(1.0 - np.sum((acc - pred) ** 2) / np.sum((acc - acc.mean()) ** 2))


def line_r2(x: np.ndarray, acc: np.ndarray, intercept: float, slope: float) -> float:
    """:func:`r_squared` of a given line on the facts, :math:`\\hat a_i = \\beta_0 + \\beta_1 x_i`.

    Parameters
    ----------
    x : numpy.ndarray
        Each fact's predictor value.
    acc : numpy.ndarray
        Each fact's accuracy.
    intercept, slope : float
        The line.

    Returns
    -------
    float
        R² of the line on the facts.

    Raises
    ------
    SmiError
        When there is no fact or the accuracy does not vary.
    """
    r2 = r_squared(acc, intercept + slope * np.asarray(x, dtype=float))
    if np.isnan(r2):
        raise SmiError("every fact has the same accuracy; R² is undefined")
    return r2


def bucketed_line_on_facts(predictors: dict[str, pd.DataFrame], bucketed: pd.DataFrame) -> pd.DataFrame:
    """Per model and method: the per-fact R² of the bucketed (paper's) line, columns model, method, r2.

    ``predictors`` is :func:`smi.regression.release_predictors`' output and ``bucketed`` the bucketed table
    :func:`smi.regression.fit_all` made from it; a (model, method) missing from ``bucketed`` is an error.

    Parameters
    ----------
    predictors : dict of str to pandas.DataFrame
        :func:`smi.regression.release_predictors`' output.
    bucketed : pandas.DataFrame
        The bucketed table of :func:`smi.regression.fit_all`.

    Returns
    -------
    pandas.DataFrame
        Columns model, method, r2 (:func:`line_r2` of the bucketed line on the facts).

    Raises
    ------
    SmiError
        When ``bucketed`` has no row for a (model, method), or a model's accuracy does not vary.
    """
    lines = bucketed.set_index(["model", "method"])
    rows = []
    for model, frame in predictors.items():
        for method in metrics.METHODS:
            if (model, method) not in lines.index:
                raise SmiError(f"no bucketed fit for model '{model}', method '{method}'")
            line = lines.loc[(model, method)]
            rows.append(
                {
                    "model": model,
                    "method": method,
                    "r2": line_r2(frame[method], frame["acc"], float(line["intercept"]), float(line["slope"])),
                }
            )
    return pd.DataFrame(rows, columns=["model", "method", "r2"])
