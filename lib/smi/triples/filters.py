"""The released set's selection: ParaRel minus two kinds of ambiguous facts.

1. *ambiguous prompt* — a later fact whose query prompt (its relation's first
   object-last prompt, subject filled in) was already asked by an earlier fact:
   "John Cage plays" is both P1303 (piano) and P136 (jazz), so only the first
   answer is kept (relations in :data:`RELEASE_PID_ORDER`);
2. *ambiguous pair* — a (subject, object) pair stated by more than one relation
   ("Crazy Eddie"/"Brooklyn" is both ``found`` and ``headquarter``), or a subject
   that occurs twice in one class after step 1: all such facts are dropped.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

if TYPE_CHECKING:
    from smi.triples.build import BuildReport

#: Order of the relations in the released set's numbering (by ascending idx);
#: the first fact asking a prompt wins when two relations share it.
RELEASE_PID_ORDER = (
    "P449",
    "P30",
    "P740",
    "P19",
    "P1303",
    "P495",
    "P20",
    "P27",
    "P276",
    "P136",
    "P1376",
    "P101",
    "P159",
    "P106",
    "P413",
    "P36",
    "P17",
)


def drop_ambiguous_prompts(
    facts: pd.DataFrame, prompts: dict[str, str], pid_order: tuple[str, ...] = RELEASE_PID_ORDER
) -> pd.DataFrame:
    """Keep only the first fact asking each query prompt.

    The prompt of a fact is its relation's query prompt with the subject filled in;
    relations are taken in ``pid_order`` (others after, in their given order), facts
    in file order. A fact whose relation has no object-last prompt is kept.

    Parameters
    ----------
    facts : pandas.DataFrame
        Facts with rel, pid and subj.
    prompts : dict of str to str
        The query prompt of each relation id (:func:`~smi.triples.templates.query_prompts`).
    pid_order : tuple of str
        The order in which relations claim a prompt.

    Returns
    -------
    pandas.DataFrame
        The facts kept.
    """
    rank = {pid: position for position, pid in enumerate(pid_order)}
    ordered = facts.assign(_rank=facts["pid"].map(rank).fillna(len(rank)))
    ordered = ordered.sort_values(["_rank", "row"], kind="stable")
    asked = [
        prompts[pid].replace("[S]", subj) if pid in prompts else f"\0{pid}\0{subj}\0{obj}"
        for pid, subj, obj in zip(ordered["pid"], ordered["subj"], ordered["obj"])
    ]
    first = ~pd.Series(asked, index=ordered.index).duplicated()
    return facts.loc[sorted(first[first].index)]


def drop_ambiguous_pairs(facts: pd.DataFrame) -> pd.DataFrame:
    """Drop every fact whose (subject, object) pair is stated by two relations, or whose subject repeats in a class.

    Parameters
    ----------
    facts : pandas.DataFrame
        Facts with rel, subj and obj.

    Returns
    -------
    pandas.DataFrame
        The facts kept.
    """
    pair_relations = facts.groupby(["subj", "obj"])["pid"].transform("nunique")
    subject_repeats = facts.groupby(["rel", "subj"])["pid"].transform("size")
    return facts[(pair_relations == 1) & (subject_repeats == 1)]


def release_filter_labels(facts: pd.DataFrame, prompts: dict[str, str]) -> pd.Series:
    """Why the release's selection drops each fact: "ambiguous prompt", "ambiguous pair" or "kept".

    Parameters
    ----------
    facts : pandas.DataFrame
        Facts with rel, pid, subj and obj.
    prompts : dict of str to str
        The query prompt of each relation id.

    Returns
    -------
    pandas.Series
        One label per fact, aligned with ``facts``.
    """
    unambiguous_prompt = drop_ambiguous_prompts(facts, prompts)
    unambiguous = drop_ambiguous_pairs(unambiguous_prompt)
    labels = pd.Series("ambiguous prompt", index=facts.index, name="release_filter")
    labels[unambiguous_prompt.index] = "ambiguous pair"
    labels[unambiguous.index] = "kept"
    return labels


def apply_release_filter(
    facts: pd.DataFrame, prompts: dict[str, str], report: BuildReport | None = None
) -> pd.DataFrame:
    """The released set's selection: :func:`drop_ambiguous_prompts`, then :func:`drop_ambiguous_pairs`.

    Parameters
    ----------
    facts : pandas.DataFrame
        Facts with rel, pid, subj and obj.
    prompts : dict of str to str
        The query prompt of each relation id.
    report : BuildReport or None
        Receives the number of facts each step drops.

    Returns
    -------
    pandas.DataFrame
        The facts kept.
    """
    labels = release_filter_labels(facts, prompts)
    if report is not None:
        report.ambiguous_prompt = int((labels == "ambiguous prompt").sum())
        report.ambiguous_pair = int((labels == "ambiguous pair").sum())
    return facts[labels == "kept"]
