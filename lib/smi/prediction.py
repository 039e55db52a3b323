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
"""

from __future__ import annotations

import hashlib
import json
import math
import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import statsmodels.api as sm
from scipy import optimize, sparse, special, stats

from smi import metrics, regression, release
from smi.errors import SmiError, check_one_of
from smi.files import atomic_output

#: Evaluation schemes and the column of the accuracy frame that defines a held-out group.
SCHEMES = {
    "leave-one-model-out": "model",
    "leave-one-corpus-out": "corpus",
    "leave-one-series-out": "series",
}
PREDICTORS = ("smi", "glm", "gbm_counts", "gbm", "best_fixed", "best")
#: Counts a fact needs for prediction (``time_seqs`` may come from --corpus-docs instead).
NEEDED_COUNTS = ("time_seqs", "time_subj", "time_obj", "time_s1j1")
#: Fields of the fact itself that the question features are computed from.
NEEDED_FACT_FIELDS = ("idx", "subj", "rel", "obj")
QUESTION_FEATURES = ("log_answer_share", "answer_in_subject")
#: The size trend of ``best`` is fitted on training models at least this large (see :func:`fit_level_model`).
TREND_MIN_PARAMETERS = 1e9
#: Every training fact appears once per training model, so a leaf of fewer rows than models can
#: hold one fact and memorise it; leaves of at least this many facts' worth of rows
#: (``LEAF_FACTS × training models``) make the trees learn from counts what holds across facts.
LEAF_FACTS = 20
#: Part of every saved fold's key (see :func:`code_version`): raise it when a change elsewhere alters what a
#: fold holds. (Folds are also keyed on a hash of this module's source, so any edit here recomputes them.)
PREDICTION_VERSION = 5
NORMALISED_FEATURES = ("log_p_subj", "log_p_obj", "log_p_joint", "pmi", "log_p_obj_given_subj", "log_p_subj_given_obj")
#: The GLM's features: PMI and the conditional shares are linear in these three, so they are left out.
GLM_FEATURES = ("log_p_subj", "log_p_obj", "log_p_joint", *QUESTION_FEATURES)
EXPOSURE_FEATURES = ("log_n_joint", "log_n_subj", "log_n_obj")
SIZE_FEATURE = "log_params"
#: Predictions are grouped into bins of this width for the bucketed R² (when they take many values).
PREDICTION_BIN_WIDTH = 0.01
SMOOTHING = 0.5
#: Interval columns of :func:`evaluate`'s table: per fact, then per model (repeated on its rows), then the
#: settings chosen for the fold.
INTERVAL_COLUMNS = ["best_lower", "best_upper", "mean_lower", "mean_upper", "pooled_lower", "pooled_upper", "selected"]
PREDICTION_COLUMNS = (
    ["model", "corpus", "series", "parameters", "idx", "rel", "acc"]
    + [f"pred_{p}" for p in PREDICTORS]
    + INTERVAL_COLUMNS
)


def scheme_column(scheme: str) -> str:
    """The accuracy-frame column whose values are held out one at a time under ``scheme``."""
    return SCHEMES[check_one_of(scheme, SCHEMES, "scheme")]


# ---------------------------------------------------------------- features


def fact_features(counts: pd.DataFrame, parameters) -> pd.DataFrame:
    """Numeric features of every fact (see the module docstring for the formulas).

    ``counts`` needs ``time_seqs``, ``time_subj``, ``time_obj`` and ``time_s1j1``
    and, for the question features, ``subj``, ``rel`` and ``obj`` (and ``model``
    when it holds several models: the answer shares are computed per model's
    probe set); ``parameters`` is one model size or one per row.
    """
    n_docs = np.log10(counts["time_seqs"].to_numpy(dtype=float))
    log_n_subj = np.log10(counts["time_subj"].to_numpy(dtype=float) + SMOOTHING)
    log_n_obj = np.log10(counts["time_obj"].to_numpy(dtype=float) + SMOOTHING)
    log_n_joint = np.log10(counts["time_s1j1"].to_numpy(dtype=float) + SMOOTHING)
    features = pd.DataFrame(
        {
            "log_p_subj": log_n_subj - n_docs,
            "log_p_obj": log_n_obj - n_docs,
            "log_p_joint": log_n_joint - n_docs,
            "pmi": log_n_joint + n_docs - log_n_subj - log_n_obj,
            "log_p_obj_given_subj": log_n_joint - log_n_subj,
            "log_p_subj_given_obj": log_n_joint - log_n_obj,
            "log_n_joint": log_n_joint,
            "log_n_subj": log_n_subj,
            "log_n_obj": log_n_obj,
            SIZE_FEATURE: np.log10(np.broadcast_to(np.asarray(parameters, dtype=float), len(counts))),
        },
        index=counts.index,
    )
    if "model" in counts.columns and counts["model"].nunique() > 1:
        question = pd.concat([question_features(rows) for _, rows in counts.groupby("model", sort=False)])
    else:
        question = question_features(counts)
    return features.join(question)


def question_features(facts: pd.DataFrame) -> pd.DataFrame:
    """Features of the questions themselves, known before any corpus is read.

    * ``log_answer_share``
      :math:`= \\log_{10} \\frac{|\\{f' : r(f') = r(f),\\ o(f') = o(f)\\}|}{|\\{f' : r(f') = r(f)\\}|}`,
      the share of the probe facts of the fact's relation that have the same
      answer (object): 'English' is the answer to many 'speaks' facts, a rare
      city to few;
    * ``answer_in_subject``: 1 when the object's name occurs inside the
      subject's name, ignoring case ("Paris Saint-Germain" → "Paris"), else 0.
      (With the same case these are the facts of :func:`smi.release.answer_written_in_subject`,
      which evaluation leaves out by default; what remains differs in case.)

    ``facts`` is one probe set (one model's rows) with ``subj``, ``rel`` and ``obj``.
    """
    missing = [name for name in ("subj", "rel", "obj") if name not in facts.columns]
    if missing:
        raise SmiError(f"facts need the field '{missing[0]}' for the question features")
    subjects = facts["subj"].astype(str).str.casefold()
    objects = facts["obj"].astype(str).str.casefold()
    same_answer = facts.groupby(["rel", "obj"], sort=False)["rel"].transform("size")
    in_relation = facts.groupby("rel", sort=False)["rel"].transform("size")
    return pd.DataFrame(
        {
            "log_answer_share": np.log10(same_answer.to_numpy(dtype=float) / in_relation.to_numpy(dtype=float)),
            "answer_in_subject": [float(answer in subject) for subject, answer in zip(subjects, objects)],
        },
        index=facts.index,
    )


def smi_values(counts: pd.DataFrame, parameters: float, width: float = metrics.DEFAULT_BUCKET_WIDTH) -> np.ndarray:
    """SMI of every fact of one model, normalised over that model's usable facts; 0 where MI ≤ 0."""
    values = np.zeros(len(counts))
    usable = metrics.usable_facts(counts).to_numpy()
    if usable.sum() > 0:
        values[usable] = metrics.predictor_values(counts[usable], "SMI", parameters, width)
    return values


def smi_column(frame: pd.DataFrame) -> np.ndarray:
    """SMI of every row of a long accuracy frame, computed model by model."""
    values = np.zeros(len(frame))
    for _, rows in frame.groupby("model", sort=False).indices.items():
        part = frame.iloc[rows]
        values[rows] = smi_values(part, float(part["parameters"].iloc[0]))
    return values


# ---------------------------------------------------------------- level of a model from its size


@dataclass(frozen=True)
class SizeTrend:
    """Mean accuracy against model size, logit(ā) = γ0 + γ1 log10 P (+ γ2 log10 T with training tokens T),
    optionally flat in P beyond the largest P seen."""

    intercept: float
    slope: float
    largest_log_params: float
    flat_beyond_largest: bool
    tokens_slope: float | None = None

    def mean_accuracy(self, parameters: float, tokens: float | None = None) -> float:
        """Predicted mean accuracy of a model with ``parameters`` parameters (and ``tokens`` training
        tokens, needed when the trend has a tokens term)."""
        log_params = np.log10(float(parameters))
        if self.flat_beyond_largest:
            log_params = min(log_params, self.largest_log_params)
        logit = self.intercept + self.slope * log_params
        if self.tokens_slope is not None:
            logit += self.tokens_slope * np.log10(float(tokens))
        return float(special.expit(logit))


def model_levels(frame: pd.DataFrame) -> pd.DataFrame:
    """One row per model: model, corpus, series, parameters, tokens (NaN where unknown), mean accuracy."""
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
    """OLS of logit(mean accuracy) on log10 P (and, ``with_tokens``, log10 T) over the models of ``levels``."""
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
    ``min_parameters``) wins (ties: flat). ``with_tokens`` adds log10 T to the
    trend (``levels`` must then hold only models with a known ``tokens``).
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
    """Mean accuracy from model size: one trend for models of at least ``min_parameters``
    (``large``, absent when the training models have too few such sizes), one for all, and
    (``tokens``) a trend in size and training tokens for models of at least ``min_parameters``
    whose tokens are known."""

    all_models: SizeTrend
    large: SizeTrend | None
    min_parameters: float
    tokens: SizeTrend | None = None

    def mean_accuracy(self, parameters: float, tokens: float | None = None) -> float:
        """Predicted mean accuracy of a model of ``parameters`` parameters (``tokens`` training tokens, or None)."""
        large_model = parameters >= self.min_parameters
        if self.tokens is not None and large_model and tokens is not None and np.isfinite(tokens):
            return self.tokens.mean_accuracy(parameters, tokens)
        use_large = self.large is not None and large_model
        return (self.large if use_large else self.all_models).mean_accuracy(parameters)


