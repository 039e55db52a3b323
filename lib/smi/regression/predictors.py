"""The release's predictors: for every model, each usable fact's accuracy and its value under each method."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from smi import formats, metrics, release
from smi.errors import SmiError, check_scalar

__all__ = ["model_predictors", "release_predictors"]


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
