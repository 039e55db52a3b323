"""Features of one fact for one model: corpus features from the document counts, question features.

Everything a predictor knows about a fact before the model is trained: the
smoothed document probabilities and exposures of :func:`fact_features`, the
:func:`question_features` that need no corpus, the paper's SMI of each fact
(:func:`smi_values`, :func:`smi_column`) and the check of a model size.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from smi import metrics
from smi.errors import SmiError

#: Counts a fact needs for prediction (``time_seqs`` may come from --corpus-docs instead).
NEEDED_COUNTS = ("time_seqs", "time_subj", "time_obj", "time_s1j1")
#: Fields of the fact itself that the question features are computed from.
NEEDED_FACT_FIELDS = ("idx", "subj", "rel", "obj")
QUESTION_FEATURES = ("log_answer_share", "answer_in_subject")


NORMALISED_FEATURES = ("log_p_subj", "log_p_obj", "log_p_joint", "pmi", "log_p_obj_given_subj", "log_p_subj_given_obj")
#: The GLM's features: PMI and the conditional shares are linear in these three, so they are left out.
GLM_FEATURES = ("log_p_subj", "log_p_obj", "log_p_joint", *QUESTION_FEATURES)
EXPOSURE_FEATURES = ("log_n_joint", "log_n_subj", "log_n_obj")
SIZE_FEATURE = "log_params"


SMOOTHING = 0.5


# ---------------------------------------------------------------- features


def fact_features(counts: pd.DataFrame, parameters) -> pd.DataFrame:
    """Numeric features of every fact: corpus features from the counts, size, question features.

    Parameters
    ----------
    counts : pandas.DataFrame
        One row per fact with ``time_seqs``, ``time_subj``, ``time_obj`` and ``time_s1j1`` and,
        for the question features, ``subj``, ``rel`` and ``obj`` (and ``model`` when it holds
        several models: the answer shares are computed per model's probe set).
    parameters : float or array-like
        One model size, or one per row.

    Returns
    -------
    pandas.DataFrame
        Same index as ``counts``: :data:`NORMALISED_FEATURES`, :data:`EXPOSURE_FEATURES`,
        :data:`SIZE_FEATURE` and :data:`QUESTION_FEATURES`.

    Raises
    ------
    SmiError
        When a field of the question features is missing.

    Notes
    -----
    With smoothed counts :math:`\\tilde n = n + \\tfrac12` and :math:`N` documents:
    :math:`\\log_{10} p(x) = \\log_{10} \\tilde n_x - \\log_{10} N` for the subject, the object and the pair,
    :math:`\\mathrm{PMI} = \\log_{10} \\tilde n_{so} + \\log_{10} N - \\log_{10} \\tilde n_s - \\log_{10} \\tilde n_o`,
    :math:`\\log_{10} p(o \\mid s) = \\log_{10} \\tilde n_{so} / \\tilde n_s`,
    :math:`\\log_{10} p(s \\mid o) = \\log_{10} \\tilde n_{so} / \\tilde n_o`, the exposures
    :math:`\\log_{10} \\tilde n` and the size :math:`\\log_{10} P`.
    """
    n_docs = np.log10(counts["time_seqs"].to_numpy(dtype=float))
    log_n_subj = np.log10(counts["time_subj"].to_numpy(dtype=float) + SMOOTHING)
    log_n_obj = np.log10(counts["time_obj"].to_numpy(dtype=float) + SMOOTHING)
    log_n_joint = np.log10(counts["time_s1j1"].to_numpy(dtype=float) + SMOOTHING)
    features = pd.DataFrame(
        {
            "log_p_subj": log_n_subj - n_docs,
            "log_p_obj": log_n_obj - n_docs,
            "log_p_joint": log_n_joint - n_docs,
            "pmi": log_n_joint + n_docs - log_n_subj - log_n_obj,
            "log_p_obj_given_subj": log_n_joint - log_n_subj,
            "log_p_subj_given_obj": log_n_joint - log_n_obj,
            "log_n_joint": log_n_joint,
            "log_n_subj": log_n_subj,
            "log_n_obj": log_n_obj,
            SIZE_FEATURE: np.log10(np.broadcast_to(np.asarray(parameters, dtype=float), len(counts))),
        },
        index=counts.index,
    )
    if "model" in counts.columns and counts["model"].nunique() > 1:
        question = pd.concat([question_features(rows) for _, rows in counts.groupby("model", sort=False)])
    else:
        question = question_features(counts)
    return features.join(question)


def question_features(facts: pd.DataFrame) -> pd.DataFrame:
    """Features of the questions themselves, known before any corpus is read.

    Parameters
    ----------
    facts : pandas.DataFrame
        One probe set (one model's rows) with ``subj``, ``rel`` and ``obj``.

    Returns
    -------
    pandas.DataFrame
        Same index as ``facts``, columns ``log_answer_share`` and ``answer_in_subject``.

    Raises
    ------
    SmiError
        When ``subj``, ``rel`` or ``obj`` is missing.

    Notes
    -----
    * ``log_answer_share``
      :math:`= \\log_{10} \\frac{|\\{f' : r(f') = r(f),\\ o(f') = o(f)\\}|}{|\\{f' : r(f') = r(f)\\}|}`,
      the share of the probe facts of the fact's relation that have the same
      answer (object): 'English' is the answer to many 'speaks' facts, a rare
      city to few;
    * ``answer_in_subject``: 1 when the object's name occurs inside the
      subject's name, ignoring case ("Paris Saint-Germain" → "Paris"), else 0.
      (With the same case these are the facts of :func:`smi.release.answer_written_in_subject`,
      which evaluation leaves out by default; what remains differs in case.)
    """
    missing = [name for name in ("subj", "rel", "obj") if name not in facts.columns]
    if missing:
        raise SmiError(f"facts need the field '{missing[0]}' for the question features")
    subjects = facts["subj"].astype(str).str.casefold()
    objects = facts["obj"].astype(str).str.casefold()
    same_answer = facts.groupby(["rel", "obj"], sort=False)["rel"].transform("size")
    in_relation = facts.groupby("rel", sort=False)["rel"].transform("size")
    return pd.DataFrame(
        {
            "log_answer_share": np.log10(same_answer.to_numpy(dtype=float) / in_relation.to_numpy(dtype=float)),
            "answer_in_subject": [float(answer in subject) for subject, answer in zip(subjects, objects)],
        },
        index=facts.index,
    )


def smi_values(counts: pd.DataFrame, parameters: float, width: float = metrics.DEFAULT_BUCKET_WIDTH) -> np.ndarray:
    """SMI of every fact of one model, normalised over that model's usable facts; 0 where MI ≤ 0.

    Parameters
    ----------
    counts : pandas.DataFrame
        One model's facts with their counts.
    parameters : float
        The model's size.
    width : float, default :data:`smi.metrics.DEFAULT_BUCKET_WIDTH`
        Width of the MI buckets.

    Returns
    -------
    numpy.ndarray
        One SMI value per row of ``counts`` (see :func:`smi.metrics.predictor_values`).
    """
    values = np.zeros(len(counts))
    usable = metrics.usable_facts(counts).to_numpy()
    if usable.sum() > 0:
        values[usable] = metrics.predictor_values(counts[usable], "SMI", parameters, width)
    return values


def smi_column(frame: pd.DataFrame) -> np.ndarray:
    """SMI of every row of a long accuracy frame, computed model by model.

    Parameters
    ----------
    frame : pandas.DataFrame
        Rows of several models, with ``model``, ``parameters`` and the counts.

    Returns
    -------
    numpy.ndarray
        :func:`smi_values` of each model's rows, in the frame's row order.
    """
    values = np.zeros(len(frame))
    for _, rows in frame.groupby("model", sort=False).indices.items():
        part = frame.iloc[rows]
        values[rows] = smi_values(part, float(part["parameters"].iloc[0]))
    return values
