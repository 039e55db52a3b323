"""The level model: a model's mean accuracy from its size (and training tokens).

A :class:`SizeTrend` is one line of logit mean accuracy in log10 P; a
:class:`LevelModel` holds the trends ``best`` uses; :func:`shift_to_mean`
moves per-fact predictions to a level without changing their ranking.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import statsmodels.api as sm
from scipy import optimize, special

from smi.errors import SmiError

#: The size trend of ``best`` is fitted on training models at least this large (see :func:`fit_level_model`).
TREND_MIN_PARAMETERS = 1e9


# ---------------------------------------------------------------- level of a model from its size


@dataclass(frozen=True)
class SizeTrend:
    """Mean accuracy against model size, optionally flat in P beyond the largest P seen.

    Attributes
    ----------
    intercept, slope : float
        :math:`\\gamma_0` and :math:`\\gamma_1`.
    largest_log_params : float
        :math:`\\log_{10}` of the largest training size.
    flat_beyond_largest : bool
        Whether larger models get the largest training size's level.
    tokens_slope : float or None
        :math:`\\gamma_2`, when the trend has a training-tokens term.

    Notes
    -----
    :math:`\\mathrm{logit}\\,\\bar a = \\gamma_0 + \\gamma_1 \\log_{10} P\\ (+ \\gamma_2 \\log_{10} T)`.
    """

    intercept: float
    slope: float
    largest_log_params: float
    flat_beyond_largest: bool
    tokens_slope: float | None = None

    def mean_accuracy(self, parameters: float, tokens: float | None = None) -> float:
        """Predicted mean accuracy of a model.

        Parameters
        ----------
        parameters : float
            Its size P.
        tokens : float or None, default None
            Its training tokens T, needed when the trend has a tokens term.

        Returns
        -------
        float
            :math:`\\sigma(\\gamma_0 + \\gamma_1 \\log_{10} P\\ (+ \\gamma_2 \\log_{10} T))`, with
            :math:`\\log_{10} P` capped at the largest training size when flat beyond it.
        """
        log_params = np.log10(float(parameters))
        if self.flat_beyond_largest:
            log_params = min(log_params, self.largest_log_params)
        logit = self.intercept + self.slope * log_params
        if self.tokens_slope is not None:
            logit += self.tokens_slope * np.log10(float(tokens))
        return float(special.expit(logit))


def model_levels(frame: pd.DataFrame) -> pd.DataFrame:
    """One row per model of a long accuracy frame.

    Parameters
    ----------
    frame : pandas.DataFrame
        Rows with ``model``, ``corpus``, ``series``, ``parameters``, ``acc`` (and ``tokens``).

    Returns
    -------
    pandas.DataFrame
        model, corpus, series, parameters, tokens (NaN where unknown) and ``mean_acc``, in order of appearance.
    """
    frame = frame if "tokens" in frame.columns else frame.assign(tokens=np.nan)
    return (
        frame.groupby("model", sort=False)
        .agg(
            corpus=("corpus", "first"),
            series=("series", "first"),
            parameters=("parameters", "first"),
            tokens=("tokens", "first"),
            mean_acc=("acc", "mean"),
        )
        .reset_index()
    )


def fit_size_trend(levels: pd.DataFrame, flat_beyond_largest: bool, with_tokens: bool = False) -> SizeTrend:
    """OLS of logit(mean accuracy) on log10 P (and, ``with_tokens``, log10 T) over the models of ``levels``.

    Parameters
    ----------
    levels : pandas.DataFrame
        :func:`model_levels` of the training models.
    flat_beyond_largest : bool
        Whether the trend is held flat beyond the largest size of ``levels``.
    with_tokens : bool, default False
        Whether to add the training-tokens term.

    Returns
    -------
    SizeTrend
        The fitted trend.

    Raises
    ------
    SmiError
        When ``levels`` has fewer than two sizes.

    Notes
    -----
    Mean accuracies are clipped to :math:`[10^{-4}, 1 - 10^{-4}]` before the logit.
    """
    log_params = np.log10(levels["parameters"].to_numpy(dtype=float))
    if len(np.unique(log_params)) < 2:
        raise SmiError("the size trend needs training models of at least two sizes")
    mean_acc = np.clip(levels["mean_acc"].to_numpy(dtype=float), 1e-4, 1 - 1e-4)
    columns = [log_params] + ([np.log10(levels["tokens"].to_numpy(dtype=float))] if with_tokens else [])
    fit = sm.OLS(special.logit(mean_acc), sm.add_constant(np.column_stack(columns), has_constant="add")).fit()
    values = [float(v) for v in fit.params]
    return SizeTrend(
        values[0], values[1], float(log_params.max()), flat_beyond_largest, values[2] if with_tokens else None
    )


def choose_size_trend(
    levels: pd.DataFrame, group_column: str, min_parameters: float = 0.0, with_tokens: bool = False
) -> SizeTrend:
    """Fit the size trend on the models of at least ``min_parameters`` parameters, choosing
    'extrapolate' or 'flat beyond the largest' by inner leave-one-group-out.

    Each training group is held out in turn; the rule with the smaller mean
    absolute error of the held-out models' mean accuracy (models of at least
    ``min_parameters``) wins (ties: flat).

    Parameters
    ----------
    levels : pandas.DataFrame
        :func:`model_levels` of the training models.
    group_column : str
        The column whose values are held out in turn.
    min_parameters : float, default 0.0
        Models below this size are left out.
    with_tokens : bool, default False
        Whether to add log10 T to the trend (``levels`` must then hold only models with known ``tokens``).

    Returns
    -------
    SizeTrend
        The trend fitted on all models of at least ``min_parameters``, with the chosen rule.

    Raises
    ------
    SmiError
        When fewer than two sizes remain.
    """
    levels = levels[levels["parameters"] >= min_parameters]
    errors = {True: [], False: []}
    for group in levels[group_column].unique():
        inner_train = levels[levels[group_column] != group]
        inner_test = levels[levels[group_column] == group]
        if not _trend_identified(inner_train, with_tokens):
            continue
        for flat in errors:
            trend = fit_size_trend(inner_train, flat, with_tokens)
            errors[flat] += [
                abs(trend.mean_accuracy(p, t) - a)
                for p, t, a in zip(
                    inner_test["parameters"],
                    inner_test["tokens"] if with_tokens else inner_test["parameters"],
                    inner_test["mean_acc"],
                )
            ]
    flat = not errors[False] or np.mean(errors[True]) <= np.mean(errors[False])
    return fit_size_trend(levels, flat, with_tokens)


#: A tokens term needs at least this many training models with known tokens, whose tokens span this
#: factor; below that the size trend is used alone.
TOKENS_MIN_MODELS = 4
TOKENS_MIN_SPREAD = 1.2


def _trend_identified(levels: pd.DataFrame, with_tokens: bool) -> bool:
    """Whether the trend's coefficients can be estimated from ``levels``: two sizes, and with tokens
    :data:`TOKENS_MIN_MODELS` models and tokens spanning :data:`TOKENS_MIN_SPREAD` and not a function of size."""
    if levels["parameters"].nunique() < 2:
        return False
    if not with_tokens:
        return True
    if len(levels) < TOKENS_MIN_MODELS or levels["tokens"].max() < TOKENS_MIN_SPREAD * levels["tokens"].min():
        return False
    design = np.column_stack(
        [
            np.ones(len(levels)),
            np.log10(levels["parameters"].to_numpy(dtype=float)),
            np.log10(levels["tokens"].to_numpy(dtype=float)),
        ]
    )
    return np.linalg.matrix_rank(design) == 3


@dataclass(frozen=True)
class LevelModel:
    """Mean accuracy from model size, from up to three trends.

    Attributes
    ----------
    all_models : SizeTrend
        The trend of all training models.
    large : SizeTrend or None
        The trend of the models of at least ``min_parameters`` (None when they have too few sizes).
    min_parameters : float
        The size from which ``large`` (and ``tokens``) apply.
    tokens : SizeTrend or None
        A trend in size and training tokens for models of at least ``min_parameters`` whose tokens are known.
    """

    all_models: SizeTrend
    large: SizeTrend | None
    min_parameters: float
    tokens: SizeTrend | None = None

    def mean_accuracy(self, parameters: float, tokens: float | None = None) -> float:
        """Predicted mean accuracy of a model.

        Parameters
        ----------
        parameters : float
            Its size.
        tokens : float or None, default None
            Its training tokens, when known.

        Returns
        -------
        float
            From ``tokens`` when the model is large and its tokens are known, else from ``large`` for a large
            model when there is one, else from ``all_models``.
        """
        large_model = parameters >= self.min_parameters
        if self.tokens is not None and large_model and tokens is not None and np.isfinite(tokens):
            return self.tokens.mean_accuracy(parameters, tokens)
        use_large = self.large is not None and large_model
        return (self.large if use_large else self.all_models).mean_accuracy(parameters)


def fit_level_model(
    levels: pd.DataFrame, group_column: str, min_parameters: float = TREND_MIN_PARAMETERS, with_tokens: bool = False
) -> LevelModel:
    """:func:`choose_size_trend` on all training models, and on those of at least ``min_parameters``.

    The separate trend of the large models is fitted only when these have at least three sizes
    spanning a factor of 3 or more (a line through two nearly equal sizes extrapolates wildly);
    ``with_tokens``, also one on those of them with known tokens, with a tokens term, when
    :func:`_trend_identified` allows it.

    Parameters
    ----------
    levels : pandas.DataFrame
        :func:`model_levels` of the training models.
    group_column : str
        The column whose values the inner leave-one-group-out holds out.
    min_parameters : float, default :data:`TREND_MIN_PARAMETERS`
        The size from which the separate trend applies.
    with_tokens : bool, default False
        Whether to fit the trend with training tokens.

    Returns
    -------
    LevelModel
        The fitted trends.
    """
    large_sizes = np.log10(levels.loc[levels["parameters"] >= min_parameters, "parameters"].unique().astype(float))
    enough = len(large_sizes) >= 3 and np.ptp(large_sizes) >= np.log10(3)
    large = choose_size_trend(levels, group_column, min_parameters) if enough else None
    token_trend = None
    if with_tokens and "tokens" in levels.columns:
        known = levels[(levels["parameters"] >= min_parameters) & levels["tokens"].notna()]
        if _trend_identified(known, True):
            token_trend = choose_size_trend(known, group_column, min_parameters, with_tokens=True)
    return LevelModel(choose_size_trend(levels, group_column), large, min_parameters, token_trend)


def held_out_levels(
    levels: pd.DataFrame, group_column: str, min_parameters: float = TREND_MIN_PARAMETERS, with_tokens: bool = False
) -> pd.DataFrame:
    """The level model's held-out mean accuracy of every model.

    Each group of ``group_column`` is held out in turn and :func:`fit_level_model` fitted on the
    other models of ``levels``. The mean of ``best``'s prediction is this level, so the mean error of
    ``best`` under the same settings is this error: a quick way to compare level models (e.g. with and
    without training tokens).

    Parameters
    ----------
    levels : pandas.DataFrame
        :func:`model_levels` of all models.
    group_column : str
        The column whose values are held out in turn.
    min_parameters : float, default :data:`TREND_MIN_PARAMETERS`
        As in :func:`fit_level_model`.
    with_tokens : bool, default False
        As in :func:`fit_level_model`.

    Returns
    -------
    pandas.DataFrame
        ``levels`` with ``mean_pred`` and ``mean_error`` (predicted minus measured).
    """
    predicted = levels.copy()
    predicted["mean_pred"] = np.nan
    for group in dict.fromkeys(levels[group_column]):
        held = (levels[group_column] == group).to_numpy()
        level = fit_level_model(levels[~held], group_column, min_parameters, with_tokens)
        predicted.loc[held, "mean_pred"] = [
            level.mean_accuracy(p, t) for p, t in zip(levels.loc[held, "parameters"], levels.loc[held, "tokens"])
        ]
    predicted["mean_error"] = predicted["mean_pred"] - predicted["mean_acc"]
    return predicted


def shift_to_mean(predictions: np.ndarray, target: float) -> np.ndarray:
    """Move predictions to a target mean on the logit scale, keeping their ranking.

    Parameters
    ----------
    predictions : array-like
        Per-fact predictions in [0, 1].
    target : float
        The mean they should have.

    Returns
    -------
    numpy.ndarray
        :math:`\\sigma(\\mathrm{logit}\\,\\hat p + \\delta)`.

    Notes
    -----
    :math:`\\delta` solves :math:`\\frac1n \\sum_i \\sigma(\\mathrm{logit}\\,\\hat p_i + \\delta) = \\bar a`
    (Brent's method on [-30, 30]); predictions and target are clipped to
    :math:`[10^{-4}, 1 - 10^{-4}]` first.
    """
    logits = special.logit(np.clip(np.asarray(predictions, dtype=float), 1e-4, 1 - 1e-4))
    target = float(np.clip(target, 1e-4, 1 - 1e-4))
    delta = optimize.brentq(lambda d: special.expit(logits + d).mean() - target, -30.0, 30.0)
    return special.expit(logits + delta)
