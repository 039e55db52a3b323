"""The checks of a notebook's parameters: a wrong value stops with one line naming the parameter.

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
with :func:`path_parameter` and the defaults (:func:`smi.data.release_dir`,
:func:`smi.data.pararel_dir`, :func:`smi.notebook.figures_dir`,
:func:`smi.notebook.results_dir`, :func:`smi.notebook.corpus_path`). The cell right
after the parameters cell calls :func:`smi.notebook.setup` first and then checks
every parameter with the functions here, so a bad value stops there with one line
naming the parameter and its valid values::

    from smi import data, formats, notebook
    notebook.setup()
    release_dir = notebook.path_parameter(release_dir, data.release_dir())
    figures_dir = notebook.path_parameter(figures_dir, notebook.figures_dir())
    models = notebook.list_parameter(models, "models", list(formats.load_models()["name"]))
    quick = notebook.bool_parameter(quick, "quick")

Why text is accepted: papermill passes a ``-p name value`` option as a string
unless the value parses as a number or a boolean, so a list given on the command
line arrives as the text ``'["pythia-12b"]'``. :func:`list_parameter` accepts a
list, a JSON list written as text, or one comma-separated string.

Every check raises :class:`~smi.errors.ParameterValueError`, the library's one error
for a bad value of a named parameter, e.g. ``models must name only bloom-560m, …
(got 'pythia-13b')``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

from smi.errors import ParameterValueError, check_scalar

__all__ = ["bool_parameter", "choice_parameter", "list_parameter", "number_parameter", "path_parameter"]


def _listed(choices: list[str]) -> str:
    """The valid values as a message lists them: ``a, b, c``."""
    return ", ".join(str(choice) for choice in choices)


def list_parameter(value: object, name: str, valid: Sequence[str] | None = None) -> list[str] | None:
    """``value`` as a list of names (None stays None, meaning "all").

    Accepts a list or tuple, a JSON list as text (``'["a", "b"]'``), or a string
    of comma-separated names (``"a,b"``). With ``valid``, every name must be one
    of them; otherwise the error names the parameter, the wrong name and the valid ones.

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
    ParameterValueError
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
                raise ParameterValueError(name, f"is not a JSON list ({error.msg}): {text!r}") from None
        elif text.lower() in ("", "none", "null"):
            return None
        else:
            value = [part.strip() for part in text.split(",") if part.strip()]
    if not isinstance(value, (list, tuple)) or not all(isinstance(item, str) for item in value):
        raise ParameterValueError(name, f"must be a list of names (got {value!r})")
    if not value:
        raise ParameterValueError(name, "is an empty list; use None for all")
    if valid is not None:
        choices = list(valid)
        for item in value:
            if item not in choices:
                raise ParameterValueError(name, f"must name only {_listed(choices)} (got {item!r})")
    return list(value)


def choice_parameter(value: object, name: str, valid: Sequence[str]) -> str:
    """``value`` if it is one of ``valid``; otherwise an error listing them.

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
    ParameterValueError
        When ``value`` is not one of ``valid``.
    """
    choices = list(valid)
    if value not in choices:
        raise ParameterValueError(name, f"must be one of {_listed(choices)} (got {value!r})")
    return str(value)


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
    ParameterValueError
        When ``value`` is not a finite number, not whole when ``integer``, or below ``minimum``.
    """
    if isinstance(value, str):  # papermill -r and hand-written parameters pass text
        try:
            value = float(value)
        except ValueError:
            raise ParameterValueError(name, f"must be a number (got {value!r})") from None
    return check_scalar(value, name, "integer" if integer else "number", minimum=minimum)


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
    ParameterValueError
        When ``value`` is neither a boolean nor one of the accepted strings.
    """
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "1", "yes", "false", "0", "no"):
        return value.strip().lower() in ("true", "1", "yes")
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    raise ParameterValueError(name, f"must be true or false (got {value!r})")


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
