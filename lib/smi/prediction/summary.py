"""Scores of held-out predictions: R², bucketed R², Spearman ρ, calibration, each with a bootstrap CI."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import sparse, stats

from smi import regression
from smi.errors import SmiError, check_scalar
from smi.prediction.evaluation import INTERVAL_COLUMNS

#: Predictions are grouped into bins of this width for the bucketed R² (when they take many values).
PREDICTION_BIN_WIDTH = 0.01


# ---------------------------------------------------------------- metrics with bootstrap CIs


def calibration_slope(acc: np.ndarray, pred: np.ndarray) -> float:
    """OLS slope of accuracy on prediction.

    Parameters
    ----------
    acc, pred : array-like
        Measured and predicted accuracy of every fact.

    Returns
    -------
    float
        :math:`\\mathrm{cov}(a, \\hat a) / \\mathrm{var}(\\hat a)`; NaN when the prediction is constant.
    """
    acc, pred = np.asarray(acc, dtype=float), np.asarray(pred, dtype=float)
    spread = np.sum((pred - pred.mean()) ** 2)
    return float(np.sum((acc - acc.mean()) * (pred - pred.mean())) / spread) if spread > 0 else float("nan")


def calibration_bins(acc: np.ndarray, pred: np.ndarray, bins: int = 20) -> pd.DataFrame:
    """Facts sorted by prediction into equal-count bins: each bin's mean prediction and mean accuracy.

    Parameters
    ----------
    acc, pred : array-like
        Measured and predicted accuracy of every fact.
    bins : int
        How many bins (at least 1, at most the number of facts).

    Returns
    -------
    pandas.DataFrame
        One row per bin, in order of prediction: pred (mean prediction), acc (mean accuracy),
        facts (how many).

    Notes
    -----
    Facts are ranked by prediction, ties broken by their order, and bin :math:`j` holds the
    facts of rank :math:`r` with :math:`\\lfloor r \\cdot \\text{bins} / n \\rfloor = j`. A calibrated
    predictor puts every bin on the diagonal :math:`\\bar a_j = \\bar{\\hat a}_j`.
    """
    acc, pred = np.asarray(acc, dtype=float), np.asarray(pred, dtype=float)
    check_scalar(bins, "bins", "integer", minimum=1, maximum=len(pred))
    rank = np.argsort(np.argsort(pred, kind="stable"), kind="stable")
    group = rank * bins // len(pred)
    frame = pd.DataFrame({"pred": pred, "acc": acc, "bin": group})
    means = frame.groupby("bin").agg(pred=("pred", "mean"), acc=("acc", "mean"), facts=("pred", "size"))
    return means.reset_index(drop=True)


def prediction_buckets(pred: np.ndarray) -> np.ndarray:
    """Bucket value of each prediction for the paper-style R².

    Parameters
    ----------
    pred : array-like
        Predictions.

    Returns
    -------
    numpy.ndarray
        The prediction itself when it takes at most 200 distinct values (SMI: the paper's MI buckets),
        else the midpoint of its bin of width :data:`PREDICTION_BIN_WIDTH`.
    """
    pred = np.asarray(pred, dtype=float)
    if len(np.unique(pred)) <= 200:
        return pred
    return (np.floor(pred / PREDICTION_BIN_WIDTH) + 0.5) * PREDICTION_BIN_WIDTH


def bucketed_r2(acc: np.ndarray, pred: np.ndarray) -> float:
    """The paper's R²: OLS of bucket-mean accuracy on bucket value, one point per bucket.

    Parameters
    ----------
    acc, pred : array-like
        Measured and predicted accuracy of every fact.

    Returns
    -------
    float
        The R² of that fit (buckets of :func:`prediction_buckets`).
    """
    return regression.bucketed_fit(prediction_buckets(pred), acc).r2


def _row_corr(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Pearson correlation of each row of x with the same row of y."""
    x = x - x.mean(axis=1, keepdims=True)
    y = y - y.mean(axis=1, keepdims=True)
    return (x * y).sum(axis=1) / np.sqrt((x * x).sum(axis=1) * (y * y).sum(axis=1))


def _bootstrap_bucketed_r2(weights: np.ndarray, acc: np.ndarray, pred: np.ndarray) -> np.ndarray:
    """Bucketed R² for every row of fact multiplicities ``weights`` (B × n), vectorised over B."""
    values, bucket_of_fact = np.unique(prediction_buckets(pred), return_inverse=True)
    onehot = sparse.csr_matrix(
        (np.ones(len(acc)), (np.arange(len(acc)), bucket_of_fact)), shape=(len(acc), len(values))
    )
    counts = np.asarray((onehot.T @ weights.T).T)
    sums = np.asarray((sparse.diags(acc) @ onehot).T @ weights.T).T
    present = counts > 0
    means = np.where(present, sums / np.where(present, counts, 1), 0.0)
    x = np.broadcast_to(values, means.shape)
    k = present.sum(axis=1)
    x_mean = (x * present).sum(axis=1) / k
    y_mean = (means * present).sum(axis=1) / k
    dx = (x - x_mean[:, None]) * present
    dy = (means - y_mean[:, None]) * present
    return (dx * dy).sum(axis=1) ** 2 / ((dx * dx).sum(axis=1) * (dy * dy).sum(axis=1))


def bootstrap_summary(
    acc: np.ndarray, predictions: dict[str, np.ndarray], n_boot: int = 200, seed: int = 0
) -> pd.DataFrame:
    """Scores of every predictor on one set of facts, with bootstrap CIs.

    Per predictor: per-fact R², bucketed R², Spearman ρ, mean accuracy, mean prediction and their
    difference, the calibration slope and the gain in R² over ``smi``, each with a 95% percentile CI
    from ``n_boot`` resamples of the facts (the same resamples for every predictor).

    Parameters
    ----------
    acc : array-like
        Measured accuracy of every fact.
    predictions : dict of str to array-like
        Each predictor's prediction of every fact.
    n_boot : int, default 200
        Bootstrap resamples.
    seed : int, default 0
        Seed of the resampling.

    Returns
    -------
    pandas.DataFrame
        One row per predictor: each metric with ``_lo`` and ``_hi`` bounds, ``n_facts``, ``n_buckets``.

    Raises
    ------
    SmiError
        When there are fewer than three facts.

    Notes
    -----
    The calibration slope is the OLS slope of accuracy on prediction,
    :math:`\\mathrm{cov}(a, \\hat a) / \\mathrm{var}(\\hat a)`: 1 when the predictions spread as much as
    the accuracies they track, below 1 when they are too confident.
    """
    acc = np.asarray(acc, dtype=float)
    n = len(acc)
    if n < 3:
        raise SmiError(f"need at least three facts to summarise, got {n}")
    rng = np.random.default_rng(seed)
    draws = rng.integers(0, n, size=(n_boot, n))
    weights = np.zeros((n_boot, n))
    for row in range(n_boot):
        weights[row] = np.bincount(draws[row], minlength=n)
    total = weights.sum(axis=1)
    acc_mean = weights @ acc / total
    sst = weights @ acc**2 - total * acc_mean**2
    acc_ranks = stats.rankdata(acc[draws], axis=1)

    def interval(samples: np.ndarray) -> tuple[float, float]:
        return tuple(float(v) for v in np.nanpercentile(samples, [2.5, 97.5]))

    rows, r2_samples = [], {}
    for name, pred in predictions.items():
        pred = np.asarray(pred, dtype=float)
        r2_boot = 1.0 - (weights @ (acc - pred) ** 2) / sst
        r2_samples[name] = r2_boot
        pred_mean = weights @ pred / total
        slope_boot = (weights @ (acc * pred) - total * acc_mean * pred_mean) / (
            weights @ pred**2 - total * pred_mean**2
        )
        rho_boot = _row_corr(acc_ranks, stats.rankdata(pred[draws], axis=1))
        row = {"predictor": name, "n_facts": n}
        estimates = {
            "r2": (regression.r_squared(acc, pred), r2_boot),
            "r2_bucketed": (bucketed_r2(acc, pred), _bootstrap_bucketed_r2(weights, acc, pred)),
            "spearman": (float(stats.spearmanr(acc, pred)[0]), rho_boot),
            "mean_acc": (float(acc.mean()), acc_mean),
            "mean_pred": (float(pred.mean()), pred_mean),
            "mean_error": (float(pred.mean() - acc.mean()), pred_mean - acc_mean),
            "calibration_slope": (calibration_slope(acc, pred), slope_boot),
        }
        if "smi" in predictions:
            estimates["r2_gain_over_smi"] = (None, None)  # filled below, once smi's samples exist
        for metric, (value, samples) in estimates.items():
            if samples is None:
                continue
            row[metric] = value
            row[f"{metric}_lo"], row[f"{metric}_hi"] = interval(samples)
        row["n_buckets"] = len(np.unique(prediction_buckets(pred)))
        rows.append(row)
    summary = pd.DataFrame(rows)
    if "smi" in predictions:
        smi_r2 = regression.r_squared(acc, predictions["smi"])
        gains = [
            (r - smi_r2, *interval(r2_samples[name] - r2_samples["smi"]))
            for name, r in zip(summary["predictor"], summary["r2"])
        ]
        summary[["r2_gain_over_smi", "r2_gain_over_smi_lo", "r2_gain_over_smi_hi"]] = gains
    return summary


SUMMARY_KEYS = ["model", "corpus", "series", "parameters"]


def interval_summary(rows: pd.DataFrame) -> dict:
    """The intervals of ``best`` on one held-out model's rows of :func:`evaluate`'s table.

    Parameters
    ----------
    rows : pandas.DataFrame
        One model's rows, with ``acc`` and :data:`INTERVAL_COLUMNS`.

    Returns
    -------
    dict
        Its mean-accuracy interval (``mean_lower``, ``mean_upper``, calibrated within its size class),
        whether it holds the measured mean (``mean_covered``), its width, the same for the interval
        calibrated on all inner models (``pooled_*``), the share of facts inside their per-fact interval
        (``fact_coverage``), the median per-fact width and the settings chosen in the fold.
    """
    mean_acc = float(rows["acc"].mean())
    lower, upper = float(rows["mean_lower"].iloc[0]), float(rows["mean_upper"].iloc[0])
    inside = (rows["acc"] >= rows["best_lower"]) & (rows["acc"] <= rows["best_upper"])
    pooled_lower, pooled_upper = float(rows["pooled_lower"].iloc[0]), float(rows["pooled_upper"].iloc[0])
    return {
        "mean_lower": lower,
        "mean_upper": upper,
        "mean_covered": bool(lower <= mean_acc <= upper),
        "mean_interval_width": upper - lower,
        "pooled_lower": pooled_lower,
        "pooled_upper": pooled_upper,
        "pooled_covered": bool(pooled_lower <= mean_acc <= pooled_upper),
        "pooled_width": pooled_upper - pooled_lower,
        "fact_coverage": float(inside.mean()),
        "fact_interval_width": float((rows["best_upper"] - rows["best_lower"]).median()),
        "selected": str(rows["selected"].iloc[0]),
    }


def uninformative(lower, upper) -> np.ndarray:
    """Which intervals span all of :math:`[0, 1]` and so say nothing about an accuracy.

    Parameters
    ----------
    lower, upper : array-like
        The intervals' bounds.

    Returns
    -------
    numpy.ndarray of bool
        :math:`\\ell \\le 0` and :math:`u \\ge 1`, per interval.
    """
    return (np.asarray(lower, dtype=float) <= 0) & (np.asarray(upper, dtype=float) >= 1)


def interval_coverage(lower, upper, covered) -> dict:
    """How often intervals hold their target, counting only the intervals that say something.

    An interval of :math:`[0, 1]` (what :func:`smi.prediction.mean_interval` gives when too few
    inner models calibrate it) holds every accuracy: it is reported apart, never as covered.

    Parameters
    ----------
    lower, upper : array-like
        The intervals' bounds.
    covered : array-like of bool
        Whether each interval holds its measured value.

    Returns
    -------
    dict
        ``intervals`` (all), ``uninformative`` (those that span :math:`[0, 1]`), ``informative``,
        ``covered`` (informative ones that hold their value) and ``median_width`` (of the
        informative ones; NaN when there are none).
    """
    lower, upper = np.asarray(lower, dtype=float), np.asarray(upper, dtype=float)
    covered = np.asarray(covered, dtype=bool)
    if not len(lower) == len(upper) == len(covered):
        raise SmiError("lower, upper and covered must have one value per interval")
    empty = uninformative(lower, upper)
    widths = (upper - lower)[~empty]
    return {
        "intervals": len(lower),
        "uninformative": int(empty.sum()),
        "informative": int((~empty).sum()),
        "covered": int(covered[~empty].sum()),
        "median_width": float(np.median(widths)) if len(widths) else float("nan"),
    }


def summarise(predictions: pd.DataFrame, n_boot: int = 200, seed: int = 0, progress: bool = False) -> pd.DataFrame:
    """:func:`bootstrap_summary` for every held-out model: one row per model and predictor.

    Parameters
    ----------
    predictions : pandas.DataFrame
        :func:`evaluate`'s table.
    n_boot : int, default 200
        Bootstrap resamples.
    seed : int, default 0
        Seed of the resampling.
    progress : bool, default False
        Whether to show a progress bar.

    Returns
    -------
    pandas.DataFrame
        The model's keys, then :func:`bootstrap_summary`'s columns, then (on the rows of ``best``)
        :func:`interval_summary`'s values.

    Raises
    ------
    SmiError
        When a metric is NaN (a held-out model with constant accuracy).
    """
    from tqdm.auto import tqdm

    columns = [c for c in predictions.columns if c.startswith("pred_")]
    parts = []
    for _model, rows in tqdm(
        list(predictions.groupby("model", sort=False)), desc="bootstrap", unit="model", disable=not progress
    ):
        table = bootstrap_summary(rows["acc"].to_numpy(), {c[5:]: rows[c].to_numpy() for c in columns}, n_boot, seed)
        for key in SUMMARY_KEYS:
            table.insert(SUMMARY_KEYS.index(key), key, rows[key].iloc[0])
        if set(INTERVAL_COLUMNS) <= set(rows.columns):
            for name, value in interval_summary(rows).items():
                table[name] = np.where(table["predictor"] == "best", value, None)
        parts.append(table)
    summary = pd.concat(parts, ignore_index=True)
    if summary[["r2", "r2_bucketed", "spearman", "mean_pred"]].isna().any().any():
        raise SmiError("a summary metric is NaN (a held-out model with constant accuracy?); refusing to write it")
    return summary
