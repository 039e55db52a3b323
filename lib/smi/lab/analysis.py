r"""What the lab's models learned, measured against the truth of the corpus.

* :func:`acquisition_table`: mean accuracy per size and bucket of exposure (the
  documents stating a fact), next to the guessing baseline of the same facts;
* :func:`learning_checks`: the issue's three tests that learning is real;
* :func:`fit_intervals`: bucketed and per-fact :math:`R^2` of CO-OCCUR, MI and SMI
  with 95 % bootstrap intervals over facts;
* :func:`specificity_table`: facts with equal co-occurrence and different MI;
* :func:`mention_table`: facts with and without co-mentions, at equal exposure;
* :func:`size_table` and :func:`paper_claims`: the size effect, and the paper's claims as the lab tests them.

Exposure buckets are powers of two, :math:`\{0\}, \{1\}, [2, 3], [4, 7], \dots, [64, \infty)`
(:data:`EXPOSURE_EDGES`), except that the top buckets are merged until the last one holds at
least :data:`MIN_BUCKET_FACTS` facts: heavy-tailed exposure leaves few facts in the top buckets,
and a mean over ten facts is too noisy to rank against its neighbours.
"""

from __future__ import annotations

from itertools import pairwise

import numpy as np
import pandas as pd
from scipy import stats

from smi import metrics, regression
from smi.errors import SmiError

#: Lower edges of the exposure buckets; the last bucket is open.
EXPOSURE_EDGES = (0, 1, 2, 4, 8, 16, 32, 64)
#: The top buckets are merged until the last holds at least this many facts (see :func:`bucket_edges`).
MIN_BUCKET_FACTS = 20
ACQUISITION_COLUMNS = ["size", "parameters", "exposure_min", "exposure_max", "n_facts", "mean_acc", "baseline_acc"]
#: The issue's tests: mean accuracy of the largest size on facts stated in at least this many documents ...
WELL_KNOWN_EXPOSURE = 16
WELL_KNOWN_ACCURACY = 0.8
#: ... accuracy on facts stated nowhere within this distance of the guessing baseline ...
BASELINE_TOLERANCE = 0.05
#: ... and Spearman's rho of bucket means against exposure at least this.
RISING_SPEARMAN = 0.9


def bucket_edges(stated: pd.Series | np.ndarray, min_facts: int = MIN_BUCKET_FACTS) -> tuple[int, ...]:
    """Lower edges of the exposure buckets for these facts: :data:`EXPOSURE_EDGES` without the edges
    above the facts' largest exposure, the top buckets merged until the last holds ``min_facts`` facts.

    Parameters
    ----------
    stated : pandas.Series or numpy.ndarray
        Each fact's exposure (documents that state it).
    min_facts : int
        The fewest facts the last bucket may hold.

    Returns
    -------
    tuple of int
        The lower edges, ascending.
    """
    stated = np.asarray(stated)
    edges = [edge for edge in EXPOSURE_EDGES if edge <= stated.max()] or [0]
    while len(edges) > 1 and (stated >= edges[-1]).sum() < min_facts:
        edges.pop()
    return tuple(edges)


def exposure_bucket(stated: pd.Series | np.ndarray, edges: tuple[int, ...] = EXPOSURE_EDGES) -> np.ndarray:
    """Index of each count's bucket in ``edges`` (the last edge whose value is ≤ the count).

    Parameters
    ----------
    stated : pandas.Series or numpy.ndarray
        Each fact's exposure.
    edges : tuple of int
        The buckets' lower edges, ascending, the first 0.

    Returns
    -------
    numpy.ndarray
        The bucket index of each fact.
    """
    return np.searchsorted(np.asarray(edges), np.asarray(stated), side="right") - 1


def bucket_labels(edges: tuple[int, ...], largest: int) -> list[str]:
    """Readable names of the buckets: "0", "1", "2–3", …, "32–238".

    Parameters
    ----------
    edges : tuple of int
        The buckets' lower edges.
    largest : int
        The largest exposure, the top of the last bucket.

    Returns
    -------
    list of str
        One label per bucket.
    """
    labels = []
    for number, low in enumerate(edges):
        high = edges[number + 1] - 1 if number + 1 < len(edges) else largest
        labels.append(f"{low}" if high == low else f"{low}–{high}")
    return labels


