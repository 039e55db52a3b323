"""Accuracy against a predictor: the bucketed fit of the paper and the plain per-fact fit.

Bucketed fit (the paper's R²). Facts are grouped by their normalised value
:math:`x_g`; each group's mean accuracy :math:`\\bar a_g` is regressed on
:math:`x_g` by ordinary least squares, :math:`\\bar a_g = \\beta_0 + \\beta_1 x_g`.

* R² is that of the group means (each group weighs the same, whatever its size);
* MSE :math:`= \\frac{1}{G}\\sum_g \\frac{1}{n_g}\\sum_{i \\in g} (a_i - \\beta_0 - \\beta_1 x_g)^2`;
* upper bound :math:`= \\beta_0 + \\beta_1`, the predicted accuracy at :math:`x = 1`;
* x-intercept :math:`= -\\beta_0 / \\beta_1`, where the line predicts zero accuracy.

Per-fact fit: the same OLS on every fact, :math:`a_i = \\beta_0 + \\beta_1 x_i`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import statsmodels.api as sm

from smi import metrics, release
from smi.errors import SmiError


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
    """Per distinct x: the mean accuracy and the number of facts, sorted by x."""
    frame = pd.DataFrame({"x": np.asarray(x, dtype=float), "acc": np.asarray(acc, dtype=float)})
    return frame.groupby("x")["acc"].agg(mean_acc="mean", n_facts="size").reset_index()


def _ols(x: np.ndarray, y: np.ndarray):
    """statsmodels OLS of y on [1, x]."""
    return sm.OLS(np.asarray(y, dtype=float), sm.add_constant(np.asarray(x, dtype=float), has_constant="add")).fit()


def bucketed_fit(x: np.ndarray, acc: np.ndarray) -> BucketedFit:
    """Fit group-mean accuracy on group value (see module docstring for every output)."""
    x = np.asarray(x, dtype=float)
    acc = np.asarray(acc, dtype=float)
    groups = bucket_means(x, acc)
    if len(groups) < 2:
        raise SmiError(f"bucketed fit needs at least two buckets, got {len(groups)}")
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
        n_facts=int(len(acc)),
        n_buckets=int(len(groups)),
    )


def per_fact_fit(x: np.ndarray, acc: np.ndarray) -> PerFactFit:
    """Fit each fact's accuracy on its value: the share of per-fact variance explained."""
    x = np.asarray(x, dtype=float)
    acc = np.asarray(acc, dtype=float)
    if len(np.unique(x)) < 2:
        raise SmiError("per-fact fit needs at least two distinct predictor values")
    model = _ols(x, acc)
    intercept, slope = (float(v) for v in model.params)
    return PerFactFit(float(model.rsquared), slope, intercept, float(acc.mean()), int(len(acc)))


def model_predictors(output: pd.DataFrame, parameters: float, width: float = metrics.DEFAULT_BUCKET_WIDTH) -> pd.DataFrame:
    """The usable facts of one model (MI > 0) with a column per method: idx, rel, acc, CO-OCCUR, MI, SMI."""
    usable = output[metrics.usable_facts(output)].reset_index(drop=True)
    if len(usable) == 0:
        raise SmiError("no fact has MI > 0; nothing to fit")
    frame = usable[["idx", "subj", "rel", "obj", "acc"]].copy()
    for method in metrics.METHODS:
        frame[method] = metrics.predictor_values(usable, method, parameters, width)
    return frame


def fit_predictors(predictors: pd.DataFrame, model: str) -> tuple[list[dict], list[dict]]:
    """Bucketed and per-fact fits of every method on one model's :func:`model_predictors` frame."""
    bucketed, per_fact = [], []
    for method in metrics.METHODS:
        fit = bucketed_fit(predictors[method], predictors["acc"])
        bucketed.append({"model": model, "method": method, **asdict(fit)})
        plain = per_fact_fit(predictors[method], predictors["acc"])
        per_fact.append({"model": model, "method": method, **asdict(plain)})
    return bucketed, per_fact


