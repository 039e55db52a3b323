"""The settings of ``best``: the choices once tuned by hand, and the grid the nested selection searches."""

from __future__ import annotations

from dataclasses import dataclass

from smi.errors import check_scalar
from smi.prediction.levels import TREND_MIN_PARAMETERS

#: Every training fact appears once per training model, so a leaf of fewer rows than models can
#: hold one fact and memorise it; leaves of at least this many facts' worth of rows
#: (``LEAF_FACTS × training models``) make the trees learn from counts what holds across facts.
LEAF_FACTS = 20

#: The boosting's numeric inputs are rounded to this many decimals, then cut into at most
#: :data:`FEATURE_BINS` bins at quantiles of *all* training rows, before the trees grow. Left to
#: itself, histogram boosting places its bin edges at quantiles of a random sample of 200,000 rows,
#: between values that can lie 1e-6 apart, and a perturbation that small (or another sample) grows
#: other trees; rounded and binned here, every value is its own bin for the boosting, the bins depend
#: on no sample, and a difference in the last bits of a feature between two machines (another libm,
#: BLAS or SIMD path) cannot move a value across a bin edge.
FEATURE_DECIMALS = 6
#: At most this many bins per feature (the boosting's own maximum, so no resolution is lost to it).
FEATURE_BINS = 255


def check_gbm_iterations(gbm_iterations: int) -> int:
    """The boosting's iteration count, refused unless at least 1.

    Parameters
    ----------
    gbm_iterations : int
        Boosting iterations of the ranking model.

    Returns
    -------
    int
        ``gbm_iterations``.

    Raises
    ------
    ParameterValueError
        When it is below 1 (the command line says ``--gbm-iterations``).
    """
    return check_scalar(gbm_iterations, "gbm_iterations", "integer", minimum=1)


def check_threads(threads: int) -> int:
    """``threads`` (the numerical libraries' threads while fitting) when it is an integer of at least 1.

    Raises
    ------
    ParameterValueError
        When it is not (the command line says ``--threads``).
    """
    return check_scalar(threads, "threads", "integer", minimum=1)


#: Most bootstrap resamples accepted: the resamples of one model's facts are held in memory at once.
MAX_BOOTSTRAP = 10_000


def check_bootstrap(bootstrap: int) -> int:
    """``bootstrap`` (resamples of the facts for a summary's intervals) when it is an integer from 10 to
    :data:`MAX_BOOTSTRAP`.

    Raises
    ------
    ParameterValueError
        When it is not (the command line says ``--bootstrap``).
    """
    return check_scalar(bootstrap, "bootstrap", "integer", minimum=10, maximum=MAX_BOOTSTRAP)


# ---------------------------------------------------------------- settings of a fit


@dataclass(frozen=True)
class FitSettings:
    """The choices of ``best`` that were once tuned by hand, as parameters of the fit.

    Attributes
    ----------
    ranking : str
        The per-fact model that ``best`` re-levels (``gbm`` or ``glm``).
    questions : bool
        Whether it sees :data:`~smi.prediction.features.QUESTION_FEATURES`.
    leaf_facts : int
        The boosting's smallest leaf in facts' worth of rows (0 for ``glm``).
    trend_min_parameters : float
        The size from which the separate size trend applies.
    tokens : bool
        Whether that trend uses training tokens where they are known.
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
    """Every combination of :data:`RANKING_GRID`, :data:`TREND_GRID` and :data:`TOKENS_GRID`.

    Returns
    -------
    list of FitSettings
        The grid, ranking models outermost.
    """
    return [
        FitSettings(kind, questions, leaf, threshold, tokens)
        for kind, questions, leaf in RANKING_GRID
        for threshold in TREND_GRID
        for tokens in TOKENS_GRID
    ]
