"""Accuracy against a predictor: the bucketed fit of the paper and the plain per-fact fit.

Bucketed fit (the paper's R²). Facts are grouped by their normalised value
:math:`x_g`; each group's mean accuracy :math:`\\bar a_g` is regressed on
:math:`x_g` by ordinary least squares, :math:`\\bar a_g = \\beta_0 + \\beta_1 x_g`.

* R² is that of the group means (each group weighs the same, whatever its size);
* MSE :math:`= \\frac{1}{G}\\sum_g \\frac{1}{n_g}\\sum_{i \\in g} (a_i - \\beta_0 - \\beta_1 x_g)^2`;
* upper bound :math:`= \\beta_0 + \\beta_1`, the predicted accuracy at :math:`x = 1`;
* x-intercept :math:`= -\\beta_0 / \\beta_1`, where the line predicts zero accuracy.

Per-fact fit: a new OLS line fitted to every fact, :math:`a_i = \\gamma_0 + \\gamma_1 x_i`; its R²
is the most that any straight line in x can explain of the per-fact variance.

The bucketed line on facts (:func:`line_r2`, :func:`bucketed_line_on_facts`): the paper's line
:math:`\\beta_0 + \\beta_1 x_i` itself scored on the facts,
:math:`1 - \\sum_i (a_i - \\beta_0 - \\beta_1 x_i)^2 / \\sum_i (a_i - \\bar a)^2`, never above the
per-fact fit's R² and possibly negative.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import statsmodels.api as sm

from smi import formats, metrics, release
from smi.errors import ParameterValueError, SmiError, check_scalar
from smi.files import atomic_outputs, check_writable


@dataclass(frozen=True)
class BucketedFit:
    """Result of the bucketed OLS of mean accuracy on a normalised predictor."""

    r2: float
    slope: float
    intercept: float
    mse: float
    upper_bound: float
    x_intercept: float
    mean_acc: float
    n_facts: int
    n_buckets: int


@dataclass(frozen=True)
class PerFactFit:
    """Result of the OLS of each fact's accuracy on its normalised predictor."""

    r2: float
    slope: float
    intercept: float
    mean_acc: float
    n_facts: int


def bucket_means(x: np.ndarray, acc: np.ndarray) -> pd.DataFrame:
    """Per distinct x: the mean accuracy and the number of facts, sorted by x.

    Parameters
    ----------
    x : numpy.ndarray
        Each fact's predictor value (already bucketed).
    acc : numpy.ndarray
        Each fact's accuracy.

    Returns
    -------
    pandas.DataFrame
        Columns ``x``, ``mean_acc`` and ``n_facts``, one row per distinct x.
    """
    frame = pd.DataFrame({"x": np.asarray(x, dtype=float), "acc": np.asarray(acc, dtype=float)})
    return frame.groupby("x")["acc"].agg(mean_acc="mean", n_facts="size").reset_index()


def _ols(x: np.ndarray, y: np.ndarray):
    """statsmodels OLS of y on [1, x]."""
    return sm.OLS(np.asarray(y, dtype=float), sm.add_constant(np.asarray(x, dtype=float), has_constant="add")).fit()


