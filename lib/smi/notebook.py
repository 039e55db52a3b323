"""Checks, defaults and a clean display for the notebooks.

The parameters-cell convention (all notebooks ``notebooks/0X_*.ipynb`` follow it)
---------------------------------------------------------------------------------
The cell tagged ``parameters`` holds only plain assignments, one per line, each
annotated with its type and followed by a one-line description, so that
``papermill --help-notebook NOTEBOOK`` prints a type and a description for every
parameter (papermill parses ``name: type = value  # description``)::

    # Parameters: papermill -p NAME VALUE overrides each; papermill --help-notebook lists them.
    from typing import Optional

    release_dir: Optional[str] = None  # the paper's release; None: data/external/smi-release
    figures_dir: Optional[str] = None  # where figures are saved; None: <project>/figures
    results_dir: Optional[str] = None  # where tables are saved; None: <project>/results
    models: Optional[list[str]] = None  # e.g. '["pythia-12b"]' or 'pythia-12b,gpt-j-6b'; None: all 24
    quick: bool = False  # CI switch: a smaller run

Rules: annotate with ``Optional[...]``, ``str``, ``int``, ``float``, ``bool`` or
``list[str]`` (papermill's parser accepts letters, ``[``, ``]`` and commas, not
``|`` or dots, hence ``from typing import Optional`` as the cell's first line);
keep each assignment and its comment on one line (at most 120 characters); no
second ``=`` on a line. Paths default to None and are resolved in the next cell
with :func:`path_parameter` and the defaults below (:func:`smi.data.release_dir`,
:func:`smi.data.pararel_dir`, :func:`figures_dir`, :func:`results_dir`,
:func:`corpus_path`). The cell right after the parameters cell calls
:func:`setup` first and then checks every parameter with the functions here, so
a bad value stops there with one line naming the parameter and its valid values::

    from smi import data, notebook, release
    notebook.setup()
    release_dir = notebook.path_parameter(release_dir, data.release_dir())
    figures_dir = notebook.path_parameter(figures_dir, notebook.figures_dir())
    models = notebook.list_parameter(models, "models", list(formats.load_models()["name"]))
    quick = notebook.bool_parameter(quick, "quick")

Why text is accepted: papermill passes a ``-p name value`` option as a string
unless the value parses as a number or a boolean, so a list given on the command
line arrives as the text ``'["pythia-12b"]'``. :func:`list_parameter` accepts a
list, a JSON list written as text, or one comma-separated string.

Clean outputs
-------------
:func:`setup` makes the committed outputs readable and reproducible: figures
inline at a modest resolution (the files written by
:func:`smi.plots.save_figure` keep their own, higher, resolution), every column
of a wide table shown, floats printed by :func:`format_number` (no
``0.000000``), progress bars off (tqdm writes nothing, so no ``TqdmWarning``
about ipywidgets either), and an :class:`~smi.errors.SmiError` — every
:class:`ParameterError` included — shown as one line ``ParameterError:
parameter 'models': ...`` instead of a traceback. The cell still fails, so
papermill and nbval still report the error.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path

from smi.errors import SmiError, check_one_of


class ParameterError(SmiError):
    """A notebook parameter with a wrong value; the message names the parameter."""


def _check_value(value: object, name: str, valid: Iterable[str]) -> object:
    """``value`` if it is one of ``valid``; else a :class:`ParameterError` naming the parameter and the valid values."""
    try:
        return check_one_of(value, valid, "value")
    except SmiError as error:
        raise ParameterError(f"parameter '{name}': {error}") from None


def list_parameter(value: object, name: str, valid: Sequence[str] | None = None) -> list[str] | None:
    """``value`` as a list of names (None stays None, meaning "all").

    Accepts a list or tuple, a JSON list as text (``'["a", "b"]'``), or a string
    of comma-separated names (``"a,b"``). With ``valid``, every name must be one
    of them; otherwise :class:`ParameterError` names the parameter, the wrong
    name and the valid ones.

    Parameters
    ----------
    value : object
        The parameter's value.
    name : str
        The parameter's name, for the message.
    valid : sequence of str or None
        The accepted names; any name when None.

    Returns
    -------
    list of str or None
        The names, or None.

    Raises
    ------
    ParameterError
        When ``value`` is not a list of names, is empty, or holds a name outside ``valid``.
    """
    if value is None:
        return None
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            try:
                value = json.loads(text)
            except json.JSONDecodeError as error:
                raise ParameterError(f"parameter '{name}': not a JSON list ({error.msg}): {text!r}") from None
        elif text.lower() in ("", "none", "null"):
            return None
        else:
            value = [part.strip() for part in text.split(",") if part.strip()]
    if not isinstance(value, (list, tuple)) or not all(isinstance(item, str) for item in value):
        raise ParameterError(f"parameter '{name}': expected a list of names, got {value!r}")
    if not value:
        raise ParameterError(f"parameter '{name}': the list is empty; use None for all")
    if valid is not None:
        for item in value:
            _check_value(item, name, valid)
    return list(value)


def choice_parameter(value: object, name: str, valid: Sequence[str]) -> str:
    """``value`` if it is one of ``valid``; otherwise :class:`ParameterError` listing them.

    Parameters
    ----------
    value : object
        The parameter's value.
    name : str
        The parameter's name, for the message.
    valid : sequence of str
        The accepted values.

    Returns
    -------
    str
        ``value``.

    Raises
    ------
    ParameterError
        When ``value`` is not one of ``valid``.
    """
    return str(_check_value(value, name, valid))


def number_parameter(value: object, name: str, minimum: float | None = None, integer: bool = False) -> float | int:
    """``value`` as a finite number (an int with ``integer``), at least ``minimum`` when given.

    Parameters
    ----------
    value : object
        The parameter's value (a number or its text).
    name : str
        The parameter's name, for the message.
    minimum : float or None
        The smallest accepted value.
    integer : bool
        Require a whole number.

    Returns
    -------
    float or int
        The number.

    Raises
    ------
    ParameterError
        When ``value`` is not a finite number, not whole when ``integer``, or below ``minimum``.
    """
    if isinstance(value, bool):
        raise ParameterError(f"parameter '{name}': expected a number, got {value!r}")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ParameterError(f"parameter '{name}': expected a number, got {value!r}") from None
    if not math.isfinite(number):
        raise ParameterError(f"parameter '{name}': expected a finite number, got {value!r}")
    if integer:
        if number != int(number):
            raise ParameterError(f"parameter '{name}': expected a whole number, got {value!r}")
        number = int(number)
    if minimum is not None and number < minimum:
        raise ParameterError(f"parameter '{name}': must be at least {minimum}, got {value!r}")
    return number


def bool_parameter(value: object, name: str) -> bool:
    """``value`` as a boolean; the strings true/false/1/0/yes/no are accepted too.

    Parameters
    ----------
    value : object
        The parameter's value.
    name : str
        The parameter's name, for the message.

    Returns
    -------
    bool
        The value.

    Raises
    ------
    ParameterError
        When ``value`` is neither a boolean nor one of the accepted strings.
    """
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "1", "yes", "false", "0", "no"):
        return value.strip().lower() in ("true", "1", "yes")
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    raise ParameterError(f"parameter '{name}': expected true or false, got {value!r}")


def path_parameter(value: object, default: Path) -> Path:
    """``value`` as a path, or ``default`` (e.g. :func:`smi.data.release_dir`) when it is None or empty.

    Parameters
    ----------
    value : object
        The parameter's value.
    default : Path
        The path used when ``value`` is None or empty.

    Returns
    -------
    Path
        The path.
    """
    if value is None or (isinstance(value, str) and not value.strip()):
        return Path(default)
    return Path(str(value))


# ---------------------------------------------------------------------------
# Default locations (a parameter left at None resolves to these)
# ---------------------------------------------------------------------------

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


# ---------------------------------------------------------------------------
# Where a run writes: the project's folders for the committed run, its own folder for any other
# ---------------------------------------------------------------------------

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
        key = hashlib.sha256(json.dumps(changed, sort_keys=True, default=str).encode()).hexdigest()[:12]
        run = results_dir() / "runs" / f"{name}-{key}"
        default_figures, default_results = run / "figures", run
    else:
        default_figures, default_results = figures_dir(), results_dir()
    return path_parameter(figures, default_figures), path_parameter(results, default_results)


# ---------------------------------------------------------------------------
# Clean outputs
# ---------------------------------------------------------------------------

#: Resolution of the figures embedded in a notebook (the saved files use ``savefig.dpi``).
INLINE_DPI = 80


def format_number(value: float) -> str:
    """A float as a reader wants it in a table: no ``0.000000``, no needless ``e+09``.

    Whole numbers get thousands separators (``12,000,000,000``), values of at least
    1,000 one decimal, values down to 0.001 four significant digits (``0.8562``,
    ``0.001234``), smaller ones scientific notation (``3.21e-05``); NaN and
    infinities as Python writes them.

    Parameters
    ----------
    value : float
        The number.

    Returns
    -------
    str
        Its text.
    """
    if not math.isfinite(value):
        return str(value)
    magnitude = abs(value)
    if value == int(value) and magnitude < 1e15:
        return f"{value:,.0f}"
    if magnitude >= 1000:
        return f"{value:,.1f}"
    if magnitude >= 0.001:
        return f"{value:.4g}"
    return f"{value:.2e}"


def silence_progress_bars() -> None:
    """Make every tqdm bar created from now on a disabled one.

    The library shows progress on long jobs; in a notebook's committed outputs a
    bar is clutter, and ``tqdm.auto`` warns (``TqdmWarning``) when ipywidgets is
    missing. The library imports tqdm inside its functions, so replacing
    ``tqdm.tqdm`` and ``tqdm.auto.tqdm`` by a subclass that is always disabled
    silences it without touching its calls.
    """
    import warnings

    import tqdm
    import tqdm.std

    with warnings.catch_warnings():  # tqdm.auto warns on import when ipywidgets is missing; it is never used here
        warnings.simplefilter("ignore", tqdm.TqdmWarning)
        import tqdm.auto

    class SilentTqdm(tqdm.std.tqdm):
        """A tqdm that never draws (iteration, ``update`` and ``close`` still work)."""

        def __init__(self, *args, **kwargs):
            kwargs["disable"] = True
            super().__init__(*args, **kwargs)

    tqdm.tqdm = SilentTqdm
    tqdm.auto.tqdm = SilentTqdm


def one_line_error(shell, etype, value, tb, tb_offset=None) -> list[str]:
    """IPython custom exception handler: show an :class:`SmiError` as ``Name: message``, no traceback.

    The cell still fails (IPython records the error and the kernel replies
    ``status: error``), so papermill raises ``PapermillExecutionError`` and nbval
    reports the cell; only the display is shortened.

    Parameters
    ----------
    shell : IPython.core.interactiveshell.InteractiveShell
        The shell.
    etype, value, tb
        The exception's type, value and traceback.
    tb_offset : int or None
        Unused; part of IPython's handler signature.

    Returns
    -------
    list of str
        The lines shown: ``Name: message``.
    """
    lines = [f"{etype.__name__}: {value}"]
    show = getattr(shell, "_showtraceback", None)
    if show is not None:
        show(etype, value, lines)
    else:  # an IPython without the private hook: its short form
        shell.showtraceback((etype, value, tb), exception_only=True)
    return lines


def setup(inline_dpi: int = INLINE_DPI, max_rows: int = 60) -> None:
    """Prepare a notebook's kernel for clean, reproducible outputs (call it first, right after the parameters).

    * matplotlib: inline figures (even when ``MPLBACKEND=Agg`` is set, as in CI),
      the project's style (:func:`smi.plots.use_style`), embedded at ``inline_dpi``;
    * pandas: every column shown (all 24 models side by side), up to ``max_rows``
      rows, floats through :func:`format_number`;
    * tqdm: silenced (:func:`silence_progress_bars`);
    * IPython: an :class:`SmiError` (:class:`ParameterError` included) shows as one
      line (:func:`one_line_error`).

    Outside IPython only the pandas, matplotlib-style and tqdm settings apply.

    Parameters
    ----------
    inline_dpi : int
        Resolution of inline figures.
    max_rows : int
        Rows pandas shows before eliding.
    """
    import pandas as pd

    from smi import plots

    try:
        from IPython import get_ipython
    except ImportError:  # pandas and matplotlib settings only
        shell = None
    else:
        shell = get_ipython()
    if shell is not None:
        shell.run_line_magic("matplotlib", "inline")
        shell.set_custom_exc((SmiError,), one_line_error)
    plots.use_style()
    import matplotlib.pyplot as plt

    plt.rcParams["figure.dpi"] = inline_dpi
    pd.set_option("display.max_columns", None)
    pd.set_option("display.width", 250)
    pd.set_option("display.max_rows", max_rows)
    pd.set_option("display.min_rows", max_rows)
    pd.set_option("display.max_colwidth", 140)
    pd.set_option("display.float_format", format_number)
    silence_progress_bars()


def formatted(frame, formats: dict[str, str]):
    """A copy of ``frame`` whose named columns are written as text, e.g. ``{"recall": "{:.2%}"}``.

    For columns a reader wants in a unit other than :func:`format_number`'s (percentages,
    a fixed number of decimals, p-values); missing values stay empty.

    Parameters
    ----------
    frame : pandas.DataFrame
        The table.
    formats : dict of str to str
        A format string per column.

    Returns
    -------
    pandas.DataFrame
        The copy.

    Raises
    ------
    KeyError
        When a named column is not in ``frame``.
    """
    unknown = [column for column in formats if column not in frame.columns]
    if unknown:
        raise KeyError(f"no column {unknown[0]!r} to format")
    copy = frame.copy()
    for column, pattern in formats.items():
        copy[column] = [("" if value != value else pattern.format(value)) for value in frame[column]]
    return copy


# ---------------------------------------------------------------------------
# Executed notebooks, as committed
# ---------------------------------------------------------------------------

#: Metadata that papermill and nbclient add on every run (timings, local paths, parameters):
#: it changes on each run without changing a result, so it is not committed.
RUN_METADATA_KEYS = ("papermill", "execution")


def strip_run_metadata(notebook: dict) -> dict:
    """``notebook`` (nbformat JSON as a dict) without the per-run metadata of :data:`RUN_METADATA_KEYS`.

    Outputs, execution counts and tags are kept; only timings, the input and output
    paths and the injected parameters that papermill records are removed.

    Parameters
    ----------
    notebook : dict
        The notebook.

    Returns
    -------
    dict
        A copy without the per-run metadata.
    """
    for key in RUN_METADATA_KEYS:
        notebook.get("metadata", {}).pop(key, None)
    for cell in notebook.get("cells", []):
        for key in RUN_METADATA_KEYS:
            cell.get("metadata", {}).pop(key, None)
    return notebook


#: The notebook metadata key of :func:`code_stamp`.
STAMP_KEY = "smi"


def notebook_modules(notebook: dict) -> list[str]:
    """The :mod:`smi` modules that the code cells of ``notebook`` import (``from smi import a``, ``import smi.b``).

    Parameters
    ----------
    notebook : dict
        The notebook (nbformat JSON as a dict).

    Returns
    -------
    list of str
        Dotted module names, sorted; a name imported from a package (``from smi import plots``) is
        taken as its module when it is one, else the package itself counts.
    """
    import ast

    from smi.files import import_closure

    found: set[str] = set()
    for cell in notebook.get("cells", []):
        if cell.get("cell_type") != "code":
            continue
        text = "".join(cell.get("source", ""))
        lines = [line for line in text.splitlines() if not line.lstrip().startswith(("%", "!"))]
        try:
            tree = ast.parse("\n".join(lines))
        except SyntaxError:
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                found.update(alias.name for alias in node.names if alias.name.split(".")[0] == "smi")
            elif isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "smi":
                found.add(node.module)
                found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return [module for module in sorted(found) if import_closure([module])]


def code_stamp(notebook: dict) -> dict:
    """What a notebook's outputs were made with: its :mod:`smi` imports and the hash of their code.

    Parameters
    ----------
    notebook : dict
        The notebook (nbformat JSON as a dict).

    Returns
    -------
    dict
        ``modules`` (:func:`notebook_modules`) and ``code_sha256``
        (:func:`smi.files.code_sha256` of their import closure: comments and docstrings do not count).
    """
    from smi.files import code_sha256

    modules = notebook_modules(notebook)
    return {"modules": modules, "code_sha256": code_sha256(modules)}


def clean_executed(path: Path) -> None:
    """Rewrite an executed notebook at ``path`` without its per-run metadata, stamped with :func:`code_stamp`.

    Read and written by nbformat, atomically. The stamp (metadata key :data:`STAMP_KEY`) lets a
    test tell when the committed outputs were made by other library code than the current one.

    Parameters
    ----------
    path : Path
        The executed notebook.
    """
    import nbformat

    from smi.files import atomic_output

    path = Path(path)
    try:
        notebook = nbformat.read(str(path), as_version=4)
    except (OSError, ValueError) as error:
        raise SmiError(f"{path}: cannot read the notebook ({error})") from None
    notebook = strip_run_metadata(notebook)
    notebook.metadata[STAMP_KEY] = code_stamp(notebook)
    text = nbformat.writes(notebook)
    with atomic_output(path) as temporary:
        Path(temporary).write_text(text + ("" if text.endswith("\n") else "\n"), encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    """``python -m smi.notebook clean NOTEBOOK...``: strip per-run metadata (``make notebooks`` calls it).

    Parameters
    ----------
    argv : list of str or None
        The arguments; ``sys.argv[1:]`` when None.

    Returns
    -------
    int
        The exit status: 0, or 2 after a one-line error.
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    if len(argv) < 2 or argv[0] != "clean":
        print("usage: python -m smi.notebook clean NOTEBOOK...", file=sys.stderr)
        return 2
    try:
        for path in argv[1:]:
            clean_executed(Path(path))
    except SmiError as error:
        print(f"smi: error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
