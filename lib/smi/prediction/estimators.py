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
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.utils.validation import check_is_fitted

from smi.errors import SmiError, check_one_of
from smi.prediction.designs import RELATION, boosting_design, glm_design
from smi.prediction.settings import LEAF_FACTS

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
        The fitted :func:`smi.prediction.designs.glm_design`, shared by :meth:`fit` and :meth:`predict`.
    model_ : statsmodels GLM results
        The fitted GLM.
    coef_ : numpy.ndarray
        Its coefficients, in the order of the design's columns.

    Notes
    -----
    :math:`\\hat a = \\sigma(x^\\top \\beta)`, :math:`\\beta` maximising the Bernoulli
    quasi-likelihood :math:`\\sum_i a_i \\log \\hat a_i + (1 - a_i) \\log (1 - \\hat a_i)`
    with :math:`x` a row of :func:`smi.prediction.designs.glm_design`.
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
        The fitted :func:`smi.prediction.designs.boosting_design`, shared by :meth:`fit` and :meth:`predict`.
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
