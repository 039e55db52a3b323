r"""Chance per fact: what a model scores on a fact without knowing its subject.

Two references, both per fact :math:`f = (s, r, o)`:

(i) **prior chance** (:func:`prior_chance`): the relation's answer distribution in the
    corpus without the fact's own statements,

    .. math:: \pi_f = \frac{S_{r,o} - k_f}{S_r - k_f},

    where :math:`S_{r,o}` is the number of documents stating a fact of relation :math:`r`
    with object :math:`o` and :math:`S_r` those stating any fact of :math:`r`
    (:math:`1/|C_r|` when no other fact of :math:`r` is stated). A guesser that draws an
    answer from the relation's other statements names :math:`o` with probability :math:`\pi_f`.

(ii) **shuffled-subject control** (:func:`shuffled_subject_facts`): the same prompts filled
    with the subject :math:`s'` of another fact of :math:`r` (a random derangement within
    the relation, seeded), scored against :math:`o` under the same protocol. A model's
    accuracy on it is what it scores on :math:`o` for a subject it has no reason to link to
    :math:`o`; its mean over facts is ``chance_acc``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from smi.errors import SmiError


def prior_chance(facts: pd.DataFrame, stated: pd.Series | np.ndarray) -> np.ndarray:
    r"""Per fact :math:`\pi_f` (module docstring): the relation's other statements naming the fact's object.

    Parameters
    ----------
    facts : pandas.DataFrame
        Facts with ``rel`` and ``obj``, in the order of ``stated``.
    stated : pandas.Series or numpy.ndarray
        Documents stating each fact, :math:`k_f`.

    Returns
    -------
    numpy.ndarray
        :math:`\pi_f` for each fact.

    Notes
    -----
    :math:`\pi_f = (S_{r,o} - k_f) / (S_r - k_f)`, or :math:`1 / |C_r|` when :math:`S_r = k_f`,
    with :math:`C_r` the distinct objects of :math:`r`'s facts.
    """
    frame = facts[["rel", "obj"]].reset_index(drop=True).assign(k=np.asarray(stated, dtype=float))
    per_object = frame.groupby(["rel", "obj"])["k"].transform("sum").to_numpy()
    per_relation = frame.groupby("rel")["k"].transform("sum").to_numpy()
    pool = frame.groupby("rel")["obj"].transform("nunique").to_numpy()
    own = frame["k"].to_numpy()
    rest = per_relation - own
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(rest > 0, (per_object - own) / np.where(rest > 0, rest, 1), 1.0 / pool)


def shuffled_subject_facts(facts: pd.DataFrame, seed: int) -> pd.DataFrame:
    """The control facts: each fact's subject replaced by the subject of another fact of its relation.

    Within each relation the facts are put in a random order (seeded by ``seed`` and the
    relation's name) and each takes the subject of the next one, cyclically, so no fact keeps
    its own subject and every subject is used once.

    Parameters
    ----------
    facts : pandas.DataFrame
        ``idx, subj, rel, obj`` (other columns are kept).
    seed : int
        Seed of the orders.

    Returns
    -------
    pandas.DataFrame
        The facts with ``subj`` replaced and ``true_subj`` holding the original.

    Raises
    ------
    SmiError
        When a relation has a single fact (it has no other subject).

    Notes
    -----
    With :math:`\\sigma` a random order of the relation's :math:`n` facts, fact
    :math:`\\sigma_i` is asked about the subject of :math:`\\sigma_{(i+1) \\bmod n}`.
    """
    control = facts.copy().reset_index(drop=True)
    subjects = control["subj"].to_numpy(dtype=object).copy()
    for rel, index in sorted(control.groupby("rel").indices.items()):
        if len(index) < 2:
            raise SmiError(f"relation '{rel}' has one fact: no other subject for its shuffled-subject control")
        key = [seed, *rel.encode()]
        order = index[np.random.default_rng(key).permutation(len(index))]
        subjects[order] = control["subj"].to_numpy(dtype=object)[np.roll(order, -1)]
    control["true_subj"] = control["subj"]
    control["subj"] = subjects
    return control