def acquisition_table(accuracies: pd.DataFrame, min_facts: int = MIN_BUCKET_FACTS) -> pd.DataFrame:
    """One row per size and exposure bucket: :data:`ACQUISITION_COLUMNS`.

    ``accuracies`` has one row per (size, fact) with ``size``, ``parameters``,
    ``stated_docs``, ``acc`` and ``baseline`` (see :func:`smi.lab.corpus.guessing_baseline`).
    Buckets are :func:`bucket_edges` of the facts; ``exposure_max`` of the open last
    bucket is the largest exposure in it.

    Parameters
    ----------
    accuracies : pandas.DataFrame
        One row per (size, fact), as described above.
    min_facts : int
        The fewest facts the last bucket may hold.

    Returns
    -------
    pandas.DataFrame
        The table.
    """
    edges = bucket_edges(accuracies.drop_duplicates("idx")["stated_docs"], min_facts)  # facts, not (size, fact) rows
    frame = accuracies.assign(bucket=exposure_bucket(accuracies["stated_docs"], edges))
    rows = []
    for (size, parameters), per_size in frame.groupby(["size", "parameters"], sort=False):
        for bucket, facts in per_size.groupby("bucket"):
            low = edges[bucket]
            high = edges[bucket + 1] - 1 if bucket + 1 < len(edges) else int(facts["stated_docs"].max())
            rows.append(
                {
                    "size": size,
                    "parameters": int(parameters),
                    "exposure_min": low,
                    "exposure_max": high,
                    "n_facts": len(facts),
                    "mean_acc": float(facts["acc"].mean()),
                    "baseline_acc": float(facts["baseline"].mean()),
                }
            )
    return pd.DataFrame(rows, columns=ACQUISITION_COLUMNS)


def learning_checks(accuracies: pd.DataFrame, acquisition: pd.DataFrame, size: str) -> dict:
    """The issue's three tests that learning is real, for one size (the largest, usually).

    * ``well_known_acc``: mean accuracy on facts stated in ≥ :data:`WELL_KNOWN_EXPOSURE` documents;
    * ``unstated_acc`` and ``unstated_baseline``: mean accuracy and guessing baseline of the
      facts stated in no document (and the same for those of them never co-mentioned);
    * ``spearman``: Spearman's ρ of the bucket means against the buckets' lower edges.

    Parameters
    ----------
    accuracies : pandas.DataFrame
        One row per (size, fact) with stated_docs, mention_docs, acc and baseline.
    acquisition : pandas.DataFrame
        :func:`acquisition_table`'s output.
    size : str
        The size checked.

    Returns
    -------
    dict
        The measurements listed above, with ``size``.

    Raises
    ------
    SmiError
        When ``accuracies`` has no row for ``size``.
    """
    facts = accuracies[accuracies["size"] == size]
    if facts.empty:
        raise SmiError(f"no accuracies for size '{size}'")
    table = acquisition[acquisition["size"] == size]
    well_known = facts[facts["stated_docs"] >= WELL_KNOWN_EXPOSURE]
    unstated = facts[facts["stated_docs"] == 0]
    unmentioned = unstated[unstated["mention_docs"] == 0]
    rho = float(stats.spearmanr(table["exposure_min"], table["mean_acc"])[0]) if len(table) > 1 else float("nan")
    checks = {
        "size": size,
        "well_known_facts": len(well_known),
        "well_known_acc": float(well_known["acc"].mean()) if len(well_known) else float("nan"),
        "unstated_facts": len(unstated),
        "unstated_acc": float(unstated["acc"].mean()) if len(unstated) else float("nan"),
        "unstated_baseline": float(unstated["baseline"].mean()) if len(unstated) else float("nan"),
        "unstated_unmentioned_facts": len(unmentioned),
        "unstated_unmentioned_acc": float(unmentioned["acc"].mean()) if len(unmentioned) else float("nan"),
        "unstated_unmentioned_baseline": float(unmentioned["baseline"].mean()) if len(unmentioned) else float("nan"),
        "buckets": len(table),
        "spearman": rho,
    }
    checks["well_known_ok"] = bool(checks["well_known_acc"] >= WELL_KNOWN_ACCURACY)
    checks["unstated_ok"] = bool(abs(checks["unstated_acc"] - checks["unstated_baseline"]) <= BASELINE_TOLERANCE)
    checks["unstated_unmentioned_ok"] = bool(
        abs(checks["unstated_unmentioned_acc"] - checks["unstated_unmentioned_baseline"]) <= BASELINE_TOLERANCE
    )
    checks["rising_ok"] = bool(rho >= RISING_SPEARMAN)
    return checks