def bucketed_fit(x: np.ndarray, acc: np.ndarray) -> BucketedFit:
    """Fit group-mean accuracy on group value (see module docstring for every output).

    Parameters
    ----------
    x : numpy.ndarray
        Each fact's predictor value (already bucketed).
    acc : numpy.ndarray
        Each fact's accuracy.

    Returns
    -------
    BucketedFit
        R², slope, intercept, MSE, upper bound, mean accuracy and sizes of the fit.

    Raises
    ------
    SmiError
        When there are fewer than two buckets, or the bucket means are all equal.

    Notes
    -----
    Ordinary least squares of the bucket means ā_b on the bucket values x_b, one point per bucket:
    R² = 1 − Σ_b (ā_b − β0 − β1 x_b)² / Σ_b (ā_b − mean ā)².
    """
    x = np.asarray(x, dtype=float)
    acc = np.asarray(acc, dtype=float)
    groups = bucket_means(x, acc)
    if len(groups) < 2:
        raise SmiError(f"bucketed fit needs at least two buckets, got {len(groups)}")
    if groups["mean_acc"].nunique() < 2:
        level = groups["mean_acc"].iloc[0]
        raise SmiError(f"mean accuracy is {level:g} in every bucket; R² needs accuracies that vary")
    model = _ols(groups["x"], groups["mean_acc"])
    intercept, slope = (float(v) for v in model.params)
    squared = (acc - (intercept + slope * x)) ** 2
    mse = float(pd.Series(squared).groupby(x).mean().mean())
    return BucketedFit(
        r2=float(model.rsquared),
        slope=slope,
        intercept=intercept,
        mse=mse,
        upper_bound=intercept + slope,
        x_intercept=-intercept / slope if slope != 0 else float("nan"),
        mean_acc=float(acc.mean()),
        n_facts=len(acc),
        n_buckets=len(groups),
    )


def per_fact_fit(x: np.ndarray, acc: np.ndarray) -> PerFactFit:
    """Fit each fact's accuracy on its value: the share of per-fact variance explained.

    Parameters
    ----------
    x : numpy.ndarray
        Each fact's predictor value.
    acc : numpy.ndarray
        Each fact's accuracy.

    Returns
    -------
    PerFactFit
        R², slope, intercept, mean accuracy and the number of facts.

    Raises
    ------
    SmiError
        When the predictor has one distinct value or the accuracy does not vary.

    Notes
    -----
    R² = 1 − Σ_i (a_i − β0 − β1 x_i)² / Σ_i (a_i − ā)², with the least-squares line over facts.
    """
    x = np.asarray(x, dtype=float)
    acc = np.asarray(acc, dtype=float)
    if len(np.unique(x)) < 2:
        raise SmiError("per-fact fit needs at least two distinct predictor values")
    if len(np.unique(acc)) < 2:
        raise SmiError(f"accuracy is {acc[0]:g} for every fact; R² needs accuracies that vary")
    model = _ols(x, acc)
    intercept, slope = (float(v) for v in model.params)
    return PerFactFit(float(model.rsquared), slope, intercept, float(acc.mean()), len(acc))


def model_predictors(
    output: pd.DataFrame, parameters: float, width: float = metrics.DEFAULT_BUCKET_WIDTH
) -> pd.DataFrame:
    """The usable facts of one model (MI > 0) with a column per method: idx, rel, acc, CO-OCCUR, MI, SMI.

    Parameters
    ----------
    output : pandas.DataFrame
        One model's per-fact records with counts and ``acc`` (:func:`smi.release.load_model_output`).
    parameters : float
        The model's parameter count.
    width : float
        Bucket width on the log2 scale.

    Returns
    -------
    pandas.DataFrame
        One row per usable fact: idx, subj, rel, obj, acc and one column per method.

    Raises
    ------
    SmiError
        When no fact has MI > 0, or a predictor cannot be normalised.
    """
    usable = output[metrics.usable_facts(output)].reset_index(drop=True)
    if len(usable) == 0:
        raise SmiError("no fact has MI > 0; nothing to fit")
    frame = usable[["idx", "subj", "rel", "obj", "acc"]].copy()
    for method in metrics.METHODS:
        frame[method] = metrics.predictor_values(usable, method, parameters, width)
    return frame