def fit_level_model(
    levels: pd.DataFrame, group_column: str, min_parameters: float = TREND_MIN_PARAMETERS, with_tokens: bool = False
) -> LevelModel:
    """:func:`choose_size_trend` on all training models, and on those of at least ``min_parameters``
    when these have at least three sizes spanning a factor of 3 or more (a line through two
    nearly equal sizes extrapolates wildly); ``with_tokens``, also on those of them with known
    tokens, with a tokens term, when :func:`_trend_identified` allows it."""
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
    """The level model's held-out mean accuracy of every model: each group of ``group_column`` held out in
    turn, :func:`fit_level_model` fitted on the other models of ``levels`` (:func:`model_levels`).

    Returns ``levels`` with ``mean_pred`` and ``mean_error`` (predicted minus measured). The mean of
    ``best``'s prediction is this level, so the mean error of ``best`` under the same settings is this
    error: a quick way to compare level models (e.g. with and without training tokens)."""
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
    """σ(logit(p̂) + δ) with the one δ that makes the mean equal ``target`` (ranking unchanged)."""
    logits = special.logit(np.clip(np.asarray(predictions, dtype=float), 1e-4, 1 - 1e-4))
    target = float(np.clip(target, 1e-4, 1 - 1e-4))
    delta = optimize.brentq(lambda d: special.expit(logits + d).mean() - target, -30.0, 30.0)
    return special.expit(logits + delta)


# ---------------------------------------------------------------- settings of a fit


