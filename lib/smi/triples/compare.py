"""Comparison with the release: which facts and templates a rebuild shares with the released ones.

Facts are the same when their subject, class and object are (:func:`compare_with_release`,
:func:`unmatched_facts`); templates when they are equal ignoring case (:func:`compare_templates`).
"""

from __future__ import annotations

import pandas as pd


def compare_with_release(rebuilt: pd.DataFrame, released: pd.DataFrame) -> pd.DataFrame:
    """Per class and overall: released facts, rebuilt facts, shared (same subj, rel, obj), recall and precision.

    recall = shared / released (how much of the release the rebuild holds),
    precision = shared / rebuilt (how much of the rebuild is in the release).

    Parameters
    ----------
    rebuilt : pandas.DataFrame
        Facts built here (subj, rel, obj).
    released : pandas.DataFrame
        The release's facts (subj, rel, obj).

    Returns
    -------
    pandas.DataFrame
        One row per class and a row ``all``: released, rebuilt, shared, recall, precision.
    """
    keys = ["subj", "rel", "obj"]
    ours = rebuilt[keys].drop_duplicates()
    theirs = released[keys].drop_duplicates()
    shared = ours.merge(theirs, on=keys)
    table = (
        pd.DataFrame(
            {
                "released": theirs.groupby("rel").size(),
                "rebuilt": ours.groupby("rel").size(),
                "shared": shared.groupby("rel").size(),
            }
        )
        .fillna(0)
        .astype(int)
    )
    table.loc["all"] = table.sum()
    table["recall"] = table["shared"] / table["released"].where(table["released"] > 0)
    table["precision"] = table["shared"] / table["rebuilt"].where(table["rebuilt"] > 0)
    return table.rename_axis("rel").reset_index()


def unmatched_facts(rebuilt: pd.DataFrame, released: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(rebuilt facts missing from the release, released facts missing from the rebuild).

    Parameters
    ----------
    rebuilt : pandas.DataFrame
        Facts built here.
    released : pandas.DataFrame
        The release's facts.

    Returns
    -------
    extra : pandas.DataFrame
        Rebuilt facts that the release lacks.
    missing : pandas.DataFrame
        Released facts that the rebuild lacks.
    """
    keys = ["subj", "rel", "obj"]
    extra = rebuilt.merge(released[keys].drop_duplicates(), on=keys, how="left", indicator=True)
    missing = released.merge(rebuilt[keys].drop_duplicates(), on=keys, how="left", indicator=True)
    return (
        extra[extra["_merge"] == "left_only"].drop(columns="_merge"),
        missing[missing["_merge"] == "left_only"].drop(columns="_merge"),
    )


def compare_templates(built: dict[str, list[str]], released: dict[str, list[str]]) -> pd.DataFrame:
    """Per class: number of built and released templates and how many coincide (case-insensitive).

    Parameters
    ----------
    built : dict of str to list of str
        Templates built here, by class.
    released : dict of str to list of str
        The release's templates, by class.

    Returns
    -------
    pandas.DataFrame
        One row per class: rel, built, released, shared.
    """
    rows = []
    for rel in sorted(set(built) | set(released)):
        ours = {t.lower() for t in built.get(rel, [])}
        theirs = {t.lower() for t in released.get(rel, [])}
        rows.append({"rel": rel, "built": len(ours), "released": len(theirs), "shared": len(ours & theirs)})
    return pd.DataFrame(rows)
