"""Out-of-sample prediction of per-fact accuracy from what is known before training.

A predictor sees, for every fact, only the document counts of the model's
pre-training corpus, the corpus size :math:`N`, the model size :math:`P` and the
fact's relation. It is fitted on some models and judged on models it has never
seen: every model of a held-out group (one model, one corpus, or one series).

Features of one fact (counts :math:`n_s, n_o, n_{so}` smoothed by
:math:`+\\tfrac12` so that a zero has a logarithm):

* document probabilities :math:`\\log_{10} p(s)`, :math:`\\log_{10} p(o)` (the
  object's own frequency) and :math:`\\log_{10} p(s,o)`, each :math:`n / N`;
* :math:`\\mathrm{PMI} = \\log_{10} \\frac{p(s,o)}{p(s)\\,p(o)}`;
* conditional shares :math:`\\log_{10} p(o \\mid s) = \\log_{10} n_{so}/n_s` and
  :math:`\\log_{10} p(s \\mid o) = \\log_{10} n_{so}/n_o`;
* exposure :math:`\\log_{10} n_{so}, \\log_{10} n_s, \\log_{10} n_o` (gradient boosting only);
* :math:`\\log_{10} P` and the relation.

Two more features describe the question itself and need no corpus at all (see
:func:`question_features`): how common the fact's answer is among the probe
facts of its relation (a model that always gives a relation's most frequent
answer is right on all of those facts), and whether the answer is written inside
the subject's name ("University of Oslo" → "Oslo"), so that it can be copied
from the prompt.

Predictors (columns ``pred_<name>`` of :func:`evaluate`):

``smi``
    the paper's SMI, with one line :math:`\\hat a = \\beta_0 + \\beta_1\\,\\mathrm{SMI}`
    fitted by OLS on every fact of the training models pooled (facts with
    MI ≤ 0 have no bucket and get SMI = 0).
``glm``
    a binomial GLM (logit link, fractional response) on the three log
    probabilities and the two question features, :math:`\\log_{10} P`, their
    products with :math:`\\log_{10} P` and one indicator per relation.
``gbm_counts``
    histogram gradient boosting (squared loss, a fixed number of iterations, no
    early stopping) on the corpus features, size and relation only, clipped to
    [0, 1]: what the counts alone predict.
``gbm``
    the same boosting with the two question features added.
``best``
    ``gbm`` re-levelled to a model-size trend: the per-fact logits are shifted by
    one constant :math:`\\delta` so that the mean prediction equals
    :math:`\\bar a(P) = \\sigma(\\gamma_0 + \\gamma_1 \\log_{10} P)`, fitted on the
    mean accuracies of the training models with at least
    :data:`TREND_MIN_PARAMETERS` parameters (of all training models for a smaller
    model). Whether that trend is extrapolated beyond the largest training model
    or held flat there is decided by an inner leave-one-group-out on the
    training models only.

Why ``best``: trees rank facts well but cannot extrapolate, so a held-out
model larger or smaller than the training ones gets the accuracy level of its
nearest neighbour in size; a smooth size trend sets the level, the trees the
ranking. The trend leaves out models below 1B parameters because their mean
accuracy sits near a floor (about 0.05 for the smallest) where the logit line
bends; the paper, too, reads its law only above 1B.

The package holds one idea per module; every name used elsewhere is re-exported
here, so ``from smi import prediction; prediction.evaluate(...)`` works as before.

===========================================  ==============================================================
:mod:`~smi.prediction.features`              fact features from the counts, question features, SMI values
:mod:`~smi.prediction.levels`                the level model: mean accuracy from model size (and tokens)
:mod:`~smi.prediction.settings`              :class:`FitSettings` of ``best`` and the grid of the selection
:mod:`~smi.prediction.designs`               the ranking models' design matrices as column transformers
:mod:`~smi.prediction.estimators`            ranking models as scikit-learn estimators, fitted on their design
:mod:`~smi.prediction.predictors`            every predictor fitted together; one model's ``pred_<name>`` columns
:mod:`~smi.prediction.intervals`             split-conformal intervals of mean and per-fact accuracy
:mod:`~smi.prediction.selection`             nested selection of the settings (inner leave-one-group-out)
:mod:`~smi.prediction.evaluation`            cross-validation with saved folds keyed on data, settings, code
:mod:`~smi.prediction.summary`               R², bucketed R², Spearman ρ, calibration with bootstrap CIs
:mod:`~smi.prediction.io`                    counts in, evaluation and prediction files out; a new model
===========================================  ==============================================================
"""

from __future__ import annotations

