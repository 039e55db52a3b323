"""The two fits of accuracy on one predictor: the bucketed fit of the paper and the plain per-fact fit.

Bucketed fit (the paper's R²). Facts are grouped by their normalised value
:math:`x_g`; each group's mean accuracy :math:`\\bar a_g` is regressed on
:math:`x_g` by ordinary least squares, :math:`\\bar a_g = \\beta_0 + \\beta_1 x_g`.

* R² is that of the group means (each group weighs the same, whatever its size);
* MSE :math:`= \\frac{1}{G}\\sum_g \\frac{1}{n_g}\\sum_{i \\in g} (a_i - \\beta_0 - \\beta_1 x_g)^2`;
* upper bound :math:`= \\beta_0 + \\beta_1`, the predicted accuracy at :math:`x = 1`;
* x-intercept :math:`= -\\beta_0 / \\beta_1`, where the line predicts zero accuracy.

Per-fact fit: a new OLS line fitted to every fact, :math:`a_i = \\gamma_0 + \\gamma_1 x_i`; its R²
is the most that any straight line in x can explain of the per-fact variance.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import statsmodels.api as sm

from smi.errors import SmiError

__all__ = ["BucketedFit", "PerFactFit", "bucket_means", "bucketed_fit", "per_fact_fit"]


@dataclass(frozen=True)
class BucketedFit:
    """Result of the bucketed OLS of mean accuracy on a normalised predictor."""

    r2: float
    slope: float
    intercept: float
    mse: float
    upper_bound: float
    x_intercept: float
    mean_acc: float
    n_facts: int
    n_buckets: int


@dataclass(frozen=True)
class PerFactFit:
    """Result of the OLS of each fact's accuracy on its normalised predictor."""

    r2: float
    slope: float
    intercept: float
    mean_acc: float
    n_facts: int


def bucket_means(x: np.ndarray, acc: np.ndarray) -> pd.DataFrame:
    """Per distinct x: the mean accuracy and the number of facts, sorted by x.

    Parameters
    ----------
    x : numpy.ndarray
        Each fact's predictor value (already bucketed).
    acc : numpy.ndarray
        Each fact's accuracy.

    Returns
    -------
    pandas.DataFrame
        Columns ``x``, ``mean_acc`` and ``n_facts``, one row per distinct x.
    """
    frame = pd.DataFrame({"x": np.asarray(x, dtype=float), "acc": np.asarray(acc, dtype=float)})
    return frame.groupby("x")["acc"].agg(mean_acc="mean", n_facts="size").reset_index()


def _ols(x: np.ndarray, y: np.ndarray):
    """statsmodels OLS of y on [1, x]."""
    return sm.OLS(np.asarray(y, dtype=float), sm.add_constant(np.asarray(x, dtype=float), has_constant="add")).fit()


def bucketed_fit(x: np.ndarray, acc: np.ndarray) -> BucketedFit:
    """Fit group-mean accuracy on group value (see module docstring for every output).

    Parameters
    ----------
    x : numpy.ndarray
        Each fact's predictor value (already bucketed).
    acc : numpy.ndarray
        Each fact's accuracy.

    Returns
    -------
    BucketedFit
        R², slope, intercept, MSE, upper bound, mean accuracy and sizes of the fit.

    Raises
    ------
    SmiError
        When there are fewer than two buckets, or the bucket means are all equal.

    Notes
    -----
    Ordinary least squares of the bucket means ā_b on the bucket values x_b, one point per bucket:
    R² = 1 − Σ_b (ā_b − β0 − β1 x_b)² / Σ_b (ā_b − mean ā)².
    """
    x = np.asarray(x, dtype=float)
    acc = np.asarray(acc, dtype=float)
    groups = bucket_means(x, acc)
    if len(groups) < 2:
        raise SmiError(f"bucketed fit needs at least two buckets, got {len(groups)}")
    if groups["mean_acc"].nunique() < 2:
        level = groups["mean_acc"].iloc[0]
        raise SmiError(f"mean accuracy is {level:g} in every bucket; R² needs accuracies that vary")
    model = _ols(groups["x"], groups["mean_acc"])
    intercept, slope = (float(v) for v in model.params)
    squared = (acc - (intercept + slope * x)) ** 2
    mse = float(pd.Series(squared).groupby(x).mean().mean())
    return BucketedFit(
        r2=float(model.rsquared),
        slope=slope,
        intercept=intercept,
        mse=mse,
        upper_bound=intercept + slope,
        x_intercept=-intercept / slope if slope != 0 else float("nan"),
        mean_acc=float(acc.mean()),
        n_facts=len(acc),
        n_buckets=len(groups),
    )


def per_fact_fit(x: np.ndarray, acc: np.ndarray) -> PerFactFit:
    """Fit each fact's accuracy on its value: the share of per-fact variance explained.

    Parameters
    ----------
    x : numpy.ndarray
        Each fact's predictor value.
    acc : numpy.ndarray
        Each fact's accuracy.

    Returns
    -------
    PerFactFit
        R², slope, intercept, mean accuracy and the number of facts.

    Raises
    ------
    SmiError
        When the predictor has one distinct value or the accuracy does not vary.

    Notes
    -----
    R² = 1 − Σ_i (a_i − β0 − β1 x_i)² / Σ_i (a_i − ā)², with the least-squares line over facts.
    """
    x = np.asarray(x, dtype=float)
    acc = np.asarray(acc, dtype=float)
    if len(np.unique(x)) < 2:
        raise SmiError("per-fact fit needs at least two distinct predictor values")
    if len(np.unique(acc)) < 2:
        raise SmiError(f"accuracy is {acc[0]:g} for every fact; R² needs accuracies that vary")
    model = _ols(x, acc)
    intercept, slope = (float(v) for v in model.params)
    return PerFactFit(float(model.rsquared), slope, intercept, float(acc.mean()), len(acc))