def _r2_rows(x: np.ndarray, acc: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Weighted squared correlation of x and acc for every row of ``weights`` (B × n): per-fact OLS R²."""
    total = weights.sum(axis=1)
    mx = weights @ x / total
    my = weights @ acc / total
    sxy = weights @ (x * acc) / total - mx * my
    sxx = weights @ (x * x) / total - mx * mx
    syy = weights @ (acc * acc) / total - my * my
    with np.errstate(invalid="ignore", divide="ignore"):
        return sxy**2 / (sxx * syy)


def _bucketed_r2_rows(x: np.ndarray, acc: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Bucketed R² (every distinct x a bucket, bucket means weighted equally) for every row of ``weights``."""
    values, inverse = np.unique(x, return_inverse=True)
    onehot = np.zeros((len(x), len(values)))
    onehot[np.arange(len(x)), inverse] = 1.0
    counts = weights @ onehot
    sums = weights @ (onehot * acc[:, None])
    present = counts > 0
    means = np.where(present, sums / np.where(present, counts, 1), 0.0)
    k = present.sum(axis=1)
    xm = (values * present).sum(axis=1) / k
    ym = (means * present).sum(axis=1) / k
    dx = (values - xm[:, None]) * present
    dy = (means - ym[:, None]) * present
    with np.errstate(invalid="ignore", divide="ignore"):
        return (dx * dy).sum(axis=1) ** 2 / ((dx * dx).sum(axis=1) * (dy * dy).sum(axis=1))


def with_exposure_predictor(
    predictors: dict[str, pd.DataFrame], truth: pd.DataFrame, width: float = metrics.DEFAULT_BUCKET_WIDTH
) -> dict[str, pd.DataFrame]:
    r"""Each model's predictor frame with a fourth method, ``STATED``: the true exposure, known only in the lab.

    ``STATED`` is bucketed and normalised as CO-OCCUR is, on :math:`1 + k_f` (so a
    fact stated nowhere has :math:`\log_2 1 = 0`): ``min_max(bucket(1 + stated_docs))``.

    Parameters
    ----------
    predictors : dict of str to pandas.DataFrame
        Each model's predictors frame (:func:`smi.regression.model_predictors`).
    truth : pandas.DataFrame
        The lab's truth table, with idx and stated_docs.
    width : float
        Bucket width on the log2 scale.

    Returns
    -------
    dict of str to pandas.DataFrame
        The frames with a ``STATED`` column.

    Raises
    ------
    SmiError
        When a fact of a model has no stated_docs in ``truth``.
    """
    stated = truth.set_index("idx")["stated_docs"]
    result = {}
    for model, frame in predictors.items():
        values = 1 + stated.reindex(frame["idx"]).to_numpy(dtype=float)
        if np.isnan(values).any():
            raise SmiError(f"model '{model}': a fact has no stated_docs in the truth table")
        result[model] = frame.assign(STATED=metrics.min_max(metrics.bucket(values, width)))
    return result


def fit_intervals(predictors: dict[str, pd.DataFrame], n_boot: int = 200, seed: int = 0) -> pd.DataFrame:
    """Bucketed and per-fact R² of every method and model with 95 % percentile intervals.

    ``predictors`` is :func:`smi.regression.release_predictors` output (one frame per
    model with acc and a column per method, ``STATED`` too when added by
    :func:`with_exposure_predictor`). Facts are resampled with replacement
    ``n_boot`` times (the same draws for every method of a model); the point
    estimates are those of :func:`smi.regression.bucketed_fit` and
    :func:`smi.regression.per_fact_fit`.

    Parameters
    ----------
    predictors : dict of str to pandas.DataFrame
        Each model's predictors frame.
    n_boot : int
        Bootstrap resamples.
    seed : int
        Seed of the resampling.

    Returns
    -------
    pandas.DataFrame
        One row per (model, method): the R² of both fits and their intervals.

    Raises
    ------
    SmiError
        When a model's accuracy does not vary or it has too few buckets.
    """
    rng = np.random.default_rng(seed)
    rows = []
    for model, frame in predictors.items():
        n = len(frame)
        draws = rng.integers(0, n, size=(n_boot, n))
        weights = np.zeros((n_boot, n))
        for row in range(n_boot):
            weights[row] = np.bincount(draws[row], minlength=n)
        acc = frame["acc"].to_numpy(dtype=float)
        for method in [m for m in (*metrics.METHODS, "STATED") if m in frame.columns]:
            x = frame[method].to_numpy(dtype=float)
            bucketed = regression.bucketed_fit(x, acc)
            per_fact = regression.per_fact_fit(x, acc)
            b_lo, b_hi = np.nanpercentile(_bucketed_r2_rows(x, acc, weights), [2.5, 97.5])
            p_lo, p_hi = np.nanpercentile(_r2_rows(x, acc, weights), [2.5, 97.5])
            rows.append(
                {
                    "model": model,
                    "method": method,
                    "n_facts": n,
                    "n_buckets": bucketed.n_buckets,
                    "r2_bucketed": bucketed.r2,
                    "r2_bucketed_lo": b_lo,
                    "r2_bucketed_hi": b_hi,
                    "r2_per_fact": per_fact.r2,
                    "r2_per_fact_lo": p_lo,
                    "r2_per_fact_hi": p_hi,
                    "upper_bound": bucketed.upper_bound,
                }
            )
    return pd.DataFrame(rows)


def specificity_table(accuracies: pd.DataFrame, counts: pd.DataFrame, n_boot: int = 200, seed: int = 0) -> pd.DataFrame:
    """Facts with the same co-occurrence but different MI: does the more specific one score higher?

    Within every group of usable facts (MI > 0) sharing one co-occurrence count
    :math:`n_{so}` and holding facts of different MI, MI and accuracy are ranked
    and the ranks centred (:math:`r/n_g - 1/2`); ``within_group_rho`` is the
    correlation of those centred ranks pooled over groups, with a 95 % interval
    from ``n_boot`` resamples of the facts. ``high_mi_acc`` and ``low_mi_acc``
    are the mean accuracies of the facts above and at most the group's median MI.

    Parameters
    ----------
    accuracies : pandas.DataFrame
        One row per (size, fact) with idx and acc.
    counts : pandas.DataFrame
        The lab's per-fact counts (time_* fields).
    n_boot : int
        Bootstrap resamples.
    seed : int
        Seed of the resampling.

    Returns
    -------
    pandas.DataFrame
        One row per size with the measurements above.

    Notes
    -----
    With r the rank of a fact within its group g of n_g facts, the centred rank is r / n_g − 1/2;
    ``within_group_rho`` is Pearson's correlation of the centred MI and accuracy ranks over all groups.
    """
    usable = counts[metrics.usable_facts(counts)].copy()
    usable["mi"] = metrics.mutual_information(usable).to_numpy()
    rng = np.random.default_rng(seed)
    rows = []
    for size, per_size in accuracies.groupby("size", sort=False):
        frame = usable.merge(per_size[["idx", "acc"]], on="idx")
        high, low, rank_mi, rank_acc = [], [], [], []
        for _, group in frame.groupby("time_s1j1"):
            if group["mi"].nunique() < 2:
                continue
            upper = group["mi"] > group["mi"].median()
            high += group.loc[upper, "acc"].tolist()
            low += group.loc[~upper, "acc"].tolist()
            rank_mi += list(stats.rankdata(group["mi"]) / len(group) - 0.5)
            rank_acc += list(stats.rankdata(group["acc"]) / len(group) - 0.5)
        x, y = np.asarray(rank_mi), np.asarray(rank_acc)
        rho, lo, hi = float("nan"), float("nan"), float("nan")
        if len(x) > 2 and x.std() > 0 and y.std() > 0:
            rho = float(np.corrcoef(x, y)[0, 1])
            draws = rng.integers(0, len(x), size=(n_boot, len(x)))
            with np.errstate(invalid="ignore", divide="ignore"):
                boot = [np.corrcoef(x[d], y[d])[0, 1] for d in draws]
            lo, hi = (float(v) for v in np.nanpercentile(boot, [2.5, 97.5]))
        rows.append(
            {
                "size": size,
                "facts": len(x),
                "high_mi_acc": float(np.mean(high)) if high else float("nan"),
                "low_mi_acc": float(np.mean(low)) if low else float("nan"),
                "within_group_rho": rho,
                "rho_lo": lo,
                "rho_hi": hi,
            }
        )
    return pd.DataFrame(rows)


#: Exposure groups of :func:`mention_table`: (lowest, highest) documents stating the fact.
MENTION_GROUPS = ((0, 0), (1, 3), (4, 15), (16, None))


def mention_table(accuracies: pd.DataFrame) -> pd.DataFrame:
    """Does a co-mention teach the answer? Facts with and without co-mentions, at the same exposure.

    Per size, exposure group (:data:`MENTION_GROUPS`) and ``co_mentioned``
    (``mention_docs > 0``): the number of facts, their mean accuracy and mean
    guessing baseline.

    Parameters
    ----------
    accuracies : pandas.DataFrame
        One row per (size, fact) with stated_docs, mention_docs, acc and baseline.

    Returns
    -------
    pandas.DataFrame
        One row per (size, exposure group, co_mentioned).
    """
    rows = []
    for low, high in MENTION_GROUPS:
        stated = accuracies["stated_docs"]
        inside = (stated >= low) & (stated <= high if high is not None else True)
        label = f"{low}" if high == low else (f"{low}–{high}" if high is not None else f"≥{low}")
        part = accuracies[inside].assign(stated=label, co_mentioned=lambda f: f["mention_docs"] > 0)
        rows.append(
            part.groupby(["size", "stated", "co_mentioned"], sort=False)
            .agg(n_facts=("acc", "size"), mean_acc=("acc", "mean"), baseline_acc=("baseline", "mean"))
            .reset_index()
        )
    return pd.concat(rows, ignore_index=True)


def size_table(accuracies: pd.DataFrame, bucketed: pd.DataFrame) -> pd.DataFrame:
    """Per size: parameters, mean accuracy and the upper bound (slope + intercept) of each method's bucketed fit.

    Parameters
    ----------
    accuracies : pandas.DataFrame
        One row per (size, fact) with size, parameters and acc.
    bucketed : pandas.DataFrame
        The bucketed fits of every size (model) and method.

    Returns
    -------
    pandas.DataFrame
        One row per size, sorted by parameters.
    """
    means = accuracies.groupby(["size", "parameters"], sort=False)["acc"].mean().rename("mean_acc").reset_index()
    bounds = bucketed.pivot(index="model", columns="method", values="upper_bound").add_prefix("upper_bound_")
    table = means.merge(bounds, left_on="size", right_index=True, how="left")
    return table.sort_values("parameters").reset_index(drop=True)


def _increasing(values) -> bool:
    values = list(values)
    return all(b > a for a, b in pairwise(values))


def paper_claims(
    checks: dict,
    specificity: pd.DataFrame,
    sizes: pd.DataFrame,
    fits: pd.DataFrame,
    prediction_scores: pd.DataFrame,
    predictor: str = "best",
) -> pd.DataFrame:
    """The paper's claims as the lab tests them: one row per claim with the measurement and whether it holds.

    ``checks`` is :func:`learning_checks` of the largest size, ``specificity``
    :func:`specificity_table`, ``sizes`` :func:`size_table`, ``fits``
    :func:`fit_intervals`, ``prediction_scores`` :func:`smi.prediction.bootstrap_summary`
    of the prediction before training. A claim "holds" only when the measurement
    says so beyond its 95 % interval where one exists.

    Parameters
    ----------
    checks : dict
        :func:`learning_checks` of the largest size.
    specificity : pandas.DataFrame
        :func:`specificity_table`'s output.
    sizes : pandas.DataFrame
        :func:`size_table`'s output.
    fits : pandas.DataFrame
        :func:`fit_intervals`' output.
    prediction_scores : pandas.DataFrame
        The prediction's bootstrap summary, one row per predictor.
    predictor : str
        The predictor whose score is reported.

    Returns
    -------
    pandas.DataFrame
        One row per claim: claim, measured, holds.
    """
    largest = checks["size"]
    spec = specificity.set_index("size").loc[largest]
    smi_best = []
    for _, rows in fits.groupby("model", sort=False):
        r2 = rows.set_index("method")["r2_bucketed"]
        smi_best.append(bool(r2["SMI"] >= r2[["CO-OCCUR", "MI"]].max()))
    score = prediction_scores.set_index("predictor").loc[predictor]
    bounds = sizes["upper_bound_SMI"]
    rows = [
        (
            "Accuracy rises with the documents that state a fact",
            f"Spearman's rho of bucket means against exposure, size {largest}: {checks['spearman']:.3f} "
            f"(test: >= {RISING_SPEARMAN})",
            checks["rising_ok"],
        ),
        (
            "Facts stated often are known",
            f"mean accuracy on facts stated in >= {WELL_KNOWN_EXPOSURE} documents: {checks['well_known_acc']:.3f} "
            f"(test: >= {WELL_KNOWN_ACCURACY})",
            checks["well_known_ok"],
        ),
        (
            "Facts stated nowhere are answered at guessing level",
            f"{checks['unstated_acc']:.3f} against a baseline of {checks['unstated_baseline']:.3f}; "
            "without co-mentions "
            f"{checks['unstated_unmentioned_acc']:.3f} against {checks['unstated_unmentioned_baseline']:.3f} "
            f"(test: within {BASELINE_TOLERANCE})",
            checks["unstated_ok"],
        ),
        (
            "At equal co-occurrence, the more specific fact (higher MI) is known better",
            f"within-group rho of MI and accuracy, size {largest}: {spec['within_group_rho']:.3f} "
            f"[{spec['rho_lo']:.3f}, {spec['rho_hi']:.3f}]",
            bool(spec["rho_lo"] > 0),
        ),
        (
            "Larger models retain more",
            "mean accuracy by size: " + ", ".join(f"{r.size} {r.mean_acc:.3f}" for r in sizes.itertuples()),
            _increasing(sizes["mean_acc"]),
        ),
        (
            "The fitted upper bound rises with size",
            "SMI upper bound (slope + intercept) by size: "
            + ", ".join(f"{r.size} {r.upper_bound_SMI:.3f}" for r in sizes.itertuples()),
            _increasing(bounds),
        ),
        (
            "SMI explains accuracy better than CO-OCCUR and MI",
            f"SMI has the highest bucketed R² for {sum(smi_best)} of {len(smi_best)} sizes",
            all(smi_best),
        ),
        (
            "Which facts a model will know can be predicted before training",
            f"per-fact R² of '{predictor}' on the largest size {score['r2']:.3f} "
            f"[{score['r2_lo']:.3f}, {score['r2_hi']:.3f}] (test: above 0)",
            bool(score["r2_lo"] > 0),
        ),
        (
            "How much a model will know can be predicted before training",
            f"mean accuracy predicted {score['mean_pred']:.3f} against measured {score['mean_acc']:.3f} "
            f"(test: within {BASELINE_TOLERANCE})",
            bool(abs(score["mean_pred"] - score["mean_acc"]) <= BASELINE_TOLERANCE),
        ),
    ]
    return pd.DataFrame(rows, columns=["claim", "measured", "holds"])
