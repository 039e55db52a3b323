"""Split-conformal prediction intervals: of a model's mean accuracy and of one fact's accuracy."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import special

#: Nominal coverage of the prediction intervals (of a model's mean accuracy and of one fact's accuracy).
COVERAGE = 0.9
#: The mean-accuracy interval of a model is calibrated on inner held-out models on its side of this size (1B).
INTERVAL_SIZE_CLASS = 1e9
#: Per-fact intervals are calibrated separately in this many equal-count bins of the prediction.
FACT_INTERVAL_BINS = 10


def _logit(value) -> np.ndarray:
    return special.logit(np.clip(np.asarray(value, dtype=float), 1e-4, 1 - 1e-4))


def conformal_quantile(scores: np.ndarray, coverage: float = COVERAGE) -> float:
    """The split-conformal quantile of calibration scores.

    Parameters
    ----------
    scores : array-like
        The n calibration scores.
    coverage : float, default :data:`COVERAGE`
        Nominal coverage c.

    Returns
    -------
    float
        The :math:`\\lceil c(n+1)\\rceil`-th smallest score, or infinity when that exceeds n (too few
        scores for the coverage).

    Notes
    -----
    For a new score exchangeable with the n calibration scores,
    :math:`P(s_{n+1} \\le q) \\ge c` (and :math:`< c + 1/(n+1)` without ties).
    """
    scores = np.sort(np.asarray(scores, dtype=float))
    rank = math.ceil(coverage * (len(scores) + 1) - 1e-9)
    return float(scores[rank - 1]) if 1 <= rank <= len(scores) else math.inf


def mean_interval(mean_prediction: float, logit_half_width: float) -> tuple[float, float]:
    """An interval symmetric on the logit scale.

    Parameters
    ----------
    mean_prediction : float
        The predicted mean accuracy :math:`\\hat{\\bar a}`.
    logit_half_width : float
        The half width q on the logit scale (a :func:`conformal_quantile`).

    Returns
    -------
    tuple of float
        Lower and upper bound; (0, 1) when ``logit_half_width`` is infinite.

    Notes
    -----
    :math:`[\\sigma(\\mathrm{logit}\\,\\hat{\\bar a} - q),\\ \\sigma(\\mathrm{logit}\\,\\hat{\\bar a} + q)]`
    """
    if not math.isfinite(logit_half_width):
        return 0.0, 1.0
    centre = float(_logit(mean_prediction))
    return float(special.expit(centre - logit_half_width)), float(special.expit(centre + logit_half_width))


@dataclass(frozen=True)
class FactIntervals:
    """Per-fact intervals calibrated in bins of the prediction.

    Attributes
    ----------
    edges : numpy.ndarray
        Lower edge of every prediction bin (the first bin also takes smaller predictions).
    half_widths : numpy.ndarray
        The half width :math:`q_b` of every bin.

    Notes
    -----
    :math:`[\\hat a - q_b, \\hat a + q_b] \\cap [0, 1]`, with :math:`q_b` the conformal quantile of the
    absolute residuals in the prediction bin b.
    """

    edges: np.ndarray
    half_widths: np.ndarray

    def bounds(self, predictions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Lower and upper bound of every prediction's interval.

        Parameters
        ----------
        predictions : array-like
            Per-fact predictions.

        Returns
        -------
        tuple of numpy.ndarray
            Lower and upper bounds, within [0, 1].
        """
        predictions = np.asarray(predictions, dtype=float)
        bins = np.clip(np.searchsorted(self.edges, predictions, side="right") - 1, 0, len(self.half_widths) - 1)
        half = self.half_widths[bins]
        return np.clip(predictions - half, 0, 1), np.clip(predictions + half, 0, 1)


def fit_fact_intervals(
    predictions: np.ndarray, residuals: np.ndarray, coverage: float = COVERAGE, bins: int = FACT_INTERVAL_BINS
) -> FactIntervals:
    """Calibrate per-fact intervals on held-out facts.

    :func:`conformal_quantile` of |residual| within each of ``bins`` equal-count bins of the
    prediction (a bin's quantile covers the facts predicted alike; capped at 1).

    Parameters
    ----------
    predictions : array-like
        Held-out predictions.
    residuals : array-like
        Their residuals, accuracy minus prediction.
    coverage : float, default :data:`COVERAGE`
        Nominal coverage.
    bins : int, default :data:`FACT_INTERVAL_BINS`
        Number of equal-count bins (fewer when quantiles coincide).

    Returns
    -------
    FactIntervals
        The intervals; [0, 1] for every fact when there is nothing to calibrate on.
    """
    predictions, residuals = np.asarray(predictions, dtype=float), np.asarray(residuals, dtype=float)
    if len(predictions) == 0:
        return FactIntervals(np.array([0.0]), np.array([1.0]))
    edges = np.unique(np.quantile(predictions, np.linspace(0, 1, bins + 1)[:-1]))
    which = np.clip(np.searchsorted(edges, predictions, side="right") - 1, 0, len(edges) - 1)
    half_widths = np.array(
        [min(conformal_quantile(np.abs(residuals[which == b]), coverage), 1.0) for b in range(len(edges))]
    )
    return FactIntervals(edges, half_widths)
