"""The lab's committed results: the small tables of a finished ``smi lab run``, stamped with the code that made them.

Training takes minutes and its numbers depend on the CPU path torch takes, so notebook 07
never trains: it reads these tables. ``make labrun`` runs the lab into ``build/lab`` and
:func:`export_results` copies the tables the notebook reads into ``notebooks/results/lab``
(tracked: the project's own synthetic results), with ``stamp.json``:

* ``code_sha256``: :func:`results_code_sha256`, the hash of the code of the lab and of every
  :mod:`smi` module it imports (comments and docstrings do not count);
* ``files``: the SHA-256 of every table;
* ``settings``: the run's settings, as its ``summary.json`` records them.

:func:`load_results` re-validates a folder before a notebook reads it (every table present and
unchanged since the stamp was written); :func:`stale_reason` tells a test whether the stamp is the
current code's. :func:`read_table` is the one reader of the lab's own CSV tables (``accuracies.csv``,
``acquisition.csv``, ``arms.csv``, ``prediction.csv``, ``predicted_before_training.csv``), wherever
they are read; ``models.csv`` is read as every models table is (:func:`smi.formats.load_models`).
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from smi import formats
from smi.errors import SmiError
from smi.files import atomic_output
from smi.hashing import code_sha256, file_sha256

#: The tables a notebook reads, in the formats ``smi lab run`` writes them.
RESULT_TABLES = (
    "accuracies.csv",
    "acquisition.csv",
    "arms.csv",
    "models.csv",
    "summary.json",
    "examples.json",
)
#: The stamp of a results folder.
STAMP = "stamp.json"
#: The modules whose code decides the tables (their imports are followed by :func:`smi.hashing.code_sha256`).
RESULT_MODULES = ("smi.lab.run", "smi.lab.results")


def read_table(path: Path) -> pd.DataFrame:
    """One of the lab's own CSV tables, as ``smi lab run`` wrote it: text cells as written (a subject "NA"
    stays text), an empty cell missing.

    Parameters
    ----------
    path : Path
        ``accuracies.csv``, ``acquisition.csv``, ``arms.csv``, ``prediction.csv`` or
        ``predicted_before_training.csv`` of a run or results folder.

    Returns
    -------
    pandas.DataFrame
        The table.
    """
    return pd.read_csv(path, keep_default_na=False, na_values=[""])


def committed_dir() -> Path:
    """``<project>/notebooks/results/lab``: where ``make labrun`` puts the tables that notebook 07 reads.

    Returns
    -------
    Path
        The folder.
    """
    from smi.data import project_root

    return project_root() / "notebooks" / "results" / "lab"


def results_code_sha256() -> str:
    """SHA-256 of the code that makes the lab's result tables (:data:`RESULT_MODULES` and their imports).

    Returns
    -------
    str
        The hex digest.
    """
    return code_sha256(RESULT_MODULES)


def _examples(out_dir: Path, count: int = 4) -> list[str]:
    """The first ``count`` documents of the first seed's corpus (what notebook 07 shows of it)."""
    from smi.lab import corpus as lab_corpus

    return lab_corpus.corpus_documents(Path(out_dir) / "corpus")[:count]


def export_results(out_dir: Path, results_dir: Path) -> list[Path]:
    """Copy the tables of the finished lab run in ``out_dir`` into ``results_dir`` and stamp them.

    Parameters
    ----------
    out_dir : Path
        A finished ``smi lab run`` folder.
    results_dir : Path
        Where the tables go (made when missing); only :data:`RESULT_TABLES` and :data:`STAMP`
        are written there, each replaced atomically.

    Returns
    -------
    list of Path
        The files written, the stamp last.

    Raises
    ------
    SmiError
        When a table is missing from ``out_dir``.
    """
    out_dir, results_dir = Path(out_dir), Path(results_dir)
    results_dir.mkdir(parents=True, exist_ok=True)
    written, hashes = [], {}
    for name in RESULT_TABLES:
        target = results_dir / name
        if name == "examples.json":
            content = (json.dumps(_examples(out_dir), ensure_ascii=False, indent=1) + "\n").encode()
        else:
            source = out_dir / name
            if not source.is_file():
                raise SmiError(f"{source}: missing; is {out_dir} a finished `smi lab run` folder?")
            content = source.read_bytes()
        with atomic_output(target) as temporary:
            Path(temporary).write_bytes(content)
        hashes[name] = file_sha256(target)
        written.append(target)
    summary = json.loads((results_dir / "summary.json").read_text(encoding="utf-8"))
    stamp = {"code_sha256": results_code_sha256(), "files": hashes, "settings": summary.get("settings", {})}
    with atomic_output(results_dir / STAMP) as temporary:
        Path(temporary).write_text(json.dumps(stamp, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    written.append(results_dir / STAMP)
    return written


def read_stamp(results_dir: Path) -> dict:
    """The stamp of a results folder, checked against its tables.

    Parameters
    ----------
    results_dir : Path
        A folder written by :func:`export_results`.

    Returns
    -------
    dict
        The stamp.

    Raises
    ------
    SmiError
        When the stamp is missing or unreadable, or a table is missing or changed since it was stamped.
    """
    path = Path(results_dir) / STAMP
    try:
        stamp = json.loads(path.read_text(encoding="utf-8"))
        files = dict(stamp["files"])
        str(stamp["code_sha256"])
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise SmiError(f"{path}: no readable stamp ({error}); run `make labrun`") from None
    for name in RESULT_TABLES:
        table = Path(results_dir) / name
        if name not in files or not table.is_file() or file_sha256(table) != files[name]:
            raise SmiError(f"{table}: missing or changed since {path} was written; run `make labrun`")
    return stamp


def stale_reason(results_dir: Path) -> str | None:
    """Why the tables in ``results_dir`` are not the current code's, or None when they are.

    Parameters
    ----------
    results_dir : Path
        A folder written by :func:`export_results`.

    Returns
    -------
    str or None
        A one-line reason, or None.
    """
    try:
        stamp = read_stamp(results_dir)
    except SmiError as error:
        return str(error)
    if stamp["code_sha256"] != results_code_sha256():
        return f"{Path(results_dir) / STAMP}: made by other lab code than the current one; run `make labrun`"
    return None


def load_results(results_dir: Path) -> dict:
    """The lab's result tables, after :func:`read_stamp` has checked them.

    Parameters
    ----------
    results_dir : Path
        A folder written by :func:`export_results`.

    Returns
    -------
    dict
        ``accuracies``, ``acquisition``, ``arms``, ``models`` (DataFrames), ``summary`` (dict),
        ``examples`` (list of str), ``stamp`` (dict) and ``current`` (whether the stamp is the
        current code's).
    """
    results_dir = Path(results_dir)
    stamp = read_stamp(results_dir)
    tables = {name: read_table(results_dir / f"{name}.csv") for name in ("accuracies", "acquisition", "arms")}
    tables["models"] = formats.load_models(results_dir / "models.csv")
    return {
        **tables,
        "summary": json.loads((results_dir / "summary.json").read_text(encoding="utf-8")),
        "examples": json.loads((results_dir / "examples.json").read_text(encoding="utf-8")),
        "stamp": stamp,
        "current": stamp["code_sha256"] == results_code_sha256(),
    }