def predictor_r2_rows(predictors: pd.DataFrame, model: str) -> tuple[list[dict], list[dict]]:
    """Bucketed and per-fact fits of every method on one model's :func:`model_predictors` frame.

    A model whose accuracy is the same on every usable fact has no variance to
    explain (R² would be 0/0) and raises :class:`SmiError`.

    Parameters
    ----------
    predictors : pandas.DataFrame
        One model's :func:`model_predictors` frame.
    model : str
        The model's name, written in every row.

    Returns
    -------
    bucketed : list of dict
        One row per method: model, method and the fields of :class:`BucketedFit`.
    per_fact : list of dict
        One row per method: model, method and the fields of :class:`PerFactFit`.

    Raises
    ------
    SmiError
        When the accuracy is the same on every usable fact, or a fit is impossible.
    """
    acc = predictors["acc"].to_numpy(dtype=float)
    if len(acc) and (acc == acc[0]).all():
        raise SmiError(f"accuracy is {acc[0]:g} on all {len(acc)} usable facts; R² needs accuracies that vary")
    bucketed, per_fact = [], []
    for method in metrics.METHODS:
        fit = bucketed_fit(predictors[method], predictors["acc"])
        bucketed.append({"model": model, "method": method, **asdict(fit)})
        plain = per_fact_fit(predictors[method], predictors["acc"])
        per_fact.append({"model": model, "method": method, **asdict(plain)})
    return bucketed, per_fact


BUCKETED_COLUMNS = [
    "model",
    "method",
    "r2",
    "slope",
    "intercept",
    "mse",
    "upper_bound",
    "mean_acc",
    "n_facts",
    "n_buckets",
]
PER_FACT_COLUMNS = ["model", "method", "r2", "slope", "intercept", "mean_acc", "n_facts"]


def release_predictors(
    release_dir: Path,
    models: pd.DataFrame | None = None,
    width: float = metrics.DEFAULT_BUCKET_WIDTH,
    progress: bool = False,
    answer_in_subject: str = "keep",
    outputs: Path | None = None,
) -> dict[str, pd.DataFrame]:
    """{model name: :func:`model_predictors` frame} for every row of the models table, each model's facts
    under the ``answer_in_subject`` policy (:func:`smi.release.apply_answer_in_subject`).
    ``outputs`` is a folder of ``<model>.json`` files read instead of the release's ``infer/merge_outputs``.

    Parameters
    ----------
    release_dir : Path
        The release folder.
    models : pandas.DataFrame or None
        The models table (name, parameters, …); the paper's models when None.
    width : float
        Bucket width on the log2 scale.
    progress : bool
        Show a progress bar.
    answer_in_subject : {"keep", "drop"}, default "keep"
        Keep (as the paper did) or leave out the facts whose object is written inside the subject's name.
    outputs : Path or None
        A folder of per-model files read instead of the release's.

    Returns
    -------
    dict of str to pandas.DataFrame
        The predictors frame of each model, in the table's order.

    Raises
    ------
    SmiError
        When a model's file is missing or invalid, or its predictors cannot be computed (naming the file).
    """
    from tqdm.auto import tqdm

    check_scalar(width, "width", above=0)  # before any file is read
    models = formats.load_models() if models is None else models
    predictors = {}
    for model in tqdm(list(models.itertuples(index=False)), desc="load", unit="model", disable=not progress):
        output = release.load_model_output(release_dir, model.name, outputs)
        output, _ = release.apply_answer_in_subject(output, answer_in_subject)
        try:
            predictors[model.name] = model_predictors(output, model.parameters, width)
        except SmiError as error:
            raise SmiError(f"{release.model_output_path(release_dir, model.name, outputs)}: {error}") from None
    return predictors


