"""Whether two sentence-level counts order the facts alike: Spearman's rank correlation per pair of counts."""

from __future__ import annotations

import pandas as pd

__all__ = ["rank_correlations"]


def rank_correlations(counts: pd.DataFrame, pairs: list[tuple[str, str]]) -> pd.DataFrame:
    """Spearman's rank correlation ρ for each pair of count columns, over all facts and over facts with x > 0.

    ρ is Pearson's correlation of the ranks (ties get their mean rank), so it asks
    whether facts are *ordered* alike by both counts, whatever their scales.

    Parameters
    ----------
    counts : pandas.DataFrame
        Per-fact counts.
    pairs : list of tuple of str
        Pairs (x, y) of column names.

    Returns
    -------
    pandas.DataFrame
        Two rows per pair (all facts, facts with x > 0): x, y, facts, n, spearman_rho, p_value.

    Notes
    -----
    ρ = 1 − 6 Σ d_i² / (n (n² − 1)) for ranks without ties, d_i the difference of a fact's two ranks.
    """
    from scipy.stats import spearmanr

    rows = []
    for x, y in pairs:
        for subset, frame in (("all facts", counts), (f"{x} > 0", counts[counts[x] > 0])):
            varies = len(frame) > 2 and frame[x].nunique() > 1 and frame[y].nunique() > 1
            rho, p_value = spearmanr(frame[x], frame[y]) if varies else (float("nan"), float("nan"))
            rows.append({"x": x, "y": y, "facts": subset, "n": len(frame), "spearman_rho": rho, "p_value": p_value})
    return pd.DataFrame(rows)
