"""Nested selection: the settings of ``best`` chosen by an inner leave-one-group-out on the training models.

The same inner held-out predictions calibrate the intervals (:class:`Selection`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from smi.prediction.estimators import fit_ranking, ranking_input
from smi.prediction.intervals import (
    COVERAGE,
    INTERVAL_SIZE_CLASS,
    FactIntervals,
    _logit,
    conformal_quantile,
    fit_fact_intervals,
    mean_interval,
)
from smi.prediction.levels import fit_level_model, model_levels, shift_to_mean
from smi.prediction.settings import FIXED_SETTINGS, FitSettings, settings_grid


def inner_group_column(group_column: str) -> str:
    """The groups of the inner leave-one-group-out.

    Parameters
    ----------
    group_column : str
        The outer scheme's group column.

    Returns
    -------
    str
        ``series`` under leave-one-series-out, else ``corpus`` (under leave-one-model-out a corpus is
        stricter and far cheaper than one model at a time).
    """
    return "series" if group_column == "series" else "corpus"


@dataclass
class Selection:
    """What the inner leave-one-group-out on the training models found.

    Attributes
    ----------
    settings : FitSettings
        The chosen settings.
    scores : pandas.DataFrame
        One row per setting of the grid: its label, the inner held-out per-fact mean squared error
        (``fact_mse``) and mean absolute error of the mean accuracy (``mean_abs_error``).
    mean_scores : numpy.ndarray
        The conformity score of every inner held-out model under the chosen settings.
    fact_predictions, fact_residuals : numpy.ndarray
        Prediction and residual (accuracy minus prediction) of every inner held-out fact under them.
    mean_parameters : numpy.ndarray
        The size of every inner held-out model.

    Notes
    -----
    The conformity score of a model is :math:`|\\mathrm{logit}\\,\\hat{\\bar a} - \\mathrm{logit}\\,\\bar a|`.
    """

    settings: FitSettings
    scores: pd.DataFrame
    mean_scores: np.ndarray
    fact_predictions: np.ndarray
    fact_residuals: np.ndarray
    mean_parameters: np.ndarray = field(default_factory=lambda: np.array([]))

    def mean_interval(
        self, mean_prediction: float, parameters: float | None = None, coverage: float = COVERAGE
    ) -> tuple[float, float]:
        """Split-conformal interval of a new model's mean accuracy (see :func:`mean_interval`).

        Parameters
        ----------
        mean_prediction : float
            The model's predicted mean accuracy.
        parameters : float or None, default None
            Its size: calibrate only on the inner held-out models on the same side of
            :data:`INTERVAL_SIZE_CLASS` (a Mondrian split, since the level's errors differ between
            the two); None: on all of them (pooled).
        coverage : float, default :data:`COVERAGE`
            Nominal coverage.

        Returns
        -------
        tuple of float
            Lower and upper bound.
        """
        scores = self.mean_scores
        if parameters is not None:
            scores = scores[(self.mean_parameters >= INTERVAL_SIZE_CLASS) == (parameters >= INTERVAL_SIZE_CLASS)]
        return mean_interval(mean_prediction, conformal_quantile(scores, coverage))

    def fact_intervals(self, coverage: float = COVERAGE) -> FactIntervals:
        """Per-fact intervals calibrated on the inner held-out facts (see :func:`fit_fact_intervals`).

        Parameters
        ----------
        coverage : float, default :data:`COVERAGE`
            Nominal coverage.

        Returns
        -------
        FactIntervals
            The calibrated intervals.
        """
        return fit_fact_intervals(self.fact_predictions, self.fact_residuals, coverage)


def select_settings(
    train: pd.DataFrame,
    features: pd.DataFrame,
    group_column: str,
    gbm_iterations: int = 300,
    seed: int = 0,
    grid: list[FitSettings] | None = None,
    cache: dict | None = None,
) -> Selection:
    """Choose the :class:`FitSettings` of ``best`` from the training models alone.

    Each group of :func:`inner_group_column` is held out of ``train`` in turn; every
    ranking model and every level model of ``grid`` is fitted on the rest and every
    combination predicts the held-out facts as ``best`` does. The setting with the
    smallest mean squared error over all inner held-out facts wins (ties: the earlier
    in the grid).

    Parameters
    ----------
    train : pandas.DataFrame
        The training rows of a long accuracy frame.
    features : pandas.DataFrame
        :func:`fact_features` of ``train``'s rows.
    group_column : str
        The outer scheme's group column (see :func:`inner_group_column`).
    gbm_iterations : int, default 300
        Boosting iterations.
    seed : int, default 0
        Boosting seed.
    grid : list of FitSettings or None, default None
        The settings to choose from (None: :func:`settings_grid`).
    cache : dict or None, default None
        Keeps fitted ranking models by their training models and settings, for reuse when
        another outer fold trains on the same models.

    Returns
    -------
    Selection
        The chosen settings with their scores and the inner held-out errors that calibrate
        the intervals; :data:`FIXED_SETTINGS` and empty arrays when no inner fold can be fitted.

    Notes
    -----
    The per-fact error of ``best`` is
    :math:`\\sum_m \\sum_i (a_{mi} - \\sigma(\\mathrm{logit}\\,r_{mi} + \\delta_m))^2`
    with :math:`r` the ranking model's prediction and :math:`\\delta_m` the shift that
    gives the level model's mean; level and ranking are thus chosen jointly.
    """
    grid = settings_grid() if grid is None else list(grid)
    inner_column = inner_group_column(group_column)
    rankings = list(dict.fromkeys(setting.ranking_part for setting in grid))
    level_parts = list(dict.fromkeys(setting.level_part for setting in grid))
    relations = sorted(train["rel"].unique())
    held_out_models = []  # (acc, parameters, tokens, {ranking: raw prediction}, {level part: level model})
    for group in dict.fromkeys(train[inner_column]):
        held = (train[inner_column] == group).to_numpy()
        inner_train, inner_test = train[~held], train[held]
        if inner_train["model"].nunique() < 2 or inner_train["parameters"].nunique() < 2:
            continue
        levels = model_levels(inner_train)
        level_models = {part: fit_level_model(levels, inner_column, part[0], part[1]) for part in level_parts}
        raw = {}
        for ranking in rankings:
            key = (tuple(sorted(inner_train["model"].unique())), ranking, tuple(relations), gbm_iterations, seed)
            model = None if cache is None else cache.get(key)
            if model is None:
                model = fit_ranking(inner_train, features[~held], ranking, gbm_iterations, seed, relations)
                if cache is not None:
                    cache[key] = model
            raw[ranking] = model.predict(ranking_input(features[held], inner_test))
        for rows in inner_test.groupby("model", sort=False).indices.values():
            first = inner_test.iloc[rows[0]]
            tokens = float(first["tokens"]) if "tokens" in inner_test.columns else None
            held_out_models.append(
                (
                    inner_test["acc"].to_numpy(dtype=float)[rows],
                    float(first["parameters"]),
                    tokens,
                    {r: values[rows] for r, values in raw.items()},
                    level_models,
                )
            )
    if not held_out_models:
        empty = np.array([])
        return Selection(FIXED_SETTINGS, pd.DataFrame(), empty, empty, empty)
    squared, absolute, n_facts = np.zeros(len(grid)), np.zeros(len(grid)), 0
    for acc, parameters, tokens, raw, level_models in held_out_models:
        n_facts += len(acc)
        for number, setting in enumerate(grid):
            predicted = shift_to_mean(
                raw[setting.ranking_part], level_models[setting.level_part].mean_accuracy(parameters, tokens)
            )
            squared[number] += np.sum((acc - predicted) ** 2)
            absolute[number] += abs(predicted.mean() - acc.mean())
    scores = pd.DataFrame(
        {
            "settings": [setting.label() for setting in grid],
            "fact_mse": squared / n_facts,
            "mean_abs_error": absolute / len(held_out_models),
        }
    )
    chosen = grid[int(np.argmin(squared))]
    mean_scores, fact_predictions, fact_residuals = [], [], []
    mean_parameters = [parameters for _, parameters, _, _, _ in held_out_models]
    for acc, parameters, tokens, raw, level_models in held_out_models:
        predicted = shift_to_mean(
            raw[chosen.ranking_part], level_models[chosen.level_part].mean_accuracy(parameters, tokens)
        )
        mean_scores.append(abs(_logit(predicted.mean()) - _logit(acc.mean())))
        fact_predictions.append(predicted)
        fact_residuals.append(acc - predicted)
    return Selection(
        chosen,
        scores,
        np.array(mean_scores),
        np.concatenate(fact_predictions),
        np.concatenate(fact_residuals),
        np.array(mean_parameters, dtype=float),
    )
