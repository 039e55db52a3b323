"""What a probe reads: the facts to probe, their relations' templates and the optional per-fact counts."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from smi import formats
from smi.errors import SmiError
from smi.records import COUNT_FIELDS


def load_probe_facts(path: Path) -> pd.DataFrame:
    """Facts to probe, from a JSON list of records.

    Parameters
    ----------
    path : Path
        A JSON list of records with ``idx, subj, rel, obj`` (``qus`` and ``time_*`` are kept when present).

    Returns
    -------
    pandas.DataFrame
        One row per fact, in the file's order.

    Raises
    ------
    SmiError
        When the file does not read as facts, or ``subj``, ``rel`` or ``obj`` of a record is not a
        non-empty string (the message names the record and its idx).
    """
    facts = formats.load_facts(path)
    for field in ("subj", "rel", "obj"):
        bad = facts[field].map(lambda value: not isinstance(value, str) or not value.strip())
        if bad.any():
            row = int(bad.to_numpy().nonzero()[0][0])
            raise SmiError(
                f"{path}: record {row} (idx {facts['idx'].iloc[row]}): field '{field}' must be a non-empty string"
            )
    return facts


def check_templates_cover(
    facts: pd.DataFrame, templates: dict[str, list[str]], facts_path: Path, templates_path: Path
) -> None:
    """Check that every fact's relation has templates.

    Parameters
    ----------
    facts : pandas.DataFrame
        The facts, with a ``rel`` and an ``idx`` column.
    templates : dict of str to list of str
        Templates by relation.
    facts_path, templates_path : Path
        Where the facts and templates came from, for the message.

    Raises
    ------
    SmiError
        Naming the first fact whose relation has no templates.
    """
    missing = ~facts["rel"].isin(list(templates))
    if missing.any():
        row = int(missing.to_numpy().nonzero()[0][0])
        raise SmiError(
            f"{facts_path}: record {row} (idx {facts['idx'].iloc[row]}): relation '{facts['rel'].iloc[row]}' "
            f"has no templates in {templates_path} (relations there: {', '.join(sorted(templates))})"
        )


def load_counts(path: Path) -> pd.DataFrame:
    """Per-fact document counts, e.g. a release ``search/<corpus>/merge.json``.

    Parameters
    ----------
    path : Path
        Any counts file :func:`smi.formats.read_counts` reads (the release's JSON list,
        ``smi count``'s CSV or JSON, JSON lines, Parquet) with every ``time_*`` field.

    Returns
    -------
    pandas.DataFrame
        The ``time_*`` columns indexed by ``idx`` (the first record of each idx).

    Raises
    ------
    SmiError
        When a field is missing or a count is not a valid non-negative integer.
    """
    frame = formats.read_counts(Path(path))
    return frame[["idx", *COUNT_FIELDS]].drop_duplicates("idx").set_index("idx")


def attach_counts(facts: pd.DataFrame, counts: pd.DataFrame | None, counts_path: Path | None) -> pd.DataFrame:
    """Facts with the ``time_*`` counts of ``counts`` joined by idx.

    Parameters
    ----------
    facts : pandas.DataFrame
        The facts; any ``time_*`` columns they already have are replaced.
    counts : pandas.DataFrame or None
        Counts indexed by idx (:func:`load_counts`); None returns ``facts`` unchanged.
    counts_path : Path or None
        Where the counts came from, for the message.

    Returns
    -------
    pandas.DataFrame
        The facts with the counts' columns.

    Raises
    ------
    SmiError
        When a fact has no counts (naming the first such idx and how many are missing).
    """
    if counts is None:
        return facts
    absent = ~facts["idx"].isin(counts.index)
    if absent.any():
        idx = facts["idx"][absent].iloc[0]
        raise SmiError(f"{counts_path}: no counts for fact idx {idx} ({int(absent.sum())} facts missing)")
    kept = facts.drop(columns=[field for field in COUNT_FIELDS if field in facts.columns])
    return kept.join(counts, on="idx")
