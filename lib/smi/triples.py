"""Rebuild the probe facts and their prompt templates from ParaRel's T-REx data.

ParaRel (Elazar et al., 2021) ships, per Wikidata relation ``PID``:

* ``data/trex_lms_vocab/PID.jsonl``: one fact per line, ``{"sub_label", "obj_label", "uuid"}``;
* ``data/pattern_data/graphs_json/PID.jsonl``: paraphrased patterns such as
  ``"[X] was born in [Y]."`` with the subject slot ``[X]`` and the object slot ``[Y]``.

The paper groups 17 relations into 15 classes (:data:`RELATION_CLASSES`). Every
fact keeps ParaRel's direction: for ``capital`` that means P1376 facts read
"[city] is the capital of [region]" while P36 facts read "the capital of
[region] is [city]", as in the released set; ``capital_city_first=True`` swaps
the P36 facts (and their patterns) so that the whole class reads city first.

The released set is ParaRel minus two kinds of ambiguous facts
(:func:`apply_release_filter`):

1. *ambiguous prompt* — a later fact whose query prompt (its relation's first
   object-last prompt, subject filled in) was already asked by an earlier fact:
   "John Cage plays" is both P1303 (piano) and P136 (jazz), so only the first
   answer is kept (relations in :data:`RELEASE_PID_ORDER`);
2. *ambiguous pair* — a (subject, object) pair stated by more than one relation
   ("Crazy Eddie"/"Brooklyn" is both ``found`` and ``headquarter``), or a subject
   that occurs twice in one class after step 1: all such facts are dropped.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from smi.errors import SmiError, check_one_of
from smi.files import atomic_output, check_writable
from smi.formats import first_unencodable
from smi.records import decoded_lines, parse_json_line

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

#: Relation whose facts are swapped by ``capital_city_first`` (region → capital becomes capital → region).
REGION_FIRST_CAPITAL = "P36"

TRIPLE_COLUMNS = ["idx", "subj", "rel", "obj", "pid", "uuid"]
FACT_FIELDS = ("sub_label", "obj_label", "uuid")
PATTERN_FIELDS = ("pattern",)
PID_FORMAT = re.compile(r"^P\d+$")


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


# --------------------------------------------------------------------------- reading


def read_jsonl(path: Path, required: tuple[str, ...], skip_bad_lines: bool = False) -> tuple[list[dict], int]:
    """Records of a JSON-lines file, each required to hold every field of ``required`` as a string.

    A malformed line (bad JSON, bytes that are not UTF-8, JSON nested too deeply), a
    missing or empty field, or a field with a lone surrogate (which cannot be written
    back as UTF-8) raises :class:`SmiError` naming the file and the 1-based line,
    unless ``skip_bad_lines``; returns (records, number skipped). Blank lines are
    ignored and a UTF-8 byte-order mark at the start of the file is accepted.

    Parameters
    ----------
    path : Path
        The JSON-lines file.
    required : tuple of str
        Fields every record must hold as a non-empty string.
    skip_bad_lines : bool
        Skip and count bad lines instead of raising.

    Returns
    -------
    records : list of dict
        The good records, in file order.
    skipped : int
        How many lines were skipped.

    Raises
    ------
    SmiError
        When the file is missing, or (without ``skip_bad_lines``) a line is bad.
    """
    path = Path(path)
    if not path.is_file():
        raise SmiError(f"{path}: file not found")
    records, skipped = [], 0
    for number, line in decoded_lines(path):
        if line is not None and not line.strip():
            continue
        record, problem = parse_json_line(line) if line is not None else (None, "not valid UTF-8")
        if problem is None and not isinstance(record, dict):
            problem = "expected a JSON object"
        if problem is None:
            missing = [name for name in required if not isinstance(record.get(name), str) or not record[name].strip()]
            unencodable = [
                name for name in required if name not in missing and first_unencodable([record[name]]) is not None
            ]
            if missing:
                problem = f"missing field '{missing[0]}'"
            elif unencodable:
                problem = f"field '{unencodable[0]}' is not valid Unicode (a lone surrogate)"
        if problem:
            if not skip_bad_lines:
                raise SmiError(f"{path}: line {number}: {problem}")
            skipped += 1
            continue
        records.append(record)
    return records, skipped


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
    records, skipped = read_jsonl(trex_path(pararel_root, pid), FACT_FIELDS, skip_bad_lines)
    frame = pd.DataFrame(
        {
            "pid": pid,
            "row": range(len(records)),
            "subj": [r["sub_label"] for r in records],
            "obj": [r["obj_label"] for r in records],
            "uuid": [r["uuid"] for r in records],
        },
    )
    return frame, skipped


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
    records, _ = read_jsonl(path, PATTERN_FIELDS, skip_bad_lines)
    patterns = []
    for record in records:
        pattern = record["pattern"]
        if "[X]" not in pattern or "[Y]" not in pattern:
            if skip_bad_lines:
                continue
            raise SmiError(f"{path}: pattern {pattern!r} lacks the [X] or [Y] slot")
        patterns.append(pattern)
    return patterns


# --------------------------------------------------------------------------- templates


def swap_slots(pattern: str) -> str:
    """Exchange the subject and object slots of a pattern (``[X]`` ↔ ``[Y]``).

    Parameters
    ----------
    pattern : str
        A pattern with ``[X]`` and ``[Y]``.

    Returns
    -------
    str
        The pattern with the slots exchanged.
    """
    return pattern.replace("[X]", "\0").replace("[Y]", "[X]").replace("\0", "[Y]")


def object_last_prefix(pattern: str) -> str | None:
    """The prompt prefix of a pattern whose object slot comes last, with ``[S]`` for the subject.

    ``"[X] was born in [Y]."`` → ``"[S] was born in"``; ``"[Y] musicians such as [X]."``
    and ``"[X] plays [Y] music ."`` → None (the object is not where the prompt ends).

    Parameters
    ----------
    pattern : str
        A pattern with ``[X]`` (subject) and ``[Y]`` (object).

    Returns
    -------
    str or None
        The prompt, or None when the object slot does not end the pattern.
    """
    body = pattern.strip().rstrip(" .")
    if not body.endswith("[Y]") or body.count("[Y]") != 1 or body.count("[X]") != 1:
        return None
    prefix = " ".join(body[: -len("[Y]")].split())
    return prefix.replace("[X]", "[S]") if prefix else None


def relation_patterns(
    pararel_root: Path, mapping: dict[str, tuple[str, ...]], capital_city_first: bool = False
) -> pd.DataFrame:
    """Every ParaRel pattern of the mapped relations: rel, pid, pattern (in the facts' direction), prompt.

    ``prompt`` is :func:`object_last_prefix` of the pattern (None when the object
    slot is not last).

    Parameters
    ----------
    pararel_root : Path
        The ParaRel folder.
    mapping : dict of str to tuple of str
        Relation class → PIDs.
    capital_city_first : bool
        Swap the slots of P36 so that ``capital`` facts read "[subj] is the capital of [obj]".

    Returns
    -------
    pandas.DataFrame
        Columns rel, pid, pattern, prompt.

    Raises
    ------
    SmiError
        When a patterns file is missing or invalid.
    """
    rows = []
    for rel, pids in mapping.items():
        for pid in pids:
            for pattern in load_patterns(pararel_root, pid):
                if capital_city_first and pid == REGION_FIRST_CAPITAL:
                    pattern = swap_slots(pattern)
                rows.append({"rel": rel, "pid": pid, "pattern": pattern, "prompt": object_last_prefix(pattern)})
    return pd.DataFrame(rows, columns=["rel", "pid", "pattern", "prompt"])


def prompt_templates(patterns: pd.DataFrame) -> dict[str, list[str]]:
    """Distinct object-last prompts per class ({rel: ["[S] was born in", ...]}), in pattern order.

    Parameters
    ----------
    patterns : pandas.DataFrame
        :func:`relation_patterns`' output.

    Returns
    -------
    dict of str to list of str
        The templates of each class.
    """
    usable = patterns.dropna(subset=["prompt"])
    return {rel: list(dict.fromkeys(group["prompt"])) for rel, group in usable.groupby("rel", sort=False)}


def query_prompts(patterns: pd.DataFrame) -> dict[str, str]:
    """The prompt each relation asks its facts with: its first object-last pattern ({pid: prompt}).

    Parameters
    ----------
    patterns : pandas.DataFrame
        :func:`relation_patterns`' output.

    Returns
    -------
    dict of str to str
        The query prompt of each relation id that has an object-last pattern.
    """
    usable = patterns.dropna(subset=["prompt"])
    return usable.groupby("pid", sort=False)["prompt"].first().to_dict()


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


# --------------------------------------------------------------------------- facts


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
        Swap subject and object of P36 (see :func:`relation_patterns`).
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
        The query prompt of each relation id (:func:`query_prompts`).
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


def build_probe_set(
    pararel_root: Path,
    mapping: dict[str, tuple[str, ...]] = RELATION_CLASSES,
    release_filter: bool = False,
    capital_city_first: bool = False,
    skip_bad_lines: bool = False,
) -> tuple[pd.DataFrame, BuildReport]:
    """Probe facts from ParaRel: idx, subj, rel, obj, pid, uuid, numbered 0… in class then file order.

    ``release_filter`` applies :func:`apply_release_filter`; ``capital_city_first``
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


def check_relation(name: str | None, mapping: dict[str, tuple[str, ...]] = RELATION_CLASSES) -> str | None:
    """``name`` if it is a relation class of ``mapping`` (None passes); otherwise a :class:`SmiError` listing them.

    Parameters
    ----------
    name : str or None
        A relation class, or None.
    mapping : dict of str to tuple of str
        Relation class → PIDs.

    Returns
    -------
    str or None
        ``name`` itself.

    Raises
    ------
    SmiError
        When ``name`` is not a class of ``mapping``.
    """
    return name if name is None else check_one_of(name, mapping, "relation")


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


TABLE_SUFFIXES = (".csv", ".parquet")


def check_table_output(out: Path) -> Path:
    """Refuse, before any work, an output that is not .csv / .parquet or cannot be written.

    Parameters
    ----------
    out : Path
        The output file.

    Returns
    -------
    Path
        ``out`` itself.

    Raises
    ------
    SmiError
        When the suffix is not .csv or .parquet, or the file cannot be written.
    """
    out = Path(out)
    if out.suffix.lower() not in TABLE_SUFFIXES:
        raise SmiError(f"{out}: output must end in .csv or .parquet")
    return check_writable(out)


def write_table(frame: pd.DataFrame, out: Path) -> Path:
    """Write a frame as CSV or Parquet (by the file's suffix), atomically.

    Parameters
    ----------
    frame : pandas.DataFrame
        The table.
    out : Path
        A .csv or .parquet file.

    Returns
    -------
    Path
        ``out``.

    Raises
    ------
    SmiError
        When the suffix is not .csv or .parquet, or the file cannot be written.
    """
    out = Path(out)
    if out.suffix.lower() not in TABLE_SUFFIXES:
        raise SmiError(f"{out}: output must end in .csv or .parquet")
    with atomic_output(out) as temporary:
        if out.suffix.lower() == ".csv":
            frame.to_csv(temporary, index=False)
        else:
            frame.to_parquet(temporary, index=False)
    return out


def write_templates(templates: dict[str, list[str]], out: Path) -> Path:
    """Write prompt templates ({class: [template, ...]}) as indented JSON, atomically.

    Parameters
    ----------
    templates : dict of str to list of str
        Templates by class.
    out : Path
        The JSON file.

    Returns
    -------
    Path
        ``out``.

    Raises
    ------
    SmiError
        When the file cannot be written.
    """
    out = Path(out)
    with atomic_output(out) as temporary:
        temporary.write_text(json.dumps(templates, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return out
