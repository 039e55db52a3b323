"""Writing what ``smi triples`` makes: tables as CSV or Parquet, templates as JSON, each atomically."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from smi.errors import SmiError
from smi.files import atomic_output, check_writable
from smi.formats import TABLE_SUFFIXES


def _table_suffix(out: Path) -> Path:
    """``out`` as a Path when it ends in .csv or .parquet (any case); else a one-line :class:`SmiError`."""
    out = Path(out)
    if out.suffix.lower() not in TABLE_SUFFIXES:
        raise SmiError(f"{out}: output must end in .csv or .parquet")
    return out


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
    return check_writable(_table_suffix(out))


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
    out = _table_suffix(out)
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
