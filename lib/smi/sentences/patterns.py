"""The ParaRel patterns that state each fact, in the fact's own direction, and a pattern filled with a fact."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from smi import triples
from smi.errors import check_one_of

__all__ = ["check_classes", "fact_patterns", "fill_pattern"]


def fill_pattern(pattern: str, subj: str, obj: str) -> str:
    """A ParaRel pattern with the subject for ``[X]`` and the object for ``[Y]``.

    Parameters
    ----------
    pattern : str
        A pattern with ``[X]`` and ``[Y]``.
    subj, obj : str
        The fact's subject and object.

    Returns
    -------
    str
        The filled sentence.
    """
    return pattern.replace("[X]", subj).replace("[Y]", obj)


def fact_patterns(
    facts: pd.DataFrame, pararel_root: Path, mapping: dict[str, tuple[str, ...]] = triples.RELATION_CLASSES
) -> pd.Series:
    """The ParaRel patterns (in the fact's own direction) that state each fact, indexed like ``facts``.

    A fact's relation is its ``pid`` column when present, otherwise found by
    looking the fact up in ParaRel, in either direction for ``capital``'s P36; a
    fact found in neither gets every pattern of its class.

    Parameters
    ----------
    facts : pandas.DataFrame
        Facts with subj, rel, obj (and optionally pid).
    pararel_root : Path
        The ParaRel folder.
    mapping : dict of str to tuple of str
        Relation class → PIDs.

    Returns
    -------
    pandas.Series
        A list of patterns per fact.

    Raises
    ------
    SmiError
        When a fact's class is not in ``mapping`` or a ParaRel file is invalid.
    """
    check_classes(facts, mapping)
    mapping = {rel: pids for rel, pids in mapping.items() if rel in set(facts["rel"])}
    by_pid = {}
    for pids in mapping.values():
        for pid in pids:
            patterns = triples.load_patterns(pararel_root, pid)
            by_pid[(pid, False)] = patterns
            by_pid[(pid, True)] = [triples.swap_slots(p) for p in patterns]
    looked_up = _lookup_relations(facts, pararel_root, mapping)
    result = []
    for rel, pid, swapped in zip(facts["rel"], looked_up["pid"], looked_up["swapped"]):
        if isinstance(pid, str):
            result.append(by_pid[(pid, bool(swapped))])
        else:
            result.append([p for pid in mapping[rel] for p in by_pid[(pid, False)]])
    return pd.Series(result, index=facts.index, name="patterns")


def check_classes(facts: pd.DataFrame, mapping: dict[str, tuple[str, ...]]) -> None:
    """Every fact's ``rel`` must be a class of ``mapping``.

    Parameters
    ----------
    facts : pandas.DataFrame
        Facts with ``rel``.
    mapping : dict of str to tuple of str
        Relation class → PIDs.

    Raises
    ------
    SmiError
        Naming the first unknown class (in sorted order) and the valid ones.
    """
    for rel in sorted(set(facts["rel"])):
        check_one_of(rel, mapping, "relation class", "relation classes")


def _lookup_relations(facts: pd.DataFrame, pararel_root: Path, mapping) -> pd.DataFrame:
    """pid and direction (swapped: subject and object exchanged w.r.t. ParaRel) of each fact."""
    trex, _ = triples.read_trex_facts(pararel_root, mapping)
    keys = ["subj", "rel", "obj"]
    known = trex[[*keys, "pid"]].drop_duplicates(keys).assign(swapped=False)
    reversed_ = (
        trex[trex["pid"] == triples.REGION_FIRST_CAPITAL]
        .rename(columns={"subj": "obj", "obj": "subj"})[[*keys, "pid"]]
        .drop_duplicates(keys)
        .assign(swapped=True)
    )
    lookup = pd.concat([known, reversed_]).drop_duplicates(keys)
    found = facts[keys].merge(lookup, on=keys, how="left")
    found.index = facts.index
    found["swapped"] = found["swapped"].astype("boolean").fillna(False).astype(bool)
    if "pid" in facts.columns:
        given = facts["pid"].notna()
        found.loc[given & (found["pid"] != facts["pid"]), "swapped"] = False
        found.loc[given, "pid"] = facts.loc[given, "pid"]
    return found