@dataclass(frozen=True)
class FitSettings:
    """The choices of ``best`` that were once tuned by hand, as parameters of the fit.

    ``ranking`` is the per-fact model that ``best`` re-levels (``gbm`` or ``glm``),
    ``questions`` whether it sees :data:`QUESTION_FEATURES`, ``leaf_facts`` the
    boosting's smallest leaf in facts' worth of rows (0 for ``glm``),
    ``trend_min_parameters`` the size from which the separate size trend applies and
    ``tokens`` whether that trend uses training tokens where they are known.
    """

    ranking: str = "gbm"
    questions: bool = True
    leaf_facts: int = 20
    trend_min_parameters: float = 1e9
    tokens: bool = False

    @property
    def ranking_part(self) -> tuple:
        """What the per-fact ranking model depends on."""
        return (self.ranking, self.questions, self.leaf_facts)

    @property
    def level_part(self) -> tuple:
        """What the level model depends on."""
        return (self.trend_min_parameters, self.tokens)

    def label(self) -> str:
        """A short readable name, e.g. ``gbm+q leaf 20, trend ≥ 1e+09``."""
        ranking = (
            self.ranking
            + ("+q" if self.questions else "")
            + (f" leaf {self.leaf_facts}" if self.ranking == "gbm" else "")
        )
        return f"{ranking}, trend ≥ {self.trend_min_parameters:.0e}" + (", tokens" if self.tokens else "")


#: The hand-tuned choices (chosen while looking at leave-one-corpus-out results): ``best_fixed``.
FIXED_SETTINGS = FitSettings(trend_min_parameters=TREND_MIN_PARAMETERS, leaf_facts=LEAF_FACTS)
#: Ranking models the nested selection chooses from: (kind, question features, leaf facts).
RANKING_GRID = (("gbm", True, 10), ("gbm", True, 20), ("gbm", True, 40), ("gbm", False, 20), ("glm", True, 0))
#: Size-trend thresholds and tokens use the nested selection chooses from.
TREND_GRID = (0.0, 1e8, 1e9, 3e9)
TOKENS_GRID = (False, True)


def settings_grid() -> list[FitSettings]:
    """Every combination of :data:`RANKING_GRID`, :data:`TREND_GRID` and :data:`TOKENS_GRID`."""
    return [
        FitSettings(kind, questions, leaf, threshold, tokens)
        for kind, questions, leaf in RANKING_GRID
        for threshold in TREND_GRID
        for tokens in TOKENS_GRID
    ]


# ---------------------------------------------------------------- the fitted predictors


@dataclass
class RankingModel:
    """A per-fact model of one :attr:`FitSettings.ranking_part`, with what it needs to predict."""

    kind: str
    questions: bool
    model: object
    relations: list[str]
    scale: pd.DataFrame | None = None

    def predict(self, features: pd.DataFrame, relations: pd.Series) -> np.ndarray:
        """Predicted per-fact accuracy, in [0, 1]."""
        if self.kind == "glm":
            return np.asarray(
                self.model.predict(_glm_design(features, relations, self.relations, self.scale, self.questions))
            )
        return np.clip(self.model.predict(_gbm_design(features, relations, self.relations, self.questions)), 0, 1)


def fit_ranking(
    train: pd.DataFrame, features: pd.DataFrame, ranking: tuple, gbm_iterations: int, seed: int, relations: list[str]
) -> RankingModel:
    """Fit the ranking model ``ranking`` = (kind, questions, leaf facts) on the rows of ``train``."""
    kind, questions, leaf_facts = ranking
    acc = train["acc"].to_numpy(dtype=float)
    if kind == "glm":
        scale = features.agg(["mean", "std"]).replace(0.0, 1.0)
        design = _glm_design(features, train["rel"], relations, scale, questions)
        return RankingModel(kind, questions, sm.GLM(acc, design, family=sm.families.Binomial()).fit(), relations, scale)
    check_one_of(kind, ("gbm", "glm"), "ranking model")
    design = _gbm_design(features, train["rel"], relations, questions)
    return RankingModel(
        kind, questions, _boosting(design, acc, train["model"].nunique(), gbm_iterations, seed, leaf_facts), relations
    )


@dataclass
class FittedPredictors:
    """Every predictor fitted on one set of training models."""

    smi_line: regression.PerFactFit
    glm: RankingModel
    gbm_counts: RankingModel
    gbm: RankingModel
    level: LevelModel
    relations: list[str] = field(default_factory=list)
    best_ranking: RankingModel | None = None
    best_level: LevelModel | None = None
    settings: FitSettings = FIXED_SETTINGS


def _glm_design(
    features: pd.DataFrame, relations: pd.Series, known: list[str], scale: pd.DataFrame, questions: bool = True
) -> np.ndarray:
    """Standardised log probabilities (and, with ``questions``, the question features) and log10 P, their
    products with log10 P, then one indicator per relation (the first relation is the baseline)."""
    probe = list(GLM_FEATURES) if questions else [c for c in GLM_FEATURES if c not in QUESTION_FEATURES]
    columns = [*probe, SIZE_FEATURE]
    numeric = (features[columns] - scale.loc["mean", columns]) / scale.loc["std", columns]
    codes = pd.Categorical(relations, categories=known).codes
    indicators = np.zeros((len(features), len(known) - 1))
    rows = np.flatnonzero(codes > 0)
    indicators[rows, codes[rows] - 1] = 1.0
    size_products = numeric[probe].to_numpy() * numeric[[SIZE_FEATURE]].to_numpy()
    return np.column_stack([np.ones(len(features)), numeric.to_numpy(), size_products, indicators])