def fit_all(predictors: dict[str, pd.DataFrame]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(bucketed table, per-fact table) over every model of :func:`release_predictors`.

    The bucketed table has exactly the columns of ``r2_bucketed.csv``
    (:data:`BUCKETED_COLUMNS`) followed by ``x_intercept``. NaN anywhere is an error.

    Parameters
    ----------
    predictors : dict of str to pandas.DataFrame
        :func:`release_predictors`' output.

    Returns
    -------
    bucketed : pandas.DataFrame
        One row per (model, method): :data:`BUCKETED_COLUMNS` and ``x_intercept``.
    per_fact : pandas.DataFrame
        One row per (model, method): :data:`PER_FACT_COLUMNS`.

    Raises
    ------
    SmiError
        When a model cannot be fitted (naming it) or a fit gives NaN.
    """
    bucketed, per_fact = [], []
    for model, frame in predictors.items():
        try:
            rows_b, rows_p = predictor_r2_rows(frame, model)
        except SmiError as error:
            raise SmiError(f"model '{model}': {error}") from None
        bucketed += rows_b
        per_fact += rows_p
    bucketed_frame = pd.DataFrame(bucketed)[[*BUCKETED_COLUMNS, "x_intercept"]]
    per_fact_frame = pd.DataFrame(per_fact)[PER_FACT_COLUMNS]
    for frame in (bucketed_frame, per_fact_frame):
        if frame.drop(columns=["model", "method"]).isna().any().any():
            raise SmiError("fit produced NaN values; refusing to write them as results")
    return bucketed_frame, per_fact_frame


def fit_release(
    release_dir: Path,
    models: pd.DataFrame | None = None,
    width: float = metrics.DEFAULT_BUCKET_WIDTH,
    progress: bool = False,
    answer_in_subject: str = "keep",
    outputs: Path | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Load and fit every model of the models table: (bucketed table, per-fact table).

    Parameters
    ----------
    release_dir, models, width, progress, answer_in_subject, outputs
        As for :func:`release_predictors`.

    Returns
    -------
    bucketed, per_fact : pandas.DataFrame
        As for :func:`fit_all`.

    Raises
    ------
    SmiError
        As :func:`release_predictors` and :func:`fit_all`.
    """
    return fit_all(release_predictors(release_dir, models, width, progress, answer_in_subject, outputs))


def markdown_table(bucketed: pd.DataFrame, value: str = "r2") -> str:
    """A model × method markdown table of one column of the bucketed fits (default R²).

    Parameters
    ----------
    bucketed : pandas.DataFrame
        The bucketed table of :func:`fit_all`.
    value : str
        The column shown in the cells.

    Returns
    -------
    str
        A markdown table, one row per model and one column per method.
    """
    wide = bucketed.pivot(index="model", columns="method", values=value)
    wide = wide.reindex(index=list(dict.fromkeys(bucketed["model"])), columns=list(metrics.METHODS))
    lines = ["| model | " + " | ".join(wide.columns) + " |", "|---|" + "---:|" * len(wide.columns)]
    for model, row in wide.iterrows():
        lines.append(f"| {model} | " + " | ".join(f"{v:.6f}" for v in row) + " |")
    return "\n".join(lines) + "\n"


FIT_OUTPUTS = ("r2_bucketed.csv", "r2_per_fact.csv", "r2_table.md")


def fit_output_paths(out_dir: Path) -> list[Path]:
    """The three files :func:`write_fit_outputs` writes into ``out_dir``.

    Parameters
    ----------
    out_dir : Path
        The output folder.

    Returns
    -------
    list of Path
        ``r2_bucketed.csv``, ``r2_per_fact.csv`` and ``r2_table.md`` in ``out_dir``.
    """
    return [Path(out_dir) / name for name in FIT_OUTPUTS]


def check_fit_outputs(out_dir: Path) -> list[Path]:
    """Refuse, before any fitting, an output folder whose files cannot be written.

    The folder is created when missing; see :func:`smi.files.check_writable` for what is refused.

    Parameters
    ----------
    out_dir : Path
        The output folder.

    Returns
    -------
    list of Path
        :func:`fit_output_paths` of ``out_dir``.

    Raises
    ------
    SmiError
        When ``out_dir`` is a file or one of the outputs cannot be written.
    """
    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise ParameterValueError("out_dir", f"is a file; give a folder for {', '.join(FIT_OUTPUTS)}", out_dir)
    return [check_writable(path, "fit output") for path in fit_output_paths(out_dir)]


def write_fit_outputs(bucketed: pd.DataFrame, per_fact: pd.DataFrame, out_dir: Path) -> list[Path]:
    """Write r2_bucketed.csv (exact columns), r2_per_fact.csv and r2_table.md together; return the paths.

    The three belong together: each is written under a temporary name and all are
    renamed into place only once all are complete (:func:`smi.files.atomic_outputs`).

    Parameters
    ----------
    bucketed, per_fact : pandas.DataFrame
        The tables of :func:`fit_all`.
    out_dir : Path
        The output folder.

    Returns
    -------
    list of Path
        The files written (:func:`fit_output_paths`).

    Raises
    ------
    SmiError
        When the files cannot be written.
    """
    paths = fit_output_paths(out_dir)
    with atomic_outputs(paths) as (bucketed_tmp, per_fact_tmp, table_tmp):
        bucketed[BUCKETED_COLUMNS].to_csv(bucketed_tmp, index=False, float_format="%.12g")
        per_fact.to_csv(per_fact_tmp, index=False, float_format="%.12g")
        table_tmp.write_text("# Bucketed R² per model and method\n\n" + markdown_table(bucketed), encoding="utf-8")
    return paths


def r_squared(acc: np.ndarray, pred: np.ndarray) -> float:
    """Share of the per-fact variance of ``acc`` that the predictions ``pred`` explain (can be negative).

    The one computation of R² from predictions in the package: held-out predictions
    (:mod:`smi.prediction`) and a given line on the facts (:func:`line_r2`) both use it.

    Parameters
    ----------
    acc : array-like
        Each fact's accuracy.
    pred : array-like
        Each fact's prediction.

    Returns
    -------
    float
        R²; NaN when there is no fact or the accuracy does not vary (R² is undefined then).

    Notes
    -----
    :math:`R^2 = 1 - \\sum_i (a_i - \\hat a_i)^2 / \\sum_i (a_i - \\bar a)^2`.
    """
    acc, pred = np.asarray(acc, dtype=float), np.asarray(pred, dtype=float)
    if len(acc) == 0 or np.ptp(acc) == 0:
        return float("nan")
    return float(1.0 - np.sum((acc - pred) ** 2) / np.sum((acc - acc.mean()) ** 2))


def line_r2(x: np.ndarray, acc: np.ndarray, intercept: float, slope: float) -> float:
    """:func:`r_squared` of a given line on the facts, :math:`\\hat a_i = \\beta_0 + \\beta_1 x_i`.

    Parameters
    ----------
    x : numpy.ndarray
        Each fact's predictor value.
    acc : numpy.ndarray
        Each fact's accuracy.
    intercept, slope : float
        The line.

    Returns
    -------
    float
        R² of the line on the facts.

    Raises
    ------
    SmiError
        When there is no fact or the accuracy does not vary.
    """
    r2 = r_squared(acc, intercept + slope * np.asarray(x, dtype=float))
    if np.isnan(r2):
        raise SmiError("every fact has the same accuracy; R² is undefined")
    return r2


def bucketed_line_on_facts(predictors: dict[str, pd.DataFrame], bucketed: pd.DataFrame) -> pd.DataFrame:
    """Per model and method: the per-fact R² of the bucketed (paper's) line, columns model, method, r2.

    ``predictors`` is :func:`release_predictors`' output and ``bucketed`` the bucketed table
    :func:`fit_all` made from it; a (model, method) missing from ``bucketed`` is an error.

    Parameters
    ----------
    predictors : dict of str to pandas.DataFrame
        :func:`release_predictors`' output.
    bucketed : pandas.DataFrame
        The bucketed table of :func:`fit_all`.

    Returns
    -------
    pandas.DataFrame
        Columns model, method, r2 (:func:`line_r2` of the bucketed line on the facts).

    Raises
    ------
    SmiError
        When ``bucketed`` has no row for a (model, method), or a model's accuracy does not vary.
    """
    lines = bucketed.set_index(["model", "method"])
    rows = []
    for model, frame in predictors.items():
        for method in metrics.METHODS:
            if (model, method) not in lines.index:
                raise SmiError(f"no bucketed fit for model '{model}', method '{method}'")
            line = lines.loc[(model, method)]
            rows.append(
                {
                    "model": model,
                    "method": method,
                    "r2": line_r2(frame[method], frame["acc"], float(line["intercept"]), float(line["slope"])),
                }
            )
    return pd.DataFrame(rows, columns=["model", "method", "r2"])
