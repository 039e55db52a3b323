"""The fit's output files: r2_bucketed.csv, r2_per_fact.csv and the markdown table r2_table.md, written together."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from smi import metrics
from smi.errors import ParameterValueError
from smi.files import atomic_outputs, check_writable
from smi.regression.tables import BUCKETED_COLUMNS

__all__ = ["FIT_OUTPUTS", "check_fit_outputs", "fit_output_paths", "markdown_table", "write_fit_outputs"]


def markdown_table(bucketed: pd.DataFrame, value: str = "r2") -> str:
    """A model × method markdown table of one column of the bucketed fits (default R²).

    Parameters
    ----------
    bucketed : pandas.DataFrame
        The bucketed table of :func:`smi.regression.fit_all`.
    value : str
        The column shown in the cells.

    Returns
    -------
    str
        A markdown table, one row per model and one column per method.
    """
    wide = bucketed.pivot(index="model", columns="method", values=value)
    wide = wide.reindex(index=list(dict.fromkeys(bucketed["model"])), columns=list(metrics.METHODS))
    lines = ["| model | " + " | ".join(wide.columns) + " |", "|---|" + "---:|" * len(wide.columns)]
    for model, row in wide.iterrows():
        lines.append(f"| {model} | " + " | ".join(f"{v:.6f}" for v in row) + " |")
    return "\n".join(lines) + "\n"


FIT_OUTPUTS = ("r2_bucketed.csv", "r2_per_fact.csv", "r2_table.md")


def fit_output_paths(out_dir: Path) -> list[Path]:
    """The three files :func:`write_fit_outputs` writes into ``out_dir``.

    Parameters
    ----------
    out_dir : Path
        The output folder.

    Returns
    -------
    list of Path
        ``r2_bucketed.csv``, ``r2_per_fact.csv`` and ``r2_table.md`` in ``out_dir``.
    """
    return [Path(out_dir) / name for name in FIT_OUTPUTS]


def check_fit_outputs(out_dir: Path) -> list[Path]:
    """Refuse, before any fitting, an output folder whose files cannot be written.

    The folder is created when missing; see :func:`smi.files.check_writable` for what is refused.

    Parameters
    ----------
    out_dir : Path
        The output folder.

    Returns
    -------
    list of Path
        :func:`fit_output_paths` of ``out_dir``.

    Raises
    ------
    SmiError
        When ``out_dir`` is a file or one of the outputs cannot be written.
    """
    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise ParameterValueError("out_dir", f"is a file; give a folder for {', '.join(FIT_OUTPUTS)}", out_dir)
    return [check_writable(path, "fit output") for path in fit_output_paths(out_dir)]


def write_fit_outputs(bucketed: pd.DataFrame, per_fact: pd.DataFrame, out_dir: Path) -> list[Path]:
    """Write r2_bucketed.csv (exact columns), r2_per_fact.csv and r2_table.md together; return the paths.

    The three belong together: each is written under a temporary name and all are
    renamed into place only once all are complete (:func:`smi.files.atomic_outputs`).

    Parameters
    ----------
    bucketed, per_fact : pandas.DataFrame
        The tables of :func:`smi.regression.fit_all`.
    out_dir : Path
        The output folder.

    Returns
    -------
    list of Path
        The files written (:func:`fit_output_paths`).

    Raises
    ------
    SmiError
        When the files cannot be written.
    """
    paths = fit_output_paths(out_dir)
    with atomic_outputs(paths) as (bucketed_tmp, per_fact_tmp, table_tmp):
        bucketed[BUCKETED_COLUMNS].to_csv(bucketed_tmp, index=False, float_format="%.12g")
        per_fact.to_csv(per_fact_tmp, index=False, float_format="%.12g")
        table_tmp.write_text("# Bucketed R² per model and method\n\n" + markdown_table(bucketed), encoding="utf-8")
    return paths