def _gbm_design(
    features: pd.DataFrame, relations: pd.Series, known: list[str], with_questions: bool = True
) -> pd.DataFrame:
    """Corpus features, size and (``with_questions``) the question features, and the relation as a category code."""
    columns = (
        list(NORMALISED_FEATURES)
        + list(EXPOSURE_FEATURES)
        + [SIZE_FEATURE]
        + (list(QUESTION_FEATURES) if with_questions else [])
    )
    design = features[columns].copy()
    design["relation"] = pd.Categorical(relations, categories=known).codes
    return design


def _boosting(
    design: pd.DataFrame, acc: np.ndarray, n_models: int, iterations: int, seed: int, leaf_facts: int = LEAF_FACTS
):
    """Histogram gradient boosting with a fixed number of iterations, the relation as a categorical
    feature and leaves of at least ``leaf_facts`` facts' worth of rows (``leaf_facts × n_models``)."""
    from sklearn.ensemble import HistGradientBoostingRegressor

    model = HistGradientBoostingRegressor(
        max_iter=iterations,
        learning_rate=0.1,
        early_stopping=False,
        min_samples_leaf=leaf_facts * n_models,
        categorical_features=[design.columns.get_loc("relation")],
        random_state=seed,
    )
    return model.fit(design, acc)


def check_relations(relations: pd.Series, known: list[str], source: str) -> None:
    """Every relation must have been seen in training; name the first that was not."""
    unknown = sorted(set(relations) - set(known))
    if unknown:
        raise SmiError(f"{source}: relation '{unknown[0]}' is not in the training data (known: {', '.join(known)})")


