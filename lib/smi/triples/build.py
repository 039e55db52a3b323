"""The probe set: every mapped ParaRel fact, repeats removed, optionally filtered as the release, numbered.

Every fact keeps ParaRel's direction: for ``capital`` that means P1376 facts read
"[city] is the capital of [region]" while P36 facts read "the capital of
[region] is [city]", as in the released set; ``capital_city_first=True`` swaps
the P36 facts (and their patterns) so that the whole class reads city first.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from smi.triples.filters import apply_release_filter
from smi.triples.pararel import REGION_FIRST_CAPITAL, RELATION_CLASSES, check_mapping, load_trex
from smi.triples.templates import query_prompts, relation_patterns

#: The columns of a built probe set, in order.
TRIPLE_COLUMNS = ["idx", "subj", "rel", "obj", "pid", "uuid"]


@dataclass
class BuildReport:
    """What :func:`build_probe_set` read, dropped and kept."""

    read: int = 0
    skipped_lines: int = 0
    duplicates: int = 0
    ambiguous_prompt: int = 0
    ambiguous_pair: int = 0
    kept: int = 0
    per_pid: dict[str, int] = field(default_factory=dict)


def read_trex_facts(
    pararel_root: Path,
    mapping: dict[str, tuple[str, ...]] = RELATION_CLASSES,
    capital_city_first: bool = False,
    skip_bad_lines: bool = False,
) -> tuple[pd.DataFrame, BuildReport]:
    """All mapped ParaRel facts (rel, pid, row, subj, obj, uuid), exact repeats within a relation removed.

    Parameters
    ----------
    pararel_root : Path
        The ParaRel folder.
    mapping : dict of str to tuple of str
        Relation class → PIDs.
    capital_city_first : bool
        Swap subject and object of P36 (see :func:`~smi.triples.templates.relation_patterns`).
    skip_bad_lines : bool
        Skip and count bad lines instead of raising.

    Returns
    -------
    facts : pandas.DataFrame
        Columns rel, pid, row, subj, obj, uuid.
    report : BuildReport
        What was read, skipped and removed.

    Raises
    ------
    SmiError
        When a file is missing or (without ``skip_bad_lines``) a line is bad.
    """
    check_mapping(mapping, pararel_root)
    report = BuildReport()
    frames = []
    for rel, pids in mapping.items():
        for pid in pids:
            frame, skipped = load_trex(pararel_root, pid, skip_bad_lines)
            report.skipped_lines += skipped
            if capital_city_first and pid == REGION_FIRST_CAPITAL:
                frame = frame.rename(columns={"subj": "obj", "obj": "subj"})
            frames.append(frame.assign(rel=rel))
    facts = pd.concat(frames, ignore_index=True)[["rel", "pid", "row", "subj", "obj", "uuid"]]
    report.read = len(facts)
    repeated = facts.duplicated(["pid", "subj", "obj"])
    report.duplicates = int(repeated.sum())
    return facts[~repeated].reset_index(drop=True), report


def build_probe_set(
    pararel_root: Path,
    mapping: dict[str, tuple[str, ...]] = RELATION_CLASSES,
    release_filter: bool = False,
    capital_city_first: bool = False,
    skip_bad_lines: bool = False,
) -> tuple[pd.DataFrame, BuildReport]:
    """Probe facts from ParaRel: idx, subj, rel, obj, pid, uuid, numbered 0… in class then file order.

    ``release_filter`` applies :func:`~smi.triples.filters.apply_release_filter`; ``capital_city_first``
    swaps P36 so every ``capital`` fact reads "[subj] is the capital of [obj]".

    Parameters
    ----------
    pararel_root : Path
        The ParaRel folder.
    mapping : dict of str to tuple of str
        Relation class → PIDs.
    release_filter : bool
        Apply the release's selection.
    capital_city_first : bool
        Swap subject and object of P36.
    skip_bad_lines : bool
        Skip and count bad lines instead of raising.

    Returns
    -------
    facts : pandas.DataFrame
        The probe facts.
    report : BuildReport
        What was read, skipped and removed.

    Raises
    ------
    SmiError
        When the mapping or a ParaRel file is invalid.
    """
    facts, report = read_trex_facts(pararel_root, mapping, capital_city_first, skip_bad_lines)
    if release_filter:
        patterns = relation_patterns(pararel_root, mapping, capital_city_first)
        facts = apply_release_filter(facts, query_prompts(patterns), report)
    facts = facts.reset_index(drop=True)
    facts.insert(0, "idx", range(len(facts)))
    report.kept = len(facts)
    report.per_pid = facts["pid"].value_counts().to_dict()
    return facts[TRIPLE_COLUMNS], report