from smi.prediction.designs import (
    RELATION,
    QuantileBins,
    SampleStandardiser,
    boosting_design,
    glm_design,
)
from smi.prediction.estimators import (
    MODEL,
    BoostingRanker,
    GlmRanker,
    check_relations,
    fit_ranking,
    ranking_input,
)
from smi.prediction.evaluation import (
    FOLD_KEY_FIELD,
    INTERVAL_COLUMNS,
    PREDICTION_COLUMNS,
    SCHEMES,
    check_seed,
    evaluate,
    evaluation_key,
    fold_code_version,
    fold_key,
    fold_path,
    load_fold,
    package_sources,
    save_fold,
    scheme_column,
)
from smi.prediction.features import (
    EXPOSURE_FEATURES,
    GLM_FEATURES,
    NEEDED_COUNTS,
    NEEDED_FACT_FIELDS,
    NORMALISED_FEATURES,
    QUESTION_FEATURES,
    SIZE_FEATURE,
    SMOOTHING,
    fact_features,
    question_features,
    smi_column,
    smi_values,
)
from smi.prediction.intervals import (
    COVERAGE,
    FACT_INTERVAL_BINS,
    INTERVAL_SIZE_CLASS,
    FactIntervals,
    conformal_quantile,
    fit_fact_intervals,
    mean_interval,
)
from smi.prediction.io import (
    EVALUATION_FILES,
    NewModelPrediction,
    ReleaseEvaluation,
    evaluate_release,
    evaluation_paths,
    load_counts_file,
    predict_new_model,
    write_evaluation,
    write_predicted,
)
from smi.prediction.levels import (
    TOKENS_MIN_MODELS,
    TOKENS_MIN_SPREAD,
    TREND_MIN_PARAMETERS,
    LevelModel,
    SizeTrend,
    choose_size_trend,
    fit_level_model,
    fit_size_trend,
    held_out_levels,
    model_levels,
    shift_to_mean,
)
from smi.prediction.predictors import (
    PREDICTORS,
    FittedPredictors,
    fit_predictors,
    predict_model,
)
from smi.prediction.selection import (
    Selection,
    inner_group_column,
    select_settings,
)
from smi.prediction.settings import (
    FEATURE_BINS,
    FEATURE_DECIMALS,
    FIXED_SETTINGS,
    LEAF_FACTS,
    MAX_BOOTSTRAP,
    RANKING_GRID,
    TOKENS_GRID,
    TREND_GRID,
    FitSettings,
    check_bootstrap,
    check_gbm_iterations,
    check_threads,
    settings_grid,
)
from smi.prediction.summary import (
    PREDICTION_BIN_WIDTH,
    SUMMARY_KEYS,
    _bootstrap_bucketed_r2,
    bootstrap_summary,
    bucketed_r2,
    calibration_bins,
    calibration_slope,
    interval_coverage,
    interval_summary,
    prediction_buckets,
    summarise,
    uninformative,
)

__all__ = [
    "COVERAGE",
    "EVALUATION_FILES",
    "EXPOSURE_FEATURES",
    "FACT_INTERVAL_BINS",
    "FEATURE_BINS",
    "FEATURE_DECIMALS",
    "FIXED_SETTINGS",
    "FOLD_KEY_FIELD",
    "GLM_FEATURES",
    "INTERVAL_COLUMNS",
    "INTERVAL_SIZE_CLASS",
    "LEAF_FACTS",
    "MAX_BOOTSTRAP",
    "MODEL",
    "NEEDED_COUNTS",
    "NEEDED_FACT_FIELDS",
    "NORMALISED_FEATURES",
    "PREDICTION_BIN_WIDTH",
    "PREDICTION_COLUMNS",
    "PREDICTORS",
    "QUESTION_FEATURES",
    "RANKING_GRID",
    "RELATION",
    "SCHEMES",
    "SIZE_FEATURE",
    "SMOOTHING",
    "SUMMARY_KEYS",
    "TOKENS_GRID",
    "TOKENS_MIN_MODELS",
    "TOKENS_MIN_SPREAD",
    "TREND_GRID",
    "TREND_MIN_PARAMETERS",
    "BoostingRanker",
    "FactIntervals",
    "FitSettings",
    "FittedPredictors",
    "GlmRanker",
    "LevelModel",
    "NewModelPrediction",
    "QuantileBins",
    "ReleaseEvaluation",
    "SampleStandardiser",
    "Selection",
    "SizeTrend",
    "_bootstrap_bucketed_r2",
    "boosting_design",
    "bootstrap_summary",
    "bucketed_r2",
    "calibration_bins",
    "calibration_slope",
    "check_bootstrap",
    "check_gbm_iterations",
    "check_relations",
    "check_seed",
    "check_threads",
    "choose_size_trend",
    "conformal_quantile",
    "evaluate",
    "evaluate_release",
    "evaluation_key",
    "evaluation_paths",
    "fact_features",
    "fit_fact_intervals",
    "fit_level_model",
    "fit_predictors",
    "fit_ranking",
    "fit_size_trend",
    "fold_code_version",
    "fold_key",
    "fold_path",
    "glm_design",
    "held_out_levels",
    "inner_group_column",
    "interval_coverage",
    "interval_summary",
    "load_counts_file",
    "load_fold",
    "mean_interval",
    "model_levels",
    "package_sources",
    "predict_model",
    "predict_new_model",
    "prediction_buckets",
    "question_features",
    "ranking_input",
    "save_fold",
    "scheme_column",
    "select_settings",
    "settings_grid",
    "shift_to_mean",
    "smi_column",
    "smi_values",
    "summarise",
    "uninformative",
    "write_evaluation",
    "write_predicted",
]
