"""Every model of the release fitted by every method: the bucketed table and the per-fact table."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

import pandas as pd

from smi import metrics
from smi.errors import SmiError
from smi.regression.fits import bucketed_fit, per_fact_fit
from smi.regression.predictors import release_predictors

__all__ = ["BUCKETED_COLUMNS", "PER_FACT_COLUMNS", "fit_all", "fit_release", "predictor_r2_rows"]


BUCKETED_COLUMNS = [
    "model",
    "method",
    "r2",
    "slope",
    "intercept",
    "mse",
    "upper_bound",
    "mean_acc",
    "n_facts",
    "n_buckets",
]
PER_FACT_COLUMNS = ["model", "method", "r2", "slope", "intercept", "mean_acc", "n_facts"]


def predictor_r2_rows(predictors: pd.DataFrame, model: str) -> tuple[list[dict], list[dict]]:
    """Bucketed and per-fact fits of every method on one model's :func:`smi.regression.model_predictors` frame.

    A model whose accuracy is the same on every usable fact has no variance to
    explain (R² would be 0/0) and raises :class:`SmiError`.

    Parameters
    ----------
    predictors : pandas.DataFrame
        One model's :func:`smi.regression.model_predictors` frame.
    model : str
        The model's name, written in every row.

    Returns
    -------
    bucketed : list of dict
        One row per method: model, method and the fields of :class:`smi.regression.BucketedFit`.
    per_fact : list of dict
        One row per method: model, method and the fields of :class:`smi.regression.PerFactFit`.

    Raises
    ------
    SmiError
        When the accuracy is the same on every usable fact, or a fit is impossible.
    """
    acc = predictors["acc"].to_numpy(dtype=float)
    if len(acc) and (acc == acc[0]).all():
        raise SmiError(f"accuracy is {acc[0]:g} on all {len(acc)} usable facts; R² needs accuracies that vary")
    bucketed, per_fact = [], []
    for method in metrics.METHODS:
        fit = bucketed_fit(predictors[method], predictors["acc"])
        bucketed.append({"model": model, "method": method, **asdict(fit)})
        plain = per_fact_fit(predictors[method], predictors["acc"])
        per_fact.append({"model": model, "method": method, **asdict(plain)})
    return bucketed, per_fact


def fit_all(predictors: dict[str, pd.DataFrame]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(bucketed table, per-fact table) over every model of :func:`smi.regression.release_predictors`.

    The bucketed table has exactly the columns of ``r2_bucketed.csv``
    (:data:`BUCKETED_COLUMNS`) followed by ``x_intercept``. NaN anywhere is an error.

    Parameters
    ----------
    predictors : dict of str to pandas.DataFrame
        :func:`smi.regression.release_predictors`' output.

    Returns
    -------
    bucketed : pandas.DataFrame
        One row per (model, method): :data:`BUCKETED_COLUMNS` and ``x_intercept``.
    per_fact : pandas.DataFrame
        One row per (model, method): :data:`PER_FACT_COLUMNS`.

    Raises
    ------
    SmiError
        When a model cannot be fitted (naming it) or a fit gives NaN.
    """
    bucketed, per_fact = [], []
    for model, frame in predictors.items():
        try:
            rows_b, rows_p = predictor_r2_rows(frame, model)
        except SmiError as error:
            raise SmiError(f"model '{model}': {error}") from None
        bucketed += rows_b
        per_fact += rows_p
    bucketed_frame = pd.DataFrame(bucketed)[[*BUCKETED_COLUMNS, "x_intercept"]]
    per_fact_frame = pd.DataFrame(per_fact)[PER_FACT_COLUMNS]
    for frame in (bucketed_frame, per_fact_frame):
        if frame.drop(columns=["model", "method"]).isna().any().any():
            raise SmiError("fit produced NaN values; refusing to write them as results")
    return bucketed_frame, per_fact_frame


def fit_release(
    release_dir: Path,
    models: pd.DataFrame | None = None,
    width: float = metrics.DEFAULT_BUCKET_WIDTH,
    progress: bool = False,
    answer_in_subject: str = "keep",
    outputs: Path | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Load and fit every model of the models table: (bucketed table, per-fact table).

    Parameters
    ----------
    release_dir, models, width, progress, answer_in_subject, outputs
        As for :func:`smi.regression.release_predictors`.

    Returns
    -------
    bucketed, per_fact : pandas.DataFrame
        As for :func:`fit_all`.

    Raises
    ------
    SmiError
        As :func:`smi.regression.release_predictors` and :func:`fit_all`.
    """
    return fit_all(release_predictors(release_dir, models, width, progress, answer_in_subject, outputs))
