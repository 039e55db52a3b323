r"""Intervals over seeds and facts: the hierarchical bootstrap, the arm table and the headline numbers.

A lab run trains every size on :math:`S` corpora (seeds). Its uncertainty has two
levels, the corpus drawn and the facts drawn in it, so every interval comes from a
**hierarchical bootstrap** (:func:`hierarchical_weights`): a resample draws :math:`S`
seeds with replacement, then, within each drawn seed, that seed's facts with
replacement; a statistic is computed on the resample as a weighted statistic with
the number of times each row was drawn as its weight. Intervals are the 2.5 and 97.5
percentiles over :math:`B` resamples; the point estimate is the statistic on all rows.

:func:`arm_table` (``arms.csv``) gives, per size, arm and level, the effect on
accuracy at fixed stating count :math:`k`,

.. math:: \Delta_{a,\ell,k} = \bar{y}_{a=\ell,\,k} - \bar{y}_{a=\text{none},\,k},

and over all :math:`k` the mean of the per-:math:`k` effects (``k`` = ``all``); and
per arm the difference :math:`R^2(\mathrm{MI}) - R^2(\text{CO-OCCUR})` on the facts
whose other two arms are at ``none`` (so only :math:`k` and this arm vary), with
:math:`R^2` the squared correlation of accuracy with :math:`\log_2` of the predictor
over facts with MI > 0 (``level`` = ``r2_mi_minus_cooccur``), and the same with MI and
CO-OCCUR floored at their smallest positive value so no fact is dropped
(``r2_mi_minus_cooccur_floored``). ``n_dropped`` counts the facts with MI ≤ 0.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from smi.errors import check_scalar

ARM_COLUMNS = ["arm", "level", "k", "size", "effect", "lo", "hi", "n_facts", "seeds", "n_dropped"]
ARM_LEVEL_COLUMNS = {"competitor": "competitor_level", "subject": "subject_level", "object": "object_level"}


def hierarchical_weights(seeds: np.ndarray, n_boot: int, random_seed: int = 0) -> np.ndarray:
    r"""Weights of ``n_boot`` hierarchical resamples of rows labelled by ``seeds`` (module docstring).

    Parameters
    ----------
    seeds : numpy.ndarray
        The seed of each row (a row is one fact of one seed).
    n_boot : int
        Resamples, at least 1.
    random_seed : int
        Seed of the resampling.

    Returns
    -------
    numpy.ndarray
        :math:`B \times n` counts: how often each row is in each resample.

    Raises
    ------
    ParameterValueError
        When ``n_boot`` is below 1.

    Notes
    -----
    :math:`w_{b,i} = \sum_{j=1}^{S} \mathbb 1[s^*_{b,j} = s_i]\, m_{b,j,i}` with :math:`s^*_{b,\cdot}`
    drawn uniformly with replacement from the seeds and :math:`m_{b,j,\cdot}` a multinomial draw of
    :math:`n_{s}` rows uniformly from seed :math:`s^*_{b,j}`'s rows.
    """
    check_scalar(n_boot, "n_boot", "integer", minimum=1)
    seeds = np.asarray(seeds)
    labels = np.unique(seeds)
    rows = {label: np.flatnonzero(seeds == label) for label in labels}
    rng = np.random.default_rng(random_seed)
    weights = np.zeros((n_boot, len(seeds)))
    for b in range(n_boot):
        for label in rng.choice(labels, size=len(labels), replace=True):
            index = rows[label]
            weights[b, index] += np.bincount(rng.integers(0, len(index), len(index)), minlength=len(index))
    return weights


def weighted_means(values: np.ndarray, weights: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Per resample, the weighted mean of ``values`` over the rows in ``mask`` (NaN when none drawn).

    Parameters
    ----------
    values : numpy.ndarray
        One value per row.
    weights : numpy.ndarray
        :func:`hierarchical_weights`.
    mask : numpy.ndarray
        Rows taken.

    Returns
    -------
    numpy.ndarray
        One mean per resample.

    Notes
    -----
    :math:`\\bar y_b = \\sum_i w_{b,i} m_i y_i / \\sum_i w_{b,i} m_i`.
    """
    w = weights[:, mask]
    total = w.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return (w @ values[mask]) / np.where(total > 0, total, np.nan)


