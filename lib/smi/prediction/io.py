"""Files in and out, and the prediction of a model not trained yet.

Reading a corpus's counts (:func:`load_counts_file`), writing an evaluation's
three files together (:func:`write_evaluation`) and a new model's table
(:func:`write_predicted`). The two pipelines behind the command line:
:func:`evaluate_release` (``smi evaluate``) holds out the release's models in turn,
and :func:`predict_new_model` (``smi predict``) fits on the whole release and
predicts one new model. Both take the release's facts under the same
answer-in-subject policy (:func:`smi.release.apply_answer_in_subject`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from smi import formats, release
from smi.errors import SmiError
from smi.files import atomic_output
from smi.formats import check_parameters
from smi.prediction.evaluation import _threads, evaluate, evaluation_key
from smi.prediction.features import NEEDED_COUNTS, fact_features
from smi.prediction.predictors import fit_predictors, predict_model
from smi.prediction.selection import Selection, select_settings
from smi.prediction.settings import check_bootstrap, check_gbm_iterations
from smi.prediction.summary import summarise

#: The files of one evaluation, in the order they are renamed into place (the record, last, says the set is complete).
EVALUATION_FILES = ("predictions.csv", "summary.csv", "evaluation.json")


def evaluation_paths(out_dir: Path) -> list[Path]:
    """The paths :func:`write_evaluation` writes.

    Parameters
    ----------
    out_dir : pathlib.Path
        The output folder.

    Returns
    -------
    list of pathlib.Path
        :data:`EVALUATION_FILES` in ``out_dir``.
    """
    return [Path(out_dir) / name for name in EVALUATION_FILES]


def write_evaluation(
    predictions: pd.DataFrame, summary: pd.DataFrame, out_dir: Path, about: dict | None = None
) -> list[Path]:
    """Write predictions.csv, summary.csv and evaluation.json into ``out_dir``, atomically.

    All three are written under temporary names and renamed into place only when
    all are complete, the record last. ``evaluation.json`` holds the SHA-256 of the
    two tables and ``about``, so that a reader can check that the tables belong
    together and to the run it describes.

    Parameters
    ----------
    predictions : pandas.DataFrame
        :func:`evaluate`'s table.
    summary : pandas.DataFrame
        :func:`summarise`'s table.
    out_dir : pathlib.Path
        The output folder.
    about : dict or None, default None
        What the record says of the run (e.g. the :func:`evaluation_key` and the settings).

    Returns
    -------
    list of pathlib.Path
        The paths written (:func:`evaluation_paths`).
    """
    from smi.files import atomic_outputs
    from smi.hashing import file_sha256

    paths = evaluation_paths(out_dir)
    with atomic_outputs(paths) as (predictions_tmp, summary_tmp, record_tmp):
        predictions.to_csv(predictions_tmp, index=False, float_format="%.6g")
        summary.to_csv(summary_tmp, index=False, float_format="%.6g")
        hashes = {paths[0].name: file_sha256(predictions_tmp), paths[1].name: file_sha256(summary_tmp)}
        record = {**(about or {}), "files": hashes}
        Path(record_tmp).write_text(json.dumps(record, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    return paths


def write_predicted(predicted: pd.DataFrame, path: Path) -> Path:
    """Write :func:`predict_new_model`'s table as CSV, atomically.

    The previous file stays until the new one is complete.

    Parameters
    ----------
    predicted : pandas.DataFrame
        The per-fact table.
    path : pathlib.Path
        Where to write it.

    Returns
    -------
    pathlib.Path
        ``path``.
    """
    with atomic_output(path) as temporary:
        predicted.to_csv(temporary, index=False, float_format="%.6g")
    return Path(path)


@dataclass(frozen=True)
class ReleaseEvaluation:
    """What :func:`evaluate_release` wrote and found."""

    predictions: pd.DataFrame
    summary: pd.DataFrame
    #: Distinct facts left out by the answer-in-subject policy.
    dropped: int
    paths: list[Path]


def evaluate_release(
    release_dir: Path,
    models: pd.DataFrame,
    scheme: str,
    out_dir: Path,
    answer_in_subject: str = "drop",
    gbm_iterations: int = 300,
    seed: int = 0,
    bootstrap: int = 200,
    threads: int | None = None,
    progress: bool = False,
) -> ReleaseEvaluation:
    """Held-out evaluation of the release's models: load, apply the policy, :func:`evaluate`, :func:`summarise`, write.

    Finished folds are kept in ``out_dir/folds`` under their key, so a rerun resumes;
    the three files of :func:`write_evaluation` are written together at the end.

    Parameters
    ----------
    release_dir : pathlib.Path
        The paper's release.
    models : pandas.DataFrame
        The models table (:func:`smi.formats.load_models`), possibly a selection of it.
    scheme : str
        The hold-out scheme (:func:`scheme_column`).
    out_dir : pathlib.Path
        The output folder (the caller holds its lock).
    answer_in_subject : {"keep", "drop"}, default "drop"
        :func:`smi.release.apply_answer_in_subject`'s policy.
    gbm_iterations : int, default 300
        Boosting iterations.
    seed : int, default 0
        Seed of the boosting and the bootstrap.
    bootstrap : int, default 200
        Bootstrap resamples of the facts for the summary's intervals.
    threads : int or None, default None
        Limit of the numerical libraries' threads while fitting.
    progress : bool, default False
        Show progress bars.

    Returns
    -------
    ReleaseEvaluation
        The predictions, the summary, the facts dropped and the paths written.
    """
    check_bootstrap(bootstrap)
    accuracies, dropped = release.apply_answer_in_subject(
        release.load_accuracies(release_dir, models), answer_in_subject
    )
    predictions = evaluate(
        accuracies,
        scheme,
        gbm_iterations,
        seed,
        checkpoint_dir=Path(out_dir) / "folds",
        progress=progress,
        threads=threads,
    )
    summary = summarise(predictions, bootstrap, seed, progress=progress)
    about = {
        "key": evaluation_key(accuracies, scheme, gbm_iterations, seed),
        "bootstrap": bootstrap,
        "answer_in_subject": answer_in_subject,
        "models": list(models["name"]),
    }
    return ReleaseEvaluation(predictions, summary, dropped, write_evaluation(predictions, summary, out_dir, about))


# ---------------------------------------------------------------- a model not trained yet


def load_counts_file(path: Path, corpus_docs: float | None = None) -> pd.DataFrame:
    """Per-fact counts of a corpus for :func:`predict_new_model`, read by :func:`smi.formats.read_counts`.

    Parameters
    ----------
    path : pathlib.Path
        JSON list (as the release's ``merge.json``), JSONL, CSV or Parquet with idx, subj, rel, obj,
        time_subj, time_obj, time_s1j1 and, unless ``corpus_docs`` is given, time_seqs.
    corpus_docs : float or None, default None
        The corpus's number of documents, when the file has no ``time_seqs``.

    Returns
    -------
    pandas.DataFrame
        One row per fact.

    Raises
    ------
    SmiError
        When the file cannot be read or a record lacks a needed field.
    """
    from smi import formats

    return formats.read_counts(path, corpus_docs, NEEDED_COUNTS)


@dataclass
class NewModelPrediction:
    """:func:`predict_new_model`'s answer.

    Attributes
    ----------
    facts : pandas.DataFrame
        The per-fact table.
    mean : float
        The predicted mean accuracy of ``best``.
    mean_lower, mean_upper : float
        Its :data:`COVERAGE` interval.
    selection : Selection
        The inner selection behind them.
    """

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
    answer_in_subject: str = "drop",
    tokens: float | None = None,
    threads: int | None = None,
) -> NewModelPrediction:
    """Fit every predictor on all models of the release, then predict a new model.

    The training facts are taken under the ``answer_in_subject`` policy
    (:func:`smi.release.apply_answer_in_subject`); the settings of ``best`` are chosen by
    :func:`select_settings` (inner leave-one-corpus-out).

    Parameters
    ----------
    release_dir : pathlib.Path
        The paper's release.
    counts : pandas.DataFrame
        The new corpus's counts of the probe facts (:func:`load_counts_file`).
    parameters : float
        The new model's size.
    models : pandas.DataFrame or None, default None
        The models table (None: :func:`smi.formats.load_models`).
    gbm_iterations : int, default 300
        Boosting iterations.
    source : str, default "counts"
        What ``counts`` came from, for messages.
    answer_in_subject : {"keep", "drop"}, default "drop"
        Train on, or leave out, the facts whose answer is written in the subject's name.
    tokens : float or None, default None
        The new model's training tokens, when known.
    threads : int or None, default None
        Limit of the numerical libraries' threads while fitting.

    Returns
    -------
    NewModelPrediction
        The facts table holds the counts' idx, subj, rel, obj, ``answer_in_subject``
        (:func:`smi.release.answer_written_in_subject`: a scorer that also reads the prompt counts
        these as known), one ``pred_<name>`` column per predictor and ``best_lower``, ``best_upper``:
        the per-fact interval of ``pred_best``.

    Raises
    ------
    SmiError
        On a bad size, token count or iteration count, an empty models table, an unknown relation
        or a prediction that is not a number.
    """
    check_parameters(parameters)
    if tokens is not None:
        from smi.formats import check_tokens

        tokens = check_tokens(tokens)
    check_gbm_iterations(gbm_iterations)
    models = formats.load_models() if models is None else models
    if models.empty:
        raise SmiError("the models table has no models to fit on")
    training, _ = release.apply_answer_in_subject(release.load_accuracies(release_dir, models), answer_in_subject)
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
