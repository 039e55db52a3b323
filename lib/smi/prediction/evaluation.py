"""Cross-validation: hold out each group of a scheme, fit on the rest, predict; folds saved under a key.

A fold's key (:func:`evaluation_key`, :func:`fold_key`) covers the data, the
settings and :func:`fold_code_version`, so a saved fold is reused only when all
three are unchanged.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from smi import metrics, regression
from smi.errors import SmiError, check_one_of, check_seed
from smi.files import atomic_output
from smi.hashing import code_sha256, frame_sha256, text_sha256
from smi.prediction import intervals
from smi.prediction.features import fact_features
from smi.prediction.intervals import FACT_INTERVAL_BINS
from smi.prediction.predictors import PREDICTORS, fit_predictors, predict_model
from smi.prediction.selection import select_settings
from smi.prediction.settings import FIXED_SETTINGS, check_gbm_iterations, check_threads, settings_grid

#: Evaluation schemes and the column of the accuracy frame that defines a held-out group.
SCHEMES = {
    "leave-one-model-out": "model",
    "leave-one-corpus-out": "corpus",
    "leave-one-series-out": "series",
}


#: Interval columns of :func:`evaluate`'s table: per fact, then per model (repeated on its rows), then the
#: settings chosen for the fold.
INTERVAL_COLUMNS = ["best_lower", "best_upper", "mean_lower", "mean_upper", "pooled_lower", "pooled_upper", "selected"]
PREDICTION_COLUMNS = (
    ["model", "corpus", "series", "parameters", "idx", "rel", "acc"]
    + [f"pred_{p}" for p in PREDICTORS]
    + INTERVAL_COLUMNS
)


def scheme_column(scheme: str) -> str:
    """The accuracy-frame column whose values are held out one at a time under ``scheme``.

    Parameters
    ----------
    scheme : str
        A key of :data:`SCHEMES`.

    Returns
    -------
    str
        ``model``, ``corpus`` or ``series``.

    Raises
    ------
    SmiError
        When ``scheme`` is not one of :data:`SCHEMES`.
    """
    return SCHEMES[check_one_of(scheme, SCHEMES, "scheme")]


# ---------------------------------------------------------------- cross-validation


def package_sources() -> list[Path]:
    """Every module of :mod:`smi.prediction`, sorted by name.

    Returns
    -------
    list of pathlib.Path
        The ``.py`` files of the package's folder.
    """
    return sorted(Path(__file__).resolve().parent.glob("*.py"))


def fold_code_version() -> str:
    """A hash of what, besides the data and the settings, decides a fold's predictions.

    It is :func:`smi.hashing.code_sha256` of every module of this package
    (:func:`package_sources`), of the modules that compute SMI and its line
    (:mod:`smi.metrics`, :mod:`smi.regression`) and of what they import, with the versions of
    the numerical libraries the predictors are fitted with. Any change of what that code does
    or any library upgrade gives a new hash, so a fold saved before it is recomputed.

    Returns
    -------
    str
        A SHA-256 hex digest.
    """
    import scipy
    import sklearn
    import statsmodels

    package = [f"{__package__}.{path.stem}" for path in package_sources() if path.stem != "__init__"]
    modules = [__package__, *package, metrics.__name__, regression.__name__]
    libraries = ";".join(f"{lib.__name__}={lib.__version__}" for lib in (np, pd, sklearn, statsmodels, scipy))
    return code_sha256(modules, extra=libraries)


def evaluation_key(accuracies: pd.DataFrame, scheme: str, gbm_iterations: int, seed: int) -> dict:
    """Everything the folds of one evaluation depend on, in parts that can be compared one by one.

    Parameters
    ----------
    accuracies : pandas.DataFrame
        The whole long accuracy frame (every model's models-table row, per-fact accuracies and
        counts, after any facts were left out: each fold trains on all models but the held-out ones).
    scheme : str
        The evaluation scheme.
    gbm_iterations : int
        Boosting iterations.
    seed : int
        Boosting seed.

    Returns
    -------
    dict
        ``data`` (:func:`smi.hashing.frame_sha256` of ``accuracies``), ``settings`` (the scheme, the fitting
        settings, the selection grid, the fixed settings, the interval settings) and ``code``
        (:func:`fold_code_version`). A fold's key adds the held-out group to ``settings`` (:func:`fold_key`).
    """
    return {
        "code": fold_code_version(),
        "data": frame_sha256(accuracies),
        "settings": {
            "scheme": scheme,
            "gbm_iterations": int(gbm_iterations),
            "seed": int(seed),
            "grid": [setting.label() for setting in settings_grid()],
            "fixed": FIXED_SETTINGS.label(),
            "coverage": intervals.COVERAGE,
            "fact_interval_bins": FACT_INTERVAL_BINS,
        },
    }


def fold_key(evaluation: dict, group) -> dict:
    """The key of the fold holding out ``group``.

    Parameters
    ----------
    evaluation : dict
        :func:`evaluation_key` of the evaluation.
    group : object
        The held-out group.

    Returns
    -------
    dict
        ``evaluation`` with the group's name as ``held_out`` in its settings.
    """
    return {**evaluation, "settings": {**evaluation["settings"], "held_out": str(group)}}


#: Schema metadata entry of a saved fold that holds its :func:`fold_key`.
FOLD_KEY_FIELD = b"smi_fold_key"


def fold_path(checkpoint_dir: Path, scheme: str, group) -> Path:
    """Where the fold holding out ``group`` under ``scheme`` is saved.

    Parameters
    ----------
    checkpoint_dir : pathlib.Path
        The folder of saved folds.
    scheme : str
        The evaluation scheme.
    group : object
        The held-out group.

    Returns
    -------
    pathlib.Path
        A readable name plus a hash of the group's name, so that two names that read alike never share a file.
    """
    tag = text_sha256(str(group))[:8]
    return Path(checkpoint_dir) / f"{scheme}-{_file_part(group)}-{tag}.parquet"


def save_fold(fold: pd.DataFrame, key: dict, path: Path) -> None:
    """Write one fold's predictions with its key in the Parquet schema metadata, atomically.

    Parameters
    ----------
    fold : pandas.DataFrame
        The fold's rows of :data:`PREDICTION_COLUMNS`.
    key : dict
        Its :func:`fold_key`.
    path : pathlib.Path
        Where to write it.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.Table.from_pandas(fold, preserve_index=False)
    metadata = dict(table.schema.metadata or {})
    metadata[FOLD_KEY_FIELD] = json.dumps(key, sort_keys=True).encode()
    with atomic_output(path) as temporary:
        pq.write_table(table.replace_schema_metadata(metadata), temporary)


