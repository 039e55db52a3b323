"""The per-fact ranking models as scikit-learn estimators, each with its design matrix in one transformer.

Both estimators read one frame ``X``: the columns of
:func:`smi.prediction.features.fact_features` and the fact's relation ``rel``
(:func:`ranking_input`). Each builds its design matrix with a
:class:`sklearn.compose.ColumnTransformer` fitted in :meth:`fit` and reused,
unchanged, in :meth:`predict`, so that the columns a model was fitted on and
the columns it predicts from cannot drift apart.

:class:`GlmRanker`
    binomial GLM (logit link, fractional response) on the standardised log
    probabilities, the question features and :math:`\\log_{10} P`, their
    products with :math:`\\log_{10} P` and one indicator per relation.
:class:`BoostingRanker`
    histogram gradient boosting on the corpus features, exposures, size and
    (optionally) the question features, the relation as a categorical feature.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import statsmodels.api as sm
from sklearn.base import BaseEstimator, OneToOneFeatureMixin, RegressorMixin, TransformerMixin
from sklearn.compose import ColumnTransformer
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, OrdinalEncoder
from sklearn.utils.validation import check_is_fitted

from smi.errors import SmiError, check_one_of
from smi.prediction.features import (
    EXPOSURE_FEATURES,
    GLM_FEATURES,
    NORMALISED_FEATURES,
    QUESTION_FEATURES,
    SIZE_FEATURE,
)
from smi.prediction.settings import FEATURE_BINS, FEATURE_DECIMALS, LEAF_FACTS

#: The column of a ranking model's input that holds the fact's relation.
RELATION = "rel"
#: The column of a boosting model's training input that names each row's model (see :class:`BoostingRanker`).
MODEL = "model"


def ranking_input(features: pd.DataFrame, facts: pd.DataFrame) -> pd.DataFrame:
    """The input ``X`` of a ranking estimator: ``features`` with the relation (and model) of each row of ``facts``.

    Parameters
    ----------
    features : pandas.DataFrame
        :func:`smi.prediction.features.fact_features` of the rows of ``facts``, in the same order.
    facts : pandas.DataFrame
        The facts, with a ``rel`` column and, when training, a ``model`` column.

    Returns
    -------
    pandas.DataFrame
        ``features`` with a ``rel`` column (and ``model`` where ``facts`` has one).
    """
    extra = {RELATION: facts[RELATION].to_numpy()}
    if MODEL in facts.columns:
        extra[MODEL] = facts[MODEL].to_numpy()
    return features.assign(**extra)


def check_relations(relations: pd.Series, known: list[str], source: str) -> None:
    """Every relation must have been seen in training; name the first that was not.

    Parameters
    ----------
    relations : pandas.Series
        The relation of every fact to predict.
    known : list of str
        The relations of the training facts.
    source : str
        What the facts came from, for the message.

    Raises
    ------
    SmiError
        When a relation is not in ``known``.
    """
    unknown = sorted(set(relations) - set(known))
    if unknown:
        raise SmiError(f"{source}: relation '{unknown[0]}' is not in the training data (known: {', '.join(known)})")


class SampleStandardiser(OneToOneFeatureMixin, TransformerMixin, BaseEstimator):
    """Standardise every column by its training mean and sample standard deviation.

    Unlike :class:`sklearn.preprocessing.StandardScaler` the spread is the
    sample standard deviation (:math:`n - 1` in the denominator, as pandas
    computes it), and a column without spread is divided by 1.

    Attributes
    ----------
    mean_ : numpy.ndarray
        The training mean of every column.
    scale_ : numpy.ndarray
        The training sample standard deviation of every column (1 where it is 0).

    Notes
    -----
    :math:`z = (x - \\bar x) / s`, with :math:`s^2 = \\sum_i (x_i - \\bar x)^2 / (n - 1)`.
    """

    def fit(self, X, y=None):
        """Learn each column's mean and sample standard deviation.

        Parameters
        ----------
        X : pandas.DataFrame or array-like of shape (n_samples, n_features)
            Training values.
        y : None
            Ignored.

        Returns
        -------
        SampleStandardiser
            ``self``, fitted.
        """
        scale = pd.DataFrame(X).agg(["mean", "std"]).replace(0.0, 1.0)
        self.mean_ = scale.loc["mean"].to_numpy(dtype=float)
        self.scale_ = scale.loc["std"].to_numpy(dtype=float)
        self.n_features_in_ = len(self.mean_)
        return self

    def transform(self, X):
        """Standardise ``X`` with the training mean and spread.

        Parameters
        ----------
        X : pandas.DataFrame or array-like of shape (n_samples, n_features)
            Values to standardise, columns as in :meth:`fit`.

        Returns
        -------
        numpy.ndarray
            The standardised values.
        """
        check_is_fitted(self)
        return (np.asarray(X, dtype=float) - self.mean_) / self.scale_


def _ones(X) -> np.ndarray:
    """A column of ones, one per row of ``X`` (the GLM's intercept)."""
    return np.ones((len(X), 1))


def _products_with_last(X) -> np.ndarray:
    """Every column of ``X`` but the last, times the last."""
    X = np.asarray(X, dtype=float)
    return X[:, :-1] * X[:, -1:]


def glm_design(questions: bool, relations: list[str]) -> ColumnTransformer:
    """The GLM's design matrix, as an unfitted column transformer.

    Parameters
    ----------
    questions : bool
        Whether the question features are among the GLM's features.
    relations : list of str
        The known relations; the first is the baseline (no indicator), an unknown relation gets none either.

    Returns
    -------
    sklearn.compose.ColumnTransformer
        Columns, in order: a constant 1; the standardised probe features and
        :math:`\\log_{10} P`; the products of each standardised probe feature with the
        standardised :math:`\\log_{10} P`; one indicator per relation but the first.

    Notes
    -----
    For standardised features :math:`z_j` and size :math:`z_P`, the linear predictor is
    :math:`\\beta_0 + \\sum_j \\beta_j z_j + \\beta_P z_P + \\sum_j \\gamma_j z_j z_P
    + \\sum_{r > 1} \\rho_r [r(f) = r]`.
    """
    probe = list(GLM_FEATURES) if questions else [c for c in GLM_FEATURES if c not in QUESTION_FEATURES]
    numeric = [*probe, SIZE_FEATURE]
    return ColumnTransformer(
        [
            ("constant", FunctionTransformer(_ones), [SIZE_FEATURE]),
            ("standardised", SampleStandardiser(), numeric),
            ("times_size", make_pipeline(SampleStandardiser(), FunctionTransformer(_products_with_last)), numeric),
            (
                "relation",
                OneHotEncoder(
                    categories=[list(relations)],
                    drop="first",
                    handle_unknown="ignore",
                    sparse_output=False,
                    dtype=float,
                ),
                [RELATION],
            ),
        ],
        sparse_threshold=0,
    )


def _rounded(X) -> np.ndarray:
    """``X`` rounded to :data:`~smi.prediction.settings.FEATURE_DECIMALS` decimals."""
    return np.round(np.asarray(X, dtype=float), FEATURE_DECIMALS)


def bin_edges(values: np.ndarray, n_bins: int) -> np.ndarray:
    """The inner bin edges of one column: between its distinct values, or at its quantiles when it has more.

    Parameters
    ----------
    values : numpy.ndarray
        The column's training values (rounded).
    n_bins : int
        The most bins.

    Returns
    -------
    numpy.ndarray
        Increasing edges, at most ``n_bins - 1``.

    Notes
    -----
    With distinct values :math:`u_1 < \\dots < u_m`: the midpoints :math:`(u_i + u_{i+1}) / 2` when
    :math:`m \\le n`; otherwise the distinct midpoint-percentiles :math:`q_{k/n}` of all values,
    :math:`k = 1, \\dots, n - 1` (the edges histogram boosting computes, from every row instead of a sample).
    """
    distinct = np.unique(values)
    if len(distinct) <= n_bins:
        return (distinct[:-1] + distinct[1:]) / 2
    return np.unique(np.percentile(values, np.linspace(0, 100, n_bins + 1)[1:-1], method="midpoint"))


class QuantileBins(OneToOneFeatureMixin, TransformerMixin, BaseEstimator):
    """The boosting's input binning: each column rounded, then cut between its values or at its quantiles.

    Histogram boosting bins its inputs itself, at quantiles of a random sample of 200,000 rows;
    this transformer does it first, from every training row and on values rounded to
    :data:`~smi.prediction.settings.FEATURE_DECIMALS` decimals, so the boosting sees at most
    ``n_bins`` values per column, each a bin of its own (:func:`bin_edges`).

    Parameters
    ----------
    n_bins : int, default :data:`~smi.prediction.settings.FEATURE_BINS`
        The most bins per column.

    Attributes
    ----------
    edges_ : list of numpy.ndarray
        The inner edges of every column.

    Notes
    -----
    Column :math:`j` is coded :math:`b(x) = \\#\\{k : e_{jk} < \\mathrm{round}(x, d)\\}`.
    """

    def __init__(self, n_bins: int = FEATURE_BINS):
        self.n_bins = n_bins

    def fit(self, X, y=None):
        """Learn each column's edges from all rows of ``X``, rounded.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training values.
        y : None
            Ignored.

        Returns
        -------
        QuantileBins
            ``self``, fitted.
        """
        values = _rounded(X)
        self.edges_ = [bin_edges(column, self.n_bins) for column in values.T]
        self.n_features_in_ = values.shape[1]
        return self

    def transform(self, X):
        """The bin code of every value of ``X``, rounded.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Values, columns as in :meth:`fit`.

        Returns
        -------
        numpy.ndarray
            Codes 0, 1, … per column, as floats.
        """
        check_is_fitted(self)
        values = _rounded(X)
        return np.column_stack(
            [np.searchsorted(edges, column, side="left") for edges, column in zip(self.edges_, values.T)]
        ).astype(float)


def boosting_design(questions: bool, relations: list[str]) -> ColumnTransformer:
    """The boosting's input, as an unfitted column transformer.

    Parameters
    ----------
    questions : bool
        Whether the question features are among the inputs.
    relations : list of str
        The known relations; the relation column holds each fact's position in this list (-1 when
        unknown, which the boosting treats as missing).

    Returns
    -------
    sklearn.compose.ColumnTransformer
        Columns, in order: :data:`~smi.prediction.features.NORMALISED_FEATURES`,
        :data:`~smi.prediction.features.EXPOSURE_FEATURES`, :math:`\\log_{10} P`, (``questions``)
        the question features, each coded by :class:`QuantileBins`, and last the relation code.
    """
    columns = (
        list(NORMALISED_FEATURES)
        + list(EXPOSURE_FEATURES)
        + [SIZE_FEATURE]
        + (list(QUESTION_FEATURES) if questions else [])
    )
    return ColumnTransformer(
        [
            ("features", QuantileBins(), columns),
            (
                "relation",
                OrdinalEncoder(
                    categories=[list(relations)], handle_unknown="use_encoded_value", unknown_value=-1, dtype=float
                ),
                [RELATION],
            ),
        ],
        sparse_threshold=0,
    )


def _known_relations(relations, X: pd.DataFrame) -> list[str]:
    """``relations`` as a list, or the sorted relations of ``X`` when None."""
    return sorted(X[RELATION].unique()) if relations is None else list(relations)


class GlmRanker(RegressorMixin, BaseEstimator):
    """Per-fact accuracy from a binomial GLM (logit link, fractional response).

    Parameters
    ----------
    questions : bool, default True
        Whether the question features enter the design.
    relations : list of str or None, default None
        The known relations, the first the baseline; None: the sorted relations of the training input.

    Attributes
    ----------
    relations_ : list of str
        The known relations used.
    design_ : sklearn.compose.ColumnTransformer
        The fitted :func:`glm_design`, shared by :meth:`fit` and :meth:`predict`.
    model_ : statsmodels GLM results
        The fitted GLM.
    coef_ : numpy.ndarray
        Its coefficients, in the order of the design's columns.

    Notes
    -----
    :math:`\\hat a = \\sigma(x^\\top \\beta)`, :math:`\\beta` maximising the Bernoulli
    quasi-likelihood :math:`\\sum_i a_i \\log \\hat a_i + (1 - a_i) \\log (1 - \\hat a_i)`
    with :math:`x` a row of :func:`glm_design`.
    """

    def __init__(self, questions: bool = True, relations=None):
        self.questions = questions
        self.relations = relations

    def fit(self, X: pd.DataFrame, y) -> GlmRanker:
        """Fit the design on ``X`` and the GLM on it.

        Parameters
        ----------
        X : pandas.DataFrame
            :func:`ranking_input` of the training facts.
        y : array-like
            Their accuracies, in [0, 1].

        Returns
        -------
        GlmRanker
            ``self``, fitted.
        """
        self.relations_ = _known_relations(self.relations, X)
        self.design_ = glm_design(self.questions, self.relations_)
        design = self.design_.fit_transform(X)
        self.model_ = sm.GLM(np.asarray(y, dtype=float), design, family=sm.families.Binomial()).fit()
        self.coef_ = np.asarray(self.model_.params)
        return self

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        """Predicted per-fact accuracy, in [0, 1].

        Parameters
        ----------
        X : pandas.DataFrame
            :func:`ranking_input` of the facts to predict.

        Returns
        -------
        numpy.ndarray
            One predicted accuracy per row of ``X``.
        """
        check_is_fitted(self)
        return np.asarray(self.model_.predict(self.design_.transform(X)))


class BoostingRanker(RegressorMixin, BaseEstimator):
    """Per-fact accuracy from histogram gradient boosting, clipped to [0, 1].

    Squared loss, a fixed number of iterations (no early stopping), the relation
    as a categorical feature and leaves of at least ``leaf_facts`` facts' worth of
    rows: every training fact appears once per training model, so the smallest
    leaf is ``leaf_facts × (training models)`` rows, the number of models read
    from the ``model`` column of the training input.

    Parameters
    ----------
    questions : bool, default True
        Whether the question features are among the inputs.
    leaf_facts : int, default :data:`~smi.prediction.settings.LEAF_FACTS`
        The smallest leaf, in facts' worth of rows.
    iterations : int, default 300
        Boosting iterations.
    random_state : int, default 0
        Seed of the boosting.
    relations : list of str or None, default None
        The known relations; None: the sorted relations of the training input.

    Attributes
    ----------
    relations_ : list of str
        The known relations used.
    design_ : sklearn.compose.ColumnTransformer
        The fitted :func:`boosting_design`, shared by :meth:`fit` and :meth:`predict`.
    model_ : sklearn.ensemble.HistGradientBoostingRegressor
        The fitted boosting.
    """

    def __init__(
        self,
        questions: bool = True,
        leaf_facts: int = LEAF_FACTS,
        iterations: int = 300,
        random_state: int = 0,
        relations=None,
    ):
        self.questions = questions
        self.leaf_facts = leaf_facts
        self.iterations = iterations
        self.random_state = random_state
        self.relations = relations

    def fit(self, X: pd.DataFrame, y) -> BoostingRanker:
        """Fit the design on ``X`` and the boosting on it.

        Parameters
        ----------
        X : pandas.DataFrame
            :func:`ranking_input` of the training facts, with their ``model`` column.
        y : array-like
            Their accuracies.

        Returns
        -------
        BoostingRanker
            ``self``, fitted.

        Raises
        ------
        SmiError
            When ``X`` has no ``model`` column.
        """
        from sklearn.ensemble import HistGradientBoostingRegressor

        if MODEL not in X.columns:
            raise SmiError("the boosting's training input needs the 'model' of every row")
        self.relations_ = _known_relations(self.relations, X)
        self.design_ = boosting_design(self.questions, self.relations_)
        design = self.design_.fit_transform(X)
        self.model_ = HistGradientBoostingRegressor(
            max_iter=self.iterations,
            learning_rate=0.1,
            early_stopping=False,
            min_samples_leaf=self.leaf_facts * X[MODEL].nunique(),
            categorical_features=[design.shape[1] - 1],
            random_state=self.random_state,
        ).fit(design, np.asarray(y, dtype=float))
        return self

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        """Predicted per-fact accuracy, clipped to [0, 1].

        Parameters
        ----------
        X : pandas.DataFrame
            :func:`ranking_input` of the facts to predict.

        Returns
        -------
        numpy.ndarray
            One predicted accuracy per row of ``X``.
        """
        check_is_fitted(self)
        return np.clip(self.model_.predict(self.design_.transform(X)), 0, 1)


def fit_ranking(
    train: pd.DataFrame, features: pd.DataFrame, ranking: tuple, gbm_iterations: int, seed: int, relations: list[str]
) -> GlmRanker | BoostingRanker:
    """Fit the ranking model ``ranking`` = (kind, questions, leaf facts) on the rows of ``train``.

    Parameters
    ----------
    train : pandas.DataFrame
        Training rows of a long accuracy frame (``acc``, ``rel``, ``model``).
    features : pandas.DataFrame
        :func:`smi.prediction.features.fact_features` of those rows.
    ranking : tuple
        (``"glm"`` or ``"gbm"``, question features, leaf facts), a
        :attr:`~smi.prediction.settings.FitSettings.ranking_part`.
    gbm_iterations : int
        Boosting iterations.
    seed : int
        Boosting seed.
    relations : list of str
        The known relations.

    Returns
    -------
    GlmRanker or BoostingRanker
        The fitted estimator.

    Raises
    ------
    SmiError
        When the kind is neither ``glm`` nor ``gbm``.
    """
    kind, questions, leaf_facts = ranking
    check_one_of(kind, ("gbm", "glm"), "ranking model")
    if kind == "glm":
        estimator = GlmRanker(questions=questions, relations=relations)
    else:
        estimator = BoostingRanker(
            questions=questions,
            leaf_facts=leaf_facts,
            iterations=gbm_iterations,
            random_state=seed,
            relations=relations,
        )
    return estimator.fit(ranking_input(features, train), train["acc"].to_numpy(dtype=float))
