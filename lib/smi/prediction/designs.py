"""The design matrices of the ranking models, each an unfitted column transformer, and the transformers they use.

Both designs read the input ``X`` of :func:`smi.prediction.ranking_input`: the fact
features and the relation (column :data:`RELATION`).

:func:`glm_design`
    a constant, the standardised (:class:`SampleStandardiser`) probe features and
    :math:`\\log_{10} P`, their products with :math:`\\log_{10} P`, one indicator per relation.
:func:`boosting_design`
    the corpus features, exposures, size and (optionally) the question features, each
    binned by :class:`QuantileBins`, and the relation's code.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, OneToOneFeatureMixin, TransformerMixin
from sklearn.compose import ColumnTransformer
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, OrdinalEncoder
from sklearn.utils.validation import check_is_fitted

from smi.prediction.features import (
    EXPOSURE_FEATURES,
    GLM_FEATURES,
    NORMALISED_FEATURES,
    QUESTION_FEATURES,
    SIZE_FEATURE,
)
from smi.prediction.settings import FEATURE_BINS, FEATURE_DECIMALS

#: The column of a ranking model's input that holds the fact's relation.
RELATION = "rel"


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