def fit_predictors(
    train: pd.DataFrame,
    group_column: str = "model",
    gbm_iterations: int = 300,
    seed: int = 0,
    settings: FitSettings | None = None,
    features: pd.DataFrame | None = None,
) -> FittedPredictors:
    """Fit SMI line, GLM, both boosting models and the size trends on a long accuracy frame.

    ``train`` is :func:`smi.release.load_accuracies` output (or rows of it);
    ``group_column`` names the groups the size trend's extrapolation rule is validated over.
    ``settings`` (default :data:`FIXED_SETTINGS`) are the choices of ``best``; a ranking model they
    name that is one of the fixed ones is reused. ``features`` are :func:`fact_features` of ``train``
    when already computed.
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
    """Per-fact predicted accuracy of one model (its corpus counts, its size, its training tokens when
    known, its probe facts): one ``pred_<name>`` column per name in :data:`PREDICTORS`."""
    check_parameters(parameters, f"{source}: the model size")
    missing = [name for name in NEEDED_FACT_FIELDS if name not in counts.columns]
    if missing:
        raise SmiError(f"{source}: missing field '{missing[0]}' (needed: {', '.join(NEEDED_FACT_FIELDS)})")
    check_relations(counts["rel"], fitted.relations, source)
    features = fact_features(counts, parameters)
    smi = smi_values(counts, parameters)
    predictions = pd.DataFrame(index=counts.index)
    predictions["pred_smi"] = np.clip(fitted.smi_line.intercept + fitted.smi_line.slope * smi, 0, 1)
    predictions["pred_glm"] = fitted.glm.predict(features, counts["rel"])
    predictions["pred_gbm_counts"] = fitted.gbm_counts.predict(features, counts["rel"])
    gbm = fitted.gbm.predict(features, counts["rel"])
    predictions["pred_gbm"] = gbm
    predictions["pred_best_fixed"] = shift_to_mean(gbm, fitted.level.mean_accuracy(parameters))
    ranking = fitted.best_ranking or fitted.gbm
    level = fitted.best_level or fitted.level
    ranked = gbm if ranking is fitted.gbm else ranking.predict(features, counts["rel"])
    predictions["pred_best"] = shift_to_mean(ranked, level.mean_accuracy(parameters, tokens))
    return predictions


# ---------------------------------------------------------------- nested selection and prediction intervals

#: Nominal coverage of the prediction intervals (of a model's mean accuracy and of one fact's accuracy).
COVERAGE = 0.9
#: The mean-accuracy interval of a model is calibrated on inner held-out models on its side of this size (1B).
INTERVAL_SIZE_CLASS = 1e9
#: Per-fact intervals are calibrated separately in this many equal-count bins of the prediction.
FACT_INTERVAL_BINS = 10


def inner_group_column(group_column: str) -> str:
    """The groups of the inner leave-one-group-out: series under leave-one-series-out, else corpus
    (under leave-one-model-out a corpus is stricter and far cheaper than one model at a time)."""
    return "series" if group_column == "series" else "corpus"


@dataclass
class Selection:
    """What the inner leave-one-group-out on the training models found.

    ``settings`` the chosen :class:`FitSettings`; ``scores`` one row per setting of the
    grid (its label, the inner held-out per-fact mean squared error and mean absolute
    error of the mean accuracy); ``mean_scores`` the conformity score of every inner
    held-out model under the chosen settings, :math:`|\\mathrm{logit}\\,\\hat{\\bar a} -
    \\mathrm{logit}\\,\\bar a|`, and its size (``mean_parameters``); ``fact_predictions`` and
    ``fact_residuals`` (accuracy minus
    prediction) of every inner held-out fact under them.
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

        With ``parameters``, calibrated only on the inner held-out models on the same side of
        :data:`INTERVAL_SIZE_CLASS` (models of at least 1B against smaller ones: a Mondrian split,
        since the level's errors differ between the two); without, on all of them (pooled)."""
        scores = self.mean_scores
        if parameters is not None:
            scores = scores[(self.mean_parameters >= INTERVAL_SIZE_CLASS) == (parameters >= INTERVAL_SIZE_CLASS)]
        return mean_interval(mean_prediction, conformal_quantile(scores, coverage))

    def fact_intervals(self, coverage: float = COVERAGE) -> FactIntervals:
        """Per-fact intervals calibrated on the inner held-out facts (see :func:`fit_fact_intervals`)."""
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
    ranking model and every level model of ``grid`` (default :func:`settings_grid`) is
    fitted on the rest and every combination predicts the held-out facts as ``best``
    does. The setting with the smallest mean squared error over all inner held-out
    facts wins (ties: the earlier in the grid). ``features`` are the
    :func:`fact_features` of ``train``'s rows. ``cache`` (a dict) keeps fitted ranking
    models by their training models and settings, for reuse when another outer fold
    trains on the same models.

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
            raw[ranking] = model.predict(features[held], inner_test["rel"])
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


def _logit(value) -> np.ndarray:
    return special.logit(np.clip(np.asarray(value, dtype=float), 1e-4, 1 - 1e-4))


def conformal_quantile(scores: np.ndarray, coverage: float = COVERAGE) -> float:
    """The split-conformal quantile of calibration ``scores``: the :math:`\\lceil c(n+1)\\rceil`-th smallest
    of the n scores for coverage c, or infinity when that exceeds n (too few scores for the coverage).

    Notes
    -----
    For a new score exchangeable with the n calibration scores,
    :math:`P(s_{n+1} \\le q) \\ge c` (and :math:`< c + 1/(n+1)` without ties).
    """
    scores = np.sort(np.asarray(scores, dtype=float))
    rank = math.ceil(coverage * (len(scores) + 1) - 1e-9)
    return float(scores[rank - 1]) if 1 <= rank <= len(scores) else math.inf


def mean_interval(mean_prediction: float, logit_half_width: float) -> tuple[float, float]:
    """An interval symmetric on the logit scale, [0, 1] when ``logit_half_width`` is infinite.

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
    """Per-fact intervals :math:`[\\hat a - q_b, \\hat a + q_b] \\cap [0, 1]`, with :math:`q_b` the conformal
    quantile of the absolute residuals in the prediction bin b (bins between ``edges``)."""

    edges: np.ndarray
    half_widths: np.ndarray

    def bounds(self, predictions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Lower and upper bound of every prediction's interval."""
        predictions = np.asarray(predictions, dtype=float)
        bins = np.clip(np.searchsorted(self.edges, predictions, side="right") - 1, 0, len(self.half_widths) - 1)
        half = self.half_widths[bins]
        return np.clip(predictions - half, 0, 1), np.clip(predictions + half, 0, 1)


def fit_fact_intervals(
    predictions: np.ndarray, residuals: np.ndarray, coverage: float = COVERAGE, bins: int = FACT_INTERVAL_BINS
) -> FactIntervals:
    """Calibrate per-fact intervals on held-out facts: :func:`conformal_quantile` of |residual| within each of
    ``bins`` equal-count bins of the prediction (a bin's quantile covers the facts predicted alike; an
    empty calibration gives [0, 1])."""
    predictions, residuals = np.asarray(predictions, dtype=float), np.asarray(residuals, dtype=float)
    if len(predictions) == 0:
        return FactIntervals(np.array([0.0]), np.array([1.0]))
    edges = np.unique(np.quantile(predictions, np.linspace(0, 1, bins + 1)[:-1]))
    which = np.clip(np.searchsorted(edges, predictions, side="right") - 1, 0, len(edges) - 1)
    half_widths = np.array(
        [min(conformal_quantile(np.abs(residuals[which == b]), coverage), 1.0) for b in range(len(edges))]
    )
    return FactIntervals(edges, half_widths)


# ---------------------------------------------------------------- cross-validation


def code_version() -> str:
    """A hash of what, besides the data and the settings, decides a fold's predictions.

    It covers :data:`PREDICTION_VERSION`, the source of this module and of the
    modules that compute SMI and its line (:mod:`smi.metrics`, :mod:`smi.regression`),
    and the versions of the numerical libraries the predictors are fitted with.
    Any edit of that code or any library upgrade gives a new hash, so a fold saved
    before it is recomputed.
    """
    import sklearn
    import statsmodels

    digest = hashlib.sha256(f"prediction/{PREDICTION_VERSION}".encode())
    for source in (__file__, metrics.__file__, regression.__file__):
        digest.update(Path(source).read_bytes())
    for library in (np, pd, sklearn, statsmodels, __import__("scipy")):
        digest.update(f"{library.__name__}={library.__version__};".encode())
    return digest.hexdigest()


def frame_fingerprint(frame: pd.DataFrame) -> str:
    """SHA-256 of a frame's content: column names, dtypes and every value, in row order (not the index)."""
    digest = hashlib.sha256(json.dumps([[str(c) for c in frame.columns], [str(t) for t in frame.dtypes]]).encode())
    digest.update(pd.util.hash_pandas_object(frame, index=False).to_numpy().tobytes())
    return digest.hexdigest()


def evaluation_key(accuracies: pd.DataFrame, scheme: str, gbm_iterations: int, seed: int) -> dict:
    """Everything the folds of one evaluation depend on, in parts that can be compared one by one.

    ``data`` is :func:`frame_fingerprint` of the whole accuracy frame (every model's
    models-table row, per-fact accuracies and counts, after any facts were left out:
    each fold trains on all models but the held-out ones), ``settings`` the scheme
    and the fitting settings, ``code`` :func:`code_version`. A fold's key adds the
    held-out group to ``settings`` (:func:`fold_key`).
    """
    return {
        "code": code_version(),
        "data": frame_fingerprint(accuracies),
        "settings": {
            "scheme": scheme,
            "gbm_iterations": int(gbm_iterations),
            "seed": int(seed),
            "grid": [setting.label() for setting in settings_grid()],
            "fixed": FIXED_SETTINGS.label(),
            "coverage": COVERAGE,
            "fact_interval_bins": FACT_INTERVAL_BINS,
        },
    }


def fold_key(evaluation: dict, group) -> dict:
    """The key of the fold holding out ``group``: :func:`evaluation_key` with the group in its settings."""
    return {**evaluation, "settings": {**evaluation["settings"], "held_out": str(group)}}


#: Schema metadata entry of a saved fold that holds its :func:`fold_key`.
FOLD_KEY_FIELD = b"smi_fold_key"


def fold_path(checkpoint_dir: Path, scheme: str, group) -> Path:
    """Where the fold holding out ``group`` under ``scheme`` is saved (a readable name plus a hash of
    the group's name, so that two names that read alike never share a file)."""
    tag = hashlib.sha256(str(group).encode()).hexdigest()[:8]
    return Path(checkpoint_dir) / f"{scheme}-{_file_part(group)}-{tag}.parquet"


def save_fold(fold: pd.DataFrame, key: dict, path: Path) -> None:
    """Write one fold's predictions with its key in the Parquet schema metadata, atomically."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.Table.from_pandas(fold, preserve_index=False)
    metadata = dict(table.schema.metadata or {})
    metadata[FOLD_KEY_FIELD] = json.dumps(key, sort_keys=True).encode()
    with atomic_output(path) as temporary:
        pq.write_table(table.replace_schema_metadata(metadata), temporary)


def load_fold(path: Path, key: dict, expected: pd.DataFrame) -> tuple[pd.DataFrame | None, str]:
    """A saved fold if it was made from exactly ``key`` and covers the rows of ``expected``
    (model, idx and acc of the held-out models, in order); else ``None`` and why not."""
    import pyarrow.parquet as pq

    try:
        metadata = pq.read_schema(path).metadata or {}
        saved = json.loads(metadata.get(FOLD_KEY_FIELD, b"null"))
    except Exception:
        return None, "saved fold unreadable"
    if not isinstance(saved, dict):
        return None, "saved fold has no key"
    changed = [part for part in key if saved.get(part) != key[part]]
    if changed:
        return None, f"inputs changed ({', '.join(changed)})"
    try:
        fold = pq.read_table(path).to_pandas()
    except Exception:
        return None, "saved fold unreadable"
    columns = ["model", "idx", "acc"]
    if (
        list(fold.columns) != PREDICTION_COLUMNS
        or len(fold) != len(expected)
        or not all(np.array_equal(fold[c].to_numpy(), expected[c].to_numpy()) for c in columns)
    ):
        return None, "saved fold does not match its held-out facts"
    return fold, ""


def evaluate(
    accuracies: pd.DataFrame,
    scheme: str,
    gbm_iterations: int = 300,
    seed: int = 0,
    checkpoint_dir: Path | None = None,
    progress: bool = False,
    threads: int | None = None,
) -> pd.DataFrame:
    """Hold out each group of ``scheme`` in turn, fit on the rest, predict every fact of the held-out models.

    Within each fold the settings of ``best`` are chosen by :func:`select_settings` on the training
    models alone, and its intervals (columns :data:`INTERVAL_COLUMNS`) are calibrated on their inner
    held-out errors; ``best_fixed`` keeps :data:`FIXED_SETTINGS`. ``threads`` limits the numerical
    libraries' threads while fitting (None: their default).

    Returns :data:`PREDICTION_COLUMNS`. With ``checkpoint_dir``, each finished
    fold is saved there with its :func:`fold_key` and reused when a later run has
    the same key; a fold saved from other data, settings or code is recomputed,
    and a line on standard error says so.
    """
    from tqdm.auto import tqdm

    column = scheme_column(scheme)
    if accuracies.empty:
        raise SmiError("no accuracies to evaluate (no models, or no facts left)")
    if not gbm_iterations >= 1:
        raise SmiError(f"--gbm-iterations must be at least 1, got {gbm_iterations}")
    check_seed(seed)
    groups = list(dict.fromkeys(accuracies[column]))
    if len(groups) < 2:
        raise SmiError(f"{scheme} needs models from at least two {column} values, got {len(groups)}")
    evaluation = None if checkpoint_dir is None else evaluation_key(accuracies, scheme, gbm_iterations, seed)
    features = None
    inner_fits: dict = {}
    folds = []
    for group in tqdm(groups, desc=scheme, unit="fold", disable=not progress):
        held_out = (accuracies[column] == group).to_numpy()
        # the held-out rows model by model, the order in which the fold holds its predictions
        expected = pd.concat([rows for _, rows in accuracies[held_out].groupby("model", sort=False)])
        checkpoint = key = None
        if checkpoint_dir is not None:
            checkpoint = fold_path(checkpoint_dir, scheme, group)
            key = fold_key(evaluation, group)
            if checkpoint.is_file():
                fold, why_not = load_fold(checkpoint, key, expected)
                if fold is not None:
                    folds.append(fold)
                    continue
                print(f"fold {group}: {why_not}, recomputing", file=sys.stderr)
        train = accuracies[~held_out]
        if train["parameters"].nunique() < 2:
            raise SmiError(f"holding out {column} '{group}' leaves fewer than two model sizes to train on")
        if features is None:  # computed once, for every fold (a fact's features do not depend on the fold)
            features = fact_features(accuracies, accuracies["parameters"].to_numpy(dtype=float))
        with _threads(threads):
            selection = select_settings(train, features[~held_out], column, gbm_iterations, seed, cache=inner_fits)
            fitted = fit_predictors(train, column, gbm_iterations, seed, selection.settings, features[~held_out])
        fact_intervals = selection.fact_intervals()
        parts = []
        for _, test in expected.groupby("model", sort=False):
            tokens = float(test["tokens"].iloc[0]) if "tokens" in test.columns else None
            predictions = predict_model(
                fitted, test, float(test["parameters"].iloc[0]), f"model '{test['model'].iloc[0]}'", tokens
            )
            predictions["best_lower"], predictions["best_upper"] = fact_intervals.bounds(
                predictions["pred_best"].to_numpy()
            )
            size = float(test["parameters"].iloc[0])
            predictions["mean_lower"], predictions["mean_upper"] = selection.mean_interval(
                predictions["pred_best"].mean(), size
            )
            predictions["pooled_lower"], predictions["pooled_upper"] = selection.mean_interval(
                predictions["pred_best"].mean()
            )
            predictions["selected"] = selection.settings.label()
            parts.append(pd.concat([test[PREDICTION_COLUMNS[:7]], predictions], axis=1))
        fold = pd.concat(parts, ignore_index=True)[PREDICTION_COLUMNS]
        if checkpoint is not None:
            save_fold(fold, key, checkpoint)
        folds.append(fold)
    predictions = pd.concat(folds, ignore_index=True)[PREDICTION_COLUMNS]
    order = {name: i for i, name in enumerate(dict.fromkeys(accuracies["model"]))}
    return predictions.sort_values("model", key=lambda s: s.map(order), kind="stable").reset_index(drop=True)


def _threads(threads: int | None):
    """A context that limits the numerical libraries to ``threads`` threads (no limit for None).

    On a small shared machine boosting's OpenMP threads spend more time waiting for each other
    than computing; one thread is then several times faster."""
    import contextlib

    if threads is None:
        return contextlib.nullcontext()
    import sklearn.ensemble  # noqa: F401 - threadpoolctl limits only libraries already loaded
    from threadpoolctl import threadpool_limits

    return threadpool_limits(int(threads))


def check_seed(seed) -> int:
    """A seed numpy and scikit-learn accept: an integer in [0, 2³²)."""
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or not 0 <= seed < 2**32:
        raise SmiError(f"--seed must be an integer from 0 to {2**32 - 1}, got {seed}")
    return int(seed)


def _file_part(text: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-." else "_" for ch in str(text))


# ---------------------------------------------------------------- metrics with bootstrap CIs


def out_of_sample_r2(acc: np.ndarray, pred: np.ndarray) -> float:
    """R² = 1 − Σ(a − â)² / Σ(a − ā)²: the share of per-fact variance the prediction explains (can be < 0)."""
    acc, pred = np.asarray(acc, dtype=float), np.asarray(pred, dtype=float)
    return float(1.0 - np.sum((acc - pred) ** 2) / np.sum((acc - acc.mean()) ** 2))


def calibration_slope(acc: np.ndarray, pred: np.ndarray) -> float:
    """OLS slope of accuracy on prediction, cov(a, â) / var(â); NaN when the prediction is constant."""
    acc, pred = np.asarray(acc, dtype=float), np.asarray(pred, dtype=float)
    spread = np.sum((pred - pred.mean()) ** 2)
    return float(np.sum((acc - acc.mean()) * (pred - pred.mean())) / spread) if spread > 0 else float("nan")


def prediction_buckets(pred: np.ndarray) -> np.ndarray:
    """Bucket value of each prediction for the paper-style R²: the prediction itself when it takes at
    most 200 distinct values (SMI: the paper's MI buckets), else bins of width 0.01 (bin midpoint)."""
    pred = np.asarray(pred, dtype=float)
    if len(np.unique(pred)) <= 200:
        return pred
    return (np.floor(pred / PREDICTION_BIN_WIDTH) + 0.5) * PREDICTION_BIN_WIDTH


def bucketed_r2(acc: np.ndarray, pred: np.ndarray) -> float:
    """The paper's R²: OLS of bucket-mean accuracy on bucket value, one point per bucket."""
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
    """Per predictor: per-fact R², bucketed R², Spearman ρ, mean accuracy, mean prediction and their
    difference, the calibration slope and the gain in R² over ``smi``, each with a 95% percentile CI
    from ``n_boot`` resamples of the facts (the same resamples for every predictor).

    The calibration slope is the OLS slope of accuracy on prediction,
    :math:`\\mathrm{cov}(a, \\hat a) / \\mathrm{var}(\\hat a)`: 1 when the predictions spread as much as
    the accuracies they track, below 1 when they are too confident."""
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
            "r2": (out_of_sample_r2(acc, pred), r2_boot),
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
        smi_r2 = out_of_sample_r2(acc, predictions["smi"])
        gains = [
            (r - smi_r2, *interval(r2_samples[name] - r2_samples["smi"]))
            for name, r in zip(summary["predictor"], summary["r2"])
        ]
        summary[["r2_gain_over_smi", "r2_gain_over_smi_lo", "r2_gain_over_smi_hi"]] = gains
    return summary


SUMMARY_KEYS = ["model", "corpus", "series", "parameters"]


def interval_summary(rows: pd.DataFrame) -> dict:
    """The intervals of ``best`` on one held-out model's rows of :func:`evaluate`'s table: its mean-accuracy
    interval (``mean_lower``, ``mean_upper``, calibrated within its size class), whether it holds the measured
    mean (``mean_covered``), its width, the same for the interval calibrated on all inner models
    (``pooled_*``), the share of facts inside their per-fact interval (``fact_coverage``), the median per-fact
    width and the settings chosen in the fold."""
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


def summarise(predictions: pd.DataFrame, n_boot: int = 200, seed: int = 0, progress: bool = False) -> pd.DataFrame:
    """:func:`bootstrap_summary` for every held-out model: one row per model and predictor."""
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


#: The files of one evaluation, in the order they are renamed into place (the record, last, says the set is complete).
EVALUATION_FILES = ("predictions.csv", "summary.csv", "evaluation.json")


def evaluation_paths(out_dir: Path) -> list[Path]:
    """The paths :func:`write_evaluation` writes in ``out_dir``: :data:`EVALUATION_FILES`."""
    return [Path(out_dir) / name for name in EVALUATION_FILES]


def write_evaluation(
    predictions: pd.DataFrame, summary: pd.DataFrame, out_dir: Path, about: dict | None = None
) -> list[Path]:
    """Write predictions.csv, summary.csv and evaluation.json into ``out_dir``, atomically; return the paths.

    All three are written under temporary names and renamed into place only when
    all are complete, the record last. ``evaluation.json`` holds the SHA-256 of the
    two tables and ``about`` (e.g. the :func:`evaluation_key` and the settings), so
    that a reader can check that the tables belong together and to the run it describes.
    """
    from smi.files import atomic_outputs, file_sha256

    paths = evaluation_paths(out_dir)
    with atomic_outputs(paths) as (predictions_tmp, summary_tmp, record_tmp):
        predictions.to_csv(predictions_tmp, index=False, float_format="%.6g")
        summary.to_csv(summary_tmp, index=False, float_format="%.6g")
        hashes = {paths[0].name: file_sha256(predictions_tmp), paths[1].name: file_sha256(summary_tmp)}
        record = {**(about or {}), "files": hashes}
        Path(record_tmp).write_text(json.dumps(record, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    return paths


def write_predicted(predicted: pd.DataFrame, path: Path) -> Path:
    """Write :func:`predict_new_model`'s table as CSV, atomically: the previous file stays until the new one is
    complete."""
    with atomic_output(path) as temporary:
        predicted.to_csv(temporary, index=False, float_format="%.6g")
    return Path(path)


# ---------------------------------------------------------------- a model not trained yet


def load_counts_file(path: Path, corpus_docs: float | None = None) -> pd.DataFrame:
    """Per-fact counts of a corpus for :func:`predict_new_model`, read by :func:`smi.formats.read_counts`:
    JSON list (as the release's ``merge.json``), JSONL, CSV or Parquet with idx, subj, rel, obj,
    time_subj, time_obj, time_s1j1 and, unless ``corpus_docs`` is given, time_seqs."""
    from smi import formats

    return formats.read_counts(path, corpus_docs, NEEDED_COUNTS)


def check_parameters(parameters, what: str = "--params") -> float:
    """A model size to predict for, checked by :func:`smi.formats.check_parameters` (finite, a raw count)."""
    from smi.formats import check_parameters as check

    return check(parameters, what)


@dataclass
class NewModelPrediction:
    """:func:`predict_new_model`'s answer: the per-fact table, the predicted mean accuracy of ``best``
    with its :data:`COVERAGE` interval, and the inner :class:`Selection` behind them."""

    facts: pd.DataFrame
    mean: float
    mean_lower: float
    mean_upper: float
    selection: Selection


def predict_new_model(
    release_dir: Path,
    counts: pd.DataFrame,
    parameters: float,
    models: pd.DataFrame | None = None,
    gbm_iterations: int = 300,
    source: str = "counts",
    keep_answer_in_subject: bool = False,
    tokens: float | None = None,
    threads: int | None = None,
) -> NewModelPrediction:
    """Fit every predictor on all models of the release (without the facts of
    :func:`smi.release.answer_written_in_subject` unless ``keep_answer_in_subject``), the settings of
    ``best`` chosen by :func:`select_settings` (inner leave-one-corpus-out), then predict a model of
    ``parameters`` parameters (and ``tokens`` training tokens, when known) trained on the corpus of
    ``counts``. The facts table holds the counts' idx, subj, rel, obj, ``answer_in_subject``
    (:func:`smi.release.answer_written_in_subject`: a scorer that also reads the prompt counts these as
    known), one ``pred_<name>`` column per predictor and ``best_lower``, ``best_upper``: the per-fact
    interval of ``pred_best``."""
    check_parameters(parameters)
    if tokens is not None:
        from smi.formats import check_tokens

        tokens = check_tokens(tokens)
    if not gbm_iterations >= 1:
        raise SmiError(f"--gbm-iterations must be at least 1, got {gbm_iterations}")
    models = release.load_models() if models is None else models
    if models.empty:
        raise SmiError("the models table has no models to fit on")
    training = release.load_accuracies(release_dir, models)
    if not keep_answer_in_subject:
        training, _ = release.drop_answer_in_subject(training)
    features = fact_features(training, training["parameters"].to_numpy(dtype=float))
    with _threads(threads):
        selection = select_settings(training, features, "corpus", gbm_iterations)
        fitted = fit_predictors(training, "corpus", gbm_iterations, settings=selection.settings, features=features)
    keep = [c for c in ("idx", "subj", "rel", "obj") if c in counts.columns]
    predicted = pd.concat([counts[keep], predict_model(fitted, counts, parameters, source, tokens)], axis=1)
    predicted.insert(len(keep), "answer_in_subject", release.answer_written_in_subject(counts))
    values = predicted.filter(like="pred_").to_numpy(dtype=float)
    if not np.isfinite(values).all():
        row = int(np.flatnonzero(~np.isfinite(values).all(axis=1))[0])
        raise SmiError(
            f"{source}: the prediction for fact idx {predicted['idx'].iloc[row]} is not a number; check its counts"
        )
    predicted["best_lower"], predicted["best_upper"] = selection.fact_intervals().bounds(
        predicted["pred_best"].to_numpy()
    )
    mean = float(predicted["pred_best"].mean())
    lower, upper = selection.mean_interval(mean, parameters)
    return NewModelPrediction(predicted, mean, lower, upper, selection)
