"""Reading probe results: the output reader, per-template accuracy, template sensitivity and accuracy summaries."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from smi import formats, metrics
from smi.errors import SmiError
from smi.probing.protocol import accuracy
from smi.records import COUNT_FIELDS


def load_probe_output(path: Path) -> pd.DataFrame:
    """A probe output (ours or the release's per-model file) as a frame.

    Parameters
    ----------
    path : Path
        A JSON list of records with at least ``idx, subj, rel, obj, acc``.

    Returns
    -------
    pandas.DataFrame
        One row per record, ``acc`` as a number, plus ``mi`` (:func:`smi.metrics.mutual_information`)
        when the records carry every ``time_*`` count.

    Raises
    ------
    SmiError
        When a field is missing or an ``acc`` is not a number in [0, 1] (naming the record).
    """
    frame = formats.read_model_output(path, require_counts=False)
    if all(field in frame.columns for field in COUNT_FIELDS):
        frame["mi"] = metrics.mutual_information(frame).to_numpy()
    return frame


def template_accuracy(
    records: list[dict] | pd.DataFrame,
    templates: dict[str, list[str]],
    match: str = "paper",
    ignore_case: bool = False,
) -> pd.DataFrame:
    """Per (fact, template) accuracy from a run that kept its answers.

    Parameters
    ----------
    records : list of dict or pandas.DataFrame
        Probe records with ``answers`` (one list per template).
    templates : dict of str to list of str
        The templates the run used, by relation.
    match, ignore_case
        As for :func:`smi.probing.protocol.answer_contains_object`.

    Returns
    -------
    pandas.DataFrame
        Columns idx, rel, template_number, template, n (answers per template), acc.

    Raises
    ------
    SmiError
        When the records carry no answers.
    """
    frame = pd.DataFrame(records) if not isinstance(records, pd.DataFrame) else records
    if "answers" not in frame.columns:
        raise SmiError("these probe records have no answers; rerun `smi probe` with --keep-answers")
    rows = []
    for record in frame.itertuples(index=False):
        for number, answers in enumerate(record.answers):
            rows.append(
                {
                    "idx": record.idx,
                    "rel": record.rel,
                    "template_number": number,
                    "template": templates[record.rel][number],
                    "n": len(answers),
                    "acc": accuracy(answers, record.obj, match, ignore_case),
                }
            )
    return pd.DataFrame(rows)


def template_sensitivity(per_template: pd.DataFrame) -> pd.DataFrame:
    r"""How much the choice of template moves accuracy, per relation.

    Parameters
    ----------
    per_template : pandas.DataFrame
        :func:`template_accuracy`'s output.

    Returns
    -------
    pandas.DataFrame
        One row per relation: ``rel``, ``best_template_acc`` and ``worst_template_acc`` (mean
        accuracy of its best and worst template over facts), ``within_fact_std`` (mean over facts of
        the standard deviation of accuracy across templates), ``sampling_std`` and ``gap`` (best
        minus worst).

    Notes
    -----
    ``sampling_std`` is the part of the spread that sampling alone produces: a fact answered
    correctly with probability :math:`\bar p` (its mean over templates) gives per-template
    accuracies with standard deviation :math:`\sqrt{\bar p (1 - \bar p) / n}` for :math:`n`
    answers per template; it is averaged over facts.
    """
    by_template = per_template.groupby(["rel", "template_number"])["acc"].mean()
    per_fact = per_template.groupby(["rel", "idx"]).agg(
        std=("acc", lambda acc: acc.std(ddof=0)), mean=("acc", "mean"), n=("n", "mean")
    )
    per_fact["sampling_std"] = np.sqrt(per_fact["mean"] * (1 - per_fact["mean"]) / per_fact["n"])
    summary = pd.DataFrame(
        {
            "best_template_acc": by_template.groupby("rel").max(),
            "worst_template_acc": by_template.groupby("rel").min(),
            "within_fact_std": per_fact["std"].groupby("rel").mean(),
            "sampling_std": per_fact["sampling_std"].groupby("rel").mean(),
        }
    )
    summary["gap"] = summary["best_template_acc"] - summary["worst_template_acc"]
    return summary.reset_index()


def accuracy_summary(accuracies: pd.DataFrame, by: str | list[str]) -> pd.DataFrame:
    """Mean, median and share of facts with any correct answer, by group.

    Parameters
    ----------
    accuracies : pandas.DataFrame
        Per-fact accuracies in an ``acc`` column, with the grouping columns.
    by : str or list of str
        Grouping columns, e.g. model, rel, series.

    Returns
    -------
    pandas.DataFrame
        The groups with ``facts``, ``mean_acc``, ``median_acc`` and ``share_known`` (share with acc > 0).
    """
    grouped = accuracies.groupby(by)["acc"]
    return pd.DataFrame(
        {
            "facts": grouped.size(),
            "mean_acc": grouped.mean(),
            "median_acc": grouped.median(),
            "share_known": grouped.apply(lambda acc: float((acc > 0).mean())),
        }
    ).reset_index()
