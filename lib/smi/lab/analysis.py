r"""What the lab's models learned, measured against the truth of the corpus.

* :func:`acquisition_table`: mean accuracy per size and bucket of exposure (the
  documents stating a fact), next to the chance baseline of the same facts;
  :func:`acquisition_with_chance`: the same per seed, next to both chances of :mod:`smi.lab.chance`;
* :func:`learning_checks`: the issue's three tests that learning is real;
* :func:`lab_summary`: the numbers of a run's ``summary.json``: the learning checks of the largest
  size, the R² tables and the scores of the prediction before training.

Exposure buckets are powers of two, :math:`\{0\}, \{1\}, [2, 3], [4, 7], \dots, [64, \infty)`
(:data:`EXPOSURE_EDGES`), except that the top buckets are merged until the last one holds at
least :data:`MIN_BUCKET_FACTS` facts: heavy-tailed exposure leaves few facts in the top buckets,
and a mean over ten facts is too noisy to rank against its neighbours.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

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


def acquisition_table(accuracies: pd.DataFrame, min_facts: int = MIN_BUCKET_FACTS) -> pd.DataFrame:
    """One row per size and exposure bucket: :data:`ACQUISITION_COLUMNS`.

    ``accuracies`` has one row per (size, fact) with ``size``, ``parameters``,
    ``stated_docs``, ``acc`` and ``baseline`` (a chance accuracy, e.g. :func:`smi.lab.chance.prior_chance`).
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


ACQUISITION_CHANCE_COLUMNS = [
    "seed",
    "size",
    "parameters",
    "exposure_min",
    "exposure_max",
    "n_facts",
    "mean_acc",
    "rank1_acc",
    "chance_acc",
    "prior_chance",
    "baseline_acc",
    "p_true",
]


def acquisition_with_chance(accuracies: pd.DataFrame) -> pd.DataFrame:
    """One row per seed, size and exposure bucket: accuracy next to both chances (:mod:`smi.lab.chance`).

    Parameters
    ----------
    accuracies : pandas.DataFrame
        One row per (seed, size, fact) with ``k``, ``acc``, ``chance_acc``, ``prior_chance`` (and ``p_true``).

    Returns
    -------
    pandas.DataFrame
        :data:`ACQUISITION_CHANCE_COLUMNS`; ``mean_acc`` = ``rank1_acc`` is the mean accuracy,
        ``chance_acc`` the mean shuffled-subject accuracy, ``prior_chance`` (= ``baseline_acc``) the
        mean prior chance.

    Notes
    -----
    Buckets are :func:`bucket_edges` of ``k`` over every seed's facts.
    """
    edges = bucket_edges(accuracies["k"].to_numpy())
    frame = accuracies.assign(bucket=exposure_bucket(accuracies["k"], edges))
    rows = []
    for (seed, size, parameters, bucket), facts in frame.groupby(["seed", "size", "parameters", "bucket"], sort=False):
        high = edges[bucket + 1] - 1 if bucket + 1 < len(edges) else int(facts["k"].max())
        rows.append(
            {
                "seed": int(seed),
                "size": size,
                "parameters": int(parameters),
                "exposure_min": edges[bucket],
                "exposure_max": high,
                "n_facts": len(facts),
                "mean_acc": float(facts["acc"].mean()),
                "rank1_acc": float(facts["acc"].mean()),
                "chance_acc": float(facts["chance_acc"].mean()),
                "prior_chance": float(facts["prior_chance"].mean()),
                "baseline_acc": float(facts["prior_chance"].mean()),
                "p_true": float(facts["p_true"].mean()) if "p_true" in facts else float("nan"),
            }
        )
    table = pd.DataFrame(rows, columns=ACQUISITION_CHANCE_COLUMNS)
    return table.sort_values(["seed", "parameters", "exposure_min"], kind="stable").reset_index(drop=True)


def lab_summary(
    accuracies: pd.DataFrame,
    acquisition: pd.DataFrame,
    bucketed: pd.DataFrame,
    per_fact: pd.DataFrame,
    prediction_frame: pd.DataFrame,
    largest: str,
    n_boot: int,
    seed: int,
) -> dict:
    """The numbers the issue asks for: learning checks of the largest size, R² table, prediction scores.

    Parameters
    ----------
    accuracies : pandas.DataFrame
        One row per (size, fact).
    acquisition : pandas.DataFrame
        :func:`acquisition_table`'s output.
    bucketed, per_fact : pandas.DataFrame
        The R² tables of every size and method.
    prediction_frame : pandas.DataFrame
        :func:`smi.lab.stages.predict_before_training`'s output joined with the largest size's accuracies.
    largest : str
        The largest size.
    n_boot : int
        Bootstrap resamples of the prediction's scores.
    seed : int
        Seed of the resampling.

    Returns
    -------
    dict
        A JSON-serialisable summary.
    """
    from smi import prediction

    checks = learning_checks(accuracies, acquisition, largest)
    names = [c for c in prediction_frame.columns if c.startswith("pred_")]
    scores = prediction.bootstrap_summary(
        prediction_frame["measured"].to_numpy(),
        {name[5:]: prediction_frame[name].to_numpy() for name in names},
        n_boot=n_boot,
        seed=seed,
    )
    keep = ["predictor", "r2", "r2_lo", "r2_hi", "r2_bucketed", "spearman", "mean_acc", "mean_pred", "mean_error"]
    r2 = bucketed.pivot(index="model", columns="method", values="r2")
    r2_fact = per_fact.pivot(index="model", columns="method", values="r2")
    return {
        "learning": checks,
        "mean_acc": accuracies.groupby("size", sort=False)["acc"].mean().to_dict(),
        "r2_bucketed": {model: row.to_dict() for model, row in r2.iterrows()},
        "r2_per_fact": {model: row.to_dict() for model, row in r2_fact.iterrows()},
        "upper_bound_smi": bucketed[bucketed["method"] == "SMI"].set_index("model")["upper_bound"].to_dict(),
        "prediction": scores[keep].to_dict(orient="records"),
    }
