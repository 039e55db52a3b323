"""Summaries of the document counts: distributions, and how corpora agree.

The counts of one corpus say, for every probe fact, in how many of the corpus's
:math:`N` documents the subject (:math:`n_s`), the object (:math:`n_o`) and both
(:math:`n_{so}`) appear. These helpers put several corpora side by side.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from smi import release

#: Display names of the release's corpora, as tables and figures label them (``ours`` as a name, without
#: an article, like the others).
CORPUS_LABELS = {"pile": "The Pile", "roots": "ROOTS", "slimpajama": "SlimPajama", "ours": "authors' corpus"}


def load_all_counts(release_dir: Path, corpora: list[str]) -> pd.DataFrame:
    """Long frame of every corpus's counts: corpus, idx, subj, rel, obj, time_* columns.

    Parameters
    ----------
    release_dir : Path
        The release folder.
    corpora : list of str
        The corpora to read.

    Returns
    -------
    pandas.DataFrame
        One row per (corpus, fact).

    Raises
    ------
    SmiError
        When a counts file is missing or invalid.
    """
    frames = []
    for corpus in corpora:
        counts = release.load_corpus_counts(release_dir, corpus)
        counts.insert(0, "corpus", corpus)
        frames.append(counts)
    return pd.concat(frames, ignore_index=True)


def corpus_sizes(all_counts: pd.DataFrame) -> pd.Series:
    """Documents per corpus (``time_seqs``, constant within a corpus).

    Parameters
    ----------
    all_counts : pandas.DataFrame
        :func:`load_all_counts`' output.

    Returns
    -------
    pandas.Series
        Documents, indexed by corpus.
    """
    return all_counts.groupby("corpus", sort=False)["time_seqs"].first()


def log2_counts(counts: pd.Series) -> pd.Series:
    """log2 of counts, leaving zero counts out (they have no logarithm).

    Parameters
    ----------
    counts : pandas.Series
        Non-negative counts.

    Returns
    -------
    pandas.Series
        log2 of the positive counts.
    """
    positive = counts[counts > 0].astype(float)
    return np.log2(positive)


def zero_share(all_counts: pd.DataFrame, field: str = "time_s1j1") -> pd.Series:
    """Share of facts per corpus whose ``field`` count is zero.

    Parameters
    ----------
    all_counts : pandas.DataFrame
        :func:`load_all_counts`' output.
    field : str
        The count column.

    Returns
    -------
    pandas.Series
        The share, indexed by corpus.
    """
    return all_counts.assign(is_zero=all_counts[field] == 0).groupby("corpus", sort=False)["is_zero"].mean()


def wide_counts(all_counts: pd.DataFrame, field: str) -> pd.DataFrame:
    """One row per fact (idx), one column per corpus, holding ``field``.

    Parameters
    ----------
    all_counts, field
        As for :func:`zero_share`.

    Returns
    -------
    pandas.DataFrame
        Counts indexed by idx, one column per corpus.
    """
    return all_counts.pivot(index="idx", columns="corpus", values=field)


def rank_agreement(all_counts: pd.DataFrame, field: str = "time_s1j1") -> pd.DataFrame:
    """Spearman rank correlation of ``field`` between every pair of corpora, over the same facts.

    :math:`\\rho = 1 - 6\\sum d_i^2 / (n(n^2 - 1))` on ranks (ties averaged, as pandas does).

    Parameters
    ----------
    all_counts, field
        As for :func:`zero_share`.

    Returns
    -------
    pandas.DataFrame
        A corpus × corpus matrix of ρ.
    """
    return wide_counts(all_counts, field).corr(method="spearman")


def per_relation_summary(all_counts: pd.DataFrame, field: str = "time_s1j1") -> pd.DataFrame:
    """Median of ``field`` per relation (rows) and corpus (columns).

    Parameters
    ----------
    all_counts, field
        As for :func:`zero_share`.

    Returns
    -------
    pandas.DataFrame
        Medians, one row per relation and one column per corpus.
    """
    return all_counts.pivot_table(index="rel", columns="corpus", values=field, aggfunc="median")
