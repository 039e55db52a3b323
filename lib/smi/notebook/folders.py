"""Where a notebook reads and writes: the default folders, and a folder of its own for a run with other parameters."""

from __future__ import annotations

import os
from pathlib import Path

from smi.errors import SmiError
from smi.hashing import json_sha256
from smi.notebook.parameters import path_parameter

__all__ = [
    "FIGURES_DIR_ENV",
    "OUTPUT_PARAMETERS",
    "RESULTS_DIR_ENV",
    "corpus_path",
    "figures_dir",
    "output_folders",
    "parameter_defaults",
    "results_dir",
]

#: Environment variables that move the notebooks' default output folders (the test suite
#: points them at a temporary folder, so that nbval's reruns leave the project's files alone).
FIGURES_DIR_ENV = "SMI_FIGURES_DIR"
RESULTS_DIR_ENV = "SMI_RESULTS_DIR"


def figures_dir() -> Path:
    """Where the notebooks save their PNG and PDF figures: ``$SMI_FIGURES_DIR`` or ``<project>/figures``.

    Returns
    -------
    Path
        The folder.
    """
    from smi.data import project_root

    return Path(os.environ[FIGURES_DIR_ENV]) if os.environ.get(FIGURES_DIR_ENV) else project_root() / "figures"


def results_dir() -> Path:
    """Where the notebooks write their tables: ``$SMI_RESULTS_DIR`` or ``<project>/results``.

    Returns
    -------
    Path
        The folder.
    """
    from smi.data import project_root

    return Path(os.environ[RESULTS_DIR_ENV]) if os.environ.get(RESULTS_DIR_ENV) else project_root() / "results"


def corpus_path() -> Path:
    """``<project>/data/corpus/vital_en.jsonl``: the vital-article corpus (``smi corpus vital-articles``).

    Returns
    -------
    Path
        The corpus file.
    """
    from smi.data import project_root

    return project_root() / "data" / "corpus" / "vital_en.jsonl"


#: Parameters that say where outputs go; they do not make a run different.
OUTPUT_PARAMETERS = ("figures_dir", "results_dir")


def parameter_defaults(notebook_path: Path) -> dict[str, object]:
    """The values of a notebook's ``parameters`` cell, as written there (read by papermill).

    Parameters
    ----------
    notebook_path : Path
        The notebook.

    Returns
    -------
    dict
        Parameter name to its default value (a Python literal).
    """
    import ast

    import papermill

    defaults = {}
    for name, spec in papermill.inspect_notebook(str(notebook_path)).items():
        try:
            defaults[name] = ast.literal_eval(spec["default"])
        except (ValueError, SyntaxError) as error:
            raise SmiError(
                f"{notebook_path}: the default of parameter {name} is not a literal: {spec['default']}"
            ) from error
    return defaults


def output_folders(name: str, figures: object, results: object, parameters: dict[str, object]) -> tuple[Path, Path]:
    """The folders a notebook run writes its figures and tables to.

    A run with every parameter at the default of the committed notebook writes to the
    project's folders (:func:`figures_dir`, :func:`results_dir`). Any other run (a subset of
    models, another bucket width) writes both to its own folder,
    ``<results>/runs/<name>-<hash of the changed parameters>/``, so that it never replaces the
    full results. ``figures`` or ``results`` given explicitly win over both.

    Parameters
    ----------
    name : str
        The notebook's file name without ``.ipynb`` (e.g. ``"04_r2_regression"``).
    figures, results : object
        The notebook's ``figures_dir`` and ``results_dir`` parameters (None: decided here).
    parameters : dict
        Every other parameter of the notebook, by name, with the value this run uses.

    Returns
    -------
    (Path, Path)
        The figures folder and the results folder.

    Raises
    ------
    SmiError
        When ``parameters`` misses or adds a name of the notebook's parameters cell.
    """
    from smi.data import project_root

    defaults = parameter_defaults(project_root() / "notebooks" / f"{name}.ipynb")
    expected = set(defaults) - set(OUTPUT_PARAMETERS)
    if set(parameters) != expected:
        differ = sorted(set(parameters) ^ expected)
        raise SmiError(
            f"output_folders for {name}: parameters must name exactly the notebook's own; differ: {', '.join(differ)}"
        )
    changed = {key: value for key, value in parameters.items() if value != defaults[key]}
    if changed:
        key = json_sha256(changed)[:12]
        run = results_dir() / "runs" / f"{name}-{key}"
        default_figures, default_results = run / "figures", run
    else:
        default_figures, default_results = figures_dir(), results_dir()
    return path_parameter(figures, default_figures), path_parameter(results, default_results)
