"""The experiments' committed results: each experiment's table and summary, stamped with the code that made them.

``make experiments`` runs every experiment at full size into ``build/experiments/NAME`` and
:func:`export_results` copies ``table.csv`` and ``summary.json`` into
``notebooks/results/experiments/NAME`` (tracked: the project's own synthetic results) with
``stamp.json``: the experiment, the hash of its code (:func:`smi.lab.experiments.kit.experiment_code_sha256`)
and the SHA-256 of both files. :func:`load_results` is the one reader of such a folder (and of a
run folder): it re-validates the files against the stamp before notebook 08 reads them;
:func:`stale_reason` tells a test whether the stamp is the current code's.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd

from smi.errors import SmiError
from smi.files import atomic_output, write_json
from smi.hashing import file_sha256
from smi.lab.experiments import kit
from smi.lab.experiments.run import experiment_module

#: What an experiment's results folder holds besides its stamp.
RESULT_FILES = ("table.csv", "summary.json")
STAMP = "stamp.json"


def committed_root() -> Path:
    """``<project>/notebooks/results/experiments``: one results folder per experiment, read by notebook 08."""
    from smi.data import project_root

    return project_root() / "notebooks" / "results" / "experiments"


def committed_dir(name: str) -> Path:
    """``<project>/notebooks/results/experiments/NAME``: the tables of experiment ``name`` notebook 08 reads."""
    return committed_root() / name


def export_results(run_dir: Path, target: Path) -> list[Path]:
    """Copy a finished run's table and summary into ``target`` with their stamp; the files written.

    Raises
    ------
    SmiError
        When the run folder lacks a file or its summary does not name its experiment.
    """
    run_dir, target = Path(run_dir), Path(target)
    missing = [name for name in RESULT_FILES if not (run_dir / name).is_file()]
    if missing:
        raise SmiError(f"{run_dir}: not a finished experiment run (missing {', '.join(missing)})")
    summary = json.loads((run_dir / "summary.json").read_text(encoding="utf-8"))
    _check_export_target(target, summary["experiment"])
    target.mkdir(parents=True, exist_ok=True)
    written = []
    for name in RESULT_FILES:
        with atomic_output(target / name) as temporary:
            shutil.copyfile(run_dir / name, temporary)
        written.append(target / name)
    stamp = {
        "experiment": summary["experiment"],
        "code_sha256": summary["code_sha256"],
        "files": {name: file_sha256(target / name) for name in RESULT_FILES},
    }
    written.append(write_json(stamp, target / STAMP))
    return written


def _check_export_target(target: Path, experiment: str) -> None:
    """Refuse a target that is a link or a file, or holds a table or summary that is not this experiment's export."""
    from smi.errors import ParameterValueError

    if target.is_symlink() or (target.exists() and not target.is_dir()):
        raise ParameterValueError("export", "must be a folder (not a link or a file)", target)
    present = [name for name in RESULT_FILES if (target / name).exists()]
    if not present:
        return
    try:
        owner = json.loads((target / STAMP).read_text(encoding="utf-8"))["experiment"]
    except (OSError, ValueError, KeyError, TypeError):
        owner = None
    if owner != experiment:
        raise ParameterValueError(
            "export",
            f"holds {', '.join(present)} that is not an export of the {experiment} experiment; give another folder "
            "(nothing was changed)",
            target,
        )


def load_results(folder: Path) -> tuple[pd.DataFrame, dict]:
    """The table and summary of a results folder, once checked against its stamp.

    Raises
    ------
    SmiError
        When a file is missing or changed since the stamp was written.
    """
    folder = Path(folder)
    try:
        stamp = json.loads((folder / STAMP).read_text(encoding="utf-8"))
        expected = stamp["files"]
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise SmiError(f"{folder / STAMP}: missing or unreadable ({error})") from None
    for name in RESULT_FILES:
        path = folder / name
        if not path.is_file() or file_sha256(path) != expected.get(name):
            raise SmiError(f"{path}: missing or changed since {STAMP} was written; rerun make experiments")
    return pd.read_csv(folder / "table.csv"), json.loads((folder / "summary.json").read_text(encoding="utf-8"))


def stale_reason(folder: Path) -> str | None:
    """Why the results in ``folder`` are not the current code's (None when they are)."""
    try:
        load_results(folder)
    except SmiError as error:
        return str(error)
    stamp = json.loads((Path(folder) / STAMP).read_text(encoding="utf-8"))
    module = f"smi.lab.experiments.{stamp['experiment']}"
    if stamp["code_sha256"] != kit.experiment_code_sha256(module):
        return f"{folder}: made by other code than {module} now; rerun make experiments"
    return None


def verdict_table(name: str, summary: dict) -> pd.DataFrame:
    """One row per claim of experiment ``name``: the claim, the measurement (mean [low, high] over seeds)
    and the verdict (holds, fails or undecided: the interval straddles the bound)."""

    claims = experiment_module(name).CLAIMS
    rows = []
    for key, (claim, path) in claims.items():
        entry = summary
        for part in path:
            entry = entry[part]
        rows.append({"claim": claim, "measured": kit.interval_text(entry), "verdict": summary["verdicts"][key]})
    return pd.DataFrame(rows)


def check_verdicts(summary: dict, expected: dict[str, str]) -> None:
    """Stop when a verdict is not the one the notebook's text was written for (the text would then be wrong).

    Raises
    ------
    SmiError
        Naming the claim, the verdict expected and the one found.
    """
    wrong = {
        key: summary["verdicts"].get(key)
        for key, verdict in expected.items()
        if summary["verdicts"].get(key) != verdict
    }
    if wrong:
        raise SmiError(
            "the text was written for other verdicts: "
            + ", ".join(f"{key} is {found}, not {expected[key]}" for key, found in wrong.items())
            + "; update the notebook's text to the new results"
        )


def all_verdicts(summaries: dict[str, dict]) -> pd.DataFrame:
    """:func:`verdict_table` of every experiment in ``summaries`` (name → summary), one table with its experiment."""
    return pd.concat(
        [verdict_table(name, summary).assign(experiment=name) for name, summary in summaries.items()], ignore_index=True
    )[["experiment", "claim", "measured", "verdict"]]


def headline(name: str, summary: dict) -> str:
    """One line of every claim of experiment ``name``: ``claim name: mean [low, high] → verdict`` (the README's)."""
    table = verdict_table(name, summary)
    keys = list(experiment_module(name).CLAIMS)
    return "; ".join(
        f"{key.replace('_', ' ')}: {measured} → {verdict}"
        for key, measured, verdict in zip(keys, table["measured"], table["verdict"], strict=True)
    )