def load_fold(path: Path, key: dict, expected: pd.DataFrame) -> tuple[pd.DataFrame | None, str]:
    """A saved fold, if it was made from exactly ``key`` and covers the rows of ``expected``.

    Parameters
    ----------
    path : pathlib.Path
        The saved fold.
    key : dict
        The :func:`fold_key` it must have been saved under.
    expected : pandas.DataFrame
        The held-out rows (model, idx and acc, in order) it must cover.

    Returns
    -------
    tuple
        The fold and ``""``, or ``None`` and a short reason why it cannot be reused (other key,
        unreadable, other rows, or a prediction or interval that is not a finite number).
    """
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
    predicted = [c for c in PREDICTION_COLUMNS if c.startswith("pred_") or c.endswith(("_lower", "_upper"))]
    values = fold[predicted].apply(pd.to_numeric, errors="coerce").to_numpy(dtype=float)
    if not np.isfinite(values).all():
        return None, "saved fold holds a prediction that is not a finite number"
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
    held-out errors; ``best_fixed`` keeps :data:`FIXED_SETTINGS`.

    Parameters
    ----------
    accuracies : pandas.DataFrame
        The long accuracy frame (:func:`smi.release.load_accuracies`).
    scheme : str
        A key of :data:`SCHEMES`.
    gbm_iterations : int, default 300
        Boosting iterations.
    seed : int, default 0
        Boosting seed.
    checkpoint_dir : pathlib.Path or None, default None
        Where each finished fold is saved with its :func:`fold_key` and reused when a later run has
        the same key; a fold saved from other data, settings or code is recomputed, and a line on
        standard error says so.
    progress : bool, default False
        Whether to show a progress bar and say on stderr which saved folds are recomputed, and why.
    threads : int or None, default None
        Limit of the numerical libraries' threads while fitting (None: their default).

    Returns
    -------
    pandas.DataFrame
        :data:`PREDICTION_COLUMNS`, the models in the order of ``accuracies``.

    Raises
    ------
    SmiError
        When there is nothing to evaluate, fewer than two groups, a bad iteration count or seed, or a
        fold that leaves fewer than two model sizes to train on.
    """
    from tqdm.auto import tqdm

    column = scheme_column(scheme)
    if accuracies.empty:
        raise SmiError("no accuracies to evaluate (no models, or no facts left)")
    check_gbm_iterations(gbm_iterations)
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
                if progress:  # a report for the person watching, not a result
                    tqdm.write(f"fold {group}: {why_not}, recomputing", file=sys.stderr)
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
    threads = check_threads(threads)
    import sklearn.ensemble  # noqa: F401 - threadpoolctl limits only libraries already loaded
    from threadpoolctl import threadpool_limits

    return threadpool_limits(threads)


def _file_part(text: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-." else "_" for ch in str(text))
