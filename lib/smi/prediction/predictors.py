"""Every predictor fitted together on one set of training models, and their per-fact predictions.

:func:`fit_predictors` fits the SMI line, the ranking estimators of
:mod:`smi.prediction.estimators` and the level models of
:mod:`smi.prediction.levels`; :func:`predict_model` turns them into the
``pred_<name>`` columns of :data:`PREDICTORS` for one model.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from smi import regression
from smi.errors import SmiError
from smi.formats import check_parameters
from smi.prediction.estimators import BoostingRanker, GlmRanker, check_relations, fit_ranking, ranking_input
from smi.prediction.features import NEEDED_FACT_FIELDS, fact_features, smi_column, smi_values
from smi.prediction.levels import LevelModel, fit_level_model, model_levels, shift_to_mean
from smi.prediction.settings import FIXED_SETTINGS, LEAF_FACTS, FitSettings

PREDICTORS = ("smi", "glm", "gbm_counts", "gbm", "best_fixed", "best")


@dataclass
class FittedPredictors:
    """Every predictor fitted on one set of training models.

    Attributes
    ----------
    smi_line : smi.regression.PerFactFit
        The line of accuracy on SMI.
    glm : GlmRanker
        The GLM with question features.
    gbm_counts, gbm : BoostingRanker
        The boosting without and with question features (leaves of :data:`LEAF_FACTS` facts).
    level : LevelModel
        The level model of ``best_fixed``.
    relations : list of str
        The training relations.
    best_ranking : GlmRanker or BoostingRanker or None
        The ranking model of ``best`` (None: ``gbm``).
    best_level : LevelModel or None
        The level model of ``best`` (None: ``level``).
    settings : FitSettings
        The settings of ``best``.
    """

    smi_line: regression.PerFactFit
    glm: GlmRanker
    gbm_counts: BoostingRanker
    gbm: BoostingRanker
    level: LevelModel
    relations: list[str] = field(default_factory=list)
    best_ranking: GlmRanker | BoostingRanker | None = None
    best_level: LevelModel | None = None
    settings: FitSettings = FIXED_SETTINGS


def fit_predictors(
    train: pd.DataFrame,
    group_column: str = "model",
    gbm_iterations: int = 300,
    seed: int = 0,
    settings: FitSettings | None = None,
    features: pd.DataFrame | None = None,
) -> FittedPredictors:
    """Fit SMI line, GLM, both boosting models and the size trends on a long accuracy frame.

    Parameters
    ----------
    train : pandas.DataFrame
        :func:`smi.release.load_accuracies` output (or rows of it).
    group_column : str, default "model"
        The groups the size trend's extrapolation rule is validated over.
    gbm_iterations : int, default 300
        Boosting iterations.
    seed : int, default 0
        Boosting seed.
    settings : FitSettings or None, default None
        The choices of ``best`` (None: :data:`FIXED_SETTINGS`); a ranking model they name that is one of
        the fixed ones is reused.
    features : pandas.DataFrame or None, default None
        :func:`fact_features` of ``train`` when already computed.

    Returns
    -------
    FittedPredictors
        Every fitted predictor.

    Raises
    ------
    SmiError
        When ``train`` holds fewer than two models (or two sizes).

    Notes
    -----
    The SMI line is the OLS fit :math:`\\hat a = \\beta_0 + \\beta_1\\,\\mathrm{SMI}` over all training facts.
    """
    if train["model"].nunique() < 2:
        raise SmiError("training needs at least two models")
    settings = FIXED_SETTINGS if settings is None else settings
    relations = sorted(train["rel"].unique())
    features = fact_features(train, train["parameters"].to_numpy(dtype=float)) if features is None else features

    smi_line = regression.per_fact_fit(smi_column(train), train["acc"].to_numpy(dtype=float))
    fixed = {("glm", True, 0): None, ("gbm", False, LEAF_FACTS): None, ("gbm", True, LEAF_FACTS): None}
    for ranking in fixed:
        fixed[ranking] = fit_ranking(train, features, ranking, gbm_iterations, seed, relations)
    levels = model_levels(train)
    level = fit_level_model(levels, group_column)
    best_ranking = fixed.get(settings.ranking_part) or fit_ranking(
        train, features, settings.ranking_part, gbm_iterations, seed, relations
    )
    best_level = fit_level_model(levels, group_column, settings.trend_min_parameters, settings.tokens)
    return FittedPredictors(
        smi_line,
        fixed[("glm", True, 0)],
        fixed[("gbm", False, LEAF_FACTS)],
        fixed[("gbm", True, LEAF_FACTS)],
        level,
        relations,
        best_ranking,
        best_level,
        settings,
    )


def predict_model(
    fitted: FittedPredictors,
    counts: pd.DataFrame,
    parameters: float,
    source: str = "counts",
    tokens: float | None = None,
) -> pd.DataFrame:
    """Per-fact predicted accuracy of one model from its corpus counts, size and probe facts.

    Parameters
    ----------
    fitted : FittedPredictors
        The fitted predictors.
    counts : pandas.DataFrame
        The model's facts: :data:`NEEDED_FACT_FIELDS` and the counts of :func:`fact_features`.
    parameters : float
        The model's size.
    source : str, default "counts"
        What ``counts`` came from, for messages.
    tokens : float or None, default None
        The model's training tokens, when known.

    Returns
    -------
    pandas.DataFrame
        Same index as ``counts``: one ``pred_<name>`` column per name in :data:`PREDICTORS`.

    Raises
    ------
    SmiError
        When the size is not a raw count, a fact field is missing or a relation was not seen in training.

    Notes
    -----
    ``best_fixed`` and ``best`` are :func:`shift_to_mean` of their ranking model's predictions to their
    level model's :math:`\\bar a(P)` (and :math:`T`); ``smi`` is the SMI line clipped to [0, 1].
    """
    check_parameters(parameters, f"{source}: the model size")
    missing = [name for name in NEEDED_FACT_FIELDS if name not in counts.columns]
    if missing:
        raise SmiError(f"{source}: missing field '{missing[0]}' (needed: {', '.join(NEEDED_FACT_FIELDS)})")
    check_relations(counts["rel"], fitted.relations, source)
    features = fact_features(counts, parameters)
    smi = smi_values(counts, parameters)
    predictions = pd.DataFrame(index=counts.index)
    predictions["pred_smi"] = np.clip(fitted.smi_line.intercept + fitted.smi_line.slope * smi, 0, 1)
    rows = ranking_input(features, counts)
    predictions["pred_glm"] = fitted.glm.predict(rows)
    predictions["pred_gbm_counts"] = fitted.gbm_counts.predict(rows)
    gbm = fitted.gbm.predict(rows)
    predictions["pred_gbm"] = gbm
    predictions["pred_best_fixed"] = shift_to_mean(gbm, fitted.level.mean_accuracy(parameters))
    ranking = fitted.best_ranking or fitted.gbm
    level = fitted.best_level or fitted.level
    ranked = gbm if ranking is fitted.gbm else ranking.predict(rows)
    predictions["pred_best"] = shift_to_mean(ranked, level.mean_accuracy(parameters, tokens))
    return predictions
