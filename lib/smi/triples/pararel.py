"""Reading ParaRel: where its files are, which of its relations make each class, and their facts and patterns.

ParaRel (Elazar et al., 2021) ships, per Wikidata relation ``PID``:

* ``data/trex_lms_vocab/PID.jsonl``: one fact per line, ``{"sub_label", "obj_label", "uuid"}``
  (:data:`PARAREL_FIELDS`);
* ``data/pattern_data/graphs_json/PID.jsonl``: paraphrased patterns such as
  ``"[X] was born in [Y]."`` with the subject slot ``[X]`` and the object slot ``[Y]``.

The paper groups 17 relations into 15 classes (:data:`RELATION_CLASSES`); another
grouping can be read from a CSV (:func:`read_mapping`). Both files are JSON lines,
read by :func:`smi.records.read_json_lines` with its rules for blank and bad lines.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from smi.errors import SmiError
from smi.records import read_json_lines

#: The paper's 15 relation classes and the Wikidata relations each is built from.
RELATION_CLASSES: dict[str, tuple[str, ...]] = {
    "play": ("P1303", "P413"),
    "plays": ("P136",),
    "occupation": ("P106",),
    "work": ("P101",),
    "is-located": ("P17",),
    "locate": ("P276",),
    "found": ("P740",),
    "born": ("P19",),
    "die": ("P20",),
    "air": ("P449",),
    "headquarter": ("P159",),
    "capital": ("P36", "P1376"),
    "citizen": ("P27",),
    "create": ("P495",),
    "is-locate": ("P30",),
}

#: Relation whose facts are swapped by ``capital_city_first`` (region → capital becomes capital → region).
REGION_FIRST_CAPITAL = "P36"

#: ParaRel's fields of a T-REx fact (its subject, object and id), each a non-empty string.
PARAREL_FIELDS = ("sub_label", "obj_label", "uuid")
#: ParaRel's field of a paraphrase pattern.
PATTERN_FIELDS = ("pattern",)
#: A Wikidata relation id: P followed by digits.
PID_FORMAT = re.compile(r"^P\d+$")


def trex_path(pararel_root: Path, pid: str) -> Path:
    """ParaRel's T-REx facts of one relation.

    Parameters
    ----------
    pararel_root : Path
        The ParaRel folder.
    pid : str
        A Wikidata relation id such as ``P19``.

    Returns
    -------
    Path
        The relation's T-REx JSON-lines file.
    """
    return Path(pararel_root) / "data" / "trex_lms_vocab" / f"{pid}.jsonl"


def patterns_path(pararel_root: Path, pid: str) -> Path:
    """ParaRel's paraphrase patterns of one relation.

    Parameters
    ----------
    pararel_root : Path
        The ParaRel folder.
    pid : str
        A Wikidata relation id.

    Returns
    -------
    Path
        The relation's patterns JSON-lines file.
    """
    return Path(pararel_root) / "data" / "pattern_data" / "graphs_json" / f"{pid}.jsonl"


def available_pids(pararel_root: Path) -> list[str]:
    """Relations with a T-REx facts file under ``pararel_root``.

    Parameters
    ----------
    pararel_root : Path
        The ParaRel folder.

    Returns
    -------
    list of str
        The relation ids, sorted.
    """
    folder = Path(pararel_root) / "data" / "trex_lms_vocab"
    return sorted((p.stem for p in folder.glob("P*.jsonl")), key=lambda pid: int(pid[1:]))


def check_mapping(mapping: dict[str, tuple[str, ...]], pararel_root: Path) -> None:
    """Every PID of ``mapping`` must be well formed, used once, and have both ParaRel files.

    Parameters
    ----------
    mapping : dict of str to tuple of str
        Relation class → PIDs.
    pararel_root : Path
        The ParaRel folder.

    Raises
    ------
    SmiError
        When the folder is not ParaRel, a PID is malformed, mapped twice, or has no ParaRel files.
    """
    root = Path(pararel_root)
    if not (root / "data" / "trex_lms_vocab").is_dir():
        raise SmiError(f"{root}: not a ParaRel folder (no data/trex_lms_vocab; run `smi data fetch`)")
    seen: dict[str, str] = {}
    for rel, pids in mapping.items():
        for pid in pids:
            if not PID_FORMAT.match(pid):
                raise SmiError(f"mapping: class '{rel}': '{pid}' is not a Wikidata relation id (P followed by digits)")
            if pid in seen:
                raise SmiError(f"mapping: {pid} is mapped to both '{seen[pid]}' and '{rel}'")
            seen[pid] = rel
            for path in (trex_path(root, pid), patterns_path(root, pid)):
                if not path.is_file():
                    known = ", ".join(available_pids(root)) or "none"
                    raise SmiError(f"mapping: unknown PID {pid} (class '{rel}'): {path} not found; ParaRel has {known}")


def read_mapping(path: Path) -> dict[str, tuple[str, ...]]:
    """A class → PIDs mapping from a CSV with columns ``rel,pid`` (one row per PID).

    Parameters
    ----------
    path : Path
        The CSV file.

    Returns
    -------
    dict of str to tuple of str
        The PIDs of each class, in file order.

    Raises
    ------
    SmiError
        When the file is missing, unreadable, empty, lacks a column or has an empty cell (naming the line).
    """
    path = Path(path)
    if not path.is_file():
        raise SmiError(f"{path}: mapping file not found")
    try:
        table = pd.read_csv(path, dtype=str, keep_default_na=False)
    except pd.errors.EmptyDataError:
        raise SmiError(f"{path}: empty mapping file (expected the header rel,pid and one row per PID)") from None
    except (pd.errors.ParserError, UnicodeDecodeError, ValueError) as error:
        raise SmiError(f"{path}: cannot read CSV ({str(error).splitlines()[0]})") from None
    for column in ("rel", "pid"):
        if column not in table.columns:
            raise SmiError(f"{path}: missing column '{column}'")
    if table.empty:
        raise SmiError(f"{path}: no rows under the header rel,pid")
    blank = (table["rel"].str.strip() == "") | (table["pid"].str.strip() == "")
    if blank.any():
        raise SmiError(f"{path}: line {int(blank.to_numpy().nonzero()[0][0]) + 2}: empty rel or pid")
    mapping: dict[str, tuple[str, ...]] = {}
    for rel, pid in zip(table["rel"].str.strip(), table["pid"].str.strip()):
        mapping[rel] = (*mapping.get(rel, ()), pid)
    return mapping


def mapping_table(mapping: dict[str, tuple[str, ...]] = RELATION_CLASSES) -> pd.DataFrame:
    """The class ← PID mapping as a tidy table (rel, pid), in mapping order.

    Parameters
    ----------
    mapping : dict of str to tuple of str
        Relation class → PIDs.

    Returns
    -------
    pandas.DataFrame
        Columns rel, pid, one row per PID.
    """
    return pd.DataFrame([(rel, pid) for rel, pids in mapping.items() for pid in pids], columns=["rel", "pid"])


def load_trex(pararel_root: Path, pid: str, skip_bad_lines: bool = False) -> tuple[pd.DataFrame, int]:
    """One relation's facts: pid, row (0-based line order), subj, obj, uuid; and the skipped-line count.

    Parameters
    ----------
    pararel_root : Path
        The ParaRel folder.
    pid : str
        The relation id.
    skip_bad_lines : bool
        Skip and count bad lines instead of raising.

    Returns
    -------
    facts : pandas.DataFrame
        Columns pid, row, subj, obj, uuid.
    skipped : int
        How many lines were skipped.

    Raises
    ------
    SmiError
        When the file is missing or (without ``skip_bad_lines``) a line is bad.
    """
    bad_lines: list[tuple[int, str]] = []
    records, _ = read_json_lines(trex_path(pararel_root, pid), PARAREL_FIELDS, bad_lines if skip_bad_lines else None)
    frame = pd.DataFrame(
        {
            "pid": pid,
            "row": range(len(records)),
            "subj": [r["sub_label"] for r in records],
            "obj": [r["obj_label"] for r in records],
            "uuid": [r["uuid"] for r in records],
        },
    )
    return frame, len(bad_lines)


def load_patterns(pararel_root: Path, pid: str, skip_bad_lines: bool = False) -> list[str]:
    """One relation's ParaRel patterns in file order; each must hold [X] and [Y].

    Parameters
    ----------
    pararel_root : Path
        The ParaRel folder.
    pid : str
        The relation id.
    skip_bad_lines : bool
        Skip bad lines instead of raising.

    Returns
    -------
    list of str
        The patterns.

    Raises
    ------
    SmiError
        When the file is missing, a line is bad, or a pattern lacks a slot.
    """
    path = patterns_path(pararel_root, pid)
    records, _ = read_json_lines(path, PATTERN_FIELDS, [] if skip_bad_lines else None)
    patterns = []
    for record in records:
        pattern = record["pattern"]
        if "[X]" not in pattern or "[Y]" not in pattern:
            if skip_bad_lines:
                continue
            raise SmiError(f"{path}: pattern {pattern!r} lacks the [X] or [Y] slot")
        patterns.append(pattern)
    return patterns