BUCKETED_COLUMNS = ["model", "method", "r2", "slope", "intercept", "mse", "upper_bound", "mean_acc", "n_facts", "n_buckets"]
PER_FACT_COLUMNS = ["model", "method", "r2", "slope", "intercept", "mean_acc", "n_facts"]


def release_predictors(
    release_dir: Path,
    models: pd.DataFrame | None = None,
    width: float = metrics.DEFAULT_BUCKET_WIDTH,
    progress: bool = False,
    drop_answer_in_subject: bool = False,
    outputs: Path | None = None,
) -> dict[str, pd.DataFrame]:
    """{model name: :func:`model_predictors` frame} for every row of the models table; with
    ``drop_answer_in_subject``, without the facts of :func:`smi.release.answer_written_in_subject`.
    ``outputs`` is a folder of ``<model>.json`` files read instead of the release's ``infer/merge_outputs``."""
    from tqdm.auto import tqdm

    models = release.load_models() if models is None else models
    predictors = {}
    for model in tqdm(list(models.itertuples(index=False)), desc="load", unit="model", disable=not progress):
        output = release.load_model_output(release_dir, model.name, outputs)
        if drop_answer_in_subject:
            output, _ = release.drop_answer_in_subject(output)
        try:
            predictors[model.name] = model_predictors(output, model.parameters, width)
        except SmiError as error:
            raise SmiError(f"{release.model_output_path(release_dir, model.name, outputs)}: {error}") from None
    return predictors


def fit_all(predictors: dict[str, pd.DataFrame]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(bucketed table, per-fact table) over every model of :func:`release_predictors`.

    The bucketed table has exactly the columns of ``r2_bucketed.csv``
    (:data:`BUCKETED_COLUMNS`) followed by ``x_intercept``. NaN anywhere is an error.
    """
    bucketed, per_fact = [], []
    for model, frame in predictors.items():
        try:
            rows_b, rows_p = fit_predictors(frame, model)
        except SmiError as error:
            raise SmiError(f"model '{model}': {error}") from None
        bucketed += rows_b
        per_fact += rows_p
    bucketed_frame = pd.DataFrame(bucketed)[BUCKETED_COLUMNS + ["x_intercept"]]
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
    drop_answer_in_subject: bool = False,
    outputs: Path | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Load and fit every model of the models table: (bucketed table, per-fact table)."""
    return fit_all(release_predictors(release_dir, models, width, progress, drop_answer_in_subject, outputs))


def markdown_table(bucketed: pd.DataFrame, value: str = "r2") -> str:
    """A model × method markdown table of one column of the bucketed fits (default R²)."""
    wide = bucketed.pivot(index="model", columns="method", values=value)
    wide = wide.reindex(index=list(dict.fromkeys(bucketed["model"])), columns=list(metrics.METHODS))
    lines = ["| model | " + " | ".join(wide.columns) + " |", "|---|" + "---:|" * len(wide.columns)]
    for model, row in wide.iterrows():
        lines.append(f"| {model} | " + " | ".join(f"{v:.6f}" for v in row) + " |")
    return "\n".join(lines) + "\n"


def write_fit_outputs(bucketed: pd.DataFrame, per_fact: pd.DataFrame, out_dir: Path) -> list[Path]:
    """Write r2_bucketed.csv (exact columns), r2_per_fact.csv and r2_table.md; return the paths."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = [out_dir / "r2_bucketed.csv", out_dir / "r2_per_fact.csv", out_dir / "r2_table.md"]
    bucketed[BUCKETED_COLUMNS].to_csv(paths[0], index=False, float_format="%.12g")
    per_fact.to_csv(paths[1], index=False, float_format="%.12g")
    paths[2].write_text("# Bucketed R² per model and method\n\n" + markdown_table(bucketed))
    return paths