def weighted_r2(x: np.ndarray, y: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Per row of ``weights``, the weighted squared correlation of ``x`` and ``y``.

    Parameters
    ----------
    x, y : numpy.ndarray
        Predictor and accuracy.
    weights : numpy.ndarray
        One row of weights per resample (a single row of ones gives the plain :math:`R^2`).

    Returns
    -------
    numpy.ndarray
        :math:`R^2` per row.

    Notes
    -----
    :math:`R^2 = \\mathrm{cov}_w(x, y)^2 / (\\mathrm{var}_w(x)\\,\\mathrm{var}_w(y))`.
    """
    total = weights.sum(axis=1)
    mx, my = weights @ x / total, weights @ y / total
    sxy = weights @ (x * y) / total - mx * my
    sxx = weights @ (x * x) / total - mx * mx
    syy = weights @ (y * y) / total - my * my
    with np.errstate(invalid="ignore", divide="ignore"):
        return sxy**2 / (sxx * syy)


def bootstrap_mean(
    values: np.ndarray, mask: np.ndarray, seeds: np.ndarray, n_boot: int, random_seed: int = 0
) -> tuple[float, float, float]:
    """The mean of ``values[mask]`` with its 95 % hierarchical-bootstrap interval over seeds and facts.

    Parameters
    ----------
    values : array-like
        One value per row (fact and seed).
    mask : array-like of bool
        The rows the mean is taken over.
    seeds : array-like
        Each row's seed (:func:`hierarchical_weights`).
    n_boot : int
        Bootstrap resamples.
    random_seed : int, default 0
        Seed of the resampling.

    Returns
    -------
    mean, low, high : float
        The mean and the 2.5 and 97.5 percentiles of the resampled means.
    """
    values, mask = np.asarray(values, dtype=float), np.asarray(mask, dtype=bool)
    draws = weighted_means(values, hierarchical_weights(np.asarray(seeds), n_boot, random_seed), mask)
    low, high = np.nanpercentile(draws, [2.5, 97.5])
    return float(np.mean(values[mask])), float(low), float(high)


def _interval(draws: np.ndarray) -> tuple[float, float]:
    finite = draws[np.isfinite(draws)]
    if not len(finite):
        return float("nan"), float("nan")
    lo, hi = np.percentile(finite, [2.5, 97.5])
    return float(lo), float(hi)


def _floored_log(values: np.ndarray) -> np.ndarray:
    positive = values[values > 0]
    floor = positive.min() if len(positive) else 1.0
    return np.log2(np.maximum(values, floor))


def arm_table(accuracies: pd.DataFrame, n_boot: int = 500, random_seed: int = 0) -> pd.DataFrame:
    """The arm table (``arms.csv``, :data:`ARM_COLUMNS`) of every size (module docstring).

    Parameters
    ----------
    accuracies : pandas.DataFrame
        One row per (seed, size, fact): ``seed, size, acc, k, mi, cooccur`` and the arms' level columns.
    n_boot : int
        Resamples of the hierarchical bootstrap.
    random_seed : int
        Seed of the resampling.

    Returns
    -------
    pandas.DataFrame
        One row per (size, arm, level, k) effect and per (size, arm) R² difference.

    Notes
    -----
    :math:`\\Delta_{a,\\ell,k} = \\bar y_{a=\\ell,k} - \\bar y_{a=\\text{none},k}`;
    :math:`\\Delta_{a,\\ell,\\text{all}} = \\frac{1}{|K|}\\sum_k \\Delta_{a,\\ell,k}`;
    :math:`D_a = R^2(\\log_2 \\mathrm{MI}, y) - R^2(\\log_2 n_{so}, y)` on facts whose other arms are none.
    """
    rows = []
    for size, frame in accuracies.groupby("size", sort=False):
        frame = frame.reset_index(drop=True)
        weights = hierarchical_weights(frame["seed"].to_numpy(), n_boot, random_seed)
        ones = np.ones((1, len(frame)))
        acc = frame["acc"].to_numpy(dtype=float)
        k = frame["k"].to_numpy()
        seeds = int(frame["seed"].nunique())
        levels_k = sorted(set(k))
        for arm, column in ARM_LEVEL_COLUMNS.items():
            level = frame[column].to_numpy()
            for name in ("some", "many"):
                per_k_draws, per_k_point = [], []
                for value in levels_k:
                    treated, control = (level == name) & (k == value), (level == "none") & (k == value)
                    draws = weighted_means(acc, weights, treated) - weighted_means(acc, weights, control)
                    point = float(acc[treated].mean() - acc[control].mean())
                    per_k_draws.append(draws)
                    per_k_point.append(point)
                    lo, hi = _interval(draws)
                    n = int(treated.sum() + control.sum())
                    rows.append([arm, name, str(value), size, point, lo, hi, n, seeds, 0])
                lo, hi = _interval(np.nanmean(per_k_draws, axis=0))
                n = int(((level == name) | (level == "none")).sum())
                rows.append([arm, name, "all", size, float(np.mean(per_k_point)), lo, hi, n, seeds, 0])
            others = [c for a, c in ARM_LEVEL_COLUMNS.items() if a != arm]
            alone = np.ones(len(frame), dtype=bool)
            for other in others:
                alone &= frame[other].to_numpy() == "none"
            mi = frame["mi"].to_numpy(dtype=float)
            co = frame["cooccur"].to_numpy(dtype=float)
            kept = alone & (mi > 0) & (co > 0)
            dropped = int((alone & ~kept).sum())
            for label, x_mi, x_co, mask in (
                ("r2_mi_minus_cooccur", np.log2(np.where(kept, mi, 1.0)), np.log2(np.where(kept, co, 1.0)), kept),
                ("r2_mi_minus_cooccur_floored", _floored_log(mi), _floored_log(co), alone),
            ):
                w = weights[:, mask]
                draws = weighted_r2(x_mi[mask], acc[mask], w) - weighted_r2(x_co[mask], acc[mask], w)
                point = float(
                    weighted_r2(x_mi[mask], acc[mask], ones[:, mask])[0]
                    - weighted_r2(x_co[mask], acc[mask], ones[:, mask])[0]
                )
                lo, hi = _interval(draws)
                n_drop = dropped if label == "r2_mi_minus_cooccur" else 0
                rows.append([arm, label, "all", size, point, lo, hi, int(mask.sum()), seeds, n_drop])
    return pd.DataFrame(rows, columns=ARM_COLUMNS)


def headline(
    accuracies: pd.DataFrame, size: str, well_known: int = 16, n_boot: int = 500, random_seed: int = 0
) -> dict:
    """The run's headline numbers for one size, each with a 95 % hierarchical-bootstrap interval.

    Parameters
    ----------
    accuracies : pandas.DataFrame
        One row per (seed, size, fact): ``seed, size, acc, chance_acc, prior_chance, k``.
    size : str
        The size (the largest, usually).
    well_known : int
        The stating count from which a fact is well known.
    n_boot : int
        Resamples.
    random_seed : int
        Seed of the resampling.

    Returns
    -------
    dict
        ``well_known_acc``, ``unstated_acc``, ``unstated_chance_acc``, ``unstated_prior_chance``,
        ``unstated_minus_chance`` and ``spearman`` (bucket means of acc − chance_acc against k),
        each as ``{"value", "lo", "hi"}``, and the checks ``well_known_ok``, ``unstated_ok``
        (unstated accuracy inside the chance interval), ``unstated_difference_ok`` (the
        difference's interval holds 0) and ``rising_ok`` (Spearman ≥ 0.9).

    Notes
    -----
    :math:`\\rho = \\mathrm{Spearman}(k, \\overline{y - c}_k)` over the stating levels :math:`k`.
    """
    frame = accuracies[accuracies["size"] == size].reset_index(drop=True)
    weights = hierarchical_weights(frame["seed"].to_numpy(), n_boot, random_seed)
    acc = frame["acc"].to_numpy(dtype=float)
    chance = frame["chance_acc"].to_numpy(dtype=float)
    prior = frame["prior_chance"].to_numpy(dtype=float)
    k = frame["k"].to_numpy()
    known, unstated = k >= well_known, k == 0
    result: dict = {"size": size, "seeds": int(frame["seed"].nunique()), "n_facts": len(frame)}

    def entry(values: np.ndarray, mask: np.ndarray) -> dict:
        lo, hi = _interval(weighted_means(values, weights, mask))
        return {"value": float(values[mask].mean()) if mask.any() else float("nan"), "lo": lo, "hi": hi}

    result["well_known_acc"] = entry(acc, known)
    result["unstated_acc"] = entry(acc, unstated)
    result["unstated_chance_acc"] = entry(chance, unstated)
    result["unstated_prior_chance"] = entry(prior, unstated)
    result["unstated_minus_chance"] = entry(acc - chance, unstated)
    levels = sorted(set(k))
    gap = acc - chance
    point = [gap[k == value].mean() for value in levels]
    draws = np.column_stack([weighted_means(gap, weights, k == value) for value in levels])
    rhos = np.array([stats.spearmanr(levels, row)[0] if np.isfinite(row).all() else np.nan for row in draws])
    lo, hi = _interval(rhos)
    rho = float(stats.spearmanr(levels, point)[0]) if len(levels) > 1 else float("nan")
    result["spearman"] = {"value": rho, "lo": lo, "hi": hi}
    result["bucket_gap"] = {str(value): float(g) for value, g in zip(levels, point)}
    chance_box = result["unstated_chance_acc"]
    difference = result["unstated_minus_chance"]
    result["well_known_ok"] = bool(result["well_known_acc"]["value"] >= 0.8)
    result["unstated_ok"] = bool(chance_box["lo"] <= result["unstated_acc"]["value"] <= chance_box["hi"])
    result["unstated_difference_ok"] = bool(difference["lo"] <= 0 <= difference["hi"])
    result["rising_ok"] = bool(rho >= 0.9)
    return result
