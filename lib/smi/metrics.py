"""From document counts to the three predictors: CO-OCCUR, MI and SMI.

All functions are pure and vectorised over pandas Series / numpy arrays. The
formulas, with :math:`N` the number of documents in the corpus:

* document probabilities :math:`p(s) = n_s / N`, :math:`p(o) = n_o / N`,
  :math:`p(s, o) = n_{so} / N`;
* CO-OCCUR :math:`= n_{so}`;
* MI :math:`= p(s,o) \\log_2 \\frac{p(s,o)}{p(s)\\,p(o)}` (0 when :math:`n_{so} = 0`);
* bucket :math:`b(v) = \\operatorname{trunc}(5 \\log_2 v) / 5` (width 0.2, toward zero);
* normalised :math:`\\hat b = (b - \\min b) / (\\max b - \\min b)`;
* SMI :math:`= \\hat b_{\\mathrm{MI}}^{\\,1 + 1/\\log_2 P}` with :math:`P` parameters.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from smi.errors import SmiError, check_one_of, check_scalar

METHODS = ("CO-OCCUR", "MI", "SMI")
DEFAULT_BUCKET_WIDTH = 0.2


def document_probabilities(counts: pd.DataFrame) -> pd.DataFrame:
    """p(s), p(o), p(s,o) as document shares: each count divided by ``time_seqs``.

    Parameters
    ----------
    counts : pandas.DataFrame
        Per-fact counts with ``time_seqs``, ``time_subj``, ``time_obj`` and ``time_s1j1``.

    Returns
    -------
    pandas.DataFrame
        Columns ``p_subj``, ``p_obj`` and ``p_joint``, aligned with ``counts``.

    Notes
    -----
    p(s) = time_subj / time_seqs, p(o) = time_obj / time_seqs, p(s,o) = time_s1j1 / time_seqs.
    """
    n_docs = counts["time_seqs"].astype(float)
    return pd.DataFrame(
        {
            "p_subj": counts["time_subj"] / n_docs,
            "p_obj": counts["time_obj"] / n_docs,
            "p_joint": counts["time_s1j1"] / n_docs,
        },
        index=counts.index,
    )


def cooccurrence(counts: pd.DataFrame) -> pd.Series:
    """CO-OCCUR: the number of documents holding both subject and object (``time_s1j1``).

    Parameters
    ----------
    counts : pandas.DataFrame
        Per-fact counts with ``time_s1j1``.

    Returns
    -------
    pandas.Series
        The co-occurrence count of each fact, as floats.
    """
    return counts["time_s1j1"].astype(float).rename("cooccur")


def mutual_information(counts: pd.DataFrame) -> pd.Series:
    """MI = p(s,o) · log2(p(s,o) / (p(s) p(o))), and 0 where subject and object never co-occur.

    This is the pointwise mutual information weighted by the joint probability:
    the (s=1, o=1) term of the mutual information of the 2×2 contingency table.
    It is negative when subject and object meet less often than chance.

    Parameters
    ----------
    counts : pandas.DataFrame
        Per-fact counts with ``time_seqs``, ``time_subj``, ``time_obj`` and ``time_s1j1``.

    Returns
    -------
    pandas.Series
        MI of each fact (0 where ``time_s1j1`` is 0).

    Notes
    -----
    MI(s, o) = p(s,o) · log2(p(s,o) / (p(s) p(o))), with the document shares of :func:`document_probabilities`.
    """
    probs = document_probabilities(counts)
    joint = probs["p_joint"].to_numpy()
    independent = (probs["p_subj"] * probs["p_obj"]).to_numpy()
    mi = np.zeros(len(joint))
    seen = joint > 0
    mi[seen] = joint[seen] * np.log2(joint[seen] / independent[seen])
    return pd.Series(mi, index=counts.index, name="mi")


def bucket(values: pd.Series | np.ndarray, width: float = DEFAULT_BUCKET_WIDTH) -> np.ndarray:
    """b(v) = trunc(log2(v) / width) · width, truncating toward zero as the release does.

    With the default width 0.2 this is trunc(5·log2 v)/5. Values must be positive:
    a zero or negative value has no logarithm and raises :class:`SmiError`.

    Parameters
    ----------
    values : pandas.Series or numpy.ndarray
        Positive values.
    width : float
        Bucket width on the log2 scale, positive.

    Returns
    -------
    numpy.ndarray
        The bucket (lower edge toward zero) of each value.

    Raises
    ------
    SmiError
        When a value is not positive or ``width`` is not a positive number.

    Notes
    -----
    b(v) = trunc(log2(v) / width) · width.
    """
    values = np.asarray(values, dtype=float)
    check_scalar(width, "width", above=0)
    if np.any(~(values > 0)):
        raise SmiError("bucket: values must be positive (drop facts with MI <= 0 first)")
    steps = 1.0 / width
    return np.trunc(np.log2(values) * steps) / steps


def min_max(values: np.ndarray) -> np.ndarray:
    """(v - min v) / (max v - min v); one distinct value is an error, not a division by zero.

    Parameters
    ----------
    values : numpy.ndarray
        Values with at least two distinct ones.

    Returns
    -------
    numpy.ndarray
        The values scaled to [0, 1].

    Raises
    ------
    SmiError
        When all values are equal.

    Notes
    -----
    m(v) = (v − min v) / (max v − min v).
    """
    values = np.asarray(values, dtype=float)
    low, high = values.min(), values.max()
    if high == low:
        raise SmiError(f"min-max normalisation needs at least two distinct buckets, got one ({low})")
    return (values - low) / (high - low)


def size_exponent(parameters: float) -> float:
    """The SMI exponent 1 + 1/log2(P) for a model of P parameters (raw count, not billions).

    Parameters
    ----------
    parameters : float
        The model's parameter count P (raw count, not billions), above 1.

    Returns
    -------
    float
        The exponent k.

    Raises
    ------
    SmiError
        When ``parameters`` is not above 1.

    Notes
    -----
    k = 1 + 1 / log2(P).
    """
    if not parameters > 1:
        raise SmiError(f"model size must be more than 1 parameter, got {parameters}")
    return 1.0 + 1.0 / float(np.log2(parameters))


def smi_from_normalised_mi(normalised_mi: np.ndarray, parameters: float) -> np.ndarray:
    """SMI = (normalised MI) ^ (1 + 1/log2 P).

    Parameters
    ----------
    normalised_mi : numpy.ndarray
        Bucketed, min-max normalised MI, in [0, 1].
    parameters : float
        The model's parameter count P.

    Returns
    -------
    numpy.ndarray
        SMI of each fact, in [0, 1].

    Raises
    ------
    SmiError
        When ``parameters`` is not above 1.

    Notes
    -----
    SMI = MI_norm ^ k with k = 1 + 1 / log2(P) (:func:`size_exponent`).
    """
    return np.asarray(normalised_mi, dtype=float) ** size_exponent(parameters)


def usable_facts(counts: pd.DataFrame) -> pd.Series:
    """Boolean mask of facts that enter the fits: those with MI > 0.

    MI = 0 (never co-occur) and MI < 0 (co-occur less than chance) have no
    logarithm, so they have no bucket; the release drops them from every method.

    Parameters
    ----------
    counts : pandas.DataFrame
        Per-fact counts (see :func:`mutual_information`).

    Returns
    -------
    pandas.Series
        True for the facts with MI > 0.
    """
    return mutual_information(counts) > 0


def predictor_values(
    counts: pd.DataFrame, method: str, parameters: float, width: float = DEFAULT_BUCKET_WIDTH
) -> np.ndarray:
    """The normalised x-value of one method for facts that are all usable (MI > 0).

    CO-OCCUR and MI are bucketed then min-max normalised over the given facts;
    SMI raises normalised MI to the model-size exponent.

    Parameters
    ----------
    counts : pandas.DataFrame
        Per-fact counts of usable facts only (:func:`usable_facts`).
    method : {"CO-OCCUR", "MI", "SMI"}
        The predictor.
    parameters : float
        The model's parameter count (used by SMI).
    width : float
        Bucket width on the log2 scale.

    Returns
    -------
    numpy.ndarray
        The predictor's value of each fact, in [0, 1].

    Raises
    ------
    SmiError
        When ``method`` is unknown, a value cannot be bucketed, or all buckets are equal.

    Notes
    -----
    x = min_max(bucket(v)) with v the co-occurrence count or MI; for SMI, x = min_max(bucket(MI)) ^ (1 + 1/log2 P).
    """
    check_one_of(method, METHODS, "method")
    if method == "CO-OCCUR":
        return min_max(bucket(cooccurrence(counts), width))
    normalised_mi = min_max(bucket(mutual_information(counts), width))
    if method == "MI":
        return normalised_mi
    return smi_from_normalised_mi(normalised_mi, parameters)


def derivation_table(counts: pd.DataFrame, parameters: float, width: float = DEFAULT_BUCKET_WIDTH) -> pd.DataFrame:
    """Every step from counts to SMI for the usable facts (MI > 0), one column per step.

    Columns: idx, subj, rel, obj, p_subj, p_obj, p_joint, pmi (= log2 p(s,o)/(p(s)p(o))),
    mi, mi_bucket, mi_normalised, smi, and acc when the input has it.

    Parameters
    ----------
    counts : pandas.DataFrame
        Per-fact counts (and optionally ``acc``).
    parameters : float
        The model's parameter count P.
    width : float
        Bucket width on the log2 scale.

    Returns
    -------
    pandas.DataFrame
        One row per usable fact with the columns listed above.

    Raises
    ------
    SmiError
        When no two usable facts fall in different buckets, or ``parameters`` is not above 1.
    """
    usable = counts[usable_facts(counts)].reset_index(drop=True)
    table = usable[[c for c in ("idx", "subj", "rel", "obj") if c in usable]].copy()
    table = pd.concat([table, document_probabilities(usable)], axis=1)
    table["pmi"] = np.log2(table["p_joint"] / (table["p_subj"] * table["p_obj"]))
    table["mi"] = mutual_information(usable)
    table["mi_bucket"] = bucket(table["mi"], width)
    table["mi_normalised"] = min_max(table["mi_bucket"])
    table["smi"] = smi_from_normalised_mi(table["mi_normalised"], parameters)
    if "acc" in usable:
        table["acc"] = usable["acc"]
    return table


def largest_smi_shift(parameters: float) -> float:
    """The most SMI moves a normalised value: max over x in [0, 1] of x - x^k, k = 1 + 1/log2 P.

    Setting the derivative 1 - k x^(k-1) to zero gives x* = k^(-1/(k-1)), so the
    shift is x* - x*^k = x* (1 - 1/k).

    Parameters
    ----------
    parameters : float
        The model's parameter count P, above 1.

    Returns
    -------
    float
        max over x in [0, 1] of x − x^k.

    Raises
    ------
    SmiError
        When ``parameters`` is not above 1.

    Notes
    -----
    x* = k^(−1/(k−1)) and the shift is x* (1 − 1/k), with k = 1 + 1/log2 P.
    """
    k = size_exponent(parameters)
    x_star = k ** (-1.0 / (k - 1.0))
    return x_star * (1.0 - 1.0 / k)
