"""Load the released data into tidy pandas frames, checking every field on the way in.

Layout of a release folder (as fetched by :func:`smi.data.fetch`)::

    search/pararel_15classes.json          facts: idx, subj, rel, obj, qus
    search/<corpus>/merge.json             facts + document counts over one corpus
    infer/merge_outputs/<model>.json       facts + counts + acc (+ mi) for one model
    infer/multi_templates.json             {relation: [template with [S], ...]}

The models table (name, hub id, series, parameters, corpus) is project data in
``smi/resources/models.csv``; a different table can be passed as a CSV path.

Every file is read, and checked, by the one reader of its format in :mod:`smi.formats`;
this module knows where the files of a release are.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from smi import formats
from smi.choices import ANSWER_IN_SUBJECT
from smi.errors import SmiError, check_one_of
from smi.records import read_json


def facts_path(release: Path) -> Path:
    """Path of the probe facts inside a release.

    Parameters
    ----------
    release : Path
        The release folder.

    Returns
    -------
    Path
        The facts file.
    """
    return Path(release) / "search" / "pararel_15classes.json"


def corpus_counts_path(release: Path, corpus: str) -> Path:
    """Path of one corpus's counts inside a release.

    Parameters
    ----------
    release : Path
        The release folder.
    corpus : str
        The corpus name (e.g. ``pile``).

    Returns
    -------
    Path
        ``<release>/search/<corpus>/merge.json``.
    """
    return Path(release) / "search" / corpus / "merge.json"


def model_output_path(release: Path, model: str, outputs: Path | None = None) -> Path:
    """Path of one model's accuracies: ``<release>/infer/merge_outputs/<model>.json``, or
    ``<outputs>/<model>.json`` when a folder of per-model files (e.g. ``smi probe`` outputs) is given.

    Parameters
    ----------
    release : Path
        The release folder.
    model : str
        The model's name.
    outputs : Path or None
        A folder of per-model files, used instead of the release's when given.

    Returns
    -------
    Path
        The model's per-fact file.
    """
    if outputs is not None:
        return Path(outputs) / f"{model}.json"
    return Path(release) / "infer" / "merge_outputs" / f"{model}.json"


def available_corpora(release: Path) -> list[str]:
    """Corpora that have a counts file in the release.

    Parameters
    ----------
    release : Path
        The release folder.

    Returns
    -------
    list of str
        The corpus names, sorted.
    """
    return sorted(p.parent.name for p in (Path(release) / "search").glob("*/merge.json"))


def load_corpus_counts(release: Path, corpus: str) -> pd.DataFrame:
    """Per-fact document counts over one corpus: idx, subj, rel, obj, time_seqs, time_subj, …

    Read and checked by :func:`smi.formats.read_counts`.

    Parameters
    ----------
    release : Path
        The release folder.
    corpus : str
        The corpus name.

    Returns
    -------
    pandas.DataFrame
        One row per fact.

    Raises
    ------
    SmiError
        When the corpus has no counts file (listing the available ones) or the file is invalid.
    """
    path = corpus_counts_path(release, corpus)
    if not path.is_file():
        known = ", ".join(available_corpora(release)) or "none"
        raise SmiError(f"{path}: no counts file for corpus '{corpus}' (available: {known})")
    return formats.require_cooccurrence(formats.read_counts(path), path)


def load_model_output(release: Path, model: str, outputs: Path | None = None) -> pd.DataFrame:
    """One model's per-fact accuracy with the counts of its corpus (idx, …, time_*, acc).

    Read and checked by :func:`smi.formats.read_model_output`; see :func:`model_output_path` for ``outputs``.

    Parameters
    ----------
    release : Path
        The release folder.
    model : str
        The model's name.
    outputs : Path or None
        A folder of per-model files, used instead of the release's when given.

    Returns
    -------
    pandas.DataFrame
        One row per fact.

    Raises
    ------
    SmiError
        When the file is missing or invalid.
    """
    path = model_output_path(release, model, outputs)
    if not path.is_file():
        raise SmiError(f"{path}: no output file for model '{model}'")
    return formats.require_cooccurrence(formats.read_model_output(path), path)


def select_models(models: pd.DataFrame, names: list[str] | None) -> pd.DataFrame:
    """Rows of the models table for ``names`` (all when None), in the table's order.

    Parameters
    ----------
    models : pandas.DataFrame
        The models table.
    names : list of str or None
        The models wanted; None for all.

    Returns
    -------
    pandas.DataFrame
        Their rows.

    Raises
    ------
    SmiError
        When a name is not in the table (listing the valid ones).
    """
    if names is None:
        return models
    for name in names:
        check_one_of(name, models["name"], "model")
    return models[models["name"].isin(names)]


#: The most templates per relation a probe accepts (the release has 20): each multiplies a probe's work.
MAX_TEMPLATES = 1000


def load_templates(path: Path) -> dict[str, list[str]]:
    """Prompt templates per relation: {relation: ["[S] was born in", ...]}; each must hold [S].

    Parameters
    ----------
    path : Path
        A JSON object mapping each relation to its list of templates.

    Returns
    -------
    dict of str to list of str
        The templates by relation.

    Raises
    ------
    SmiError
        When the file is not such an object, a relation has no templates, or a template has no [S].
    """
    templates = read_json(path)
    if not isinstance(templates, dict) or not templates:
        raise SmiError(f"{path}: expected a JSON object mapping relation -> list of templates")
    for relation, items in templates.items():
        if not isinstance(items, list) or not items:
            raise SmiError(f"{path}: relation '{relation}' has no templates")
        if len(items) > MAX_TEMPLATES:
            raise SmiError(f"{path}: relation '{relation}' has {len(items)} templates; at most {MAX_TEMPLATES}")
        for template in items:
            if not isinstance(template, str) or "[S]" not in template:
                raise SmiError(f"{path}: relation '{relation}': template {template!r} has no [S]")
    return templates


def load_accuracies(release: Path, models: pd.DataFrame) -> pd.DataFrame:
    """Long frame of every model's per-fact accuracy: model, series, parameters, corpus, tokens, idx, rel, acc, counts.

    ``tokens`` holds the training tokens from the models table, NaN where unknown.

    Parameters
    ----------
    release : Path
        The release folder.
    models : pandas.DataFrame
        The models table.

    Returns
    -------
    pandas.DataFrame
        One row per (model, fact).

    Raises
    ------
    SmiError
        When a model's file is missing or invalid.
    """
    frames = []
    for model in models.itertuples(index=False):
        frame = load_model_output(release, model.name)
        frame.insert(0, "model", model.name)
        frame["series"] = model.series
        frame["parameters"] = model.parameters
        frame["corpus"] = model.corpus
        frame["tokens"] = float(getattr(model, "tokens", float("nan")))
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


def answer_written_in_subject(facts: pd.DataFrame) -> np.ndarray:
    """True for facts whose object is written, with the same case, inside the subject's name.

    Every prompt contains the subject, so a scorer that searches the prompt together
    with the answer finds the object in every sample. The release shows exactly that:
    these facts have accuracy exactly 1 in 23 of its 24 models (Pythia-14M included,
    which is right on 0.4 % of the other facts); only BLOOM-176B, apparently scored on
    its answers alone, has ordinary accuracies there (mean 0.51). Their accuracy
    measures the scorer, not the model.

    Parameters
    ----------
    facts : pandas.DataFrame
        Facts with ``subj`` and ``obj``.

    Returns
    -------
    numpy.ndarray
        A boolean mask aligned with ``facts``.
    """
    return np.fromiter(
        (str(obj) in str(subj) for subj, obj in zip(facts["subj"], facts["obj"])), dtype=bool, count=len(facts)
    )


def apply_answer_in_subject(accuracies: pd.DataFrame, answer_in_subject: str) -> tuple[pd.DataFrame, int]:
    """``accuracies`` with the answer-in-subject policy applied: the one place where it is applied.

    The release scores an answer as right when the object occurs anywhere in the model's
    output, prompt included, so a fact whose object is written inside its subject's name
    (:func:`answer_written_in_subject`, e.g. *Bank of Ireland* → *Ireland*) is scored as known
    whatever the model does. ``"drop"`` leaves those facts out; ``"keep"`` keeps them, as the paper did.

    Parameters
    ----------
    accuracies : pandas.DataFrame
        Per-fact records with ``idx``, ``subj`` and ``obj`` (one model or several).
    answer_in_subject : {"keep", "drop"}
        The policy (:data:`smi.choices.ANSWER_IN_SUBJECT`).

    Returns
    -------
    kept : pandas.DataFrame
        ``accuracies`` itself under ``"keep"``; the other facts, re-indexed from 0, under ``"drop"``.
    dropped : int
        How many distinct facts were left out (0 under ``"keep"``).

    Raises
    ------
    SmiError
        When ``answer_in_subject`` is not ``"keep"`` or ``"drop"``.
    """
    check_one_of(answer_in_subject, ANSWER_IN_SUBJECT, "answer_in_subject value", "values")
    if answer_in_subject == "keep":
        return accuracies, 0
    flagged = answer_written_in_subject(accuracies)
    dropped = accuracies.loc[flagged, "idx"].nunique()
    return accuracies[~flagged].reset_index(drop=True), int(dropped)
